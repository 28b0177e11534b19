"""install(): a release is used only once its signature and checksum verify."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import gnupg
import pytest
from click.testing import CliRunner
from tf_release import (
    ARCHIVE,
    SIG,
    SUMS,
    VERSION,
    Keyring,
    ReleaseServer,
    make_zip,
    sums_for,
)

from lmi_delivery import process
from lmi_delivery.cli.commands.terraform import default_cache_dir, terraform_group
from lmi_delivery.errors import InputError, OperationFailed
from lmi_delivery.terraform import verify
from lmi_delivery.terraform.install import detect_platform, install

AWS_FACTS_FINGERPRINT = "C874 011F 0AB4 0511 0D02 1055 3436 5D94 72D7 468F"


def _install(server: ReleaseServer, keyring: Keyring, dest: Path, **kwargs: object) -> Path:
    options: dict[str, object] = {
        "dest_dir": dest, "base_url": server.base_url, "os_name": "linux", "arch": "amd64",
        "trusted_key": keyring.trusted.public,
        "trusted_fingerprint": keyring.trusted.fingerprint,
    }
    options.update(kwargs)
    return install(VERSION, **options)  # type: ignore[arg-type]  # options typed per key above


def _assert_refused(server: ReleaseServer, keyring: Keyring, dest: Path, match: str,
                    **kwargs: object) -> None:
    with pytest.raises(OperationFailed, match=match) as caught:
        _install(server, keyring, dest, **kwargs)
    assert caught.value.exit_code == 1
    assert not dest.exists() or list(dest.iterdir()) == []


def test_good_release_installs_and_runs(
    release_server: ReleaseServer, keyring: Keyring, tmp_path: Path
) -> None:
    binary = _install(release_server, keyring, tmp_path / "bin")

    assert binary == tmp_path / "bin" / "terraform"
    assert sorted(p.name for p in binary.parent.iterdir()) == ["terraform"]
    assert stat.S_IMODE(binary.stat().st_mode) == 0o755
    result = process.run([binary, "version"], cwd=tmp_path, env={})
    assert result.stdout.startswith("Terraform v1.12.2")
    assert release_server.requests == [f"/{VERSION}/{SUMS}", f"/{VERSION}/{SIG}",
                                       f"/{VERSION}/{ARCHIVE}"]


def test_install_replaces_an_existing_binary(
    release_server: ReleaseServer, keyring: Keyring, tmp_path: Path
) -> None:
    dest = tmp_path / "bin"
    dest.mkdir()
    (dest / "terraform").write_text("old")
    _install(release_server, keyring, dest)
    assert (dest / "terraform").read_bytes().startswith(b"#!/bin/sh")
    assert sorted(p.name for p in dest.iterdir()) == ["terraform"]


def test_flipped_byte_in_zip_is_refused(
    release_server: ReleaseServer, keyring: Keyring, tmp_path: Path
) -> None:
    path = f"/{VERSION}/{ARCHIVE}"
    data = bytearray(release_server.files[path])
    data[len(data) // 2] ^= 0x01
    release_server.files[path] = bytes(data)
    _assert_refused(release_server, keyring, tmp_path / "bin", f"checksum mismatch for {ARCHIVE}")


def test_signed_sums_that_do_not_match_the_zip_are_refused(
    release_server: ReleaseServer, keyring: Keyring, tmp_path: Path
) -> None:
    sums = sums_for({ARCHIVE: b"some other archive"})
    release_server.files[f"/{VERSION}/{SUMS}"] = sums
    release_server.files[f"/{VERSION}/{SIG}"] = keyring.sign(sums, keyring.trusted)
    _assert_refused(release_server, keyring, tmp_path / "bin", "checksum mismatch")


def test_sums_edited_after_signing_are_refused(
    release_server: ReleaseServer, keyring: Keyring, tmp_path: Path
) -> None:
    release_server.files[f"/{VERSION}/{SUMS}"] += b"0" * 64 + b"  extra.zip\n"
    _assert_refused(release_server, keyring, tmp_path / "bin", "signature does not verify")


def test_sums_without_a_line_for_the_archive_are_refused(
    release_server: ReleaseServer, keyring: Keyring, tmp_path: Path
) -> None:
    sums = sums_for({f"{ARCHIVE}.bak": release_server.files[f"/{VERSION}/{ARCHIVE}"]})
    release_server.files[f"/{VERSION}/{SUMS}"] = sums
    release_server.files[f"/{VERSION}/{SIG}"] = keyring.sign(sums, keyring.trusted)
    _assert_refused(release_server, keyring, tmp_path / "bin", f"no entry for {ARCHIVE}")


def test_missing_signature_is_refused(
    release_server: ReleaseServer, keyring: Keyring, tmp_path: Path
) -> None:
    del release_server.files[f"/{VERSION}/{SIG}"]
    _assert_refused(release_server, keyring, tmp_path / "bin", f"{SIG}: HTTP 404")
    assert f"/{VERSION}/{ARCHIVE}" not in release_server.requests


def test_empty_signature_is_refused(
    release_server: ReleaseServer, keyring: Keyring, tmp_path: Path
) -> None:
    release_server.files[f"/{VERSION}/{SIG}"] = b""
    _assert_refused(release_server, keyring, tmp_path / "bin", "signature file is empty")


def test_signature_by_another_key_is_refused(
    release_server: ReleaseServer, keyring: Keyring, tmp_path: Path
) -> None:
    sums = release_server.files[f"/{VERSION}/{SUMS}"]
    release_server.files[f"/{VERSION}/{SIG}"] = keyring.sign(sums, keyring.other)
    _assert_refused(release_server, keyring, tmp_path / "bin", "signature does not verify")
    assert f"/{VERSION}/{ARCHIVE}" not in release_server.requests  # refused before the archive


def test_key_with_unexpected_fingerprint_is_refused(
    release_server: ReleaseServer, keyring: Keyring, tmp_path: Path
) -> None:
    # The signature is good, but the key handed in is not the one the fingerprint names.
    _assert_refused(release_server, keyring, tmp_path / "bin", "refusing the release key",
                    trusted_fingerprint=keyring.other.fingerprint)


def test_key_file_with_an_extra_key_is_refused(
    release_server: ReleaseServer, keyring: Keyring, tmp_path: Path
) -> None:
    both = keyring.trusted.public + keyring.other.public
    _assert_refused(release_server, keyring, tmp_path / "bin", "refusing the release key",
                    trusted_key=both)


def test_zip_without_terraform_is_refused(
    release_server: ReleaseServer, keyring: Keyring, tmp_path: Path
) -> None:
    release_server.publish(keyring, archive=make_zip({"LICENSE.txt": b"x"}))
    _assert_refused(release_server, keyring, tmp_path / "bin", "does not contain terraform")


def test_missing_release_is_refused(
    release_server: ReleaseServer, keyring: Keyring, tmp_path: Path
) -> None:
    release_server.files.clear()
    _assert_refused(release_server, keyring, tmp_path / "bin", "HTTP 404")


def test_second_install_reuses_the_verified_cache(
    release_server: ReleaseServer, keyring: Keyring, tmp_path: Path
) -> None:
    cache = tmp_path / "cache"
    _install(release_server, keyring, tmp_path / "a", cache_dir=cache)
    assert len(release_server.requests) == 3
    marker = cache / VERSION / "linux_amd64" / "verified.json"
    assert marker.is_file()

    second = _install(release_server, keyring, tmp_path / "b", cache_dir=cache)
    assert len(release_server.requests) == 3  # nothing downloaded
    assert second.read_bytes() == (tmp_path / "a" / "terraform").read_bytes()


def test_tampered_cache_is_dropped_and_downloaded_again(
    release_server: ReleaseServer, keyring: Keyring, tmp_path: Path
) -> None:
    cache = tmp_path / "cache"
    _install(release_server, keyring, tmp_path / "a", cache_dir=cache)
    cached = cache / VERSION / "linux_amd64" / ARCHIVE
    cached.write_bytes(make_zip({"terraform": b"#!/bin/sh\necho evil\n"}))

    binary = _install(release_server, keyring, tmp_path / "b", cache_dir=cache)
    assert len(release_server.requests) == 6
    assert b"evil" not in binary.read_bytes()
    assert b"evil" not in cached.read_bytes()


def test_cache_is_not_trusted_under_a_different_key(
    release_server: ReleaseServer, keyring: Keyring, tmp_path: Path
) -> None:
    cache = tmp_path / "cache"
    _install(release_server, keyring, tmp_path / "a", cache_dir=cache)
    _assert_refused(release_server, keyring, tmp_path / "b", "does not verify",
                    cache_dir=cache, trusted_key=keyring.other.public,
                    trusted_fingerprint=keyring.other.fingerprint)


def test_shipped_hashicorp_key_has_the_documented_fingerprint(tmp_path: Path) -> None:
    expected = verify.normalize_fingerprint(AWS_FACTS_FINGERPRINT)
    assert expected == verify.HASHICORP_FINGERPRINT
    home = tmp_path / "gnupg"
    home.mkdir(mode=0o700)
    gpg = gnupg.GPG(gnupghome=str(home), options=["--no-autostart"])
    imported = gpg.import_keys(verify.hashicorp_key())
    assert [k["fingerprint"] for k in gpg.list_keys()] == [expected]
    assert expected in imported.fingerprints


def test_default_install_trusts_only_the_hashicorp_key(
    release_server: ReleaseServer, tmp_path: Path
) -> None:
    dest = tmp_path / "bin"
    with pytest.raises(OperationFailed, match="signature does not verify with key C874011F"):
        install(VERSION, dest_dir=dest, base_url=release_server.base_url, os_name="linux",
                arch="amd64")
    assert not dest.exists()


@pytest.mark.parametrize(
    ("machine", "expected"),
    [("x86_64", "amd64"), ("AMD64", "amd64"), ("aarch64", "arm64"), ("arm64", "arm64")],
)
def test_detect_platform_maps_machine_names(machine: str, expected: str) -> None:
    assert detect_platform("Linux", machine) == ("linux", expected)


def test_detect_platform_refuses_unknown_machines() -> None:
    with pytest.raises(OperationFailed, match="s390x"):
        detect_platform("linux", "s390x")


def test_bad_version_is_invalid_input(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not a Terraform version"):
        install("../1.12.2", dest_dir=tmp_path)


def test_embedded_install_writes_a_working_shim(tmp_path: Path) -> None:
    shim = install(VERSION, dest_dir=tmp_path / "bin", embedded=True)
    assert os.access(shim, os.X_OK)
    result = process.run([shim, "version"], cwd=tmp_path, env={})
    assert result.stdout.splitlines()[0] == "Terraform v1.12.2"


def test_embedded_install_refuses_another_version(tmp_path: Path) -> None:
    with pytest.raises(OperationFailed, match=r"embedded Terraform is 1\.12\.2"):
        install("1.9.0", dest_dir=tmp_path / "bin", embedded=True)
    assert not (tmp_path / "bin").exists()


def test_cli_install_refuses_a_release_not_signed_by_hashicorp(
    release_server: ReleaseServer, tmp_path: Path
) -> None:
    dest = tmp_path / "bin"
    result = CliRunner().invoke(terraform_group, [
        "install", "--dir", str(dest), "--base-url", release_server.base_url, "--no-cache"])
    assert isinstance(result.exception, OperationFailed)
    assert not dest.exists()


def test_cli_install_embedded(tmp_path: Path) -> None:
    result = CliRunner().invoke(terraform_group, [
        "install", "--embedded", "--dir", str(tmp_path / "bin"), "--no-cache"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == str(tmp_path / "bin" / "terraform")


def test_unwritable_cache_does_not_stop_the_install(
    release_server: ReleaseServer, keyring: Keyring, tmp_path: Path
) -> None:
    cache = tmp_path / "cache"
    cache.write_text("a file where the cache directory should be")
    binary = _install(release_server, keyring, tmp_path / "bin", cache_dir=cache)
    assert binary.is_file()


def test_default_cache_dir() -> None:
    assert default_cache_dir({"XDG_CACHE_HOME": "/c"}) == Path("/c/lmi-delivery/terraform")
    assert default_cache_dir({"HOME": "/h"}) == Path("/h/.cache/lmi-delivery/terraform")
    assert default_cache_dir({}) is None
