"""Starting builds: the request sent, the secret rule, the report the moment a build starts."""

from __future__ import annotations

from typing import Any

import pytest
from cb_fakes import FakeClock, FakeCodeBuild, RecordingReporter

from lmi_delivery.codebuild import BuildRequest, ConsoleLinks, Variable, start_build
from lmi_delivery.codebuild import variables as v
from lmi_delivery.codebuild.start import request_from_step
from lmi_delivery.errors import InputError
from lmi_delivery.plan.steps import EnvVar, StartBuild

SECRET = "s3cr3t-value-do-not-print"


def test_the_request_carries_commit_variables_timeouts_and_buildspec() -> None:
    codebuild: Any = FakeCodeBuild(FakeClock())
    reporter = RecordingReporter()
    request = BuildRequest(
        "app-dev-tf-plan", source_version="0123abc",
        variables=(Variable("STAGE", "plan"),
                   Variable("TOKEN", "/app/token", "PARAMETER_STORE", secret=True),
                   Variable("DB", "arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-AbC:"
                                  "password::", "SECRETS_MANAGER", secret=True)),
        timeout_minutes=30, queued_timeout_minutes=20, buildspec="buildspecs/plan.yml")
    build = start_build(codebuild, request, reporter=reporter)
    assert codebuild.started == [{
        "projectName": "app-dev-tf-plan", "sourceVersion": "0123abc",
        "environmentVariablesOverride": [
            {"name": "STAGE", "value": "plan", "type": "PLAINTEXT"},
            {"name": "TOKEN", "value": "/app/token", "type": "PARAMETER_STORE"},
            {"name": "DB", "value": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-AbC:"
                                    "password::", "type": "SECRETS_MANAGER"}],
        "timeoutInMinutesOverride": 30, "queuedTimeoutInMinutesOverride": 20,
        "buildspecOverride": "buildspecs/plan.yml"}]
    assert reporter.events == [("started", build.id, build.log_url)]
    assert build.log_url == ("https://eu-west-1.console.aws.amazon.com/codesuite/codebuild/"
                             "projects/app-dev-tf-plan/build/app-dev-tf-plan%3A00000001-aaaa-"
                             "bbbb-cccc-dddddddddddd/log?region=eu-west-1")
    assert build.short == "app-dev-tf-plan:00000001"


def test_a_sandbox_endpoint_gets_links_to_itself() -> None:
    links = ConsoleLinks("us-east-1", "http://127.0.0.1:4566")
    assert links.log_url("app", "app:1").startswith(
        "http://127.0.0.1:4566/_sandbox/codesuite/codebuild/projects/app/build/app%3A1/log")


def test_a_secret_is_never_sent_as_plaintext() -> None:
    with pytest.raises(InputError, match="refusing to send it as PLAINTEXT") as raised:
        Variable("TOKEN", SECRET, secret=True)
    assert SECRET not in str(raised.value)
    assert SECRET not in repr(Variable("PLAIN", SECRET))


@pytest.mark.parametrize(("kind", "value"), [
    ("PARAMETER_STORE", "a secret with spaces"),
    ("PARAMETER_STORE", "-----BEGIN PRIVATE KEY-----\nMIIE"),
    ("SECRETS_MANAGER", "p@ss word!"),
    ("SECRETS_MANAGER", '{"password": "x"}'),
])
def test_reference_types_accept_only_references(kind: v.VariableType, value: str) -> None:
    with pytest.raises(InputError, match="reference") as raised:
        Variable("X", value, kind, secret=True)
    assert value not in str(raised.value)


def test_cli_forms_of_variables() -> None:
    assert v.plain("A=b=c") == Variable("A", "b=c")
    assert v.reference("T=ssm:/app/token") == Variable("T", "/app/token", "PARAMETER_STORE",
                                                       secret=True)
    assert v.reference("D=secretsmanager:prod/db").type == "SECRETS_MANAGER"
    for bad in (f"T={SECRET}", "T=vault:/x", SECRET):
        with pytest.raises(InputError) as raised:
            v.reference(bad)
        assert SECRET not in str(raised.value)


@pytest.mark.parametrize("options", [{"timeout_minutes": 4}, {"timeout_minutes": 2161},
                                     {"queued_timeout_minutes": 481}, {"project": ""}])
def test_out_of_range_requests_are_refused(options: dict[str, Any]) -> None:
    with pytest.raises(InputError):
        BuildRequest(**{"project": "app", **options})


def test_duplicate_variables_are_refused() -> None:
    with pytest.raises(InputError, match="twice"):
        BuildRequest("app", variables=(Variable("A", "1"), Variable("A", "2")))


def test_a_plan_step_becomes_a_request() -> None:
    step = StartBuild(where="runner", project="svc-dev-tf-plan", buildspec="buildspecs/plan.yml",
                      source_version="abc", environment_variables=(
                          EnvVar("ENV", "dev"), EnvVar("T", "/svc/t", "PARAMETER_STORE")),
                      timeout_minutes=90)
    request = request_from_step(step)
    assert request.to_api()["environmentVariablesOverride"][1] == {
        "name": "T", "value": "/svc/t", "type": "PARAMETER_STORE"}
    assert request.timeout_minutes == 90
    assert request.source_version == "abc"
