"""`make export` against objects our providers did not create: the spec it writes, what it leaves
out, its exit status and its calls (one listing per object kind)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import yaml

from emulator import config as dev
from pipelines import export as ex
from pipelines.spec import load
from providers.client import AEPClient, AEPSettings
from tests.support.credentials import DEV_CLIENT_SECRET
from tests.support.engine import ROOT

from .foreign import Foreign
from .helpers import IMS, unique_sandbox

AUTH = {"sourceId": "sid-31415", "dataType": "raw", "name": "nm-27182"}
LISTINGS = {f"GET /data/foundation/{route}": 1 for route in (
    "flowservice/flows", "flowservice/sourceConnections", "flowservice/connections", "flowservice/targetConnections",
    "catalog/dataSets", "schemaregistry/{container}/schemas", "schemaregistry/{container}/fieldgroups",
    "conversion/mappingSets", "schemaregistry/stats", "schemaregistry/{container}/descriptors")} | {
    "GET /data/core/idnamespace/identities": 1}


def env_for(emu) -> dict[str, str]:
    return {"AEP_CLIENT_ID": dev.DEV_CLIENT_ID, "AEP_CLIENT_SECRET": DEV_CLIENT_SECRET, "AEP_ORG_ID": dev.DEV_ORG_ID,
            "AEP_ENDPOINT": emu.base_url, "AEP_EMULATOR_AUTOSTART": "0", "AEP_RETRY_BUDGET": "5"}


def run_export(emu, sandbox: str, *args: str) -> subprocess.CompletedProcess:
    """`python -m pipelines.cli export`, as `make export` runs it, with the credentials in the environment."""
    env = {**os.environ, **env_for(emu)}
    return subprocess.run([sys.executable, "-m", "pipelines.cli", "export", "--sandbox", sandbox, *args], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def sandbox(emulator):
    """A sandbox as a UI-made one looks: two streaming pipelines, an unmapped flow and a batch flow."""
    sb = unique_sandbox("export")
    f = Foreign(emulator, sb)
    made = {"pendo": f.pendo_pipeline("a", flow_name="Pendo → AEP (UI) événements", two_groups=True),
            "http": f.http_pipeline("b", auth=AUTH, flow_name="HTTP events"),
            "unmapped": f.http_pipeline("c", auth={"sourceId": "x", "dataType": "xdm"}, flow_name="XDM events",
                                        mapped=False),
            "batch": f.batch_flow("d")}
    return sb, made


def test_export_writes_each_streaming_flow_as_aep_holds_it_and_lists_the_rest(emulator, sandbox):
    sb, made = sandbox
    emulator.reset_metrics()
    first = run_export(emulator, sb)
    calls = emulator.metrics()["requests"]
    assert first.returncode == 3, first.stderr
    # One listing per object kind (each fits one page here), the tenant and the token: no GET per object.
    assert {k: v for k, v in calls.items() if k != IMS} == LISTINGS, calls
    spec = yaml.safe_load(first.stdout)
    xdm, pendo, http = sorted(spec["pipelines"], key=lambda p: p["name"], reverse=True)
    assert [p["name"] for p in spec["pipelines"]] == ["http-events", "pendo-aep-ui-evenements", "xdm-events"]
    assert pendo == {
        "name": "pendo-aep-ui-evenements",
        "source": {"kind": "pendo", "name": "Pendo webhook – a", "description": "", "data_format": "json"},
        "schema": {"title": "Pendo Événements a", "description": "", "class": "experienceevent", "fields": {
            "accountId": {"type": "string", "title": "Account"}, "eventTime": {"type": "date-time", "title": "Event time"},
            "guide": {"type": "object", "properties": {"name": {"type": "string"}}},
            "key": {"type": "string", "title": "Visitor key"}, "visitorId": {"type": "string"}}},
        "dataset": {"name": "Pendo events · a", "description": "", "tags": {"team": ["analytics", "growth"]}},
        "target": {"name": "Data lake target a", "description": ""},
        "mapping_set": {"name": "Pendo mapping a"},
        "mappings": [
            {"source": "accountId", "destination": "_{tenantId}.accountId"},
            {"source": "date(timestamp)", "destination": "_{tenantId}.eventTime", "source_type": "EXPRESSION"},
            {"source": "properties.guideProperties.name", "destination": "_{tenantId}.guide.name"},
            {"source": "concat(visitorId, '@', accountId)", "destination": "_{tenantId}.key",
             "source_type": "EXPRESSION"},
            {"source": "visitorId", "destination": "_{tenantId}.visitorId"}],
        "flow": {"name": "Pendo → AEP (UI) événements", "description": "", "enabled": True},
        "adopt": {**{k: v for k, v in made["pendo"].items()}}}
    assert http["source"]["account"] == {"name": "HTTP account b", "description": "", "auth_spec_name":
                                         "Streaming Connection", "auth_params": {
                                             k: {"secret": f"http-events-{k}"} for k in sorted(AUTH)}}
    assert http["flow"] == {"name": "HTTP events", "description": "Events into AEP", "enabled": True,
                            "partial_ingestion_percent": 10}
    assert http["adopt"] == made["http"]
    # A flow with no mapping takes XDM records as they come: no mapping set, `mappings: []`.
    assert xdm["mappings"] == [] and "mapping_set" not in xdm and xdm["adopt"] == made["unmapped"]
    # Credentials are never read out: neither the values nor AEP's masks; each one names its command.
    assert "sid-31415" not in first.stdout and "nm-27182" not in first.stdout and "raw" not in first.stdout
    for key in AUTH:
        assert f"{{secret: http-events-{key}}}  # pulumi config set --secret aep-pipelines:http-events-{key} <value>" \
            in first.stdout
    # What the spec cannot say, at the end, with the reason.
    tail = first.stdout.split("# Left out (2)", 1)[1]
    assert f"flow 'Nightly GCS import d' ({made['batch']}): not a streaming flow" in tail
    assert "pipeline 'pendo-aep-ui-evenements': schema: field group 'Consent fields a'" in tail
    # The spec loads as it is, and a second export of the unchanged sandbox is the same text.
    assert [p.name for p in load(spec["pipelines"], sandbox=sb, tenant_id=dev.TENANT_ID)] == [
        "http-events", "pendo-aep-ui-evenements", "xdm-events"]
    second = run_export(emulator, sb)
    assert second.returncode == 3 and second.stdout == first.stdout


def test_no_adopt_and_a_choice_of_flows(emulator, sandbox):
    sb, made = sandbox
    whole = yaml.safe_load(run_export(emulator, sb).stdout)
    out = run_export(emulator, sb, "--flows", made["http"]["flow"], "--no-adopt")
    assert out.returncode == 0, out.stdout + out.stderr
    (only,) = yaml.safe_load(out.stdout)["pipelines"]
    assert "Without adopt ids (NO_ADOPT=1)" in out.stdout
    assert "adopt" not in only and only == {k: v for k, v in whole["pipelines"][0].items() if k != "adopt"}
    missing = run_export(emulator, sb, "--flows", "00000000-0000-4000-8000-000000000000")
    assert missing.returncode == 3 and "no such dataflow" in missing.stdout


def test_every_listing_follows_its_pages(emulator, sandbox):
    sb, _ = sandbox
    api = AEPClient(AEPSettings.load(env=env_for(emulator)))
    assert len(api.list_schemas(sb, page_size=1)) == len(api.list_schemas(sb)) == 4
    assert len(api.list_field_groups(sb, page_size=2)) == 5
    assert len(api.list_datasets(sb, page_size=1)) == 4
    assert len(api.list_mapping_sets(sb, page_size=1)) == 2


def test_pipeline_names_come_from_flow_names():
    assert ex.pipeline_name("Pendo → AEP (UI) événements") == "pendo-aep-ui-evenements"
    assert ex.pipeline_name("42 événements") == "flow-42-evenements"
    assert ex.pipeline_name("→ ✓") == "flow"
    assert ex.pipeline_name("x" * 60) == "x" * 40
    taken = {"pendo"}
    assert ex._unique_name("Pendo", taken) == "pendo-2"
    assert ex._unique_name("y" * 45, {"y" * 40}) == "y" * 38 + "-2"


def test_fifty_pipelines_cost_one_listing_per_object_kind(emulator):
    """docs/benchmarks.md, `make export`: the calls for 50 pipelines, by route."""
    sb = unique_sandbox("export-50")
    f = Foreign(emulator, sb)
    for i in range(50):
        f.pendo_pipeline(f"p{i:02d}", flow_name=f"Pendo flow {i:02d}")
    emulator.reset_metrics()
    out = run_export(emulator, sb)
    calls = emulator.metrics()["requests"]
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr
    assert len(yaml.safe_load(out.stdout)["pipelines"]) == 50
    assert calls == {**LISTINGS, IMS: 1}, calls  # 12 calls in all, whatever the number of pipelines up to a page
