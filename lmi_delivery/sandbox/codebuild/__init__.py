"""The sandbox's CodeBuild: builds that really run their buildspec on this machine.

It owns the service handlers (:mod:`.service`), starting a build (:mod:`.start`), its model
(:mod:`.model`), the buildspec reader (:mod:`.spec`), the source checkout (:mod:`.source`), the
environment (:mod:`.env`), the build image with lmi-delivery installed (:mod:`.image`,
:mod:`.wheelhouse`), the phase runner (:mod:`.run`) and shell (:mod:`.process`), logs
(:mod:`.logs`) and artifacts (:mod:`.artifacts`). It never reaches a real AWS endpoint: a build's
AWS calls go back to the sandbox.
"""
