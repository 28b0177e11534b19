"""The shared corpus of real buildspecs and Terraform plans, beside the repository.

It holds other projects' files, for checking against and never for copying in, so it lives in
``../shared/corpus`` (where CI and every developer checkout have it), not in this repository.
The tests that run over it fail, rather than pass unchecked, when it is missing.
"""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2] / "shared" / "corpus"


def corpus(*parts: str) -> Path:
    """``../shared/corpus/<parts>``; a missing corpus fails the calling test, saying where."""
    where = ROOT.joinpath(*parts)
    if not where.is_dir():
        pytest.fail(f"the shared corpus is missing: expected {where} (clone the project's "
                    "shared folder beside the repository)")
    return where
