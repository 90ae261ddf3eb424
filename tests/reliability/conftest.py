"""Fixtures for the reliability tests: where the measured figures go (private emulators: tests/conftest.py)."""

from __future__ import annotations

import json
import os
import time

import pytest


@pytest.fixture
def figures(request):
    """Record a test's measured figures: printed, and appended to $AEP_RELIABILITY_FIGURES as JSON lines
    (docs/reliability.md quotes them)."""
    out: dict = {}
    started = time.monotonic()
    yield out
    out["test_seconds"] = round(time.monotonic() - started, 1)
    line = json.dumps({"test": request.node.name, **out}, default=str)
    print(f"\nFIGURES {line}")
    path = os.environ.get("AEP_RELIABILITY_FIGURES")
    if path:
        with open(path, "a") as f:
            f.write(line + "\n")
