"""The environment a sandbox build's commands run with.

Layers, lowest first, as CodeBuild applies them: the machine's environment (without its own
``AWS_*`` and ``CODEBUILD_*`` variables), the sandbox's AWS settings (endpoint, region, fake
credentials), the buildspec's ``env``, the project's variables, ``environmentVariablesOverride``,
and last the ``CODEBUILD_*`` variables CodeBuild reserves. ``PARAMETER_STORE`` and
``SECRETS_MANAGER`` values are resolved from the sandbox's SSM and Secrets Manager; their values
are never logged and errors name only the reference.

The machine's own pip and Python settings (``PIP_*``, ``VIRTUAL_ENV``, ``PYTHONPATH``, ...) are
dropped too, and ``PATH`` loses the virtualenv lmi-delivery runs from: a build has no
lmi-delivery until it installs the orchestrator's wheel. ``PATH`` starts with the image's tools
directory (:mod:`.build_image`: ``python3``, and a ``terraform`` shim that runs the embedded
Terraform when the ``terraform`` found on ``PATH`` is not the pinned version).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from lmi_delivery.sandbox.codebuild.spec import Buildspec
from lmi_delivery.terraform import embedded

if TYPE_CHECKING:
    from mypy_boto3_secretsmanager import SecretsManagerClient
    from mypy_boto3_ssm import SSMClient

#: A sandbox-only variable (any type of override or project variable): the build's timeout in
#: seconds, so that tests can time a build out without waiting five minutes.
TIMEOUT_SECONDS_VARIABLE = "LMI_SANDBOX_TIMEOUT_SECONDS"

_DROPPED = re.compile(r"^(AWS_|CODEBUILD_|BOTO_|PIP_|LMI_DELIVERY_|VIRTUAL_ENV$|PYTHONPATH$"
                      r"|PYTHONHOME$|PYTHONUSERBASE$|PYTHONSTARTUP$)")
_SECRET_ARN = re.compile(r"^(arn:[^:]+:secretsmanager:[^:]*:[^:]*:secret:[^:]+)(?::(.*))?$")


class EnvError(Exception):
    """A variable cannot be resolved. The message names the reference, never a value."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class SecretResolver:
    """Resolves ``PARAMETER_STORE`` and ``SECRETS_MANAGER`` references in the sandbox."""

    ssm: SSMClient
    secrets: SecretsManagerClient

    def parameter(self, name: str) -> str:
        try:
            answer = self.ssm.get_parameter(Name=name, WithDecryption=True)
        except ClientError as error:
            raise EnvError("Decrypted Variables Error",
                           f"parameter does not exist: {name}") from error
        return answer["Parameter"].get("Value", "")

    def secret(self, reference: str) -> str:
        secret_id, json_key, stage, version_id = _split_secret_reference(reference)
        kwargs: dict[str, Any] = {"SecretId": secret_id}
        if stage:
            kwargs["VersionStage"] = stage
        if version_id:
            kwargs["VersionId"] = version_id
        try:
            answer = self.secrets.get_secret_value(**kwargs)
        except ClientError as error:
            raise EnvError("Secrets Manager Error",
                           f"Secrets Manager can't find the specified secret: {secret_id}"
                           ) from error
        value = answer.get("SecretString", "")
        if not json_key:
            return value
        try:
            document = json.loads(value)
            picked = document[json_key]
        except (ValueError, KeyError, TypeError):
            raise EnvError("Secrets Manager Error",
                           f"secret {secret_id} has no JSON key {json_key}") from None
        return picked if isinstance(picked, str) else json.dumps(picked)


def _split_secret_reference(reference: str) -> tuple[str, str, str, str]:
    """``secret-id:json-key:version-stage:version-id``; the secret id may be an ARN."""
    match = _SECRET_ARN.match(reference)
    if match:
        secret_id, rest = match.group(1), match.group(2) or ""
    else:
        secret_id, _, rest = reference.partition(":")
    parts = ([*rest.split(":"), "", "", ""])[:3]
    return secret_id, parts[0], parts[1], parts[2]


def resolve_definitions(definitions: Iterable[Mapping[str, str]],
                        resolver: SecretResolver) -> dict[str, str]:
    """Values of project variables or overrides (``name``, ``value``, ``type``)."""
    values: dict[str, str] = {}
    for definition in definitions:
        kind = definition.get("type") or "PLAINTEXT"
        value = definition.get("value", "")
        if kind == "PARAMETER_STORE":
            value = resolver.parameter(value)
        elif kind == "SECRETS_MANAGER":
            value = resolver.secret(value)
        elif kind != "PLAINTEXT":
            raise EnvError("CLIENT_ERROR", f"unknown type {kind} of variable {definition['name']}")
        values[definition["name"]] = value
    return values


def resolve_buildspec(spec: Buildspec, resolver: SecretResolver) -> dict[str, str]:
    values = dict(spec.variables)
    values.update({k: resolver.parameter(v) for k, v in spec.parameter_store.items()})
    values.update({k: resolver.secret(v) for k, v in spec.secrets_manager.items()})
    return values


def machine_environment(environ: Mapping[str, str]) -> dict[str, str]:
    """The inherited part: everything but the machine's own AWS, CodeBuild, pip and Python
    settings (and which lmi-delivery to install: only the build's variables say that)."""
    return {k: v for k, v in environ.items() if not _DROPPED.match(k)}


def sandbox_variables(*, endpoint_url: str, region: str, access_key: str,
                      secret_key: str = "sandbox-secret-key",
                      session_token: str | None = None) -> dict[str, str]:
    """What makes every AWS CLI or SDK call inside the build reach the sandbox, with the
    build's credentials (its service role's session, or the caller's key)."""
    found = {
        "AWS_ENDPOINT_URL": endpoint_url,
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        "AWS_ACCESS_KEY_ID": access_key,
        "AWS_SECRET_ACCESS_KEY": secret_key,
        "AWS_EC2_METADATA_DISABLED": "true",
        "CHECKPOINT_DISABLE": "1",
    }
    if session_token:
        found["AWS_SESSION_TOKEN"] = session_token
    return found


def tool_path(base_path: str, tools_dir: Path | None, hidden: Iterable[str] = ()) -> str:
    """``PATH`` with ``tools_dir`` in front and without the directories ``hidden``."""
    front = [str(tools_dir)] if tools_dir is not None else []
    drop = {os.path.realpath(entry) for entry in hidden}
    rest = [entry for entry in base_path.split(os.pathsep)
            if entry and entry not in front and os.path.realpath(entry) not in drop]
    return os.pathsep.join(front + rest)


def terraform_shim(path: str, shim_dir: Path, environ: Mapping[str, str]) -> Path | None:
    """The shim directory if ``path`` lacks the pinned Terraform, else ``None``.

    The shim is written once per directory; callers cache the answer.
    """
    found = shutil.which("terraform", path=path)
    if found and _version(found, environ) == embedded.EMBEDDED_VERSION:
        return None
    if not (shim_dir / "terraform").exists():
        embedded.write_shim(shim_dir)
    return shim_dir


def _version(binary: str, environ: Mapping[str, str]) -> str | None:
    try:
        out = subprocess.run([binary, "version"], capture_output=True, text=True, timeout=20,
                             stdin=subprocess.DEVNULL, env={**environ, "CHECKPOINT_DISABLE": "1"},
                             check=False).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = re.search(r"Terraform v(\d+\.\d+\.\d+)", out)
    return match.group(1) if match else None
