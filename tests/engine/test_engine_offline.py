"""The real Pulumi engine, offline: up, preview (no changes), update, destroy of a tiny dynamic resource."""

import base64
import json

import pytest
from pulumi import automation as auto

from tests.support.engine import copy_project, stack

pytestmark = pytest.mark.engine

PROJECT = __import__("pathlib").Path(__file__).parent / "project"


def test_up_preview_update_destroy(tmp_path):
    work = copy_project(PROJECT, tmp_path / "project")
    st = stack(work, "selftest", tmp_path / "state", config={"text": "hello"})

    up = st.up(on_output=lambda _l: None)
    assert up.summary.result == "succeeded"
    assert up.outputs["text"].value == "hello"
    assert up.summary.resource_changes == {"create": 2}

    # Nothing changed: the engine must plan no operations (this raises on any change).
    pre = st.preview(expect_no_changes=True, on_output=lambda _l: None)
    assert pre.change_summary == {"same": 2}

    st.set_config("text", auto.ConfigValue("world"))
    up2 = st.up(on_output=lambda _l: None)
    assert up2.summary.resource_changes == {"same": 1, "update": 1}
    assert up2.outputs["text"].value == "world"

    # The provider is stored by reference: a tiny pickle naming the module and class, no code.
    deployment = st.export_stack().deployment
    note = next(r for r in deployment["resources"] if r["type"].startswith("pulumi-python:dynamic"))
    blob = base64.b64decode(note["outputs"]["__provider"])
    assert len(blob) < 200, f"provider pickle is {len(blob)} bytes: is the class defined in __main__.py?"
    assert b"tinyprov" in blob and b"NoteProvider" in blob
    assert b"_create_code" not in blob and b"_create_type" not in blob

    destroy = st.destroy(on_output=lambda _l: None)
    assert destroy.summary.result == "succeeded"
    assert json.dumps(st.export_stack().deployment.get("resources") or []) == "[]"
    st.workspace.remove_stack("selftest")
