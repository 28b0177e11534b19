"""``lmi-delivery run``: execute the delivery plan's runner steps, stage by stage.

The runner (a GitHub job, a laptop) starts CodeBuild builds, waits on them with one poller,
checks approvals and the delivery setup; everything that touches Terraform or Lambda happens
inside the builds, through the buildspecs. ``sandbox`` runs the very same code path against
the embedded sandbox. It never runs Terraform or calls Lambda itself, and never takes a
build's verdict from its log.
"""
