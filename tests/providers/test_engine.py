"""The providers under the real Pulumi engine (Automation API): up, preview, refresh, drift, destroy.

One stack walks through a pipeline's life, step by step, against a private emulator that
knows a canary client secret; every step asserts the exact AEP calls it made.
"""

from __future__ import annotations

import base64
import json
import pathlib
import uuid

import pytest
from pulumi import automation as auto

from emulator.process import EmulatorProcess
from providers.models import HTTP_STREAMING_SPEC
from tests.support.engine import copy_project, stack

from .support import CAT, DP, FS, IMS, SR, TENANT, Harness, route

pytestmark = pytest.mark.engine

PROJECT = pathlib.Path(__file__).parent / "project"
ORG = "E2EORG000000000000000000@AdobeOrg"
CANARY = f"CANARY-{uuid.uuid4().hex}"
QUIET = {"on_output": lambda _line: None}
FLOW_GET = route("GET", FS, "/flows/{flow_id}")


@pytest.fixture(scope="module")
def emu(tmp_path_factory):
    e = EmulatorProcess(data_dir=str(tmp_path_factory.mktemp("e2e-emulator")),
                        extra_args=["--client", f"e2e-client:{CANARY}:{ORG}"])
    e.start()
    yield e
    e.stop()


@pytest.fixture(scope="module")
def h(emu) -> Harness:
    return Harness(emu, "e2e", clientId="e2e-client", clientSecret=CANARY, orgId=ORG)


def make_stack(h: Harness, tmp: pathlib.Path, name: str, sandbox: str, **pipeline) -> auto.Stack:
    work = copy_project(PROJECT, tmp / "project")
    config = {"aep:endpoint": h.emu.base_url, "aep:clientId": "e2e-client", "aep:orgId": ORG,
              "aep:clientSecret": auto.ConfigValue(CANARY, secret=True), "aep:sandbox": sandbox,
              "aep:tenantId": TENANT, "aep:retryBaseDelay": "0.01",
              **{f"pipeline:{k}": v for k, v in pipeline.items()}}
    return stack(work, name, tmp / "state", config=config)


@pytest.fixture(scope="module")
def st(h, tmp_path_factory):
    s = make_stack(h, tmp_path_factory.mktemp("e2e"), "e2e", h.sandbox)
    yield s
    s.destroy(**QUIET)
    s.workspace.remove_stack("e2e")


def stored(h: Harness, kind: str) -> list[dict]:
    return h.emu.admin("GET", f"objects/{kind}?org={ORG}&sandbox={h.sandbox}")


def test_up_creates_the_chain_with_no_redundant_call(st, h):
    h.reset()
    up = st.up(**QUIET)
    assert up.summary.resource_changes == {"create": 7}
    assert up.outputs["inlet_url"].value.startswith(h.emu.base_url + "/collection/")
    assert up.outputs["state"].value == "enabled"
    assert h.calls(ims=True) == {
        IMS: 1,  # one token for all six providers in the one provider process
        route("POST", SR, "/tenant/fieldgroups"): 1, route("POST", SR, "/tenant/schemas"): 1,
        route("POST", CAT, "/dataSets"): 1, route("POST", FS, "/sourceConnections"): 1,
        route("POST", FS, "/targetConnections"): 1, route("POST", DP, "/mappingSets"): 1,
        route("POST", FS, "/flows"): 1, FLOW_GET: 1}  # the one GET: for inletUrl


def test_state_holds_no_secret_and_providers_by_reference(st):
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


def test_nothing_to_do_means_no_call_at_all(st, h):
    h.reset()
    pre = st.preview(expect_no_changes=True, **QUIET)
    assert pre.change_summary == {"same": 7}
    up = st.up(expect_no_changes=True, **QUIET)
    assert up.summary.resource_changes == {"same": 7}
    assert h.calls(ims=True) == {}  # diff needs no network


def test_refresh_finds_no_drift_with_one_read_each(st, h):
    h.reset()
    st.refresh(expect_no_changes=True, **QUIET)
    st.preview(refresh=True, expect_no_changes=True, **QUIET)
    reads = {route("GET", SR, "/{container}/schemas/{schema_id:path}"): 2,  # xed-full: no field group GET
             route("GET", CAT, "/dataSets/{dataset_id}"): 2, route("GET", FS, "/sourceConnections/{conn_id}"): 2,
             route("GET", FS, "/targetConnections/{conn_id}"): 2, route("GET", DP, "/mappingSets/{set_id}"): 2,
             FLOW_GET: 2}
    assert h.calls() == reads


def test_a_mapping_change_is_a_new_version_rolled_out_in_place(st, h):
    mappings = [{"source": "accountId", "destination": f"_{TENANT}.accountId"},
                {"source": "properties.guideProperties.name", "destination": f"_{TENANT}.guide.name"}]
    st.set_config("pipeline:mappings", auto.ConfigValue(json.dumps(mappings)))
    h.reset()
    up = st.up(**QUIET)
    assert up.summary.resource_changes == {"same": 5, "update": 2}
    assert up.outputs["mapping_version"].value == 1
    assert h.calls() == {route("PUT", DP, "/mappingSets/{set_id}"): 1, route("PATCH", FS, "/flows/{flow_id}"): 1}
    (flow,) = stored(h, "flow")
    assert flow["transformations"][0]["params"]["mappingVersion"] == 1
    st.preview(refresh=True, expect_no_changes=True, **QUIET)


def test_disable_and_enable(st, h):
    st.set_config("pipeline:enabled", auto.ConfigValue("false"))
    h.reset()
    up = st.up(**QUIET)
    assert up.summary.resource_changes == {"same": 6, "update": 1}
    assert up.outputs["state"].value == "disabled"
    assert h.calls() == {route("POST", FS, "/flows/{flow_id}/action"): 1}
    st.remove_config("pipeline:enabled")
    assert st.up(**QUIET).outputs["state"].value == "enabled"


def test_out_of_band_change_is_drift_and_up_repairs_it(st, h):
    (source,) = stored(h, "sourceConnection")
    h.fs_patch("sourceConnections", source["id"], [{"op": "replace", "path": "/description", "value": "edited"}])
    st.preview(expect_no_changes=True, **QUIET)  # without refresh the engine cannot know
    with pytest.raises(auto.CommandError):
        st.preview(refresh=True, expect_no_changes=True, **QUIET)
    up = st.up(refresh=True, **QUIET)
    assert up.summary.resource_changes == {"same": 6, "update": 1}
    st.preview(refresh=True, expect_no_changes=True, **QUIET)


def test_out_of_band_deletion_is_recreated(st, h):
    (flow,) = stored(h, "flow")
    h.delete(f"{FS}/flows/{flow['id']}")
    pre = st.preview(refresh=True, **QUIET)
    assert pre.change_summary == {"create": 1, "same": 6}
    up = st.up(refresh=True, **QUIET)
    assert up.summary.resource_changes == {"create": 1, "same": 6}
    assert up.outputs["flow_id"].value != flow["id"]
    st.preview(refresh=True, expect_no_changes=True, **QUIET)


def test_a_source_definition_change_rebuilds_the_connection_and_its_flow(st, h):
    before = stored(h, "flow")[0]["id"]
    st.set_config("pipeline:sourceSpec", auto.ConfigValue(HTTP_STREAMING_SPEC))
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


def test_a_field_group_detached_out_of_band_is_reattached(st, h):
    (schema,) = stored(h, "schema")
    (group,) = stored(h, "fieldGroup")
    r = h.raw.patch(h.url(f"{SR}/tenant/schemas/{schema['meta:altId']}"),
                    json=[{"op": "replace", "path": "/allOf", "value": [{"$ref": schema["meta:class"]}]}])
    assert r.status_code == 200, r.text
    with pytest.raises(auto.CommandError):
        st.preview(refresh=True, expect_no_changes=True, **QUIET)
    h.reset()
    up = st.up(refresh=True, **QUIET)
    assert up.summary.resource_changes == {"same": 6, "update": 1}
    refresh = {route("GET", SR, "/{container}/schemas/{schema_id:path}"): 1,
               route("GET", CAT, "/dataSets/{dataset_id}"): 1, route("GET", FS, "/sourceConnections/{conn_id}"): 1,
               route("GET", FS, "/targetConnections/{conn_id}"): 1, route("GET", DP, "/mappingSets/{set_id}"): 1,
               FLOW_GET: 1}
    # The detached group still holds the title: the POST is refused, the group is found by
    # title, no schema uses it, so it gets the declared fields and is attached again.
    assert h.calls() == {**refresh, route("POST", SR, "/tenant/fieldgroups"): 1,
                         route("GET", SR, "/{container}/fieldgroups"): 1, route("GET", SR, "/{container}/schemas"): 1,
                         route("PUT", SR, "/tenant/fieldgroups/{fg_id:path}"): 1,
                         route("PATCH", SR, "/tenant/schemas/{schema_id:path}"): 1}
    assert [g["$id"] for g in stored(h, "fieldGroup")] == [group["$id"]]
    assert group["$id"] in stored(h, "schema")[0]["refs"]
    st.preview(refresh=True, expect_no_changes=True, **QUIET)


def test_destroy_removes_everything(st, h):
    st.destroy(**QUIET)
    for kind in ("schema", "fieldGroup", "dataset", "sourceConnection", "targetConnection", "mappingSet", "flow"):
        assert stored(h, kind) == [], kind


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
