"""A sandbox account full of function versions to prune, and the config that owns part of it.

Seeding goes through the sandbox's internal clients (no rate limit, no injected faults), on a
few threads, so 1,200 versions take seconds, not the 80 s the 15/s budget would cost. The
world knows which versions must survive a prune without asking the decision code: tests compare
what AWS has left with :attr:`World.expected_left`.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lmi_delivery.aws.clients import AwsSettings, ClientFactory, StaticCredentials
from lmi_delivery.config import load
from lmi_delivery.config.model import Config, Environment
from lmi_delivery.sandbox import Sandbox, seeding

SERVICE = "pw"
ENV = "dev"
# The sandbox's own trust policy and deployment package: any valid ones do.
TRUST = seeding.TRUST
zip_bytes = seeding.tiny_zip


def name(key: str) -> str:
    return f"{SERVICE}-{ENV}-{key}"


@dataclass
class World:
    root: Path
    config_path: Path
    config: Config
    env: Environment
    providers: dict[str, str]
    """Config key → ARN."""
    versions: dict[str, list[str]]
    """Function name → every version it has after seeding ($LATEST included)."""
    expected_left: dict[str, set[str]] = field(default_factory=dict)
    """Function name → versions a prune must leave (config functions only)."""
    others: list[str] = field(default_factory=list)
    """Functions on the providers that the config does not own."""
    reasons: dict[tuple[str, str], str] = field(default_factory=dict)
    """(function, version) → why a prune must leave it (``newest``, ``alias``, ...)."""

    def provider_name(self, key: str) -> str:
        return name(key)


def write_config(root: Path, providers: list[str], functions: Mapping[str, tuple[str, bool]],
                 keep: int, function_extra: str = "") -> Path:
    """An lmi-delivery.yml: ``functions`` maps key → (provider key, config manages scaling);
    ``function_extra`` is added to every function's settings."""
    (root / "terraform").mkdir(parents=True, exist_ok=True)
    (root / "terraform" / "main.tf").write_text("# provisioned by the test\n", encoding="utf-8")
    lines = [f"  {p}: {{}}" for p in providers]
    fns = [f"  {k}: {{capacity_provider: {p}" + (", scaling: {min: 1, max: 4}" if s else "")
           + function_extra + "}" for k, (p, s) in functions.items()]
    text = textwrap.dedent(f"""\
        version: 1
        service: {SERVICE}
        region: us-east-1
        naming: "{{service}}-{{env}}-{{name}}"
        terraform: {{version: 1.12.2, working_directory: terraform}}
        codebuild:
          projects: {{plan: "{{service}}-{{env}}-plan", apply: "{{service}}-{{env}}-apply"}}
          artifacts: s3://{SERVICE}-artifacts/plans
        environments:
          {ENV}: {{branch: main, apply: auto}}
        post_deploy:
          prune: {{keep: {keep}}}
        """) + "capacity_providers:\n" + "\n".join(lines) + "\nfunctions:\n" + "\n".join(fns)
    path = root / "lmi-delivery.yml"
    path.write_text(text + "\n", encoding="utf-8")
    return path


class Seeder:
    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self.lam = sandbox.client("lambda", internal=True)
        iam = sandbox.client("iam", internal=True)
        try:
            self.role = iam.get_role(RoleName="pw-role")["Role"]["Arn"]
        except iam.exceptions.NoSuchEntityException:
            self.role = iam.create_role(RoleName="pw-role",
                                        AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
        self._zip = zip_bytes()

    def provider(self, provider_name: str) -> str:
        made = self.lam.create_capacity_provider(
            CapacityProviderName=provider_name,
            VpcConfig={"SubnetIds": ["subnet-1"], "SecurityGroupIds": ["sg-1"]},
            PermissionsConfig={"CapacityProviderOperatorRoleArn": self.role})
        return str(made["CapacityProvider"]["CapacityProviderArn"])

    def function(self, function: str, provider_arn: str, versions: int) -> None:
        lam = self.sandbox.client("lambda", internal=True)
        lam.create_function(
            FunctionName=function, Role=self.role, Handler="app.handler", Runtime="python3.13",
            MemorySize=2048, Code={"ZipFile": self._zip},
            CapacityProviderConfig={"LambdaManagedInstancesCapacityProviderConfig": {
                "CapacityProviderArn": provider_arn}})
        for number in range(versions):
            lam.update_function_configuration(FunctionName=function,
                                              Description=f"change {number}")
            lam.publish_version(FunctionName=function)

    def functions(self, wanted: Mapping[str, tuple[str, int]]) -> None:
        """Create and publish many functions at once: name → (provider ARN, versions)."""
        with ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(lambda item: self.function(item[0], *item[1]), wanted.items()))

    def queue_arn(self, queue: str) -> str:
        sqs = self.sandbox.client("sqs", internal=True)
        url = sqs.create_queue(QueueName=queue)["QueueUrl"]
        return str(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
                   ["Attributes"]["QueueArn"])


@dataclass(frozen=True)
class Protections:
    """What protects versions of the config's functions (keys ``f0``, ``f1``, ...) from a prune.

    ``aliases``: key → the version its alias ``live`` points to; ``weighted``: key → (primary,
    additional) of an alias ``live`` routing 10% to the additional one; ``mappings``: key → the
    version an SQS event source mapping invokes; ``scaling``: key → a version given a scaling
    minimum, which protects it only on the ``unmanaged`` keys (scaling the config does not
    manage); ``latest_published``: keys given a ``$LATEST.PUBLISHED``.
    """

    aliases: Mapping[str, str] = field(default_factory=dict)
    weighted: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    mappings: Mapping[str, str] = field(default_factory=dict)
    scaling: Mapping[str, str] = field(default_factory=dict)
    unmanaged: frozenset[str] = frozenset()
    latest_published: tuple[str, ...] = ()


#: An alias on an old version (f0), a weighted alias (f1), an event source mapping (f2), a
#: scaling minimum on a function whose scaling the config does not manage (f3, protected) and
#: on one it does (f4, not protected), and ``$LATEST.PUBLISHED`` (f5).
PROTECTIONS = Protections(aliases={"f0": "5"}, weighted={"f1": ("10", "11")},
                          mappings={"f2": "7"}, scaling={"f3": "4", "f4": "4"},
                          unmanaged=frozenset({"f3"}), latest_published=("f5",))


def build(sandbox: Sandbox, root: Path, *, functions: int, versions: int, per_provider: int,
          keep: int = 3, protections: bool | Protections = True, others: int = 0,
          other_versions: int = 5, function_extra: str = "") -> World:
    """``functions`` config functions of ``versions`` versions, ``per_provider`` to a provider
    (the quota is 100 versions a provider), plus ``others`` functions the config does not own
    (round robin over the providers, ``other_versions`` versions each).

    ``protections=True`` gives the first functions :data:`PROTECTIONS` (when there are at least
    6 functions of 12 versions); a :class:`Protections` gives those. ``function_extra`` is added
    to every function's settings in the config (``", warm: {concurrency: 2}"``).
    """
    spec = PROTECTIONS if protections is True else protections or None
    seeder = Seeder(sandbox)
    keys = [f"f{i}" for i in range(functions)]
    provider_keys = [f"cp{i}" for i in range((functions + per_provider - 1) // per_provider)]
    placement = {k: provider_keys[i // per_provider] for i, k in enumerate(keys)}
    unmanaged = spec.unmanaged if spec else frozenset()
    path = write_config(root, provider_keys,
                        {k: (placement[k], k not in unmanaged) for k in keys}, keep,
                        function_extra)
    arns = {p: seeder.provider(name(p)) for p in provider_keys}
    s3 = sandbox.client("s3", internal=True)  # the artifacts bucket, as bootstrap makes it
    if f"{SERVICE}-artifacts" not in {b["Name"] for b in s3.list_buckets().get("Buckets", [])}:
        s3.create_bucket(Bucket=f"{SERVICE}-artifacts")
    other_names = [f"team-b-{i}" for i in range(others)]
    wanted = {name(k): (arns[placement[k]], versions) for k in keys}
    wanted.update({o: (arns[provider_keys[i % len(provider_keys)]], other_versions)
                   for i, o in enumerate(other_names)})
    seeder.functions(wanted)
    config = load(path)
    world = World(root, path, config, config.environment(ENV), arns,
                  {n: ["$LATEST", *map(str, range(1, v + 1))] for n, (_, v) in wanted.items()},
                  others=other_names)
    kept: list[tuple[str, str, str]] = []
    if spec is not None and (protections is not True or (functions >= 6 and versions >= 12)):
        kept = protect(seeder, world, spec)
    world.expected_left, world.reasons = {}, {}
    for key in keys:  # keep counts the newest versions besides the protected ones
        guarded = {v for k, v, _ in kept if k == key}
        newest = sorted((n for n in range(1, versions + 1) if str(n) not in guarded),
                        reverse=True)[:keep]
        world.expected_left[name(key)] = {"$LATEST", *map(str, newest), *guarded}
        world.reasons.update({(name(key), str(n)): "newest" for n in newest})
    for key, version, reason in kept:
        world.reasons.setdefault((name(key), version), reason)  # the first protection
    return world


def protect(seeder: Seeder, world: World, spec: Protections) -> list[tuple[str, str, str]]:
    """Make ``spec``'s protections; returns (key, version, reason) of each version protected."""
    lam = seeder.lam
    kept: list[tuple[str, str, str]] = []
    for key, version in spec.aliases.items():
        lam.create_alias(FunctionName=name(key), Name="live", FunctionVersion=version)
        kept.append((key, version, "alias"))
    for key, (primary, extra) in spec.weighted.items():
        lam.create_alias(FunctionName=name(key), Name="live", FunctionVersion=primary,
                         RoutingConfig={"AdditionalVersionWeights": {extra: 0.1}})
        kept += [(key, primary, "alias"), (key, extra, "weighted alias")]
    for index, (key, version) in enumerate(spec.mappings.items()):
        queue = seeder.queue_arn("pw-jobs" + (f"-{index}" if index else ""))
        lam.create_event_source_mapping(EventSourceArn=queue,
                                        FunctionName=f"{name(key)}:{version}")
        kept.append((key, version, "event source mapping"))
    for key, version in spec.scaling.items():
        lam.put_function_scaling_config(
            FunctionName=name(key), Qualifier=version,
            FunctionScalingConfig={"MinExecutionEnvironments": 2, "MaxExecutionEnvironments": 4})
        if key in spec.unmanaged:
            kept.append((key, version, "scaling minimum"))
    for key in spec.latest_published:
        lam.publish_version(FunctionName=name(key), PublishTo="LATEST_PUBLISHED")
        world.versions[name(key)].append("$LATEST.PUBLISHED")
        kept.append((key, "$LATEST.PUBLISHED", "$LATEST.PUBLISHED"))
    return kept


def left(sandbox: Sandbox, functions: list[str]) -> dict[str, set[str]]:
    """What AWS has now: function → versions."""
    lam = sandbox.client("lambda", internal=True)
    found = {}
    for function in functions:
        versions: set[str] = set()
        for page in lam.get_paginator("list_versions_by_function").paginate(
                FunctionName=function):
            versions |= {v["Version"] for v in page["Versions"]}
        found[function] = versions
    return found


def move(sandbox: Sandbox, function: str, provider_arn: str) -> None:
    """Point a function's ``$LATEST`` at another provider (its published versions stay)."""
    sandbox.client("lambda", internal=True).update_function_configuration(
        FunctionName=function,
        CapacityProviderConfig={"LambdaManagedInstancesCapacityProviderConfig": {
            "CapacityProviderArn": provider_arn}})


def paced_factory(sandbox: Sandbox, *, max_attempts: int = 5, **extra: Any) -> ClientFactory:
    """The production way of making clients: ClientFactory, one shared budget, pacing."""
    settings = AwsSettings(region=sandbox.region, endpoint_url=sandbox.endpoint_url,
                           max_attempts=max_attempts,
                           credentials=StaticCredentials("testing", "testing"), **extra)
    return ClientFactory(settings)


def paced_client(sandbox: Sandbox, *, max_attempts: int = 5, **extra: Any) -> Any:
    """A Lambda client built the production way (ClientFactory, shared budget, pacing)."""
    return paced_factory(sandbox, max_attempts=max_attempts, **extra).client("lambda")


def sandbox_environ(sandbox: Sandbox) -> dict[str, str]:
    return {"AWS_ENDPOINT_URL": sandbox.endpoint_url, "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": sandbox.region}
