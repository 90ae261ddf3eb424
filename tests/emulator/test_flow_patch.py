"""JSON Patch on the jsonpatch/jsonpointer libraries, through our error mapping and Flow Service's dialect."""

from __future__ import annotations

import pytest

from emulator.services import flow_patch
from emulator.services.flow_patch import PatchError

DOC = {"name": "n", "auth": {"params": {"clientSecret": "s3cr3t-value"}}, "list": [1, 2]}


def reason(ops, doc=DOC) -> str:
    with pytest.raises(PatchError) as err:
        flow_patch.apply_patch(doc, ops)
    assert "s3cr3t-value" not in err.value.message  # messages never echo the document
    return err.value.reason


def test_any_rfc6902_operation_applies_to_a_copy_with_op_names_in_any_case():
    out = flow_patch.apply_patch(DOC, [{"op": "ADD", "path": "/list/-", "value": 3},
                                       {"op": "Move", "from": "/name", "path": "/title"},
                                       {"op": "test", "path": "/title", "value": "n"}])
    assert out["list"] == [1, 2, 3] and out["title"] == "n" and "name" not in out
    assert DOC["list"] == [1, 2] and DOC["name"] == "n"  # the original is untouched


@pytest.mark.parametrize("ops, why", [
    ([{"op": "remove", "path": "/nope"}], "missing_path"),
    ([{"op": "replace", "path": "/auth/params/other", "value": 1}], "missing_path"),
    ([{"op": "add", "path": "/list/5", "value": 1}], "missing_path"),
    ([{"op": "replace", "path": "/list/-", "value": 1}], "missing_path"),
    ([{"op": "replace", "path": "/list/01", "value": 1}], "missing_path"),  # no leading zeros (RFC 6901)
    ([{"op": "remove", "path": "/name/0"}], "missing_path"),  # a string is not a container
    ([{"op": "add", "path": "no-slash", "value": 1}], "invalid"),
    ([{"op": "add", "path": "/x"}], "invalid"),
    ([{"op": "frobnicate", "path": "/x"}], "invalid"),
    ([{"op": "remove", "path": ""}], "invalid"),
    ([{"op": "test", "path": "/name", "value": "other"}], "invalid"),
])
def test_failures_map_onto_our_reasons(ops, why):
    assert reason(ops) == why


def test_a_failing_operation_leaves_nothing_half_applied():
    ops = [{"op": "replace", "path": "/name", "value": "changed"}, {"op": "remove", "path": "/nope"}]
    reason(ops)
    assert DOC["name"] == "n"


def test_flow_service_dialect_refuses_move_and_the_whole_document():
    with pytest.raises(PatchError) as err:
        flow_patch.normalise_ops([{"op": "copy", "from": "/name", "path": "/x"}])
    assert err.value.reason == "unsupported_op"
    ops = flow_patch.normalise_ops({"op": "Replace", "path": "", "value": {}})  # a single object is an op list
    assert ops == [{"op": "replace", "path": "", "value": {}}]
    with pytest.raises(PatchError, match="whole document"):
        flow_patch.apply(DOC, ops)


def test_merge_patch_merges_objects_and_null_deletes():
    assert flow_patch.merge_patch({"a": {"b": 1, "c": 2}, "d": 1}, {"a": {"b": None, "e": 3}, "d": [1]}) == \
        {"a": {"c": 2, "e": 3}, "d": [1]}
