"""What ``lmi-delivery doctor`` reports: rules, severities and findings.

Every rule has one id, one short name and one severity. A finding of severity ``error`` makes
the command exit 3 (refused by a gate); ``warning`` findings are reported and exit 0.

======  =============================  =======  ============================================
id      name                           level    finds
======  =============================  =======  ============================================
LMD000  unreadable-file                error    a workflow or buildspec that is not YAML
LMD001  apply-on-pull-request          error    a step that applies in a pull_request workflow
LMD002  deploy-gated-on-security-only  error    a deploy started by a security scan alone
LMD003  name-drift                     error    a name nearly, not exactly, a derived one
LMD004  mixed-secrets                  warning  generic and environment secrets in one step
LMD005  terraform-directory            error    Terraform outside terraform.working_directory
LMD006  terraform-version              error    Terraform pinned to another version
LMD007  broken-doc-reference           warning  a doc link to a file that does not exist
LMD008  terraform-without-chdir        warning  ``cd DIR && terraform`` instead of -chdir
LMD009  state-without-locking          error    no shared backend, or one that does not lock
LMD010  plan-again-after-approval      error    an approved job that plans again (run)
LMD011  unpinned-install               error    a buildspec installs from an index unpinned
======  =============================  =======  ============================================
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from lmi_delivery.errors import Location

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Rule:
    id: str
    name: str
    severity: Severity
    summary: str


RULES: dict[str, Rule] = {r.id: r for r in (
    Rule("LMD000", "unreadable-file", "error",
         "A workflow or buildspec cannot be parsed, so nothing in it was checked."),
    Rule("LMD001", "apply-on-pull-request", "error",
         "A workflow triggered by pull_request or pull_request_target has a step that applies "
         "or deploys; pull requests must only plan."),
    Rule("LMD002", "deploy-gated-on-security-only", "error",
         "A deploy workflow started only by another workflow's success (workflow_run) where "
         "neither workflow validates or plans: a security scan alone does not review a change."),
    Rule("LMD003", "name-drift", "error",
         "A CodeBuild project, capacity provider or function name that looks like one the naming "
         "rule derives but is not one of them."),
    Rule("LMD004", "mixed-secrets", "warning",
         "One step receives generic secrets and environment-specific secrets together."),
    Rule("LMD005", "terraform-directory", "error",
         "Terraform runs in a directory other than terraform.working_directory."),
    Rule("LMD006", "terraform-version", "error",
         "Terraform is pinned to a version other than terraform.version."),
    Rule("LMD007", "broken-doc-reference", "warning",
         "A Markdown link or backticked relative path names a file that does not exist."),
    Rule("LMD008", "terraform-without-chdir", "warning",
         "Terraform runs after a `cd` instead of with an explicit -chdir."),
    Rule("LMD009", "state-without-locking", "error",
         "The Terraform root has no backend, a local one, or an s3 backend without "
         "use_lockfile = true or dynamodb_table: state is not shared or not locked."),
    Rule("LMD010", "plan-again-after-approval", "error",
         "A job gated by an environment's approval runs the lmi-delivery action with command: "
         "run or post-deploy after a job that planned: it plans again, or never applies, "
         "instead of applying the approved plan."),
    Rule("LMD011", "unpinned-install", "error",
         "A buildspec installs a package from an index without a version pin and a hash (pip "
         "install without --require-hashes, npm install, curl | sh), or lmi-delivery by its "
         "name: whoever controls the name runs code with the build's role."),
)}


@dataclass(frozen=True, order=True)
class Finding:
    """One problem of the delivery setup, at the place it is about."""

    location: Location
    rule: str
    message: str

    @property
    def severity(self) -> Severity:
        return RULES[self.rule].severity

    @property
    def name(self) -> str:
        return RULES[self.rule].name

    def __str__(self) -> str:
        return f"{self.location}: {self.rule} {self.message}"


def is_failing(findings: list[Finding]) -> bool:
    """Whether any finding is severe enough to make doctor exit 3."""
    return any(f.severity == "error" for f in findings)
