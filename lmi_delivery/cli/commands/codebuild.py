"""``lmi-delivery codebuild``: start a build (optionally detached) and wait on builds by id.

Exit codes: 0 every build succeeded (or ``--detach`` started it), 1 a build failed or AWS
refused, 2 invalid input, 130 interrupted (the builds are stopped first). Heavy imports
(boto3) happen inside the callbacks; :func:`make_group` takes the services factory so tests
hand in fakes.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING

import click

from lmi_delivery.errors import LmiError

if TYPE_CHECKING:
    from lmi_delivery.codebuild.run import CodeBuildServices

ServicesFactory = Callable[[Mapping[str, str]], "CodeBuildServices"]
REPORTERS = click.Choice(["auto", "text", "github"])


def _default_services(environ: Mapping[str, str]) -> CodeBuildServices:
    from lmi_delivery.codebuild.run import services_from_environ

    return services_from_environ(environ)


def make_group(services_factory: ServicesFactory = _default_services) -> click.Group:
    @click.group("codebuild")
    def group() -> None:
        """Start CodeBuild builds; wait on many with one poller."""

    @group.command("start")
    @click.argument("project")
    @click.option("--source-version", metavar="SHA", help="The commit to build.")
    @click.option("--env", "env", multiple=True, metavar="NAME=VALUE",
                  help="A PLAINTEXT variable override (repeatable). Never for secrets.")
    @click.option("--secret-env", multiple=True,
                  metavar="NAME=ssm:/path | NAME=secretsmanager:arn",
                  help="A PARAMETER_STORE or SECRETS_MANAGER override (repeatable): only the "
                       "reference is sent; CodeBuild resolves it inside the build.")
    @click.option("--timeout", type=click.IntRange(5, 2160), metavar="MIN",
                  help="timeoutInMinutesOverride (5-2160).")
    @click.option("--queued-timeout", type=click.IntRange(5, 480), metavar="MIN",
                  help="queuedTimeoutInMinutesOverride (5-480).")
    @click.option("--buildspec", help="buildspecOverride: inline YAML or a path in the source.")
    @click.option("--detach", is_flag=True,
                  help="Print the build id and return at once; `codebuild wait` picks it up.")
    @click.option("--poll-interval", type=click.FloatRange(0.1), default=5.0,
                  show_default=True, metavar="S", help="Seconds between two polls.")
    @click.option("--reporter", "reporter_kind", type=REPORTERS, default="auto",
                  show_default=True, help="github: outputs and log groups (auto in Actions).")
    def start(project: str, source_version: str | None, env: tuple[str, ...],
              secret_env: tuple[str, ...], timeout: int | None, queued_timeout: int | None,
              buildspec: str | None, detach: bool, poll_interval: float,
              reporter_kind: str) -> None:
        """Start a build of PROJECT, print its id and log link at once, stream its log.

        \b
        Example: start at this commit, hand a secret by reference, pick it up later:
          ID=$(lmi-delivery codebuild start app-dev-tf-plan --source-version "$SHA" \\
                 --secret-env TOKEN=ssm:/app/token --detach)
          lmi-delivery codebuild wait "$ID"
        """
        from lmi_delivery.codebuild import variables
        from lmi_delivery.codebuild.model import BuildRequest
        from lmi_delivery.codebuild.run import make_reporter, start_and_wait

        request = BuildRequest(
            project=project, source_version=source_version,
            variables=(*map(variables.plain, env), *map(variables.reference, secret_env)),
            timeout_minutes=timeout, queued_timeout_minutes=queued_timeout,
            buildspec=buildspec)
        environ = dict(os.environ)
        reporter = make_reporter(reporter_kind, environ, sys.stderr if detach else sys.stdout)
        start_and_wait(services_factory(environ), request, reporter, detach=detach,
                       poll_interval=poll_interval)

    @group.command("wait")
    @click.argument("build_ids", nargs=-1, required=True, metavar="BUILD_ID...")
    @click.option("--poll-interval", type=click.FloatRange(0.1), default=5.0,
                  show_default=True, metavar="S", help="Seconds between two polls.")
    @click.option("--stop-on-cancel/--leave-running", default=True, show_default=True,
                  help="What SIGINT/SIGTERM do to the builds before exiting 130.")
    @click.option("--reporter", "reporter_kind", type=REPORTERS, default="auto",
                  show_default=True, help="github: outputs and log groups (auto in Actions).")
    def wait(build_ids: tuple[str, ...], poll_interval: float, stop_on_cancel: bool,
             reporter_kind: str) -> None:
        """Wait on builds by id (up to 100 per BatchGetBuilds call), streaming their logs.

        Exit 0 when all succeeded, 1 when any failed (with its failing phase and last log
        lines), 130 when interrupted.
        """
        from lmi_delivery.codebuild.run import make_reporter, wait_for_ids

        environ = dict(os.environ)
        reporter = make_reporter(reporter_kind, environ, sys.stdout)
        wait_for_ids(services_factory(environ), build_ids, reporter,
                     poll_interval=poll_interval, stop_on_cancel=stop_on_cancel)

    return group


codebuild_group = make_group()


def main(argv: Sequence[str] | None = None, group: click.Group = codebuild_group) -> int:
    """Run the group on its own, mapping errors to exit codes (``python -m`` and tests)."""
    try:
        group.main(args=list(sys.argv[1:] if argv is None else argv),
                   prog_name="lmi-delivery codebuild", standalone_mode=False)
    except click.ClickException as error:
        error.show()
        return error.exit_code
    except LmiError as error:
        click.echo(f"error: {error}", err=True)
        return error.exit_code
    return 0


if __name__ == "__main__":
    sys.exit(main())
