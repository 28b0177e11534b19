"""The catalog of lmi-delivery's own rules: id, default severity, title and help.

The security gate's rules are ``SEC…`` and ``OWN…`` (one owner per knob: Terraform managing
what post-deploy manages, :mod:`lmi_delivery.gates.ownership`), the validation gate's (LMI
constraints) ``LMI…``, rules about the gates themselves ``GATE…``. Each is tagged
``security``, as the configured scanners' rules are, so that GitHub code scanning ranks their
alerts by severity.
"""

from __future__ import annotations

from dataclasses import replace

from lmi_delivery.config.model import Severity
from lmi_delivery.findings import Finding, Rule

SECURITY = ("security",)

_RULES = (
    Rule("SEC001", "critical", "IAM policy allows every action",
         'An Allow statement with Action "*" grants every AWS action. List the actions needed.'),
    Rule("SEC002", "high", "IAM policy allows a whole service on every resource",
         'An Allow statement with "service:*" on Resource "*" grants a whole service '
         "everywhere. Name the actions and scope the resources."),
    Rule("SEC003", "high", "IAM policy allows by NotAction",
         "An Allow statement with NotAction grants everything not listed, including actions "
         "added to AWS later. Use Action with an explicit list."),
    Rule("SEC004", "low", "IAM policy not readable at plan time",
         "The policy's text is known only after the apply (rendered from values Terraform "
         "learns while applying, or from a policy document whose statements are unknown), so "
         "the gate could not check it for wildcards. Build it from a data "
         '"aws_iam_policy_document" with constant actions, or review it after the apply.'),
    Rule("SEC010", "high", "Security group open to the internet inbound",
         "Inbound rules from 0.0.0.0/0 or ::/0 expose the instances to the whole internet. "
         "Capacity-provider instances need no inbound access: allow only known sources."),
    Rule("SEC020", "medium", "Resource placed in the default VPC",
         "The default VPC has public subnets and permissive defaults shared by everything in "
         "the account. Give the platform its own VPC with private subnets."),
    Rule("SEC030", "high", "Secret-like Lambda environment variable",
         "Lambda environment variables are readable by anyone who can read the function's "
         "configuration. Keep secrets in Secrets Manager or SSM and pass their ARN or name."),
    Rule("SEC031", "critical", "Credential in a Lambda environment variable",
         "The value looks like a credential (AWS secret key, access key, private key, token). "
         "Rotate it and move it to Secrets Manager."),
    Rule("SEC032", "high", "Build secret set as a non-sensitive Terraform variable",
         "A codebuild.secrets entry TF_VAR_<name> sets the root variable <name>; declare it "
         "sensitive = true, or Terraform prints the secret in plans, errors and the build log."),
    Rule("SEC040", "medium", "No customer-managed KMS key",
         "gates.security.require_kms asks every capacity provider, function, log group and S3 "
         "bucket to be encrypted with a customer-managed KMS key."),
    Rule("LMI001", "high", "Memory per vCPU not 2, 4 or 8 GiB",
         "execution_environment_memory_gib_per_vcpu must be 2, 4 or 8."),
    Rule("LMI002", "high", "Max concurrency outside 1-1600",
         "per_execution_environment_max_concurrency must be between 1 and 1600."),
    Rule("LMI003", "high", "Function memory below 2048 MB",
         "A function on Lambda Managed Instances needs memory_size of at least 2048 MB."),
    Rule("LMI004", "high", "Capacity provider max_vcpu_count outside 12-15000",
         "capacity_provider_scaling_config.max_vcpu_count must be between 12 and 15000."),
    Rule("LMI005", "high", "Both allowed and excluded instance types",
         "instance_requirements takes allowed_instance_types or excluded_instance_types, "
         "not both."),
    Rule("LMI006", "high", "Instance type does not match the architecture",
         "Graviton types (a g after the generation digit: m7g, c6gn, r8g) run arm64; the "
         "others run x86_64. Every allowed type must match instance_requirements.architectures."),
    Rule("LMI007", "high", "Subnet in an availability zone without LMI",
         "The subnet's availability zone is listed in gates.validation.unsupported_azs."),
    Rule("LMI008", "high", "Scaling mode and scaling policies do not fit",
         "Scaling policies apply only in Manual mode, and Manual mode needs at least one."),
    Rule("LMI009", "high", "LMI function with its own VPC or file system config",
         "The capacity provider owns the networking of an LMI function: remove vpc_config and "
         "file_system_config from the function."),
    Rule("LMI010", "high", "Standard function switched to LMI in place",
         "An existing function cannot join a capacity provider: create a new function (AWS "
         "refuses the update; a replacement deletes the function with its versions and aliases)."),
    Rule("LMI011", "high", "Runtime not supported on LMI",
         "LMI runs Python 3.13+, Node.js 22+, Java 21+, .NET 8+ and provided.al2023."),
    Rule("LMI012", "high", "Instance type not offered for LMI",
         "Capacity providers launch C, M and R instance families, size large and up."),
    Rule("LMI013", "high", "Capacity provider deleted while versions are bound to it",
         "AWS refuses DeleteCapacityProvider while any function version references the "
         "provider (published versions keep the association after their function moved). "
         "Retire them first: lmi-delivery prune --env ENV --retire-capacity-provider NAME."),
    Rule("LMI014", "high", "Function memory above 32 GB",
         "A function on Lambda Managed Instances takes memory_size up to 32,768 MB (standard "
         "functions stop at 10,240 MB)."),
    Rule("LMI015", "high", "Aliased LMI function not published",
         "publish = false (the provider's default) leaves the function's version at $LATEST, "
         "which on managed instances cannot be invoked: an alias needs a published version. "
         "Set publish = true."),
    Rule("LMI016", "high", "$LATEST.PUBLISHED relied on but not published to",
         "Unqualified invokes of an LMI function, and anything naming $LATEST.PUBLISHED, run "
         'what was last published with publish_to = "LATEST_PUBLISHED". Without it an apply '
         "leaves $LATEST.PUBLISHED on old code, or missing."),
    Rule("OWN001", "high", "Scaling config managed by Terraform and by post-deploy",
         "An aws_lambda_function_scaling_config sets the scaling config of a function whose "
         "functions.<key>.scaling post-deploy applies too: each apply and each deploy puts "
         "back its own minimum. Keep one owner: remove the resource, or remove scaling: from "
         "lmi-delivery.yml. A waiver in gates.security.waivers accepts it until a date."),
    Rule("OWN002", "high", "Warm-up rule managed by Terraform and by post-deploy",
         "Terraform manages the EventBridge warm-up rule post-deploy writes for a function with "
         "warm.schedule (or a target on it): every warm-up fires twice and Terraform reports "
         "drift. Keep one owner: remove the rule and its target from Terraform, or remove "
         "warm.schedule. A waiver in gates.security.waivers accepts it until a date."),
    Rule("OWN003", "high", "Alias routing managed by Terraform and by post-deploy",
         "An aws_lambda_alias of an alias post-deploy moves manages function_version or "
         "routing_config: each apply moves the alias back. Add lifecycle { ignore_changes = "
         "[function_version, routing_config] } (Terraform still creates the alias). A waiver "
         "in gates.security.waivers accepts it until a date."),
    Rule("GATE001", "medium", "Configured scanner not installed",
         "A scanner listed in gates.security.scanners was not found on PATH: install it or "
         "remove it from the configuration."),
    Rule("GATE002", "low", "Expired waiver",
         "A waiver in gates.security.waivers is past its expires date and no longer applies."),
)

RULES: dict[str, Rule] = {rule.id: replace(rule, tags=SECURITY) for rule in _RULES}


def finding(rule_id: str, address: str, message: str,
            severity: Severity | None = None, *, key: str = "",
            advisory: bool = False) -> Finding:
    """A finding of one of our rules, at its default severity unless told otherwise.

    ``key`` tells it apart from other findings of the rule on the same address (it goes into
    the SARIF fingerprint); ``advisory`` marks a check that could not be completed.
    """
    return RULES[rule_id].finding(message, address=address, severity=severity, key=key,
                                  advisory=advisory)
