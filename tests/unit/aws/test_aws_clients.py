"""aws.clients and aws.pacing: settings from a mapping, client configuration, Lambda pacing.

HTTP never leaves the process: a fake transport answers on the client's ``before-send`` event
(after the pacing hook), or moto's in-process mock does.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse
from botocore.credentials import CredentialProvider, CredentialResolver, EnvProvider
from botocore.exceptions import ClientError

from lmi_delivery.aws.budget import BudgetKey, BudgetRegistry
from lmi_delivery.aws.clients import AwsSettings, ClientFactory, StaticCredentials, has_credentials
from lmi_delivery.aws.pacing import is_throttle, retry_after_seconds
from lmi_delivery.errors import UsageError

ENDPOINT = "http://lambda.test:4566"
KEYS = StaticCredentials("AKIDEXAMPLE", "secret")


class FakeClock:
    """Simulated time for one thread: sleeping moves it forward (test_aws_budget has the
    multi-threaded one)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def settings(**overrides: Any) -> AwsSettings:
    values: dict[str, Any] = {"region": "eu-west-1", "endpoint_url": ENDPOINT,
                              "credentials": KEYS, "max_attempts": 4}
    values.update(overrides)
    return AwsSettings(**values)


class Raw:
    def __init__(self, body: bytes) -> None:
        self.body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self.body


class FakeTransport:
    """Answers every request with the next scripted (status, headers, body), recording calls."""

    def __init__(self, *answers: Answer) -> None:
        self.answers = list(answers)
        self.calls: list[str] = []

    def __call__(self, request: Any, **kwargs: Any) -> AWSResponse:
        self.calls.append(kwargs["event_name"].rsplit(".", 1)[-1])
        status, headers, body = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        return AWSResponse(request.url, status, headers,  # type: ignore[arg-type]  # a dict will do
                           Raw(json.dumps(body).encode()))


def answer_with(client: Any, transport: FakeTransport) -> None:
    """Install ``transport`` on ``before-send``, after the pacing hook (registered first)."""
    client.meta.events.register("before-send.lambda", transport)


Answer = tuple[int, dict[str, str], dict[str, Any]]
OK: Answer = (200, {}, {"Functions": []})
THROTTLED: Answer = (429, {"x-amzn-ErrorType": "TooManyRequestsException", "Retry-After": "3"},
             {"Type": "User", "message": "Rate exceeded", "Reason": "CallerRateLimitExceeded"})


def paced_factory(clock: FakeClock, **overrides: Any) -> ClientFactory:
    return ClientFactory(settings(**overrides),
                         budgets=BudgetRegistry(clock=clock, sleep=clock.sleep))


def control_budget(factory: ClientFactory) -> Any:
    s = factory.settings
    return factory.budgets.get(BudgetKey(s.budget_scope, s.region, "lambda"), s.lambda_rate)


def read_budget(factory: ClientFactory) -> Any:
    s = factory.settings
    return factory.budgets.get(BudgetKey(s.budget_scope, s.region, "lambda-read"), 1.0)


# -- settings -------------------------------------------------------------------------------------


def test_from_environ_reads_the_mapping() -> None:
    s = AwsSettings.from_environ({
        "AWS_REGION": "eu-central-1", "AWS_DEFAULT_REGION": "us-west-2",
        "AWS_ENDPOINT_URL": "http://127.0.0.1:5000", "AWS_PROFILE": "ops",
        "LMI_DELIVERY_LAMBDA_RATE": "7.5", "AWS_MAX_ATTEMPTS": "9", "AWS_RETRY_MODE": "adaptive",
        "AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "s3cr3t",
    })
    assert (s.region, s.endpoint_url, s.profile) == ("eu-central-1", "http://127.0.0.1:5000", "ops")
    assert (s.lambda_rate, s.max_attempts, s.retry_mode) == (7.5, 9, "adaptive")
    assert s.credentials == StaticCredentials("AKID", "s3cr3t")
    assert "s3cr3t" not in repr(s)
    assert AwsSettings.from_environ({"AWS_DEFAULT_REGION": "us-west-2"}).region == "us-west-2"


def test_from_environ_never_reads_the_process_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_REGION", "eu-west-3")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://elsewhere")
    monkeypatch.setenv("LMI_DELIVERY_LAMBDA_RATE", "1")
    with pytest.raises(UsageError, match="no AWS region"):
        AwsSettings.from_environ({})
    s = AwsSettings.from_environ({}, region="ap-south-1")
    assert (s.endpoint_url, s.lambda_rate) == (None, 15.0)


def test_overrides_win_unless_none() -> None:
    s = AwsSettings.from_environ({"AWS_REGION": "eu-west-1", "AWS_PROFILE": "a"},
                                 region="us-east-1", profile=None,
                                 role_arn="arn:aws:iam::42:role/x")
    assert (s.region, s.profile, s.role_arn) == ("us-east-1", "a", "arn:aws:iam::42:role/x")
    assert s.budget_scope == "account:42"
    assert settings().budget_scope == ENDPOINT
    assert AwsSettings("us-east-1").budget_scope == "profile:default"


@pytest.mark.parametrize(("environ", "message"), [
    ({"LMI_DELIVERY_LAMBDA_RATE": "fast"}, "must be a number"),
    ({"LMI_DELIVERY_LAMBDA_RATE": "0"}, "rate budget"),
    ({"AWS_RETRY_MODE": "legacy"}, "retry mode"),
    ({"AWS_MAX_ATTEMPTS": "0"}, "max attempts"),
])
def test_bad_values_are_usage_errors(environ: dict[str, str], message: str) -> None:
    with pytest.raises(UsageError, match=message):
        AwsSettings.from_environ({"AWS_REGION": "eu-west-1", **environ})


def test_importing_aws_does_not_import_boto3() -> None:
    code = ("import sys, lmi_delivery.aws.clients, lmi_delivery.aws.budget; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('boto3', 'botocore')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_clients_are_botocore_s_and_never_import_boto3() -> None:
    """boto3 adds nothing the commands call; importing it cost every command 0.15 s."""
    code = ("import sys; from lmi_delivery.aws.clients import AwsSettings, ClientFactory, "
            "StaticCredentials; f = ClientFactory(AwsSettings('eu-west-1', credentials="
            "StaticCredentials('AKID', 'x'), role_arn='arn:aws:iam::123456789012:role/r')); "
            "[f.client(n) for n in ('lambda', 's3', 'codebuild')]; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('boto3', 's3transfer')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# -- clients --------------------------------------------------------------------------------------


@pytest.mark.parametrize("service", ["lambda", "codebuild", "logs", "s3", "sts"])
def test_clients_get_region_endpoint_and_retry_config(service: str) -> None:
    factory = ClientFactory(settings(retry_mode="adaptive", read_timeout=7.0))
    client = factory.client(service)
    assert client.meta.region_name == "eu-west-1"
    assert client.meta.endpoint_url == ENDPOINT
    assert client.meta.config.retries == {"mode": "adaptive", "total_max_attempts": 4}
    assert client.meta.config.read_timeout == 7.0
    assert client.meta.config.connect_timeout == 10.0
    assert factory.client(service) is client


def test_lambda_control_plane_calls_are_paced_by_the_budget() -> None:
    clock = FakeClock()
    factory = paced_factory(clock, lambda_rate=10.0)
    client = factory.client("lambda")
    transport = FakeTransport(OK)
    answer_with(client, transport)
    start = clock.now
    for _ in range(30):
        client.list_functions()
    assert control_budget(factory).admitted == 30
    assert clock.now - start == pytest.approx(2.9)
    assert transport.calls == ["ListFunctions"] * 30


def test_get_function_has_its_own_budget_and_invoke_none() -> None:
    clock = FakeClock()
    factory = paced_factory(clock)
    client = factory.client("lambda")
    answer_with(client, FakeTransport(
        (200, {}, {"Configuration": {"FunctionName": "f"}})))
    client.get_function(FunctionName="f")
    client.get_function_configuration(FunctionName="f")
    client.invoke(FunctionName="f")
    assert control_budget(factory).admitted == 0
    assert read_budget(factory).admitted == 2
    assert read_budget(factory).rate == 100.0


def test_two_factories_with_one_registry_share_the_budget() -> None:
    clock = FakeClock()
    registry = BudgetRegistry(clock=clock, sleep=clock.sleep)
    clients = [ClientFactory(settings(), budgets=registry).client("lambda") for _ in range(2)]
    for client in clients:
        answer_with(client, FakeTransport(OK))
        client.list_functions()
    assert registry.get(BudgetKey(ENDPOINT, "eu-west-1", "lambda"), 15.0).admitted == 2


def test_a_throttle_penalizes_the_budget_and_the_retry_takes_a_token() -> None:
    clock = FakeClock()
    factory = paced_factory(clock)
    client = factory.client("lambda")
    transport = FakeTransport(THROTTLED, OK)
    answer_with(client, transport)
    start = clock.now
    assert client.list_functions()["Functions"] == []
    budget = control_budget(factory)
    assert (budget.admitted, budget.penalties) == (2, 1)
    assert clock.now - start == pytest.approx(3.0)  # Retry-After, waited in the budget
    assert transport.calls == ["ListFunctions", "ListFunctions"]


def test_throttles_past_max_attempts_raise() -> None:
    clock = FakeClock()
    factory = paced_factory(clock, max_attempts=3)
    client = factory.client("lambda")
    answer_with(client, FakeTransport(THROTTLED))
    with pytest.raises(ClientError) as caught:
        client.delete_function(FunctionName="f", Qualifier="1")
    assert caught.value.response["Error"]["Code"] == "TooManyRequestsException"
    assert control_budget(factory).admitted == 3
    assert control_budget(factory).penalties == 3


def test_throttle_without_retry_after_backs_off_exponentially() -> None:
    clock = FakeClock()
    factory = paced_factory(clock)
    client = factory.client("lambda")
    bare: Answer = (429, {}, {"message": "Rate exceeded"})
    answer_with(client, FakeTransport(bare, bare, OK))
    start = clock.now
    client.list_functions()
    assert clock.now - start == pytest.approx(1.0 + 2.0)


def test_throttle_helpers() -> None:
    assert is_throttle(429, {})
    assert is_throttle(400, {"Error": {"Code": "ThrottlingException"}})
    assert not is_throttle(409, {"Error": {"Code": "ResourceConflictException"}})
    assert retry_after_seconds({}, {"retryAfterSeconds": "2"}) == 2.0
    assert retry_after_seconds({"Retry-After": "5"}, {}) == 5.0
    assert retry_after_seconds({"Retry-After": "soon"}, {}) is None


def test_moto_backed_lambda_client_is_paced_too() -> None:
    moto = pytest.importorskip("moto")
    clock = FakeClock()
    factory = paced_factory(clock, endpoint_url=None)
    with moto.mock_aws():
        client = factory.client("lambda")
        assert client.list_functions()["Functions"] == []
        client.list_functions()
    assert control_budget(factory).admitted == 2


def test_role_is_assumed_lazily_through_the_factory_sts_client() -> None:
    moto = pytest.importorskip("moto")
    role = "arn:aws:iam::123456789012:role/deployer"
    factory = ClientFactory(settings(endpoint_url=None, role_arn=role, role_session_name="ci"))
    with moto.mock_aws():
        client = factory.client("sts")  # no STS call yet: credentials are deferred
        identity = client.get_caller_identity()
    assert identity["Arn"] == "arn:aws:sts::123456789012:assumed-role/deployer/ci"


# -- credentials ----------------------------------------------------------------------------------


class Exploding(CredentialProvider):
    METHOD = "iam-role"

    def load(self) -> None:
        raise AssertionError("the instance metadata service must not be called")


def bare_session(*providers: Any) -> Any:
    import botocore.session

    core = botocore.session.Session()
    core.register_component("credential_provider", CredentialResolver(list(providers)))
    core.set_config_variable("region", "eu-west-1")
    return core


def test_has_credentials_never_calls_network_providers() -> None:
    plain = AwsSettings("eu-west-1")
    assert not has_credentials(plain, bare_session(EnvProvider(environ={}), Exploding()))
    env = {"AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "x"}
    assert has_credentials(plain, bare_session(EnvProvider(environ=env), Exploding()))


def test_has_credentials_from_settings_or_the_environment_mapping() -> None:
    assert has_credentials(settings())
    assert has_credentials({"AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "x",
                            "AWS_MAX_ATTEMPTS": "many"})
    empty = bare_session(EnvProvider(environ={}), Exploding())
    assert not has_credentials({"AWS_REGION": "eu-west-1"}, empty)
    container = AwsSettings.from_environ({"AWS_REGION": "eu-west-1",
                                          "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "/v2/x"})
    assert has_credentials(container)


def test_factories_parse_each_service_model_once_per_process() -> None:
    """Every factory's sessions read models through one loader: a second factory's client
    opens no model file, and the loader's search path holds each folder once however many
    sessions were made."""
    def loader_of(factory: ClientFactory) -> Any:
        return factory._active_session().get_component("data_loader")

    first = ClientFactory(AwsSettings(region="eu-west-1", endpoint_url=ENDPOINT,
                                      credentials=KEYS))
    first.client("codebuild")
    loader = loader_of(first)
    opened: list[str] = []
    files = loader.file_loader

    class CountingFiles:
        def exists(self, path: str) -> bool:
            return bool(files.exists(path))

        def load_file(self, path: str) -> Any:
            opened.append(path)
            return files.load_file(path)

    loader.file_loader = CountingFiles()
    try:
        for region in ("eu-west-1", "us-east-1", "ap-south-1"):
            other = ClientFactory(AwsSettings(region=region, endpoint_url=ENDPOINT,
                                              credentials=KEYS))
            other.client("codebuild")
            assert loader_of(other) is loader
    finally:
        loader.file_loader = files
    assert opened == []
    assert len(loader.search_paths) == len(set(loader.search_paths))
