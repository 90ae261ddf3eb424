"""Fixtures for provider tests: a Harness on the shared emulator, in a sandbox of its own."""

from __future__ import annotations

import pytest

from .support import Harness


@pytest.fixture
def h(emulator, sandbox) -> Harness:
    """Providers configured for the session emulator, isolated by a fresh sandbox."""
    emulator.clear_faults()
    return Harness(emulator, sandbox)
