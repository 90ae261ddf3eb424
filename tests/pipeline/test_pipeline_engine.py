"""The Pendo pipeline through the real engine (Automation API) against a real emulator process.

The tests of a deployed pipeline share one stack (`deployed`, module scope, deployed by the
fixture itself): each starts from the healthy pipeline and leaves it healthy, so one `up`
serves them all and any one of them runs on its own (`pytest path::test`).
"""

from __future__ import annotations

import time

import pytest
import requests
from pulumi import automation as auto

from emulator import config as dev

from .helpers import FS, Project, outputs, pendo_event, unique_sandbox

pytestmark = pytest.mark.engine

TENANT = f"_{dev.TENANT_ID}"
IDS = ("schemaId", "datasetId", "sourceConnectionId", "targetConnectionId", "mappingSetId", "flowId")
CUSTOM = {"pendo-schema", "pendo-dataset", "pendo-source", "pendo-target", "pendo-mapping", "pendo-flow"}


@pytest.fixture(scope="module")
def project(tmp_path_factory, emulator):
    return Project(tmp_path_factory.mktemp("pipeline"), emulator)


@pytest.fixture(scope="module")
def deployed(project):
    """Stack `a`: the repository's pipelines.yaml, deployed once, in a sandbox of its own."""
    sandbox = unique_sandbox("pipe-a")
    st = project.stack("a", sandbox, spec_file=project.write_spec("spec-a.yaml", project.default_spec()))
    started = time.monotonic()
    up, plan = project.up(st)
    info = {"stack": st, "sandbox": sandbox, "up": up, "plan": plan, "seconds": time.monotonic() - started,
            "outputs": outputs(up)}
    yield info
    st.destroy(**{"on_output": lambda _l: None})


def _post(url: str, event: dict, **kw) -> requests.Response:
    # What Pendo does: a bare JSON POST, no Platform headers.
    r = requests.post(url, json=event, timeout=10, **kw)
    assert r.status_code == 200, r.text
    return r


def test_fresh_up_creates_everything_and_an_event_lands_mapped(project, deployed):
    up, out, sandbox = deployed["up"], deployed["outputs"], deployed["sandbox"]
    assert up.summary.result == "succeeded"
    # Stack + component + the six AEP objects of the tutorial.
    assert up.summary.resource_changes == {"create": 8}
    assert set(deployed["plan"].ops) >= CUSTOM and all(ops == {"create"} for ops in deployed["plan"].ops.values())

    for key in (*IDS, "inletUrl", "webhookUrl", "mappingVersion", "sandbox"):
        assert out.get(key) not in (None, ""), f"output {key} is missing: {out}"
    assert out["sandbox"] == sandbox
    assert out["inletUrl"].startswith(project.emu.base_url + "/collection/")
    assert out["webhookUrl"] == f"{out['inletUrl']}?x-adobe-flow-id={out['flowId']}"
    assert out["pipelines"]["pendo"]["webhookUrl"] == out["webhookUrl"]
    assert project.managed_objects(sandbox) == {"schema": 1, "fieldGroup": 1, "dataset": 1, "sourceConnection": 1,
                                                "targetConnection": 1, "mappingSet": 1, "flow": 1}
    flow = project.flow(sandbox, out["flowId"])
    assert flow["name"] == "Streaming Dataflow for Pendo" and flow["state"] == "enabled"
    assert flow["options"]["inletUrl"] == out["inletUrl"]

    # The tutorial's last step: Pendo posts to the inlet; the record lands mapped.
    _post(out["inletUrl"], pendo_event(guide="Welcome tour"))
    _post(out["webhookUrl"], pendo_event(kind="pollDisplayed", guide="NPS survey"))
    records = project.records(sandbox, out["datasetId"])
    assert [r[TENANT]["guideName"] for r in records] == ["Welcome tour", "NPS survey"]
    first = records[0][TENANT]
    assert first["accountId"] == "acme-corp" and first["visitorId"] == "visitor-42" and first["uniqueId"]
    assert first["timestamp"] == "2026-01-01T00:00:00Z"  # Pendo's epoch ms, as an XDM date-time
    assert set(records[0]) == {TENANT, "_id", "timestamp"}


def test_preview_and_refresh_after_up_make_no_changes_and_no_writes(project, deployed):
    st = deployed["stack"]
    project.emu.reset_metrics()
    pre, plan = project.preview(st, expect_no_changes=True)
    plain = project.api_calls()
    assert plan.ops == {} and set(pre.change_summary) == {auto.events.OpType.SAME}
    # Preview never reads AEP: check/diff are offline.
    assert plain["reads"] == 0 and plain["writes"] == 0, plain

    project.emu.reset_metrics()
    pre, plan = project.preview(st, refresh=True, expect_no_changes=True)
    refreshed = project.api_calls()
    assert plan.ops == {}
    assert refreshed["writes"] == 0, refreshed
    # One GET per object (the schema's xed-full rendering carries its field group's fields);
    # one token for the provider process.
    assert refreshed["reads"] == 6 and refreshed["ims"] == 1, refreshed
    assert not any("/fieldgroups" in route for route in refreshed["requests"]), refreshed
    deployed["no_op_calls"] = {"preview": plain, "preview_refresh": refreshed}


def test_flow_renamed_out_of_band_is_an_update_of_the_flow_alone(project, deployed):
    st, sandbox, out = deployed["stack"], deployed["sandbox"], deployed["outputs"]
    s = project.session(sandbox)
    url = f"{project.emu.base_url}{FS}/flows/{out['flowId']}"
    etag = s.get(url).json()["items"][0]["etag"]
    r = s.patch(url, json=[{"op": "replace", "path": "/name", "value": "renamed in the AEP UI"}],
                headers={"If-Match": etag})
    assert r.status_code == 200, r.text

    _, plan = project.preview(st, refresh=True)
    assert plan.ops == {"pendo-flow": {"update"}}
    assert plan.diffs["pendo-flow"] == {"name"}
    with pytest.raises(auto.errors.CommandError, match="no changes were expected"):
        st.preview(refresh=True, expect_no_changes=True, on_output=lambda _l: None)

    up, plan = project.up(st, refresh=True)
    assert plan.ops == {"pendo-flow": {"update"}}
    assert project.flow(sandbox, out["flowId"])["name"] == "Streaming Dataflow for Pendo"
    assert outputs(up)["flowId"] == out["flowId"]
    project.preview(st, refresh=True, expect_no_changes=True)


def test_target_connection_deleted_out_of_band_is_recreated_and_the_flow_follows(project, deployed):
    st, sandbox, out = deployed["stack"], deployed["sandbox"], deployed["outputs"]
    r = project.session(sandbox).delete(f"{project.emu.base_url}{FS}/targetConnections/{out['targetConnectionId']}")
    assert r.status_code in (200, 204), r.text

    # A connection id is immutable on a flow, so a new target connection replaces the flow,
    # and the webhook URL changes with it: a one-way door, refused until the user allows it.
    project.emu.reset_metrics()
    with pytest.raises(auto.errors.CommandError) as refused:
        project.preview(st, refresh=True)
    assert "refused (one-way door): Dataflow 'Streaming Dataflow for Pendo'" in str(refused.value)
    assert f"the webhook URL changes from {out['webhookUrl']}" in str(refused.value)
    assert project.api_calls()["writes"] == 0

    st.workspace.env_vars["ALLOW_DATA_LOSS"] = "1"
    try:
        _, plan = project.preview(st, refresh=True)
        assert plan.ops == {"pendo-target": {"create"},
                            "pendo-flow": {"create-replacement", "replace", "delete-replaced"}}
        up, plan = project.up(st, refresh=True)
    finally:
        del st.workspace.env_vars["ALLOW_DATA_LOSS"]
    assert up.summary.resource_changes.get("create") == 1 and up.summary.resource_changes.get("replace") == 1
    healed = outputs(up)
    assert healed["targetConnectionId"] != out["targetConnectionId"]
    assert healed["flowId"] != out["flowId"]
    assert healed["webhookUrl"] == f"{healed['inletUrl']}?x-adobe-flow-id={healed['flowId']}"
    assert {k: healed[k] for k in ("schemaId", "datasetId", "sourceConnectionId", "mappingSetId")} == \
        {k: out[k] for k in ("schemaId", "datasetId", "sourceConnectionId", "mappingSetId")}
    assert project.get(sandbox, f"{FS}/flows/{out['flowId']}").status_code == 404  # the old flow is gone
    assert project.managed_objects(sandbox)["flow"] == 1
    assert project.managed_objects(sandbox)["targetConnection"] == 1
    before = len(project.records(sandbox, out["datasetId"]))
    _post(healed["webhookUrl"], pendo_event(guide="After the repair"))
    assert len(project.records(sandbox, out["datasetId"])) == before + 1
    project.preview(st, refresh=True, expect_no_changes=True)
    deployed["outputs"] = healed


def test_changing_one_mapping_is_a_new_version_and_a_patched_flow(project, deployed):
    st, sandbox, out = deployed["stack"], deployed["sandbox"], deployed["outputs"]
    spec = project.default_spec()
    guide = next(m for m in spec["pipelines"][0]["mappings"] if m["destination"].endswith(".guideName"))
    guide["source"] = "properties.guideProperties.id"
    project.write_spec("spec-a.yaml", spec)

    _, plan = project.preview(st)
    assert plan.ops == {"pendo-mapping": {"update"}, "pendo-flow": {"update"}}
    up, plan = project.up(st)
    assert plan.ops == {"pendo-mapping": {"update"}, "pendo-flow": {"update"}}
    assert set(up.summary.resource_changes) == {"same", "update"}
    new = outputs(up)
    assert new["mappingVersion"] == out["mappingVersion"] + 1
    assert {k: new[k] for k in IDS} == {k: out[k] for k in IDS}  # nothing replaced
    params = project.flow(sandbox, out["flowId"])["transformations"][0]["params"]
    assert params["mappingId"] == out["mappingSetId"] and int(params["mappingVersion"]) == new["mappingVersion"]

    _post(new["webhookUrl"], pendo_event(guide="Welcome tour"))
    assert project.records(sandbox, out["datasetId"])[-1][TENANT]["guideName"] == "guide-1"
    project.preview(st, refresh=True, expect_no_changes=True)
    deployed["outputs"] = new


def test_two_stacks_on_two_sandboxes_never_see_each_other(project, deployed):
    a_st, a_sb, a_out = deployed["stack"], deployed["sandbox"], deployed["outputs"]
    b_sb = unique_sandbox("pipe-b")
    # Stack b keeps its spec in structured stack config, with the same AEP names as stack a.
    b_st = project.stack("b", b_sb, extra={"aep-pipelines:pipelines[0].name": "pendo",
                                           "aep-pipelines:pipelines[0].flow.name": "Streaming Dataflow for Pendo"})
    try:
        up, _ = project.up(b_st)
        b_out = outputs(up)
        assert b_out["sandbox"] == b_sb and b_out["flowName"] == a_out["flowName"]
        assert not {b_out[k] for k in IDS} & {a_out[k] for k in IDS}

        for sandbox, mine, theirs in ((a_sb, a_out, b_out), (b_sb, b_out, a_out)):
            assert project.managed_objects(sandbox) == {"schema": 1, "fieldGroup": 1, "dataset": 1,
                                                        "sourceConnection": 1, "targetConnection": 1,
                                                        "mappingSet": 1, "flow": 1}
            assert [f["id"] for f in project.objects(sandbox, "flow")] == [mine["flowId"]]
            assert project.get(sandbox, f"{FS}/flows/{theirs['flowId']}").status_code == 404
            listed = project.get(sandbox, f"{FS}/flows").json()["items"]
            assert [f["id"] for f in listed] == [mine["flowId"]]

        a_records = len(project.records(a_sb, a_out["datasetId"]))
        _post(b_out["webhookUrl"], pendo_event(guide="Only in b"))
        assert [r[TENANT]["guideName"] for r in project.records(b_sb, b_out["datasetId"])] == ["Only in b"]
        assert len(project.records(a_sb, a_out["datasetId"])) == a_records

        project.preview(a_st, refresh=True, expect_no_changes=True)
        project.preview(b_st, refresh=True, expect_no_changes=True)
    finally:
        b_st.destroy(on_output=lambda _l: None)
    assert project.managed_objects(b_sb) == {}
    project.preview(a_st, refresh=True, expect_no_changes=True)  # a is untouched by b's destroy


def test_destroy_leaves_no_object_behind(tmp_path, fresh_emulator):
    # A private emulator, so GET /_emulator/objects covers every org and sandbox it has.
    project = Project(tmp_path, fresh_emulator)
    sandbox = unique_sandbox("pipe-d")
    st = project.stack("d", sandbox, spec_file="pipelines.yaml")
    before = fresh_emulator.objects()
    up, _ = project.up(st)
    _post(outputs(up)["webhookUrl"], pendo_event())
    assert fresh_emulator.objects()["flow"] == 1 and fresh_emulator.objects()["inlet"] == 1

    result = st.destroy(on_output=lambda _l: None)
    assert result.summary.resource_changes == {"delete": 8}
    after = fresh_emulator.objects()
    # The seeded connection/flow specs were there before; the run is the inlet's record of
    # the event we posted (ingestion history, which AEP also keeps), not a managed object.
    assert {k: v for k, v in after.items() if k != "run"} == before, after
    assert project.managed_objects(sandbox) == {}
    assert st.export_stack().deployment.get("resources") in (None, [])


@pytest.mark.parametrize("case", ["unknown-field", "destination-not-in-schema"])
def test_invalid_spec_fails_at_preview_naming_the_field_with_zero_writes(project, case):
    spec = project.default_spec()
    pipe = spec["pipelines"][0]
    if case == "unknown-field":
        pipe["flow"]["nmae"] = "typo"
        expected = ["pipelines[0].flow.nmae", "did you mean 'name'"]
    else:
        pipe["mappings"][4]["destination"] = "_{tenantId}.guideTitle"
        expected = ["pipelines[0].mappings[4].destination", "'_{tenantId}.guideTitle' is not a field of the target "
                    "schema", "_{tenantId}.guideName"]
    st = project.stack(f"bad-{case}", unique_sandbox("pipe-bad"), spec_file=project.write_spec(f"{case}.yaml", spec))
    project.emu.reset_metrics()
    with pytest.raises(auto.errors.CommandError) as err:
        st.preview(on_output=lambda _l: None)
    message = str(err.value)
    for text in expected:
        assert text in message, message
    assert "Traceback" not in message  # a clean message, not a stack trace
    calls = project.api_calls()
    assert calls["writes"] == 0 and calls["reads"] == 0 and calls["ims"] == 0, calls


def test_adopting_an_existing_pipeline_by_its_ids(project):
    """docs/adoption.md: a pipeline Pulumi did not create comes under management, nothing recreated."""
    sandbox = unique_sandbox("pipe-adopt")
    # The "hand-made" pipeline: deployed by another stack that is then forgotten, objects left in AEP.
    orig = project.stack("handmade", sandbox, spec_file="pipelines.yaml")
    made = outputs(project.up(orig)[0])
    orig.workspace.remove_stack("handmade", force=True)
    assert project.managed_objects(sandbox)["flow"] == 1

    spec = project.default_spec()
    pipe = spec["pipelines"][0]
    pipe["flow"]["name"] = "Pendo dataflow (managed)"  # adoption also brings declared changes in
    pipe["adopt"] = {"schema": made["schemaId"], "dataset": made["datasetId"], "source": made["sourceConnectionId"],
                     "target": made["targetConnectionId"], "mapping_set": made["mappingSetId"],
                     "flow": made["flowId"]}
    st = project.stack("adopter", sandbox, spec_file=project.write_spec("adopt.yaml", spec))
    project.emu.reset_metrics()
    up, _ = project.up(st)
    calls = project.api_calls()
    adopted = outputs(up)
    assert up.summary.resource_changes == {"create": 8}
    assert {k: adopted[k] for k in (*IDS, "webhookUrl")} == {k: made[k] for k in (*IDS, "webhookUrl")}
    assert project.managed_objects(sandbox) == {"schema": 1, "fieldGroup": 1, "dataset": 1, "sourceConnection": 1,
                                                "targetConnection": 1, "mappingSet": 1, "flow": 1}
    # Reads to adopt and one PATCH for the renamed flow, nothing else: the objects that already
    # match (the mapping set too, though AEP spells its sourceType "text/x.schema-path") get
    # no write, so the mapping keeps its version.
    writes = {k: v for k, v in calls["requests"].items() if not k.startswith("GET ")}
    assert writes == {"PATCH /data/foundation/flowservice/flows/{flow_id}": 1} and calls["writes"] == 1, calls
    assert adopted["mappingVersion"] == made["mappingVersion"]
    assert project.flow(sandbox, made["flowId"])["name"] == "Pendo dataflow (managed)"
    project.preview(st, refresh=True, expect_no_changes=True)
    st.destroy(on_output=lambda _l: None)
    assert project.managed_objects(sandbox) == {}


def test_a_generic_http_streaming_source_with_an_account(project):
    """StreamingPipeline beyond the Pendo preset: an HTTP API source on a base connection."""
    sandbox = unique_sandbox("pipe-http")
    spec = {"pipelines": [{"name": "events", "source": {
        "kind": "http-streaming",
        "account": {"auth_params": {"sourceId": "my-events", "dataType": "raw", "name": "events"}}}}]}
    st = project.stack("http", sandbox, spec_file=project.write_spec("http.yaml", spec))
    try:
        up, plan = project.up(st)
        out = outputs(up)
        assert up.summary.resource_changes == {"create": 9} and plan.ops["events-account"] == {"create"}
        source = project.get(sandbox, f"{FS}/sourceConnections/{out['sourceConnectionId']}").json()["items"][0]
        assert source["baseConnectionId"] == out["baseConnectionId"]
        _post(out["webhookUrl"], pendo_event(guide="Over HTTP"))
        assert [r[TENANT]["guideName"] for r in project.records(sandbox, out["datasetId"])] == ["Over HTTP"]
        project.preview(st, refresh=True, expect_no_changes=True)
    finally:
        st.destroy(on_output=lambda _l: None)
    assert project.managed_objects(sandbox) == {}
