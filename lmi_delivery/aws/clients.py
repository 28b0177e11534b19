"""The one place AWS sessions and clients are built.

:class:`AwsSettings` says where and how to reach AWS (region, endpoint, profile, role, retry
policy, the Lambda rate budget); it is read once from an environment mapping handed in by the CLI.
:class:`ClientFactory` turns it into clients; :func:`clients_for` is how every command gets one.
Every Lambda client a factory builds is paced: each HTTP attempt of a control-plane operation
(retries included) first takes a token from the account's
:class:`~lmi_delivery.aws.budget.RateBudget`, and a throttle answer pushes the whole budget back
by its ``retryAfterSeconds``. Unless a factory is handed a registry of its own, its budgets are
the process's (:func:`~lmi_delivery.aws.budget.process_budgets`): every Lambda client of one
account and region in this process, whichever command or thread built it, takes its tokens from
the same budget.

**Region.** The config's region for the environment (its ``region:``, else the config's) wins
over ``AWS_REGION`` / ``AWS_DEFAULT_REGION``; those are read only when a command has no config
(``codebuild start|wait``). The config is reviewed and says where each environment lives, and one
config may deliver environments of several regions from one runner; the variables say where the
code runs: CodeBuild sets ``AWS_REGION`` to the build's own region in every build, a workflow sets
one per job.

Clients are botocore's, built from botocore sessions: boto3 adds nothing lmi-delivery calls
(resources, S3 transfer helpers) and importing it costs a command a sixth of a second. botocore
is imported lazily, inside methods, so that importing this module (and starting the CLI) stays
fast.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal, Protocol, overload

from lmi_delivery.aws.budget import BudgetKey, BudgetRegistry, process_budgets
from lmi_delivery.aws.pacing import LambdaPacer
from lmi_delivery.errors import UsageError

if TYPE_CHECKING:
    import boto3
    import botocore.loaders
    import botocore.session
    from botocore.config import Config
    from mypy_boto3_codebuild import CodeBuildClient
    from mypy_boto3_events import EventBridgeClient
    from mypy_boto3_lambda import LambdaClient
    from mypy_boto3_logs import CloudWatchLogsClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_secretsmanager import SecretsManagerClient
    from mypy_boto3_ssm import SSMClient
    from mypy_boto3_sts import STSClient

RetryMode = Literal["standard", "adaptive"]
RETRY_MODES: tuple[RetryMode, ...] = ("standard", "adaptive")
#: AWS's Lambda control-plane limit per account and region (AWS-FACTS.md).
LAMBDA_CONTROL_RATE = 15.0
#: ``GetFunction`` / ``GetFunctionConfiguration`` have their own, larger limit.
LAMBDA_READ_RATE = 100.0
#: Credential providers that would reach the network (instance metadata, container endpoint).
_NETWORK_CREDENTIAL_METHODS = frozenset({"iam-role", "container-role"})


@dataclass(frozen=True)
class StaticCredentials:
    access_key_id: str
    secret_access_key: str = field(repr=False)
    session_token: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class AwsSettings:
    """Where and how to reach AWS. Build it with :meth:`from_environ` at the edge."""

    region: str
    endpoint_url: str | None = None
    profile: str | None = None
    role_arn: str | None = None
    role_session_name: str = "lmi-delivery"
    max_attempts: int = 5
    """Attempts per call, the first one included (as ``AWS_MAX_ATTEMPTS`` counts them)."""
    retry_mode: RetryMode = "standard"
    lambda_rate: float = LAMBDA_CONTROL_RATE
    lambda_read_rate: float = LAMBDA_READ_RATE
    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    max_pool_connections: int = 32
    credentials: StaticCredentials | None = field(default=None, repr=False)
    """Keys taken from the environment mapping; ``None`` leaves it to botocore's chain."""
    container_credentials: bool = False
    """The mapping names a container credentials endpoint (CodeBuild, ECS)."""

    def __post_init__(self) -> None:
        if not self.region:
            raise UsageError("no AWS region: set AWS_REGION (or region: in the config file)")
        if self.retry_mode not in RETRY_MODES:
            raise UsageError(f"retry mode must be one of {', '.join(RETRY_MODES)}, "
                             f"not {self.retry_mode!r}")
        if self.max_attempts < 1:
            raise UsageError(f"max attempts must be >= 1, not {self.max_attempts}")
        if self.lambda_rate <= 0 or self.lambda_read_rate <= 0:
            raise UsageError("the Lambda rate budget must be > 0 requests/s")

    @classmethod
    def from_environ(cls, environ: Mapping[str, str], **overrides: Any) -> AwsSettings:
        """Settings from ``environ`` (only that mapping is read); non-None overrides win."""
        values: dict[str, Any] = {
            "region": environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION") or "",
            "endpoint_url": environ.get("AWS_ENDPOINT_URL") or None,
            "profile": environ.get("AWS_PROFILE") or None,
            "container_credentials": bool(
                environ.get("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")
                or environ.get("AWS_CONTAINER_CREDENTIALS_FULL_URI")
            ),
        }
        if environ.get("AWS_RETRY_MODE"):
            values["retry_mode"] = environ["AWS_RETRY_MODE"]
        if environ.get("AWS_MAX_ATTEMPTS"):
            values["max_attempts"] = _number(environ, "AWS_MAX_ATTEMPTS", int)
        if environ.get("LMI_DELIVERY_LAMBDA_RATE"):
            values["lambda_rate"] = _number(environ, "LMI_DELIVERY_LAMBDA_RATE", float)
        if environ.get("AWS_ACCESS_KEY_ID") and environ.get("AWS_SECRET_ACCESS_KEY"):
            values["credentials"] = StaticCredentials(
                environ["AWS_ACCESS_KEY_ID"], environ["AWS_SECRET_ACCESS_KEY"],
                environ.get("AWS_SESSION_TOKEN") or None)
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    def with_role(self, role_arn: str | None) -> AwsSettings:
        return replace(self, role_arn=role_arn)

    @property
    def budget_scope(self) -> str:
        """What one rate budget covers: the endpoint, the role's account, or the profile."""
        if self.endpoint_url:
            return self.endpoint_url
        if self.role_arn and self.role_arn.count(":") >= 5:
            return f"account:{self.role_arn.split(':')[4]}"
        return f"profile:{self.profile or 'default'}"


def _number(environ: Mapping[str, str], name: str, kind: type[int] | type[float]) -> Any:
    try:
        return kind(environ[name])
    except ValueError:
        raise UsageError(f"{name} must be a number, not {environ[name]!r}") from None


class ClientFactory:
    """Builds (and caches, per factory) botocore clients configured from :class:`AwsSettings`.

    Its Lambda clients take their tokens from ``budgets``: by default the process's registry,
    so all Lambda calls of the process to one account+region share one budget, whichever
    factory made the client. Tests with a simulated clock hand in a registry of their own.
    """

    def __init__(self, settings: AwsSettings, session: botocore.session.Session | None = None, *,
                 budgets: BudgetRegistry | None = None) -> None:
        self.settings = settings
        self.budgets = budgets if budgets is not None else process_budgets()
        self._given_session = session
        self._base: botocore.session.Session | None = None
        self._session: botocore.session.Session | None = None
        self._clients: dict[str, Any] = {}
        self._lock = threading.RLock()

    # -- clients --------------------------------------------------------------------------------

    @overload
    def client(self, service_name: Literal["lambda"]) -> LambdaClient: ...
    @overload
    def client(self, service_name: Literal["codebuild"]) -> CodeBuildClient: ...
    @overload
    def client(self, service_name: Literal["logs"]) -> CloudWatchLogsClient: ...
    @overload
    def client(self, service_name: Literal["s3"]) -> S3Client: ...
    @overload
    def client(self, service_name: Literal["sts"]) -> STSClient: ...
    @overload
    def client(self, service_name: Literal["ssm"]) -> SSMClient: ...
    @overload
    def client(self, service_name: Literal["secretsmanager"]) -> SecretsManagerClient: ...
    @overload
    def client(self, service_name: Literal["events"]) -> EventBridgeClient: ...
    @overload
    def client(self, service_name: str) -> Any: ...

    def client(self, service_name: str) -> Any:
        """The client for ``service_name`` (one per factory and service; clients are
        thread-safe, sessions are not, so creation is serialised)."""
        with self._lock:
            existing = self._clients.get(service_name)
            if existing is None:
                existing = self._build(self._active_session(), service_name)
                self._clients[service_name] = existing
            return existing

    def client_config(self) -> Config:
        """The botocore ``Config`` every client gets."""
        from botocore.config import Config

        s = self.settings
        options: dict[str, Any] = {
            "region_name": s.region,
            # total_max_attempts counts the first attempt, as AWS_MAX_ATTEMPTS does;
            # botocore's "max_attempts" key would count retries only.
            "retries": {"mode": s.retry_mode, "total_max_attempts": s.max_attempts},
            "connect_timeout": s.connect_timeout,
            "read_timeout": s.read_timeout,
            "max_pool_connections": s.max_pool_connections,
            "user_agent_appid": "lmi-delivery",
            # Endpoints come from AwsSettings only, never from variables botocore reads itself.
            "ignore_configured_endpoint_urls": True,
        }
        # Passed as a mapping: the installed stubs predate the last two options.
        return Config(**options)

    def lambda_pacer(self) -> LambdaPacer:
        """The pacing hooks (and budgets) shared by the Lambda clients of this account+region."""
        s = self.settings
        scope, region = s.budget_scope, s.region
        return LambdaPacer(
            control=self.budgets.get(BudgetKey(scope, region, "lambda"), s.lambda_rate),
            reads=self.budgets.get(BudgetKey(scope, region, "lambda-read"), s.lambda_read_rate),
            max_attempts=s.max_attempts,
        )

    def _build(self, session: botocore.session.Session, service_name: str) -> Any:
        client = session.create_client(
            service_name, region_name=self.settings.region,
            endpoint_url=self.settings.endpoint_url, config=self.client_config())
        if service_name == "lambda":
            self.lambda_pacer().attach(client.meta.events)
        return client

    # -- sessions and credentials ---------------------------------------------------------------

    def _base_session(self) -> botocore.session.Session:
        """The caller's own identity: the injected session, or one built from the settings."""
        with self._lock:
            if self._base is None:
                self._base = self._given_session or self._new_session()
            return self._base

    def _new_session(self) -> botocore.session.Session:
        s = self.settings
        core = _core_session()
        core.set_config_variable("region", s.region)
        if s.credentials is not None:
            core.set_credentials(s.credentials.access_key_id, s.credentials.secret_access_key,
                                 s.credentials.session_token)
        elif s.profile:
            core.set_config_variable("profile", s.profile)
        return core

    def _active_session(self) -> botocore.session.Session:
        """The session clients are built from: the base one, or the assumed role's."""
        with self._lock:
            if self._session is None:
                base = self._base_session()
                self._session = self._role_session(base) if self.settings.role_arn else base
            return self._session

    def _role_session(self, base: botocore.session.Session) -> botocore.session.Session:
        """A session whose credentials come from ``sts:AssumeRole`` on first use (and refresh
        before they expire), called through this factory's own STS client."""
        from botocore.credentials import (
            CredentialProvider,
            CredentialResolver,
            DeferredRefreshableCredentials,
        )

        sts: STSClient = self._build(base, "sts")
        role_arn, session_name = self.settings.role_arn or "", self.settings.role_session_name

        def fetch() -> dict[str, str]:
            answer = sts.assume_role(RoleArn=role_arn, RoleSessionName=session_name)["Credentials"]
            return {"access_key": answer["AccessKeyId"], "secret_key": answer["SecretAccessKey"],
                    "token": answer["SessionToken"],
                    "expiry_time": answer["Expiration"].isoformat()}

        class AssumedRole(CredentialProvider):
            METHOD = "lmi-delivery-assume-role"

            def load(self) -> DeferredRefreshableCredentials:
                return DeferredRefreshableCredentials(refresh_using=fetch, method=self.METHOD)

        core = _core_session()
        core.register_component("credential_provider", CredentialResolver([AssumedRole()]))
        core.set_config_variable("region", self.settings.region)
        return core

    def has_credentials(self) -> bool:
        """Whether credentials are configured, decided without touching the network: instance
        metadata and container endpoints are not called (a container endpoint named in the
        environment counts as credentials; instance-profile credentials cannot be seen)."""
        from botocore.credentials import CredentialResolver

        if self.settings.credentials is not None or self.settings.container_credentials:
            return True
        core = self._base_session()
        resolver = core.get_component("credential_provider")
        offline = CredentialResolver(
            [p for p in resolver.providers if p.METHOD not in _NETWORK_CREDENTIAL_METHODS])
        try:
            return offline.load_credentials() is not None
        except Exception:  # a broken profile or credential file means: no usable credentials
            return False


_LOADER_LOCK = threading.Lock()
_LOADER: botocore.loaders.Loader | None = None


def _core_session() -> botocore.session.Session:
    """A botocore session whose service models come from the process's one loader.

    A loader caches every model it parses; each new session would otherwise build its own and
    parse the same JSON again (about 45 ms a client). Credentials, profile and region stay
    per session: only the read-only model data is shared."""
    import botocore.loaders
    import botocore.session

    global _LOADER
    with _LOADER_LOCK:
        if _LOADER is None:
            _LOADER = botocore.loaders.create_loader()
        core = botocore.session.Session()
        core.register_component("data_loader", _LOADER)
        return core


def shared_model_session(core: botocore.session.Session | None = None,
                         **options: Any) -> boto3.Session:
    """``boto3.Session(**options)`` over ``core`` (by default a new botocore session), reading
    service models through the process's one loader (:func:`_core_session`). boto3 appends its
    own data folder to the loader's search paths on every session: the shared loader keeps each
    path once."""
    import boto3

    core = core or _core_session()
    with _LOADER_LOCK:
        session = boto3.Session(botocore_session=core, **options)
        paths = core.get_component("data_loader").search_paths
        paths[:] = list(dict.fromkeys(paths))
        return session


class Placement(Protocol):
    """What :func:`clients_for` reads of a config (:class:`~lmi_delivery.config.model.Config`
    is one): the region an environment lives in."""

    def region_for(self, env: Any, /) -> str: ...


class Target(Protocol):
    """What :func:`clients_for` reads of an environment: the role to assume, if any."""

    @property
    def role_arn(self) -> str | None: ...


def clients_for(config: Placement | None, env: Target | None, environ: Mapping[str, str], *,
                assume_role: bool = True, max_attempts: int | None = None,
                session: botocore.session.Session | None = None) -> ClientFactory:
    """The client factory of ``env`` (of ``config``): the one way commands reach AWS.

    The region is ``config.region_for(env)``, whatever ``AWS_REGION`` says (see the module's
    docstring); without a config (``None, None``) it is ``AWS_REGION``, else
    ``AWS_DEFAULT_REGION``. The environment's ``role_arn`` is assumed through STS on first use,
    unless ``assume_role`` is false: the plan and apply builds act as their CodeBuild project's
    own role. Everything else (endpoint, credentials, retries, the Lambda rate) comes from
    ``environ``; ``max_attempts`` overrides ``AWS_MAX_ATTEMPTS`` for best-effort reads. The
    budgets are the process's.
    """
    if (config is None) != (env is None):
        raise TypeError("clients_for needs both a config and one of its environments, or neither")
    region = config.region_for(env) if config is not None else None
    role_arn = env.role_arn if env is not None and assume_role else None
    settings = AwsSettings.from_environ(environ, region=region, role_arn=role_arn,
                                        max_attempts=max_attempts)
    return ClientFactory(settings, session)


def has_credentials(source: AwsSettings | Mapping[str, str],
                    session: botocore.session.Session | None = None) -> bool:
    """Whether credentials are available, without touching the network (offline detection).

    ``source`` is either settings or the environment mapping itself (the region then does not
    matter). Keys and container endpoints named in the mapping count; otherwise botocore's own
    offline providers (shared files, profiles, SSO cache, web identity) are consulted.
    """
    if isinstance(source, AwsSettings):
        return ClientFactory(source, session).has_credentials()
    region = source.get("AWS_REGION") or source.get("AWS_DEFAULT_REGION") or "us-east-1"
    try:
        settings = AwsSettings.from_environ(source, region=region)
    except UsageError:  # unreadable tuning variables do not decide about credentials
        tuning = ("LMI_", "AWS_MAX", "AWS_RETRY")
        settings = AwsSettings.from_environ(
            {k: v for k, v in source.items() if not k.startswith(tuning)}, region=region)
    return ClientFactory(settings, session).has_credentials()
