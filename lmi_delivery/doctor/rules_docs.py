"""LMD007: documentation that points at files that do not exist.

Markdown links (inline and reference style, images too) to relative targets are resolved from
the Markdown file's directory (a leading ``/`` from the repository root). Backticked paths are
checked when they look like repository paths: a ``/`` inside, no spaces, variables or
placeholders, and a file extension of the kind a delivery setup has (or a trailing ``/``); they
are resolved from the repository root, then from the Markdown file's directory. Fenced code
blocks are skipped.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator
from urllib.parse import unquote

from lmi_delivery.doctor.rules import finding
from lmi_delivery.doctor.sources import Repo, TextFile
from lmi_delivery.findings import Finding

_LINK = re.compile(r"!?\[[^\]\n]*\]\(\s*<?([^)\s>]+)>?(?:\s+[\"'(][^)]*)?\)")
_REFERENCE = re.compile(r"^\s{0,3}\[[^\]\n]+\]:\s*<?(\S+?)>?(?:\s|$)", re.MULTILINE)
_CODE = re.compile(r"(?<!`)`([^`\s]+)`(?!`)")
_PATHLIKE = re.compile(r"[A-Za-z0-9_.][A-Za-z0-9_./-]*")
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")
EXTENSIONS = (".yml", ".yaml", ".md", ".tf", ".tfvars", ".json", ".py", ".sh", ".toml",
              ".txt", ".cfg", ".hcl", ".cjs", ".mjs", ".js", ".ini")


def check(repo: Repo) -> Iterator[Finding]:
    for file in repo.docs:
        text = _blank_fences(file.text)
        base = posixpath.dirname(file.relative)
        for pattern in (_LINK, _REFERENCE):
            for match in pattern.finditer(text):
                target = match.group(1)
                if _SCHEME.match(target) or target.startswith("#"):
                    continue
                path = unquote(target.split("#", 1)[0].split("?", 1)[0])
                if not path:
                    continue
                resolved = (path.lstrip("/") if path.startswith("/")
                            else posixpath.normpath(posixpath.join(base, path)))
                if resolved.startswith("..") or not repo.exists(resolved):
                    yield _missing(file, match.start(1), target, resolved)
        for match in _CODE.finditer(text):
            path = match.group(1)
            if not _looks_like_path(path):
                continue
            candidates = [posixpath.normpath(path),
                          posixpath.normpath(posixpath.join(base, path))]
            if not any(not c.startswith("..") and repo.exists(c) for c in candidates):
                yield _missing(file, match.start(1), path, candidates[0])


def _looks_like_path(text: str) -> bool:
    return (bool(_PATHLIKE.fullmatch(text)) and "/" in text.rstrip("/")
            and (text.endswith("/") or text.lower().endswith(EXTENSIONS))
            and not text.startswith("/"))


def _missing(file: TextFile, index: int, target: str, resolved: str) -> Finding:
    return finding("LMD007", file.at(index),
                   f"{target!r} does not exist (looked for {resolved!r} in the repository)")


def _blank_fences(text: str) -> str:
    """``text`` with fenced code blocks blanked out, keeping every offset."""
    out: list[str] = []
    fence = ""
    for line in text.splitlines(keepends=True):
        stripped = line.lstrip()
        marker = stripped[:3]
        if not fence and marker in ("```", "~~~"):
            fence = marker
            out.append(re.sub(r"[^\n]", " ", line))
        elif fence:
            if stripped.startswith(fence):
                fence = ""
            out.append(re.sub(r"[^\n]", " ", line))
        else:
            out.append(line)
    return "".join(out)
