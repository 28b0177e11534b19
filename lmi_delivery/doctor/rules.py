"""The catalog of ``lmi-delivery doctor``'s rules, and the severity that makes it refuse.

Every rule has one id, one short name and one severity: ``high`` (an error: the command exits 3,
refused by a gate) or ``medium`` (a warning: reported, exit 0). Doctor speaks of its findings by
their level, ``error`` or ``warning``; findings are :mod:`lmi_delivery.findings`' own.

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
LMD012  two-owners                     error    Terraform manages what post-deploy manages
LMD013  aws-missing                    error    (--aws) a resource of the plane not deployed
LMD014  aws-iam-drift                  error    (--aws) a role or bucket policy not as rendered
LMD015  aws-project-drift              error    (--aws) a CodeBuild project not as rendered
LMD016  aws-bucket-drift               error    (--aws) bucket encryption, versioning, public
                                                access or lifecycle not as rendered
======  =============================  =======  ============================================
"""

from __future__ import annotations

from collections.abc import Iterable

from lmi_delivery.config.model import Severity
from lmi_delivery.errors import Location
from lmi_delivery.findings import Finding, Rule, blocking

#: Doctor refuses (exit 3) on any finding at or above this: its errors.
FAIL_ON: Severity = "high"

RULES: dict[str, Rule] = {r.id: r for r in (
    Rule("LMD000", "high", "Workflow or buildspec that is not YAML",
         "A workflow or buildspec cannot be parsed, so nothing in it was checked.",
         name="unreadable-file"),
    Rule("LMD001", "high", "Apply in a pull_request workflow",
         "A workflow triggered by pull_request or pull_request_target has a step that applies "
         "or deploys; pull requests must only plan.",
         name="apply-on-pull-request"),
    Rule("LMD002", "high", "Deploy started by a security scan alone",
         "A deploy workflow started only by another workflow's success (workflow_run) where "
         "neither workflow validates or plans: a security scan alone does not review a change.",
         name="deploy-gated-on-security-only"),
    Rule("LMD003", "high", "Name nearly, not exactly, a derived one",
         "A CodeBuild project, capacity provider or function name that looks like one the naming "
         "rule derives but is not one of them.",
         name="name-drift"),
    Rule("LMD004", "medium", "Generic and environment secrets in one step",
         "One step receives generic secrets and environment-specific secrets together.",
         name="mixed-secrets"),
    Rule("LMD005", "high", "Terraform outside terraform.working_directory",
         "Terraform runs in a directory other than terraform.working_directory.",
         name="terraform-directory"),
    Rule("LMD006", "high", "Terraform pinned to another version",
         "Terraform is pinned to a version other than terraform.version.",
         name="terraform-version"),
    Rule("LMD007", "medium", "Doc reference to a file that does not exist",
         "A Markdown link or backticked relative path names a file that does not exist.",
         name="broken-doc-reference"),
    Rule("LMD008", "medium", "Terraform after cd instead of -chdir",
         "Terraform runs after a `cd` instead of with an explicit -chdir.",
         name="terraform-without-chdir"),
    Rule("LMD009", "high", "Terraform state not shared or not locked",
         "The Terraform root has no backend, a local one, or an s3 backend without "
         "use_lockfile = true or dynamodb_table: state is not shared or not locked.",
         name="state-without-locking"),
    Rule("LMD010", "high", "Approved job that plans again",
         "A job gated by an environment's approval runs the lmi-delivery action with command: "
         "run or post-deploy after a job that planned: it plans again, or never applies, "
         "instead of applying the approved plan.",
         name="plan-again-after-approval"),
    Rule("LMD011", "high", "Install from an index without a pin and a hash",
         "A buildspec installs a package from an index without a version pin and a hash (pip "
         "install without --require-hashes, npm install, curl | sh), or lmi-delivery by its "
         "name: whoever controls the name runs code with the build's role.",
         name="unpinned-install"),
    Rule("LMD012", "high", "Knob managed by Terraform and by post-deploy",
         "Terraform manages something post-deploy manages too: a function's scaling config "
         "(aws_lambda_function_scaling_config, with scaling: in lmi-delivery.yml), its warm-up "
         "EventBridge rule or target (with warm.schedule), or where an alias routes "
         "(aws_lambda_alias without lifecycle { ignore_changes = [function_version, "
         "routing_config] }). Keep one owner: remove it from Terraform or from lmi-delivery.yml.",
         name="two-owners"),
    Rule("LMD013", "high", "Resource of the delivery plane not deployed",
         "A role, CodeBuild project, bucket or the GitHub OIDC provider that `lmi-delivery "
         "bootstrap` renders for the environment does not exist in the account: deploy the "
         "bootstrap template (`lmi-delivery bootstrap --env ENV --apply`).",
         name="aws-missing"),
    Rule("LMD014", "high", "IAM document not as rendered",
         "A role's trust policy or permissions (its inline policy, another inline policy, an "
         "attached managed policy) or a bucket policy differs from what `lmi-delivery "
         "bootstrap` renders: someone broadened or narrowed it by hand. Deploy the rendering "
         "again, or change lmi-delivery.yml and render again.",
         name="aws-iam-drift"),
    Rule("LMD015", "high", "CodeBuild project not as rendered",
         "A CodeBuild project's buildspec, service role, source, timeouts or concurrency "
         "differs from the rendering: a changed buildspec on the project runs whatever it says "
         "with the project's role.",
         name="aws-project-drift"),
    Rule("LMD016", "high", "Bucket not as rendered",
         "The artifacts or state bucket is not SSE-KMS with the plane's key, not versioned, "
         "not blocking public access, or lacks the lifecycle that expires plans.",
         name="aws-bucket-drift"),
)}


def finding(rule_id: str, location: Location, message: str) -> Finding:
    """A finding of doctor's rule ``rule_id`` at ``location``."""
    return RULES[rule_id].finding(message, location=location)


def is_failing(findings: Iterable[Finding]) -> bool:
    """Whether any finding is severe enough to make doctor exit 3 (an error)."""
    return bool(blocking(findings, FAIL_ON))
