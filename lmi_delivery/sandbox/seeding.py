"""Start a sandbox with resources already provisioned, as Terraform would have made them.

``seed_from_config`` reads an lmi-delivery configuration: for each environment (all, or the
ones named) it creates the capacity providers and functions the naming rule derives (runtime
python3.13, 2048 MB, a tiny zip, an IAM role; ``$LATEST`` only: versions and aliases are the
deploy's job) and the S3 bucket of ``codebuild.artifacts``.

``seed_file`` reads a seed file, YAML or JSON, every key optional::

    region: us-east-1                 # default region of the entries below
    buckets: [my-artifacts]
    capacity_providers:
      - name: shared                  # region: ..., max_vcpu: 12 (optional)
    functions:
      - name: svc-dev-router
        capacity_provider: shared     # omit for a standard (non-LMI) function
        runtime: python3.13           # default python3.13
        memory: 2048                  # default 2048
        versions: 2                   # publish this many numbered versions
        latest_published: true        # also publish $LATEST.PUBLISHED
        aliases: {live: "2"}          # alias name -> version

Every call goes through the sandbox's AWS API (marked internal: no faults, no rate limit).
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from lmi_delivery.config.naming import artifact_location, derived_names
from lmi_delivery.errors import ConfigError
from lmi_delivery.sandbox.clients import client

if TYPE_CHECKING:
    from lmi_delivery.config.model import Config
    from lmi_delivery.sandbox.server import Sandbox

FUNCTION_ROLE = "lmi-sandbox-function"
OPERATOR_ROLE = "lmi-sandbox-capacity-provider-operator"
TRUST = ('{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":'
         '{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}')


def tiny_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", "def handler(event, context):\n    return {'ok': True}\n")
    return buffer.getvalue()


class Seeder:
    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self._iam = client(sandbox, "iam", internal=True)
        self._roles: dict[str, str] = {}
        self._clients: dict[tuple[str, str], Any] = {}

    def _client(self, service: str, region: str) -> Any:
        if (service, region) not in self._clients:
            self._clients[(service, region)] = client(self.sandbox, service, region=region,
                                                      internal=True)
        return self._clients[(service, region)]

    def lam(self, region: str) -> Any:
        return self._client("lambda", region)

    def role(self, name: str) -> str:
        if name not in self._roles:
            try:
                arn = self._iam.get_role(RoleName=name)["Role"]["Arn"]
            except self._iam.exceptions.NoSuchEntityException:
                arn = self._iam.create_role(RoleName=name,
                                            AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
            self._roles[name] = str(arn)
        return self._roles[name]

    def bucket(self, name: str, region: str) -> None:
        s3 = self._client("s3", region)
        if name in {b["Name"] for b in s3.list_buckets().get("Buckets", [])}:
            return
        if region == "us-east-1":
            s3.create_bucket(Bucket=name)
        else:
            s3.create_bucket(Bucket=name,
                             CreateBucketConfiguration={"LocationConstraint": region})

    def capacity_provider(self, name: str, region: str, max_vcpu: int | None = None) -> str:
        lam = self.lam(region)
        try:
            return str(lam.get_capacity_provider(
                CapacityProviderName=name)["CapacityProvider"]["CapacityProviderArn"])
        except lam.exceptions.ResourceNotFoundException:
            pass
        scaling: dict[str, Any] = {"ScalingMode": "Auto"}
        if max_vcpu:
            scaling["MaxVCpuCount"] = max_vcpu
        made = lam.create_capacity_provider(
            CapacityProviderName=name,
            VpcConfig={"SubnetIds": ["subnet-0sandbox0a", "subnet-0sandbox0b"],
                       "SecurityGroupIds": ["sg-0sandbox"]},
            PermissionsConfig={"CapacityProviderOperatorRoleArn": self.role(OPERATOR_ROLE)},
            CapacityProviderScalingConfig=scaling,
        )
        return str(made["CapacityProvider"]["CapacityProviderArn"])

    def function(self, name: str, region: str, provider_arn: str | None, *,
                 runtime: str = "python3.13", memory: int = 2048) -> None:
        lam = self.lam(region)
        try:
            lam.get_function(FunctionName=name)
            return
        except lam.exceptions.ResourceNotFoundException:
            pass
        extra: dict[str, Any] = {}
        if provider_arn:
            extra["CapacityProviderConfig"] = {
                "LambdaManagedInstancesCapacityProviderConfig": {
                    "CapacityProviderArn": provider_arn}}
        lam.create_function(FunctionName=name, Runtime=runtime, Role=self.role(FUNCTION_ROLE),
                            Handler="app.handler", Code={"ZipFile": tiny_zip()},
                            MemorySize=memory, **extra)


def seed_from_config(sandbox: Sandbox, config: Config, env_names: list[str] | None) -> None:
    seeder = Seeder(sandbox)
    for env_name in env_names or list(config.environments):
        env = config.environment(env_name)
        region = config.region_for(env)
        names = derived_names(config, env)
        arns = {key: seeder.capacity_provider(name, region)
                for key, name in names.capacity_providers.items()}
        for key, name in names.functions.items():
            provider = config.functions[key].capacity_provider
            seeder.function(name, region, arns.get(provider) if provider else None)
    seeder.bucket(artifact_location(config).bucket, config.region)


def _entries(data: dict[str, Any], key: str, path: Path) -> list[dict[str, Any]]:
    entries = data.get(key) or []
    if not isinstance(entries, list) or not all(isinstance(e, dict) and e.get("name")
                                                for e in entries):
        raise ConfigError.at(str(path), f"{key} must be a list of mappings with a name",
                             path=key)
    return entries


def seed_file(sandbox: Sandbox, path: Path) -> None:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as error:
        raise ConfigError.at(str(path), f"cannot read seed file: {error}") from None
    if not isinstance(data, dict):
        raise ConfigError.at(str(path), "a seed file is a mapping")
    seeder = Seeder(sandbox)
    default_region = str(data.get("region") or sandbox.region)
    for bucket in data.get("buckets") or []:
        seeder.bucket(str(bucket), default_region)
    arns: dict[tuple[str, str], str] = {}
    for entry in _entries(data, "capacity_providers", path):
        region = str(entry.get("region") or default_region)
        arns[(region, str(entry["name"]))] = seeder.capacity_provider(
            str(entry["name"]), region, entry.get("max_vcpu"))
    for entry in _entries(data, "functions", path):
        region = str(entry.get("region") or default_region)
        provider = entry.get("capacity_provider")
        if provider and (region, str(provider)) not in arns:
            raise ConfigError.at(str(path), f"function {entry['name']} names unknown capacity "
                                 f"provider {provider}", path="functions")
        name = str(entry["name"])
        seeder.function(name, region, arns[(region, str(provider))] if provider else None,
                        runtime=str(entry.get("runtime", "python3.13")),
                        memory=int(entry.get("memory", 2048)))
        lam = seeder.lam(region)
        for number in range(int(entry.get("versions", 0))):
            lam.update_function_configuration(FunctionName=name,
                                              Description=f"seed version {number + 1}")
            lam.publish_version(FunctionName=name)
        if entry.get("latest_published"):
            lam.publish_version(FunctionName=name, PublishTo="LATEST_PUBLISHED")
        for alias, version in (entry.get("aliases") or {}).items():
            lam.create_alias(FunctionName=name, Name=str(alias), FunctionVersion=str(version))
