"""Verification of a Terraform release: the signed SHA256SUMS file, then the archive's sha256.

The signature is checked with gpg (through python-gnupg) in a throwaway keyring that holds only
the trusted key, and only after that key's fingerprint has been checked against the expected
one. Every failure raises :class:`~lmi_delivery.errors.OperationFailed` with a message that says
what did not match.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import tempfile
from importlib import resources
from pathlib import Path

import gnupg

from lmi_delivery.errors import InputError, OperationFailed

#: HashiCorp's release signing key (AWS-FACTS.md); its public key ships with the package.
HASHICORP_FINGERPRINT = "C874011F0AB405110D02105534365D9472D7468F"
_KEY_RESOURCE = ("data", "hashicorp-release-key.asc")


def normalize_fingerprint(fingerprint: str) -> str:
    """``"C874 011F ..."`` or ``"c874011f..."`` → ``"C874011F..."`` (40 hex digits)."""
    cleaned = re.sub(r"\s+", "", fingerprint).upper().removeprefix("0X")
    if not re.fullmatch(r"[0-9A-F]{40}", cleaned):
        raise ValueError(f"not an OpenPGP v4 fingerprint: {fingerprint!r}")
    return cleaned


def hashicorp_key() -> bytes:
    """The HashiCorp release key shipped as package data."""
    return resources.files("lmi_delivery").joinpath(*_KEY_RESOURCE).read_bytes()


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def verify_signature(data: bytes, signature: bytes, *, key: bytes, fingerprint: str) -> None:
    """Check that ``signature`` is a valid detached signature of ``data`` by ``key``.

    ``key`` is trusted only if it is exactly one primary key whose fingerprint is
    ``fingerprint``. A signature by a subkey of that key is accepted, as gpg does.
    """
    try:
        expected = normalize_fingerprint(fingerprint)
    except ValueError as exc:
        raise InputError(f"trusted key fingerprint: {exc}") from None
    if not signature.strip():
        raise OperationFailed("the SHA256SUMS signature file is empty")
    home = tempfile.mkdtemp(prefix="lmi-gpg-")
    try:
        try:
            # --no-autostart: importing a public key must not leave a gpg-agent behind.
            gpg = gnupg.GPG(gnupghome=home, options=["--no-autostart"])
        except (OSError, ValueError) as exc:  # gpg missing or unusable
            raise OperationFailed(f"cannot verify the release signature: gpg: {exc}") from exc
        imported = gpg.import_keys(key)
        primaries = {k["fingerprint"] for k in gpg.list_keys()}
        if not imported.fingerprints or not primaries:
            raise OperationFailed("the trusted release key could not be read as an OpenPGP key")
        if primaries != {expected}:
            found = ", ".join(sorted(primaries))
            raise OperationFailed(
                f"refusing the release key: its fingerprint is {found}, expected {expected}"
            )
        sig_path = Path(home) / "SHA256SUMS.sig"
        sig_path.write_bytes(signature)
        verified = gpg.verify_data(str(sig_path), data)
    finally:
        shutil.rmtree(home, ignore_errors=True)
    signer = verified.pubkey_fingerprint or verified.fingerprint
    if not verified.valid or verified.returncode != 0:
        reason = verified.status or "no valid signature"
        raise OperationFailed(
            f"the SHA256SUMS signature does not verify with key {expected}: {reason}"
        )
    if signer is None or str(signer).upper() != expected:
        raise OperationFailed(
            f"the SHA256SUMS file is signed by {signer}, not by the trusted key {expected}"
        )


def expected_sha256(sums: bytes, filename: str) -> str:
    """The sha256 the (already verified) SHA256SUMS file lists for exactly ``filename``."""
    found: list[str] = []
    for line in sums.decode("utf-8", errors="replace").splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1].lstrip("*") == filename:
            found.append(parts[0].lower())
    if not found:
        raise OperationFailed(f"the signed SHA256SUMS file has no entry for {filename}")
    if len(set(found)) != 1 or not re.fullmatch(r"[0-9a-f]{64}", found[0]):
        raise OperationFailed(f"the signed SHA256SUMS file has a malformed entry for {filename}")
    return found[0]


def verify_archive(archive: bytes, sums: bytes, filename: str) -> str:
    """Check ``archive`` against its line in the signed sums; return its sha256."""
    expected = expected_sha256(sums, filename)
    actual = sha256_hex(archive)
    if actual != expected:
        raise OperationFailed(
            f"checksum mismatch for {filename}: got sha256 {actual}, "
            f"the signed SHA256SUMS says {expected}"
        )
    return actual


def verify_release(
    archive: bytes,
    sums: bytes,
    signature: bytes,
    filename: str,
    *,
    key: bytes,
    fingerprint: str,
) -> str:
    """Signature first, then checksum; return the archive's verified sha256."""
    verify_signature(sums, signature, key=key, fingerprint=fingerprint)
    return verify_archive(archive, sums, filename)
