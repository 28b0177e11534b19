"""A configuration written to a directory and loaded, for tests that give its text inline."""

from __future__ import annotations

from pathlib import Path

from lmi_delivery.config import load
from lmi_delivery.config.model import Config


def load_text(root: Path, text: str) -> Config:
    """``text`` as ``root/lmi-delivery.yml``, beside an empty Terraform root, loaded."""
    (root / "terraform").mkdir(exist_ok=True)
    (root / "terraform" / "main.tf").write_text("", encoding="utf-8")
    (root / "lmi-delivery.yml").write_text(text, encoding="utf-8")
    return load(root / "lmi-delivery.yml")
