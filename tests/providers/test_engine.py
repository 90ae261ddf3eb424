"""The providers under the real Pulumi engine (Automation API): the exact AEP calls of each step.

A private emulator knows a canary client secret. `deployed` is the chain, deployed once per
module in sandbox `e2e`. A test that changes it leaves it healthy (a refresh finds nothing to
change), and no test depends on what another changed (a mapping, the source's spec), so every
test runs on its own (`pytest path::test`) and in any order. Tests whose step cannot be
undone (destroy) or needs no deployment have stacks of their own.

What a pipeline does under the engine (drift repaired, objects recreated, nothing left after
destroy) is tests/pipeline/test_pipeline_engine.py's; here each step's calls are counted, as
docs/providers.md lists them.
"""

from __future__ import annotations

import base64
import json
import pathlib
import uuid
from dataclasses import dataclass

import pytest
from pulumi import automation as auto

from providers.models import HTTP_STREAMING_SPEC
from tests.support.engine import copy_project, stack

from .support import CAT, DP, FS, IMS, SR, TENANT, Harness, route

pytestmark = pytest.mark.engine

PROJECT = pathlib.Path(__file__).parent / "project"
ORG = "E2EORG000000000000000000@AdobeOrg"
CANARY = f"CANARY-{uuid.uuid4().hex}"
QUIET = {"on_output": lambda _line: None}
FLOW_GET = route("GET", FS, "/flows/{flow_id}")
# One GET per object: the schema's xed-full rendering carries its field group's fields.
ONE_READ_EACH = {route("GET", SR, "/{container}/schemas/{schema_id:path}"): 1,
                 route("GET", CAT, "/dataSets/{dataset_id}"): 1, route("GET", FS, "/sourceConnections/{conn_id}"): 1,
                 route("GET", FS, "/targetConnections/{conn_id}"): 1, route("GET", DP, "/mappingSets/{set_id}"): 1,
                 FLOW_GET: 1}
KINDS = ("schema", "fieldGroup", "dataset", "sourceConnection", "targetConnection", "mappingSet", "flow")


@pytest.fixture(scope="module")
def h(make_module_emulator) -> Harness:
    emu = make_module_emulator("--client", f"e2e-client:{CANARY}:{ORG}", name="e2e-emulator")
    return Harness(emu, "e2e", clientId="e2e-client", clientSecret=CANARY, orgId=ORG)


def make_stack(h: Harness, tmp: pathlib.Path, name: str, sandbox: str, **pipeline) -> auto.Stack:
    work = copy_project(PROJECT, tmp / "project")
    config = {"aep:endpoint": h.emu.base_url, "aep:clientId": "e2e-client", "aep:orgId": ORG,
              "aep:clientSecret": auto.ConfigValue(CANARY, secret=True), "aep:sandbox": sandbox,
              "aep:tenantId": TENANT, "aep:retryBaseDelay": "0.01",
              **{f"pipeline:{k}": v for k, v in pipeline.items()}}
    return stack(work, name, tmp / "state", config=config)


@dataclass
class Deployed:
    stack: auto.Stack
    up: auto.UpResult
    calls: dict[str, int]  # what the first `up` cost, IMS included


@pytest.fixture(scope="module")
def deployed(h, tmp_path_factory) -> Deployed:
    st = make_stack(h, tmp_path_factory.mktemp("e2e"), "e2e", h.sandbox)
    h.reset()
    up = st.up(**QUIET)
    yield Deployed(st, up, h.calls(ims=True))
    st.destroy(**QUIET)
    st.workspace.remove_stack("e2e")


def stored(h: Harness, kind: str, sandbox: str | None = None) -> list[dict]:
    return h.emu.admin("GET", f"objects/{kind}?org={ORG}&sandbox={sandbox or h.sandbox}")


def healthy(st: auto.Stack) -> None:
    """The state every test starts from and leaves behind: a refresh finds nothing to change."""
    st.preview(refresh=True, expect_no_changes=True, **QUIET)


def test_up_creates_the_chain_with_no_redundant_call(deployed, h):
    assert deployed.up.summary.resource_changes == {"create": 7}
    assert deployed.up.outputs["inlet_url"].value.startswith(h.emu.base_url + "/collection/")
    assert deployed.up.outputs["state"].value == "enabled"
    assert deployed.calls == {
        IMS: 1,  # one token for all six providers in the one provider process
        route("POST", SR, "/tenant/fieldgroups"): 1, route("POST", SR, "/tenant/schemas"): 1,
        route("POST", CAT, "/dataSets"): 1, route("POST", FS, "/sourceConnections"): 1,
        route("POST", FS, "/targetConnections"): 1, route("POST", DP, "/mappingSets"): 1,
        route("POST", FS, "/flows"): 1, FLOW_GET: 1}  # the one GET: for inletUrl


def test_state_holds_no_secret_and_providers_by_reference(deployed):
    st = deployed.stack
    # The state file as stored (`stack export` would decrypt secrets for display).
    backend = pathlib.Path(st.workspace.env_vars["PULUMI_BACKEND_URL"].removeprefix("file://"))
    (state_file,) = [p for p in backend.rglob("e2e.json") if "stacks" in p.parts]
    text = state_file.read_text()
    assert CANARY not in text and '"ciphertext"' in text  # the config secret is encrypted, nothing else holds it
    deployment = json.loads(text)["checkpoint"]["latest"]
    dynamic = [r for r in deployment["resources"] if r["type"].startswith("pulumi-python:dynamic/aep:")]
    assert len(dynamic) == 6
    for r in dynamic:
        blob = r["outputs"]["__provider"]
        assert isinstance(blob, str), "the provider must not be stored as a secret"
        raw = base64.b64decode(blob)
        assert len(raw) < 200 and b"_create_code" not in raw and b"providers." in raw


def test_nothing_to_do_costs_no_call_and_a_refresh_one_read_each(deployed, h):
    st = deployed.stack
    h.reset()
    pre = st.preview(expect_no_changes=True, **QUIET)
    assert pre.change_summary == {"same": 7}
    up = st.up(expect_no_changes=True, **QUIET)
    assert up.summary.resource_changes == {"same": 7}
    assert h.calls(ims=True) == {}  # diff needs no network
    st.refresh(expect_no_changes=True, **QUIET)
    healthy(st)
    assert h.calls() == {k: 2 for k in ONE_READ_EACH}


def test_a_mapping_change_is_a_new_version_rolled_out_in_place(deployed, h):
    st = deployed.stack
    version = st.outputs()["mapping_version"].value
    mappings = [{"source": "accountId", "destination": f"_{TENANT}.accountId"},
                {"source": "properties.guideProperties.name", "destination": f"_{TENANT}.guide.name"}]
    st.set_config("pipeline:mappings", auto.ConfigValue(json.dumps(mappings)))
    h.reset()
    up = st.up(**QUIET)
    assert up.summary.resource_changes == {"same": 5, "update": 2}
    assert up.outputs["mapping_version"].value == version + 1
    assert h.calls() == {route("PUT", DP, "/mappingSets/{set_id}"): 1, route("PATCH", FS, "/flows/{flow_id}"): 1}
    (flow,) = stored(h, "flow")
    assert flow["transformations"][0]["params"]["mappingVersion"] == version + 1
    healthy(st)


def test_disable_and_enable_are_one_action_each(deployed, h):
    st = deployed.stack
    st.set_config("pipeline:enabled", auto.ConfigValue("false"))
    try:
        h.reset()
        up = st.up(**QUIET)
        assert up.summary.resource_changes == {"same": 6, "update": 1}
        assert up.outputs["state"].value == "disabled"
        assert h.calls() == {route("POST", FS, "/flows/{flow_id}/action"): 1}
    finally:
        st.remove_config("pipeline:enabled")
        h.reset()
        assert st.up(**QUIET).outputs["state"].value == "enabled"
    assert h.calls() == {route("POST", FS, "/flows/{flow_id}/action"): 1}
    healthy(st)


def test_drift_is_seen_only_on_refresh_and_repaired_with_one_write_per_object(deployed, h):
    st = deployed.stack
    (source,) = stored(h, "sourceConnection")
    (flow,) = stored(h, "flow")
    h.fs_patch("sourceConnections", source["id"], [{"op": "replace", "path": "/description", "value": "edited"}])
    h.delete(f"{FS}/flows/{flow['id']}")
    st.preview(expect_no_changes=True, **QUIET)  # without refresh the engine cannot know
    pre = st.preview(refresh=True, **QUIET)
    assert pre.change_summary == {"same": 5, "update": 1, "create": 1}
    h.reset()
    up = st.up(refresh=True, **QUIET)
    assert up.summary.resource_changes == {"same": 5, "update": 1, "create": 1}
    assert up.outputs["flow_id"].value != flow["id"]
    # The refresh reads each object (the deleted flow's GET is a 404), then one PATCH puts the
    # description back and the flow is created again: POST and the GET of its inletUrl.
    assert h.calls() == {**ONE_READ_EACH, FLOW_GET: 2, route("PATCH", FS, "/sourceConnections/{conn_id}"): 1,
                         route("POST", FS, "/flows"): 1}
    healthy(st)


def test_a_source_definition_change_rebuilds_the_connection_and_its_flow(deployed, h):
    st = deployed.stack
    before = stored(h, "flow")[0]["id"]
    st.set_config("pipeline:sourceSpec", auto.ConfigValue(HTTP_STREAMING_SPEC))
    st.remove_config("pipeline:allowFlowReplace")
    h.reset()
    with pytest.raises(auto.CommandError, match=r"refused \(one-way door\): Dataflow"):
        st.preview(**QUIET)  # a new flow means a new webhook URL: not without the user's word
    assert h.calls() == {}
    st.set_config("pipeline:allowFlowReplace", auto.ConfigValue("true"))
    up = st.up(**QUIET)
    assert up.summary.resource_changes == {"replace": 2, "same": 5}
    assert up.outputs["flow_id"].value != before
    assert [s["connectionSpec"]["id"] for s in stored(h, "sourceConnection")] == [HTTP_STREAMING_SPEC]
    assert [f["id"] for f in stored(h, "flow")] == [up.outputs["flow_id"].value]
    st.remove_config("pipeline:allowFlowReplace")
    healthy(st)


def test_a_field_group_detached_out_of_band_is_reattached(deployed, h):
    st = deployed.stack
    (schema,) = stored(h, "schema")
    (group,) = stored(h, "fieldGroup")
    r = h.raw.patch(h.url(f"{SR}/tenant/schemas/{schema['meta:altId']}"),
                    json=[{"op": "replace", "path": "/allOf", "value": [{"$ref": schema["meta:class"]}]}])
    assert r.status_code == 200, r.text
    with pytest.raises(auto.CommandError):
        healthy(st)
    h.reset()
    up = st.up(refresh=True, **QUIET)
    assert up.summary.resource_changes == {"same": 6, "update": 1}
    # The detached group still holds the title: the POST is refused, the group is found by
    # title, no schema uses it, so it gets the declared fields and is attached again.
    assert h.calls() == {**ONE_READ_EACH, route("POST", SR, "/tenant/fieldgroups"): 1,
                         route("GET", SR, "/{container}/fieldgroups"): 1, route("GET", SR, "/{container}/schemas"): 1,
                         route("PUT", SR, "/tenant/fieldgroups/{fg_id:path}"): 1,
                         route("PATCH", SR, "/tenant/schemas/{schema_id:path}"): 1}
    assert [g["$id"] for g in stored(h, "fieldGroup")] == [group["$id"]]
    assert group["$id"] in stored(h, "schema")[0]["refs"]
    healthy(st)


def test_destroy_is_one_delete_per_object(h, tmp_path):
    sandbox = f"e2e-destroy-{uuid.uuid4().hex[:6]}"
    st = make_stack(h, tmp_path, "destroyed", sandbox)
    st.up(**QUIET)
    h.reset()
    assert st.destroy(**QUIET).summary.resource_changes == {"delete": 7}
    assert h.calls() == {route("DELETE", SR, "/tenant/schemas/{schema_id:path}"): 1,
                         route("DELETE", SR, "/tenant/fieldgroups/{fg_id:path}"): 1,
                         route("DELETE", CAT, "/dataSets/{dataset_id}"): 1,
                         route("DELETE", FS, "/sourceConnections/{conn_id}"): 1,
                         route("DELETE", FS, "/targetConnections/{conn_id}"): 1,
                         route("DELETE", DP, "/mappingSets/{set_id}"): 1,
                         route("DELETE", FS, "/flows/{flow_id}"): 1}
    for kind in KINDS:
        assert stored(h, kind, sandbox) == [], kind
    st.workspace.remove_stack("destroyed")


def test_preview_rejects_a_mapping_to_a_missing_field(h, tmp_path):
    bad = [{"source": "accountId", "destination": f"_{TENANT}.acountId"}]
    s = make_stack(h, tmp_path, "bad", "e2e-bad", mappings=json.dumps(bad))
    h.reset()
    with pytest.raises(auto.CommandError) as e:
        s.preview(**QUIET)
    text = str(e.value)
    assert "mappings[0].destination" in text and f"did you mean _{TENANT}.accountId?" in text
    assert h.calls(ims=True) == {}
    s.workspace.remove_stack("bad")
