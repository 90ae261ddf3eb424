"""Every spec in examples/ deploys with the real engine, ingests its source's sample payloads,
shows no drift and destroys cleanly; and every kind of the source catalog has an example.

One emulator and one project copy for the module; each example gets a stack and a sandbox of
its own, its `{secret: <key>}` references set as secret stack config (aep-pipelines:<key>).
"""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import uuid
from typing import Any

import pytest
import requests
import yaml
from pulumi import automation as auto

from pipelines.guards import PROFILE_TYPE
from pipelines.samples import samples_for
from pipelines.spec_models import secret_ref
from providers.sources import KINDS
from tests.support.engine import ROOT, require_cli

from .helpers import QUIET, Project, outputs, unique_sandbox

EXAMPLES = ROOT / "examples"
FILES = sorted(EXAMPLES.glob("*.yaml"))
# What AEP cannot delete, and `destroy` therefore leaves, of a Profile pipeline: its schema.
RETAINED_BY_PROFILE = {"schema", "fieldGroup"}


def _spec(path: pathlib.Path) -> dict[str, Any]:
    return yaml.safe_load(path.read_text())


def _secret_keys(spec: dict[str, Any]) -> list[str]:
    """The config keys of the example's `{secret: <key>}` auth params."""
    return [key for p in spec["pipelines"] for v in (((p.get("source") or {}).get("account") or {})
                                                     .get("auth_params") or {}).values() if (key := secret_ref(v))]


def test_every_catalog_kind_has_an_example_named_after_it():
    kinds = {f.stem: {p.get("source", {}).get("kind", "pendo") for p in _spec(f)["pipelines"]} for f in FILES}
    missing = sorted(set(KINDS) - set(kinds))
    assert not missing, f"no example spec for source kind(s) {missing}: add examples/<kind>.yaml"
    assert all(found == {stem} for stem, found in kinds.items()), kinds
    readme = (EXAMPLES / "README.md").read_text()
    for f in FILES:
        assert f"`{f.name}`" in readme, f"examples/README.md does not list {f.name}"
        for key in _secret_keys(_spec(f)):
            assert f"pulumi config set --secret aep-pipelines:{key}" in readme, (f.name, key)


def test_the_examples_hold_no_literal_secret():
    for f in FILES:
        for p in _spec(f)["pipelines"]:
            kind = KINDS[p.get("source", {}).get("kind", "pendo")]
            account = (p.get("source") or {}).get("account") or {}
            spec = next((a for a in kind.auth_specs if a.name == account.get("auth_spec_name")),
                        kind.auth_specs[0] if len(kind.auth_specs) == 1 else None)
            for name in spec.secrets if spec else ():
                assert secret_ref((account.get("auth_params") or {}).get(name)), \
                    f"{f.name}: auth param {name} is a secret: write it as {{secret: <key>}}"


def test_an_example_besides_pipelines_yaml_reaches_profile_on_an_identity():
    assert any(p.get("profile") and any("identity" in fld for fld in p["schema"]["fields"].values())
               for f in FILES for p in _spec(f)["pipelines"])


@pytest.fixture(scope="module")
def project(tmp_path_factory, make_module_emulator) -> Project:
    return Project(tmp_path_factory.mktemp("examples"), make_module_emulator())


def _pulumi(st: auto.Stack, *args: str) -> str:
    """The pulumi CLI on the stack, as a user runs it (the Automation API's export adds --show-secrets)."""
    p = subprocess.run([str(require_cli() / "pulumi"), *args, "--stack", st.name], cwd=st.workspace.work_dir,
                       env={**os.environ, **st.workspace.env_vars}, capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stdout + p.stderr
    return p.stdout


def _release_profile(st: auto.Stack, state: dict[str, Any]) -> None:
    """What `make destroy` does first: lift the protection of the Profile enablements (AEP keeps
    their schemas; deleting the resource makes no AEP call)."""
    for r in state["deployment"].get("resources") or []:
        if r.get("type") == PROFILE_TYPE and r.get("protect"):
            _pulumi(st, "state", "unprotect", r["urn"], "--yes")


@pytest.mark.engine
@pytest.mark.slow
@pytest.mark.parametrize("path", FILES, ids=lambda f: f.stem)
def test_example_deploys_ingests_shows_no_drift_and_destroys(project, path):
    spec = _spec(path)
    (pipe,) = spec["pipelines"]
    kind = pipe.get("source", {}).get("kind", "pendo")
    sandbox = unique_sandbox(f"ex-{path.stem}")[:40]
    secrets = {key: f"example-{key}-{uuid.uuid4().hex[:8]}" for key in _secret_keys(spec)}
    st = project.stack(path.stem, sandbox, spec_file=f"examples/{path.name}",
                       extra={f"aep-pipelines:{k}": auto.ConfigValue(v, secret=True) for k, v in secrets.items()})

    up = st.up(**QUIET)
    assert set(up.summary.resource_changes or {}) == {"create"}, up.summary.resource_changes
    out = outputs(up)
    assert out["flowState"] == "enabled" and out["inletUrl"], out
    assert ("baseConnectionId" in out) == bool(pipe["source"].get("account")), out
    if kind in ("kinesis", "eventhubs", "pubsub", "http-authenticated"):
        flow = project.flow(sandbox, out["flowId"])
        assert flow["flowSpec"]["id"] == KINDS[kind].flow_spec_id
        # AEP masks the account's secret params on every read: those values never come back.
        conn = project.get(sandbox, f"/data/foundation/flowservice/connections/{out['baseConnectionId']}")
        assert conn.status_code == 200, conn.text
        shown = conn.json()["items"][0]["auth"]["params"]
        refs = {name: secret_ref(v) for name, v in pipe["source"]["account"]["auth_params"].items()}
        for name in KINDS[kind].auth_spec(conn.json()["items"][0]["auth"]["specName"]).secrets:
            assert shown[name] == "********" and secrets[refs[name]] not in conn.text, shown

    # The kind's demo samples fit the example's mappings: the good ones land, mapped, and the
    # malformed one fails in the run (the inlet answers 200 either way, as AEP does).
    samples = samples_for(kind)
    for _label, event in samples:
        r = requests.post(out["webhookUrl"], json=event, timeout=30)
        assert r.status_code == 200, r.text
    records = project.records(sandbox, out["datasetId"])
    tenant = next(k for k in records[0] if k.startswith("_") and k != "_id") if records else None
    assert len(records) == len(samples) - 1, json.dumps(records)[:2000]
    mapped = {m["destination"].split(".", 1)[1].split(".")[0] for m in pipe["mappings"]
              if m["destination"].startswith("_{tenantId}.")}
    assert set(records[0][tenant]) <= mapped and len(records[0][tenant]) >= len(mapped) - 1, records[0]

    # The call-count discipline, for every kind's resources: a no-op preview makes no AEP call,
    # and a refresh one GET per AEP object (a Profile enablement reads its schema).
    state = _pulumi(st, "stack", "export")
    aep = [r for r in json.loads(state)["deployment"]["resources"] if r["type"].startswith("pulumi-python:dynamic/")]
    project.emu.reset_metrics()
    st.preview(**QUIET)
    assert project.emu.metrics()["total"] == 0, project.emu.metrics()["requests"]
    clean = st.preview(refresh=True, expect_no_changes=True, **QUIET)
    assert set(clean.change_summary) <= {"same"}, clean.change_summary
    calls = project.api_calls()
    assert calls["writes"] == 0 and calls["reads"] == len(aep), (len(aep), calls["requests"])

    assert not any(v in state for v in secrets.values()), "a secret config value is in the state in plaintext"

    _release_profile(st, json.loads(state))
    st.destroy(**QUIET)
    assert not st.export_stack().deployment.get("resources")
    left = project.managed_objects(sandbox)
    assert set(left) <= (RETAINED_BY_PROFILE if pipe.get("profile") else set()), left
    st.workspace.remove_stack(path.stem)
