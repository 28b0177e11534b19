"""The two shapes an event is sent in, and what the sender does with a webhook that fails."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError
from config_files import load_text

from lmi_delivery.config.model import Notification
from lmi_delivery.notify import Event, Notifier

EVENT = Event("apply-failed", "shop", "prod", "a" * 40, "b" * 64, "bob",
              "https://github.com/acme/shop/actions/runs/1",
              "apply failed: <!channel> & <https://evil.example|click>")


def test_slack_text_escapes_every_outside_string() -> None:
    text = EVENT.slack()["text"]
    assert text.startswith("*shop / prod*: apply failed (commit `aaaaaaaaaaaa`, plan "
                           "`bbbbbbbbbbbb`, approver `bob`)")
    assert "<!channel>" not in text
    assert "<https://evil" not in text
    assert "&lt;!channel&gt; &amp; &lt;https://evil.example|click&gt;" in text
    assert text.endswith("<https://github.com/acme/shop/actions/runs/1|the run>")


def test_the_json_body_holds_every_field() -> None:
    body = EVENT.to_json()
    assert body["schema"] == "lmi-delivery/notification@1"
    assert (body["kind"], body["environment"], body["commit"], body["plan_sha256"],
            body["approver"], body["title"]) == ("apply-failed", "prod", "a" * 40, "b" * 64,
                                                 "bob", "apply failed")


class NoParameter:
    def client(self, service_name: str) -> Any:
        assert service_name == "ssm"
        return self

    def get_parameter(self, **kwargs: Any) -> Any:
        raise ClientError({"Error": {"Code": "ParameterNotFound", "Message": "x"}},
                          "GetParameter")


class Refusing:
    def request(self, *args: Any, **kwargs: Any) -> Any:
        raise AssertionError("nothing may be posted without a URL")


CONFIG = """version: 1
service: shop
region: us-east-1
terraform: {working_directory: terraform}
codebuild: {artifacts: "s3://shop-artifacts/plans"}
environments:
  dev: {branch: dev, apply: auto}
notifications:
  - {type: slack, url: "ssm:/{service}/{env}/slack"}
"""


def test_an_unreadable_url_is_one_warning_and_nothing_is_sent(tmp_path: Path) -> None:
    config = load_text(tmp_path, CONFIG)
    assert config.notifications == (Notification("slack", "ssm:/{service}/{env}/slack"),)
    warnings: list[str] = []
    notifier = Notifier(config, config.environment("dev"), NoParameter(), mask=print,
                        warn=warnings.append, http=Refusing())
    notifier(EVENT)
    notifier(EVENT)
    assert len(warnings) == 1
    assert "ssm:/" in warnings[0]
    assert "ParameterNotFound" in warnings[0]
    assert notifier.sent == []
