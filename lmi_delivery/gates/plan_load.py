"""Reading a plan file as Terraform and its usual wrappers really write it.

:func:`load` reads the bytes of ``terraform show -json PLANFILE`` output, whatever wrote them:

- UTF-8, with or without a byte-order mark (PowerShell's ``Out-File -Encoding utf8``);
- UTF-16 (PowerShell 5's ``>``) or UTF-32, told by their byte-order mark, or UTF-16 without
  one, told by its zero bytes;
- hashicorp/setup-terraform's wrapper around the JSON: a ``[command]…terraform-bin show -json``
  line before it, ``::debug::…`` and ``::set-output …`` workflow commands after it.

What is not a plan is refused (:class:`~lmi_delivery.errors.ConfigError`, exit 2) with the
reason: a binary plan file (a zip: run ``terraform show -json`` on it), text that is not JSON
(``file:line:col``), anything after the JSON that is not a wrapper line, and, through
:mod:`~lmi_delivery.gates.plan_shape`, JSON that is not a plan (a state, provider schemas) or a
plan of a shape the rules cannot read.
"""

from __future__ import annotations

import codecs
import json
from pathlib import Path
from typing import Any

from lmi_delivery.errors import ConfigError
from lmi_delivery.gates.plan_json import Plan

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le", "UTF-32"), (codecs.BOM_UTF32_BE, "utf-32-be", "UTF-32"),
    (codecs.BOM_UTF8, "utf-8", "UTF-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le", "UTF-16"), (codecs.BOM_UTF16_BE, "utf-16-be", "UTF-16"),
)
_ZIP = b"PK\x03\x04"
#: Lines setup-terraform's wrapper prints around Terraform's own output.
_WRAPPER_BEFORE = ("[command]", "::")
_WRAPPER_AFTER = ("::",)


def load(path: str | Path) -> Plan:
    """Read, decode and parse a plan JSON file; every refusal points at ``file[:line:col]``."""
    file = str(path)
    try:
        raw = Path(file).read_bytes()
    except FileNotFoundError:
        raise ConfigError.at(file, "no such file (expected `terraform show -json` output)") \
            from None
    except IsADirectoryError:
        raise ConfigError.at(file, "is a directory (expected `terraform show -json` output)") \
            from None
    except OSError as exc:
        raise ConfigError.at(file, f"cannot be read: {exc.strerror or exc}") from None
    return Plan(parse(decode(raw, file), file), file)


def decode(raw: bytes, file: str) -> str:
    """The text of a plan file in any of the encodings Terraform's users end up with."""
    if raw.startswith(_ZIP):
        raise ConfigError.at(file, "is a binary plan file (a zip archive), not its JSON: pass "
                             "the output of `terraform show -json PLANFILE`")
    for bom, codec, name in _BOMS:
        if raw.startswith(bom):
            return _decode(raw[len(bom):], codec, name, file, len(bom))
    if len(raw) >= 2 and raw[0] != 0 and raw[1] == 0:
        return _decode(raw, "utf-16-le", "UTF-16", file, 0)
    if len(raw) >= 2 and raw[0] == 0 and raw[1] != 0:
        return _decode(raw, "utf-16-be", "UTF-16", file, 0)
    return _decode(raw, "utf-8", "UTF-8", file, 0)


def _decode(raw: bytes, codec: str, name: str, file: str, skipped: int) -> str:
    try:
        return raw.decode(codec)
    except UnicodeDecodeError as exc:
        raise ConfigError.at(file, f"is not {name} text (byte {exc.start + skipped} cannot be "
                             "decoded): not `terraform show -json` output") from None


def parse(text: str, file: str) -> Any:
    """The JSON document of ``text``, setup-terraform's wrapper lines around it skipped."""
    start = _start(text, file)
    try:
        data, end = json.JSONDecoder().raw_decode(text, start)
    except json.JSONDecodeError as exc:
        raise ConfigError.at(file, f"malformed plan JSON: {exc.msg}", line=exc.lineno,
                             column=exc.colno) from None
    _trailer(text, end, file)
    return data


def _start(text: str, file: str) -> int:
    offset = 0
    for number, line in enumerate(text.splitlines(keepends=True), start=1):
        stripped = line.strip()
        if stripped and not stripped.startswith(_WRAPPER_BEFORE):
            if not stripped.startswith(("{", "[")):
                column = len(line) - len(line.lstrip()) + 1
                raise ConfigError.at(file, "malformed plan JSON: text before the JSON document "
                                     "(only setup-terraform's `[command]` and `::` lines are "
                                     "skipped)", line=number, column=column)
            return offset + len(line) - len(line.lstrip())
        offset += len(line)
    raise ConfigError.at(file, "is empty: expected `terraform show -json` output", line=1,
                         column=1)


def _trailer(text: str, end: int, file: str) -> None:
    """Only whitespace and wrapper lines may follow the document."""
    rest = text[end:]
    line = text.count("\n", 0, end) + 1
    column = end - (text.rfind("\n", 0, end) + 1) + 1
    for number, part in enumerate(rest.splitlines(), start=line):
        stripped = part.strip()
        if stripped and not stripped.startswith(_WRAPPER_AFTER):
            at = column + len(part) - len(part.lstrip()) if number == line else \
                len(part) - len(part.lstrip()) + 1
            raise ConfigError.at(file, "malformed plan JSON: Extra data after the JSON document",
                                 line=number, column=at)
