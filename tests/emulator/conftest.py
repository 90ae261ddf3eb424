"""Fixtures of the emulator's direct backend tests (no HTTP)."""

from __future__ import annotations

import pytest

from emulator import seed
from emulator.store import Store


@pytest.fixture
def store(tmp_path):
    """A seeded store of its own, as a fresh emulator has it."""
    s = Store(str(tmp_path / "aep.sqlite3"))
    seed.seed(s)
    yield s
    s.close()
