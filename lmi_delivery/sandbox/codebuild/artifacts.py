"""Uploading a build's artifacts to the sandbox's S3, laid out as CodeBuild lays them out.

The project's artifacts (or ``artifactsOverride``) say where: ``type: S3``, ``location`` the
bucket, then ``path``, the build id when ``namespaceType`` is ``BUILD_ID``, and ``name``
(the buildspec's ``artifacts.name`` when ``overrideArtifactName`` is set or the project has no
name). ``packaging: ZIP`` uploads one zip at that key; otherwise each file goes under it.
The buildspec's ``artifacts`` say what: ``files`` globs (``**/*``) relative to
``base-directory``, with ``discard-paths`` keeping only the file names.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lmi_delivery.sandbox.codebuild.spec import ArtifactsSpec

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

_VARIABLE = re.compile(r"\$\{(\w+)\}|\$(\w+)")


class ArtifactsError(Exception):
    """Nothing matched, or the upload failed."""


def wanted(spec: ArtifactsSpec | None, project_artifacts: Mapping[str, Any]) -> bool:
    return spec is not None and bool(spec.files) and project_artifacts.get("type") == "S3"


def collect(spec: ArtifactsSpec, src_dir: Path) -> list[tuple[Path, str]]:
    """The files to upload and their keys relative to the artifact's prefix."""
    base = (src_dir / spec.base_directory).resolve()
    found: dict[str, Path] = {}
    for pattern in spec.files:
        for path in sorted(base.glob(pattern.lstrip("/"))):
            if path.is_file():
                relative = path.relative_to(base).as_posix()
                found[path.name if spec.discard_paths else relative] = path
    if not found:
        raise ArtifactsError(f"no matching artifact paths found: {', '.join(spec.files)}")
    return [(path, key) for key, path in sorted(found.items())]


def upload(s3: S3Client, spec: ArtifactsSpec, project_artifacts: Mapping[str, Any],
           *, src_dir: Path, project: str, build_uuid: str, env: Mapping[str, str]) -> str:
    """Upload the artifacts; return the location ARN ``BatchGetBuilds`` reports."""
    files = collect(spec, src_dir)
    bucket = str(project_artifacts["location"])
    name = str(project_artifacts.get("name") or "")
    if spec.name and (project_artifacts.get("overrideArtifactName") or not name):
        name = _expand(spec.name, env)
    name = name or project
    parts = [str(project_artifacts.get("path") or "").strip("/")]
    if project_artifacts.get("namespaceType") == "BUILD_ID":
        parts.append(build_uuid)
    parts.append(name.strip("/"))
    prefix = "/".join(part for part in parts if part)
    if project_artifacts.get("packaging") == "ZIP":
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for path, key in files:
                archive.write(path, key)
        s3.put_object(Bucket=bucket, Key=prefix, Body=buffer.getvalue())
    else:
        for path, key in files:
            s3.put_object(Bucket=bucket, Key=f"{prefix}/{key}", Body=path.read_bytes())
    return f"arn:aws:s3:::{bucket}/{prefix}"


def _expand(text: str, env: Mapping[str, str]) -> str:
    return _VARIABLE.sub(lambda m: env.get(m.group(1) or m.group(2), ""), text)
