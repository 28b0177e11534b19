"""The configuration contract: load ``lmi-delivery.yml`` into a checked, typed :class:`Config`.

``load`` runs four passes and stops after the first that finds problems, reporting all of that
pass's problems at once: YAML (syntax, duplicate keys, anchors), the JSON Schema, building the
model, and the semantic checks (references, scaling, derived names, files). It never reads the
process environment or AWS: a loaded config is a value.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from lmi_delivery.config.model import Config
from lmi_delivery.errors import ConfigError

#: Refuse files larger than this: a configuration is a few kilobytes.
MAX_BYTES = 1 << 20

__all__ = ["Config", "load"]


def load(path: str | os.PathLike[str]) -> Config:
    """Load and check the configuration at ``path``.

    Raises :class:`ConfigError` carrying every problem found, each at its ``file:line:col``.
    """
    # Imported here, not with the package: the schema pulls in jsonschema, which a command
    # that only names a config type (``--help``, the pruner's decision) never needs.
    from lmi_delivery.config import schema, semantic, yamlpos
    from lmi_delivery.config.builder import build

    file = os.fspath(path)
    data = _read(file)
    document = yamlpos.parse(yamlpos.decode(data, file), file)
    if not isinstance(document.value, dict):
        where = document.locations[()]
        raise ConfigError.at(file, "the top level must be a mapping of keys to values, got "
                             f"{schema.describe(document.value)}",
                             line=where.line, column=where.column)
    problems = schema.validate(document)
    if problems:
        raise ConfigError(problems)
    config_path = Path(file)
    config = build(
        document.value,
        path=config_path,
        root=config_path.parent,
        digest=hashlib.sha256(data).hexdigest(),
        locations=document.locations,
    )
    problems = semantic.check(config)
    if problems:
        raise ConfigError(problems)
    return config


def _read(file: str) -> bytes:
    try:
        if os.path.isdir(file):
            raise ConfigError.at(file, "is a directory, expected a YAML file")
        size = os.path.getsize(file)
        if size > MAX_BYTES:
            raise ConfigError.at(file, f"is {size} bytes, larger than the {MAX_BYTES} allowed")
        with open(file, "rb") as handle:
            return handle.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise ConfigError.at(file, "no such file") from None
    except OSError as exc:
        raise ConfigError.at(file, f"cannot be read: {exc.strerror or exc}") from None
