"""Handing builds the wheel: where it is stored, how, and what builds are started with."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from lmi_delivery.config import load
from lmi_delivery.config.model import Config
from lmi_delivery.errors import AwsError, ConfigError, GateRefused
from lmi_delivery.selfdist.publish import BuildDistribution, for_builds, store, wheel_key
from lmi_delivery.selfdist.wheel import Wheel

WHEEL = Wheel("lmi_delivery-0.1.0-py3-none-any.whl", b"wheel bytes", "a test")
CONFIG = """\
version: 1
service: shop
region: us-east-1
terraform: {working_directory: tf}
environments:
  dev: {branch: dev}
codebuild:
  artifacts: s3://shop-artifacts/plans
"""


def config_with(root: Path, codebuild: str = "") -> Config:
    (root / "tf").mkdir(exist_ok=True)
    (root / "tf" / "main.tf").write_text("", encoding="utf-8")
    (root / "lmi-delivery.yml").write_text(CONFIG + codebuild, encoding="utf-8")
    return load(root / "lmi-delivery.yml")


class FakeS3:
    """Records puts; refuses a put at a key that exists, as S3 does for If-None-Match: *."""

    def __init__(self, objects: dict[str, bytes] | None = None, error: str = "") -> None:
        self.objects = dict(objects or {})
        self.puts: list[dict[str, Any]] = []
        self.error = error

    def put_object(self, **kwargs: Any) -> dict[str, Any]:
        self.puts.append(kwargs)
        if self.error:
            raise ClientError({"Error": {"Code": self.error, "Message": "no"}}, "PutObject")
        if kwargs["Key"] in self.objects:
            raise ClientError({"Error": {"Code": "PreconditionFailed", "Message": "exists"}},
                              "PutObject")
        self.objects[kwargs["Key"]] = kwargs["Body"]
        return {}

    def get_object(self, Bucket: str, Key: str) -> dict[str, Any]:
        return {"Body": io.BytesIO(self.objects[Key])}


def test_the_wheel_is_content_addressed_outside_the_plans_prefix(tmp_path: Path) -> None:
    config = config_with(tmp_path)
    assert wheel_key(config, WHEEL) == (
        "shop-artifacts", f"lmi-delivery/{WHEEL.sha256}/{WHEEL.filename}")


def test_it_is_put_once_never_overwritten_and_encrypted_when_asked() -> None:
    s3 = FakeS3()
    stored = store(s3, "b", "k/x.whl", WHEEL, kms_key="alias/plans")  # type: ignore[arg-type]
    put = s3.puts[0]
    assert (put["IfNoneMatch"], put["ChecksumAlgorithm"]) == ("*", "SHA256")
    assert (put["ServerSideEncryption"], put["SSEKMSKeyId"]) == ("aws:kms", "alias/plans")
    assert stored == BuildDistribution("0.1.0", WHEEL.sha256, url="s3://b/k/x.whl")
    # The same bytes again (the next run): fine, the object stays as it was.
    assert store(s3, "b", "k/x.whl", WHEEL) == stored  # type: ignore[arg-type]
    assert "ServerSideEncryption" not in s3.puts[1]


def test_other_bytes_at_its_key_stop_the_run_before_any_build() -> None:
    s3 = FakeS3({"k/x.whl": b"someone else's"})
    with pytest.raises(GateRefused, match="holds other bytes than lmi-delivery's wheel"):
        store(s3, "b", "k/x.whl", WHEEL)  # type: ignore[arg-type]
    with pytest.raises(AwsError, match="PutObject failed: AccessDenied"):
        store(FakeS3(error="AccessDenied"), "b", "k/x.whl", WHEEL)  # type: ignore[arg-type]


def test_builds_are_handed_location_sha256_and_version() -> None:
    names = [(v.name, v.value, v.type) for v in BuildDistribution(
        "0.1.0", "ab" * 32, url="s3://b/k.whl").variables()]
    assert names == [("LMI_DELIVERY_WHEEL_URL", "s3://b/k.whl", "PLAINTEXT"),
                     ("LMI_DELIVERY_WHEEL_SHA256", "ab" * 32, "PLAINTEXT"),
                     ("LMI_DELIVERY_VERSION", "0.1.0", "PLAINTEXT")]


INDEX = ("  lmi_delivery:\n    index_url: https://pypi.example.com/simple/\n"
         "    version: {version}\n    sha256: " + "cd" * 32 + "\n")


def test_a_team_index_is_handed_instead_of_a_wheel(tmp_path: Path) -> None:
    s3 = FakeS3()
    config = config_with(tmp_path, INDEX.format(version="0.1.0"))
    handed = for_builds(config, s3, {})  # type: ignore[arg-type]
    assert s3.puts == [], "nothing is uploaded"
    assert {v.name: v.value for v in handed.variables()} == {
        "LMI_DELIVERY_INDEX_URL": "https://pypi.example.com/simple/",
        "LMI_DELIVERY_WHEEL_SHA256": "cd" * 32, "LMI_DELIVERY_VERSION": "0.1.0"}


def test_a_team_index_pinned_to_another_version_is_a_config_error(tmp_path: Path) -> None:
    config = config_with(tmp_path, INDEX.format(version="0.0.9"))
    with pytest.raises(ConfigError) as error:
        for_builds(config, FakeS3(), {})  # type: ignore[arg-type]
    assert error.value.exit_code == 2
    assert f"{tmp_path / 'lmi-delivery.yml'}:11:14: codebuild.lmi_delivery.version 0.0.9 is " \
           "not the lmi-delivery this orchestrator runs (0.1.0)" in str(error.value)
