"""Fixtures for the team-state tests: a private moto S3 server with one bucket."""

from __future__ import annotations

import os

import pytest

from .s3server import MotoS3


@pytest.fixture
def s3(tmp_path, monkeypatch):
    """A moto server with the bucket `team-state`, stopped (its whole process group) at teardown.

    The caller's own AWS settings (a profile, a session token, an endpoint override) are
    removed from the environment, so every CLI a test starts sees the test credentials only.
    """
    for key in [k for k in os.environ if k.startswith("AWS_")]:
        monkeypatch.delenv(key)
    server = MotoS3(tmp_path / "moto.log").start()
    try:
        server.create_bucket("team-state")
        yield server
    finally:
        server.stop()
