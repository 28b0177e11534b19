from __future__ import annotations

from lmi_delivery.github.masks import Masker, is_secret_name


def test_secret_like_names() -> None:
    for name in ("GITHUB_TOKEN", "DEPLOY_API_TOKEN", "DB_PASSWORD", "AWS_SECRET_ACCESS_KEY",
                 "AWS_SESSION_TOKEN", "STRIPE_API_KEY", "SIGNING_KEY", "PRIVATE_KEY_PEM"):
        assert is_secret_name(name), name
    for name in ("PATH", "HOME", "GITHUB_SHA", "AWS_REGION", "LMI_ENVIRONMENT", "KEYBOARD"):
        assert not is_secret_name(name), name


def test_masks_values_of_secret_names_only_once_and_redacts() -> None:
    masker = Masker()
    lines = masker.add_environ({"API_TOKEN": "s3cr3t-value", "PATH": "/usr/bin",
                                "OTHER_SECRET": "s3cr3t-value", "SHORT_TOKEN": "abc",
                                "FLAG_SECRET": "true"})
    assert lines == ["::add-mask::s3cr3t-value"]
    assert masker.redact("x s3cr3t-value y") == "x *** y"


def test_multiline_values_are_masked_line_by_line() -> None:
    masker = Masker()
    lines = masker.add("-----BEGIN KEY-----\nabcdefghijkl\n-----END KEY-----")
    assert lines == ["::add-mask::-----BEGIN KEY-----", "::add-mask::abcdefghijkl",
                     "::add-mask::-----END KEY-----"]
    assert masker.redact("line abcdefghijkl") == "line ***"


def test_longest_value_is_redacted_first() -> None:
    masker = Masker()
    masker.add_all(["secret", "secret-and-more"])
    assert masker.redact("secret-and-more") == "***"


def test_mask_data_is_escaped_as_the_runner_unescapes_it() -> None:
    assert Masker().add("100%secret") == ["::add-mask::100%25secret"]
