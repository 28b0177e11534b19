"""A fake Terraform release for the install tests: signing keys, archives, a local server."""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from lmi_delivery import process

VERSION = "1.12.2"
ARCHIVE = f"terraform_{VERSION}_linux_amd64.zip"
SUMS = f"terraform_{VERSION}_SHA256SUMS"
SIG = f"{SUMS}.sig"
FAKE_TERRAFORM = b"""#!/bin/sh
if [ "$1" = "version" ]; then echo "Terraform v1.12.2 (fake)"; exit 0; fi
echo "fake terraform: $*" >&2
exit 1
"""


@dataclass(frozen=True)
class SigningKey:
    fingerprint: str
    public: bytes


class Keyring:
    """A throwaway GNUPGHOME holding two ed25519 keys: ``trusted`` and ``other``."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.env = {"GNUPGHOME": str(home), "PATH": os.environ.get("PATH", "")}
        self.trusted = self._generate("lmi trusted <trusted@example.invalid>")
        self.other = self._generate("lmi other <other@example.invalid>")

    def _gpg(self, *args: str) -> process.Result:
        return process.run(["gpg", "--batch", "--homedir", str(self.home), *args],
                           cwd=self.home, env=self.env)

    def _generate(self, uid: str) -> SigningKey:
        self._gpg("--passphrase", "", "--quick-gen-key", uid, "ed25519", "sign", "never")
        listing = self._gpg("--with-colons", "--list-keys", uid).stdout
        fingerprint = next(line.split(":")[9] for line in listing.splitlines()
                           if line.startswith("fpr:"))
        public = self._gpg("--armor", "--export", fingerprint).stdout.encode()
        return SigningKey(fingerprint, public)

    def sign(self, data: bytes, key: SigningKey) -> bytes:
        """A binary detached signature of ``data``, like HashiCorp's ``.sig`` files."""
        with tempfile.TemporaryDirectory(dir=self.home) as tmp:
            source, target = Path(tmp) / "data", Path(tmp) / "data.sig"
            source.write_bytes(data)
            self._gpg("--local-user", key.fingerprint, "--detach-sign", "--output",
                      str(target), str(source))
            return target.read_bytes()

    def close(self) -> None:
        process.run(["gpgconf", "--homedir", str(self.home), "--kill", "all"],
                    cwd=self.home, env=self.env, check=False)


def make_zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as bundle:
        for name, data in members.items():
            info = zipfile.ZipInfo(name)
            info.external_attr = 0o755 << 16
            bundle.writestr(info, data)
    return buffer.getvalue()


def sums_for(files: dict[str, bytes]) -> bytes:
    return "".join(f"{hashlib.sha256(data).hexdigest()}  {name}\n"
                   for name, data in sorted(files.items())).encode()


@dataclass
class ReleaseServer:
    """A local HTTP server for ``/<version>/<file>``; records every path requested."""

    base_url: str
    files: dict[str, bytes] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)

    def publish(self, keyring: Keyring, *, archive: bytes | None = None) -> None:
        """A good release: zip with the fake terraform, SHA256SUMS, signed by ``trusted``."""
        archive = archive if archive is not None else make_zip(
            {"terraform": FAKE_TERRAFORM, "LICENSE.txt": b"test\n"})
        other = make_zip({"terraform": b"darwin\n"})
        sums = sums_for({ARCHIVE: archive, f"terraform_{VERSION}_darwin_arm64.zip": other})
        self.files.clear()
        self.files.update({
            f"/{VERSION}/{ARCHIVE}": archive,
            f"/{VERSION}/{SUMS}": sums,
            f"/{VERSION}/{SIG}": keyring.sign(sums, keyring.trusted),
        })
