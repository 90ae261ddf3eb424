"""The GitHub workflows' own steps, rehearsed against the emulator (scripts/gitops-rehearsal)."""

import subprocess

import pytest

from tests.support.engine import ROOT, require_cli

pytestmark = pytest.mark.engine


def test_gitops_rehearsal(tmp_path):
    require_cli()
    proc = subprocess.run([str(ROOT / "scripts" / "gitops-rehearsal"), "--workdir", str(tmp_path / "rehearsal")],
                          capture_output=True, text=True, timeout=900)
    log = tmp_path / "rehearsal" / "steps.log"
    detail = proc.stdout[-6000:] + proc.stderr[-3000:] + (log.read_text()[-6000:] if log.exists() else "")
    assert proc.returncode == 0, detail
    assert "gitops rehearsal passed" in proc.stdout
    assert " FAIL " not in proc.stdout
