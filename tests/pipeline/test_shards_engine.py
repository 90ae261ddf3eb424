"""aep-pipelines:providerShards through the real engine, against a real emulator process.

Three pipelines on two provider shards: everything is created, each pipeline's resources on
the shard its name hashes to, the client secret encrypted in the shards' state, a refresh
finds nothing to change; then moving the deployed stack between one provider process and
two (2 -> 0 -> 2 -> 0 -> 2) makes no AEP write and replaces nothing; a sharded stack is
destroyed through the providers in its state.
"""

from __future__ import annotations

import json
import os
import subprocess

import pytest
from pulumi import automation as auto

from emulator import config as dev
from pipelines.shards import shard_of
from tests.support.credentials import DEV_CLIENT_SECRET

from .helpers import Project, outputs, unique_sandbox

pytestmark = pytest.mark.engine

PROVIDER_TYPE = "pulumi:providers:pulumi-python"
# alpha and charlie hash to shard 0, bravo to shard 1: both processes serve resources.
NAMES = ("alpha", "bravo", "charlie")
IDS = ("schemaId", "datasetId", "sourceConnectionId", "targetConnectionId", "mappingSetId", "flowId")
SECRET_SIG = "4dabf18193072939515e22adb298388d"  # the state's marker of an encrypted value


def spec() -> dict:
    # Names AEP wants unique in a sandbox; everything else is the tutorial's default.
    return {"pipelines": [{"name": n, "source": {"kind": "pendo", "name": f"{n} source"},
                           "schema": {"title": f"{n} events"}, "dataset": {"name": f"{n} events"},
                           "mapping_set": {"name": f"{n}-mapping"}, "flow": {"name": f"{n} flow"}}
                          for n in NAMES]}


def resources(st) -> list[dict]:
    return st.export_stack().deployment["resources"]


def stack_export(st) -> dict:
    """`pulumi stack export` as a user runs it (the Automation API's export adds --show-secrets)."""
    p = subprocess.run(["pulumi", "stack", "export", "--stack", st.name], cwd=st.workspace.work_dir,
                       env={**os.environ, **st.workspace.env_vars}, capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


def providers_in(state: list[dict]) -> dict[str, dict]:
    return {r["urn"].split("::")[-1]: r for r in state if r["type"] == PROVIDER_TYPE}


def test_provider_shards_deploy_refresh_and_move_without_touching_aep(tmp_path, emulator):
    assert {shard_of(n, 2) for n in NAMES} == {0, 1}
    project = Project(tmp_path, emulator)
    sandbox = unique_sandbox("pipe-shards")
    st = project.stack("shards", sandbox, spec_file=project.write_spec("shards.yaml", spec()),
                       extra={"aep-pipelines:providerShards": 2})
    try:
        emulator.reset_metrics()
        up, plan = project.up(st)
        calls = project.api_calls()
        # Stack, 2 shard providers, 3 components with their 6 objects each.
        assert up.summary.resource_changes == {"create": 1 + 2 + 3 + 18}
        assert plan.ops["aep-shard-0"] == plan.ops["aep-shard-1"] == {"create"}
        # One token per provider process: both shards were configured from their own inputs.
        assert calls["ims"] == 2, calls
        created = outputs(up)["pipelines"]
        assert set(created) == set(NAMES)
        assert project.managed_objects(sandbox)["flow"] == 3

        state = resources(st)
        provs = providers_in(state)
        assert set(provs) == {"aep-shard-0", "aep-shard-1"}  # and no default provider
        ref = {name: f"{p['urn']}::{p['id']}" for name, p in provs.items()}
        for r in state:
            if r["type"].startswith("pulumi-python:dynamic/"):
                pipeline = r["urn"].split("::")[-1].rsplit("-", 1)[0]
                assert r["provider"] == ref[f"aep-shard-{shard_of(pipeline, 2)}"], r["urn"]
        exported = stack_export(st)
        assert DEV_CLIENT_SECRET not in json.dumps(exported)
        for p in providers_in(exported["deployment"]["resources"]).values():
            assert p["inputs"]["aep:endpoint"] == emulator.base_url
            assert p["inputs"]["aep:clientId"] == dev.DEV_CLIENT_ID
            secret = p["inputs"]["aep:clientSecret"]
            assert secret[SECRET_SIG] and secret.get("ciphertext") and "plaintext" not in secret, secret

        emulator.reset_metrics()
        _, plan = project.preview(st, refresh=True, expect_no_changes=True)
        assert plan.ops == {} and project.api_calls()["writes"] == 0

        # Moving between one provider process and two: provider resources come and go, the
        # AEP resources stay exactly as they are.
        for count in (0, 2, 0, 2):
            st.set_config("aep-pipelines:providerShards", auto.ConfigValue(str(count)))
            emulator.reset_metrics()
            up, plan = project.up(st)
            calls = project.api_calls()
            assert calls["writes"] == 0 and calls["reads"] == 0, (count, calls)
            moved = {name: ops for name, ops in plan.ops.items() if not name.startswith(("aep-shard-", "default"))}
            assert moved == {}, (count, plan.ops)
            assert set(up.summary.resource_changes) <= {"same", "create", "delete"}, up.summary.resource_changes
            assert up.summary.resource_changes["same"] == 1 + 3 + 18
            assert {n: {k: p[k] for k in IDS} for n, p in outputs(up)["pipelines"].items()} == \
                {n: {k: p[k] for k in IDS} for n, p in created.items()}
            provs = providers_in(resources(st))
            if count:
                assert set(provs) == {"aep-shard-0", "aep-shard-1"}
            else:
                assert len(provs) == 1 and next(iter(provs)).startswith("default")
            # The providers the resources moved to serve them: a refresh reads every object
            # through them (one token per process) and finds nothing to change.
            emulator.reset_metrics()
            project.preview(st, refresh=True, expect_no_changes=True)
            calls = project.api_calls()
            assert calls["reads"] >= 18 and calls["writes"] == 0 and calls["ims"] == (count or 1), (count, calls)
    finally:
        # With 2 shards: destroy configures the shard providers from their inputs in the state.
        destroyed = st.destroy(on_output=lambda _l: None)
    assert destroyed.summary.resource_changes == {"delete": 1 + 2 + 3 + 18}
    assert project.managed_objects(sandbox) == {}


def test_a_bad_shard_count_fails_the_preview_naming_the_key_with_no_api_call(tmp_path, emulator):
    project = Project(tmp_path, emulator)
    st = project.stack("bad-shards", unique_sandbox("pipe-shards-bad"), spec_file="pipelines.yaml",
                       extra={"aep-pipelines:providerShards": "lots"})
    emulator.reset_metrics()
    with pytest.raises(auto.errors.CommandError) as err:
        st.preview(on_output=lambda _l: None)
    message = str(err.value)
    assert "aep-pipelines:providerShards must be a whole number from 0 to 16, got 'lots'" in message, message
    assert "Traceback" not in message
    calls = project.api_calls()
    assert calls["reads"] == 0 and calls["writes"] == 0 and calls["ims"] == 0, calls
