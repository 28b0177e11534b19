"""Fixtures for the configuration tests: a throwaway repository with a Terraform root."""

from __future__ import annotations

from pathlib import Path

import pytest
from config_helpers import WriteConfig, make_repo


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path)


@pytest.fixture
def write_config(repo: Path) -> WriteConfig:
    """Write a configuration file into the repository and return its path."""

    def write(text: str) -> Path:
        path = repo / "lmi-delivery.yml"
        path.write_text(text, encoding="utf-8")
        return path

    return write
