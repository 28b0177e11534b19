"""Fixtures of the bootstrap tests: the planes of a config that uses every part."""

from __future__ import annotations

from pathlib import Path

import pytest
from bootstrap_helpers import plane

from lmi_delivery.bootstrap import Plane


@pytest.fixture
def dev(tmp_path: Path) -> Plane:
    return plane(tmp_path, "dev")


@pytest.fixture
def prod(tmp_path: Path) -> Plane:
    return plane(tmp_path, "prod")
