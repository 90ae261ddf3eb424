"""Ingestion rehearsal (`make preview` with samples): Data Prep's preview of each sample is the
record the inlet then writes, a broken mapping fails the preview before any write, and a stack
without samples still previews with no AEP call.
"""

from __future__ import annotations

import copy
import json
import subprocess
import sys

import pytest
import requests

from emulator import config as dev
from pipelines import rehearsal
from pipelines.spec import load
from providers.client import AEPSettings, Secret, get_client
from tests.support.credentials import DEV_CLIENT_SECRET

from .test_guards_cli import IMS, Cli, _out

pytestmark = [pytest.mark.engine, pytest.mark.slow]

PREVIEW = "POST /data/foundation/conversion/mappingSets/preview"


@pytest.fixture
def cli(tmp_path, fresh_emulator):
    return Cli(tmp_path, fresh_emulator, spec=None)


def _pipeline(cli: Cli):
    (p,) = load(spec_file="pipelines.yaml", base_dir=cli.dir, sandbox="dev", tenant_id=dev.TENANT_ID)
    return p


def _api(cli: Cli):
    return get_client(AEPSettings(endpoint=cli.base, client_id=dev.DEV_CLIENT_ID, client_secret=Secret(DEV_CLIENT_SECRET),
                                  org_id=dev.DEV_ORG_ID, ims_url=f"{cli.base}/ims/token/v3"))


def _without_generated(record: dict) -> dict:
    # `_id` is a fresh uuid per record, in the preview and at the inlet alike.
    return {k: v for k, v in record.items() if k != "_id"}


def test_each_samples_rehearsal_is_what_the_inlet_then_writes_or_refuses(cli):
    assert cli.run("up").returncode == 0
    p, api = _pipeline(cli), _api(cli)
    samples = rehearsal.samples_for(p, rehearse_all=True)
    results = rehearsal.rehearse(api, p, samples)
    assert [r.failed for r in results] == [False, False, True]

    out = subprocess.run([sys.executable, "-c", "import json; from pipelines.cli import pipeline_outputs; "
                          "print(json.dumps(pipeline_outputs('dev')))"], cwd=cli.dir, env=cli.env,
                         capture_output=True, text=True, check=True)
    pipe = json.loads(out.stdout)["pendo"]
    for s in samples:
        assert requests.post(pipe["webhookUrl"], json=s["payload"], timeout=30).status_code == 200
    stored = api.emulator_dataset_records("dev", pipe["datasetId"], limit=100)
    assert [_without_generated(r) for r in stored] == [_without_generated(r.record) for r in results if not r.failed]
    (run,) = api.list_runs("dev", pipe["flowId"])
    run_errors = [f"{e['code']}: {e['message']}" for e in run["metrics"]["statusSummary"]["errors"]]
    assert [e for r in results if r.failed for e in r.errors] == run_errors


def test_a_broken_mapping_fails_the_preview_with_data_preps_error_before_any_write(cli):
    spec = copy.deepcopy(cli.spec)
    pipe = spec["pipelines"][0]
    event = {"accountId": "acme-corp", "visitorId": "visitor-7", "uniqueId": "u-1",
             "timestamp": "2026-12-01T10:00:00Z", "properties": {"guideProperties": {"name": "Tour"}}}
    pipe["samples"] = [{"name": "ISO time", "payload": event}]
    cli.write_spec(spec)
    cli.emu.reset_metrics()
    ok = cli.run("preview")
    assert ok.returncode == 0, _out(ok)
    assert "✓ pendo: ISO time — mapped:" in ok.stdout and '"visitorId": "visitor-7"' in ok.stdout

    pipe["schema"]["fields"]["timestamp"]["type"] = "integer"  # an ISO time mapped into an integer field
    cli.write_spec(spec)
    broken = cli.run("preview")
    assert broken.returncode == 1, _out(broken)
    assert "✗ pendo: ISO time — REFUSED" in broken.stdout
    assert "MAPPER-3700-400: _extconndev.timestamp: cannot convert string '2026-12-01T10:00:00Z' to integer" \
        in broken.stdout
    calls = {k: v for k, v in cli.emu.metrics()["requests"].items() if k != IMS}
    assert calls == {PREVIEW: 2}, "one read-only preview call per rehearsed preview, and no write"


def test_no_samples_no_rehearsal_call(cli):
    cli.emu.reset_metrics()
    plain = cli.run("preview")
    assert plain.returncode == 0, _out(plain)
    assert "Rehearsal" not in plain.stdout
    assert PREVIEW not in cli.emu.metrics()["requests"]


def test_a_rehearsal_that_cannot_run_fails_the_preview_and_says_why(cli):
    cli.emu.set_faults({"rules": [{"fault": 500, "route": "^POST /data/foundation/conversion/mappingSets/preview"}]})
    try:
        failed = cli.run("preview", REHEARSE="1", AEP_RETRY_BUDGET="1")
    finally:
        cli.emu.clear_faults()
    text = _out(failed)
    assert failed.returncode == 1, text
    assert "Rehearsal of pipeline 'pendo' could not run:" in text and "HTTP 500" in text, text
    assert "Nothing was written" in text and "Traceback" not in text and "✓" not in text
