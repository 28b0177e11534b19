"""CloudFormation in the sandbox: moto's, with the resource types the bootstrap template needs
(:mod:`.resources`) and stacks that fail as CloudFormation's do (:mod:`.failures`). It never
creates a resource outside the sandbox's own services: a CodeBuild project of a stack is a
project of the sandbox's CodeBuild."""

from __future__ import annotations

from lmi_delivery.sandbox.cloudformation import failures, resources


def register() -> None:
    """Teach moto's CloudFormation the sandbox's types and record failing resources
    (idempotent; moto's parser is process-global)."""
    resources.register()
    failures.record_failures()
