"""The Redactor: a build's secret values out of every line it prints."""

from __future__ import annotations

from pathlib import Path

from lmi_delivery.config.model import CodeBuildSettings, Config, TerraformSettings
from lmi_delivery.errors import CommandFailed, OperationFailed
from lmi_delivery.redact import REDACTED, Redactor


def config(secrets: dict[str, str]) -> Config:
    return Config(path=Path("lmi-delivery.yml"), root=Path("."), digest="0" * 64, version=1,
                  service="shop", region="us-east-1", naming="{service}-{env}-{name}",
                  terraform=TerraformSettings("1.12.2", "terraform"),
                  codebuild=CodeBuildSettings({}, "s3://b/p", secrets=secrets),
                  environments={})


def test_each_secret_variable_value_is_replaced_longest_first() -> None:
    environ = {"TF_VAR_api_token": "tok-1234", "DB_PASSWORD": "tok-1234-extended",
               "PATH": "/usr/bin", "SHORT": "abc"}
    redact = Redactor.for_build(environ, config({
        "TF_VAR_api_token": "ssm:/a", "DB_PASSWORD": "secretsmanager:db", "SHORT": "ssm:/s",
        "MISSING": "ssm:/m"}))
    assert redact("a tok-1234-extended b tok-1234 c") == f"a {REDACTED} b {REDACTED} c"
    assert redact("/usr/bin abc") == "/usr/bin abc", "only the secrets, and none under 4 chars"
    assert redact.values == ("tok-1234-extended", "tok-1234")


def test_a_multi_line_value_is_replaced_whole_and_line_by_line() -> None:
    pem = "-----BEGIN KEY-----\nAAAABBBB\n-----END KEY-----"
    redact = Redactor([pem])
    assert redact(f"key: {pem}") == f"key: {REDACTED}"
    assert redact("line AAAABBBB") == f"line {REDACTED}"


def test_without_secrets_text_is_unchanged() -> None:
    redact = Redactor.from_environ({"A": ""}, ["A", "B"])
    assert not redact
    assert redact("*** anything") == "*** anything"


def test_lines_and_errors_are_redacted() -> None:
    redact = Redactor(["hunter22"])
    seen: list[str] = []
    redact.lines(seen.append)("password is hunter22")
    assert seen == [f"password is {REDACTED}"]
    error = CommandFailed(["terraform", "plan"], 1, "out hunter22", "Error: hunter22 invalid")
    assert redact.error(error) is error
    assert "hunter22" not in str(error)
    assert "hunter22" not in error.stdout + error.stderr
    assert str(redact.error(OperationFailed("x hunter22"))) == f"x {REDACTED}"
