"""Reading a plan (pipelines/drift.py): the changes, their element-by-element diffs, the outcome."""

from __future__ import annotations

from pulumi.runtime.rpc import UNKNOWN

from pipelines import drift
from providers.base import ONE_WAY_DOOR

T = "_extconndev"


def _step(op, name, kind, old=None, new=None):
    urn = f"urn:pulumi:prod::aep-pipelines::aep-pipelines:index:PendoPipeline$pulumi-python:dynamic/aep:{kind}::{name}"
    return {"op": op, "urn": urn, "oldState": {"inputs": old} if old is not None else None,
            "newState": {"inputs": new} if new is not None else None}


def _why(kind, name, old, new):
    [change] = drift.changes({"steps": [_step("update", name, kind, old=old, new=new)]})
    return drift.why(change)


def test_a_mapping_change_reads_mapping_by_mapping():
    old = [{"source": "visitorId", "destination": f"{T}.visitorId", "source_type": "ATTRIBUTE"},
           {"source": "properties.guideProperties.name", "destination": f"{T}.guideName", "source_type": "ATTRIBUTE"},
           {"source": "accountId", "destination": f"{T}.accountId", "source_type": "ATTRIBUTE"}]
    new = [{"source": "visitorId", "destination": f"{T}.visitorId", "source_type": "ATTRIBUTE", "identity": True},
           {"source": "properties.guideProperties.id", "destination": f"{T}.guideId", "source_type": "ATTRIBUTE"},
           {"source": "account.id", "destination": f"{T}.accountId", "source_type": "ATTRIBUTE"}]
    assert _why("MappingSet", "pendo-mapping", {"mappings": old}, {"mappings": new}) == [
        "mappings:",
        f"  - properties.guideProperties.name -> {T}.guideName",
        f"  + properties.guideProperties.id -> {T}.guideId",
        f"  ~ visitorId -> {T}.visitorId (identity: null -> true)",
        f"  ~ accountId => account.id -> {T}.accountId",
    ]


def test_a_schema_field_change_reads_field_by_field_and_attribute_by_attribute():
    old = {"guideName": {"type": "string", "title": "Pendo guide name"}, "visitorId": {"type": "string"},
           "page": {"type": "object", "properties": {"url": {"type": "string"}}}}
    new = {"guideName": {"type": "string", "title": "Guide name"}, "guideId": {"type": "string", "title": "Guide ID"},
           "page": {"type": "object", "properties": {"url": {"type": "string", "title": "URL"},
                                                     "path": {"type": "string"}}}}
    assert _why("XdmSchema", "pendo-schema", {"fields": old}, {"fields": new}) == [
        "fields:",
        "  - visitorId (string)",
        "  + guideId (string, 'Guide ID')",
        "  ~ guideName: title 'Pendo guide name' -> 'Guide name'",
        "  + page.path (string)",
        "  ~ page.url: title null -> 'URL'",
    ]


def test_a_dataset_tag_change_reads_tag_by_tag():
    old = {"team": ["data"], "env": ["dev"], "legacy": ["yes"]}
    new = {"team": ["data", "growth"], "env": ["dev"], "owner": ["ana"]}
    assert _why("Dataset", "pendo-dataset", {"tags": old}, {"tags": new}) == [
        "tags:",
        '  - legacy: ["yes"]',
        '  + owner: ["ana"]',
        '  ~ team: ["data"] -> ["data", "growth"]',
    ]


def test_long_values_are_shown_whole():
    long = "x" * 300
    lines = _why("Dataflow", "pendo-flow", {"description": "a"}, {"description": long})
    assert lines == [f"description: 'a' -> '{long}'"]


def test_a_replacement_names_its_cause_and_a_recreated_object_says_it_was_gone():
    report = {"steps": [
        _step("refresh", "pendo-target", "TargetConnection", old={"name": "t"}),
        _step("create", "pendo-target", "TargetConnection", new={"name": "t"}),
        _step("create-replacement", "pendo-flow", "Dataflow", old={"name": "renamed", "target_connection_id": "a"},
              new={"name": "Flow", "target_connection_id": UNKNOWN}),
        _step("replace", "pendo-flow", "Dataflow", old={"name": "renamed", "target_connection_id": "a"},
              new={"name": "Flow", "target_connection_id": UNKNOWN}),
        _step("delete-replaced", "pendo-flow", "Dataflow", old={"name": "renamed"}),
        _step("same", "pendo-schema", "XdmSchema", old={}, new={}),
    ]}
    result = drift.outcome(report, 1, "error: no changes were expected for preview but changes were proposed")
    assert result.kind == drift.DRIFT and result.exit_code == 2
    text = drift.summary("prod", result)
    assert text.splitlines()[:6] == [
        "DRIFT in stack 'prod': 2 resource(s) differ from the code.",
        "   + create   TargetConnection pendo-target",
        "       missing in AEP (deleted outside Pulumi): it will be created again",
        "  +- replace  Dataflow pendo-flow",
        "       name: 'renamed' -> 'Flow'",
        "       target_connection_id: follows a replaced or recreated dependency",
    ]
    assert "| replace | Dataflow | `pendo-flow` |" in drift.markdown("prod", result)


def _failed_report(message: str) -> dict:
    urn = "urn:pulumi:dev::aep-pipelines::aep-pipelines:index:PendoPipeline$pulumi-python:dynamic/aep:Dataset::pendo-dataset"
    return {"steps": [{"op": "refresh", "urn": urn}], "diagnostics": [
        {"urn": urn, "message": f"error: Preview failed: {message}", "severity": "error"},
        {"message": "error: preview failed\n", "severity": "error"}]}


def test_a_check_that_could_not_run_is_a_failure_with_its_cause_never_no_drift():
    cause = ("Dataset 'Pendo events' (abc): read failed: HTTP 401 invalid_client: IMS refused the client-credentials "
             "grant")
    result = drift.outcome(_failed_report(cause), 1, "error: preview failed")
    assert result.kind == drift.FAILED and result.exit_code == 1
    assert result.causes == [f"pendo-dataset: {cause}"]
    text = drift.summary("dev", result)
    assert text.startswith("Drift check failed:") and "invalid_client" in text and "HTTP 401" in text
    assert "No drift" not in text and "no drift" not in text.replace("nothing is known about drift", "")
    md = drift.markdown("dev", result)
    assert md.startswith("Drift check failed:") and "invalid_client" in md


def test_no_json_at_all_is_a_failure_too():
    result = drift.outcome(None, 255, "error: could not reach the backend\n")
    assert result.kind == drift.FAILED and result.causes == ["error: could not reach the backend"]


def test_a_refused_one_way_door_is_drift_that_up_would_refuse():
    msg = f"{ONE_WAY_DOOR}: Dataset 'Pendo events' (abc) would be replaced (schema_id would change): ..."
    result = drift.outcome(_failed_report(msg), 1, "")
    assert result.kind == drift.DRIFT and result.causes == [f"pendo-dataset: {msg}"]
    assert f"!  pendo-dataset: {ONE_WAY_DOOR}" in drift.summary("prod", result)


def test_clean():
    result = drift.outcome({"steps": [_step("same", "pendo-flow", "Dataflow", old={}, new={})]}, 0, "")
    assert result.kind == drift.CLEAN and result.exit_code == 0
    assert drift.summary("dev", result).startswith("No drift")
    assert drift.markdown("dev", result) == "No drift in stack `dev`.\n"
