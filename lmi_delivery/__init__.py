"""lmi-delivery: ship AWS Lambda Managed Instances platforms built with Terraform.

Public API: the version, the error hierarchy and the configuration loader. Everything else is
reached through the ``lmi-delivery`` command or the GitHub Action.
"""

from lmi_delivery.errors import (
    AwsError,
    CommandFailed,
    ConfigError,
    GateRefused,
    InputError,
    Interrupted,
    LmiError,
    OperationFailed,
    UsageError,
)

__version__ = "0.1.0"

__all__ = [
    "AwsError",
    "CommandFailed",
    "ConfigError",
    "GateRefused",
    "InputError",
    "Interrupted",
    "LmiError",
    "OperationFailed",
    "UsageError",
    "__version__",
]
