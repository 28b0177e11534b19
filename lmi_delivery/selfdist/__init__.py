"""The lmi-delivery inside every build is exactly the one the orchestrator runs.

It never installs lmi-delivery by name from a package index (anyone may register a name there):

- the orchestrator (``run``, ``apply``, ``ci``) takes its own wheel (:mod:`.wheel`: built from its
  source tree, or packed back from its installed distribution), stores it content-addressed in
  the artifacts bucket and starts every build with its location, sha256 and version
  (:mod:`.publish`, :mod:`.variables`); with ``codebuild.lmi_delivery`` a team's index serves a
  pinned version, by sha256, instead;
- the buildspecs fetch the wheel, refuse bytes that do not hash to the sha256 they were given,
  and run the bootstrap inside the verified wheel (:mod:`.bootstrap`): a virtualenv with the
  wheel and the dependencies of its lock file (``lmi_delivery/data/build-requirements.txt``), all
  installed with pip's hash checking;
- the first command of the installed lmi-delivery, ``self-check`` (:mod:`.check`), and every
  command it runs in the build after that, refuse (exit 3) unless its recorded version and
  wheel sha256 are the ones the orchestrator passed.
"""

from lmi_delivery.selfdist.variables import INDEX_URL, VERSION, WHEEL_SHA256, WHEEL_URL

__all__ = ["INDEX_URL", "VERSION", "WHEEL_SHA256", "WHEEL_URL"]
