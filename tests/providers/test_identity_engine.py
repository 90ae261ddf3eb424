"""IdentityNamespace and IdentityDescriptor under the real Pulumi engine (Automation API, file backend):
a schema, a custom namespace and the schema's primary identity in it, with the exact AEP calls of
each step. Destroy leaves the namespace, which AEP cannot delete, and says so."""

from __future__ import annotations

import base64
import json
import pathlib
import uuid

import pytest
from pulumi import automation as auto

from tests.support.engine import copy_project, stack

from .support import SR, TENANT, Harness, route

pytestmark = pytest.mark.engine

PROJECT = pathlib.Path(__file__).parent / "identity_project"
ORG = "IDENTITYORG0000000000000@AdobeOrg"
SECRET = f"identity-{uuid.uuid4().hex}"
QUIET = {"on_output": lambda _line: None}
ID = "/data/core/idnamespace"
NS_GET = route("GET", ID, "/identities/{namespace_id}")
SCHEMA_GET = route("GET", SR, "/{container}/schemas/{schema_id:path}")
DESCRIPTOR_GET = route("GET", SR, "/{container}/descriptors/{descriptor_id}")
ONE_READ_EACH = {SCHEMA_GET: 1, NS_GET: 1, DESCRIPTOR_GET: 1}


@pytest.fixture(scope="module")
def h(make_module_emulator) -> Harness:
    emu = make_module_emulator("--client", f"identity-client:{SECRET}:{ORG}", name="identity-emulator")
    return Harness(emu, f"identity-{uuid.uuid4().hex[:6]}", clientId="identity-client", clientSecret=SECRET, orgId=ORG)


def make_stack(h: Harness, tmp: pathlib.Path, code: str) -> auto.Stack:
    work = copy_project(PROJECT, tmp / "project")
    config = {"aep:endpoint": h.emu.base_url, "aep:clientId": "identity-client", "aep:orgId": ORG,
              "aep:clientSecret": auto.ConfigValue(SECRET, secret=True), "aep:sandbox": h.sandbox,
              "aep:tenantId": TENANT, "aep:retryBaseDelay": "0.01", "identity:code": code}
    return stack(work, "identity", tmp / "state", config=config)


def stored(h: Harness, kind: str) -> list[dict]:
    return h.emu.admin("GET", f"objects/{kind}?org={ORG}&sandbox={h.sandbox}")


def test_deploy_refresh_drift_and_destroy(h, tmp_path):
    code = "PENDOVISITOR"
    st = make_stack(h, tmp_path, code)
    h.reset()
    up = st.up(**QUIET)
    assert up.summary.resource_changes == {"create": 4}
    assert h.calls() == {route("POST", SR, "/tenant/fieldgroups"): 1, route("POST", SR, "/tenant/schemas"): 1,
                         route("POST", ID, "/identities"): 1,
                         route("GET", SR, "/{container}/descriptors"): 1,  # is the field described already?
                         route("POST", SR, "/tenant/descriptors"): 1}
    (ns,) = stored(h, "identityNamespace")
    (desc,) = stored(h, "descriptor")
    assert up.outputs["namespace_id"].value == str(ns["id"]) and up.outputs["code"].value == code
    assert up.outputs["descriptor_id"].value == desc["@id"]
    assert (desc["xdm:namespace"], desc["xdm:isPrimary"], desc["xdm:sourceProperty"]) == (
        code, True, f"/_{TENANT}/visitorId")

    # The providers are pickled by reference: module and class name, nothing else.
    backend = pathlib.Path(st.workspace.env_vars["PULUMI_BACKEND_URL"].removeprefix("file://"))
    (state_file,) = [f for f in backend.rglob("identity.json") if "stacks" in f.parts]
    resources = json.loads(state_file.read_text())["checkpoint"]["latest"]["resources"]
    blobs = {r["type"]: base64.b64decode(r["outputs"]["__provider"]) for r in resources
             if r["type"].startswith("pulumi-python:dynamic/aep:Identity")}
    assert set(blobs) == {"pulumi-python:dynamic/aep:IdentityNamespace", "pulumi-python:dynamic/aep:IdentityDescriptor"}
    for blob in blobs.values():
        assert len(blob) < 200 and b"_create_code" not in blob and b"providers.identity_" in blob

    # Nothing to do costs nothing; a refresh is one GET per object.
    h.reset()
    assert st.preview(expect_no_changes=True, **QUIET).change_summary == {"same": 4}
    assert h.calls(ims=True) == {}
    st.refresh(expect_no_changes=True, **QUIET)
    assert h.calls() == ONE_READ_EACH

    # A name edited out of band shows as an update on refresh, and one PUT puts it back.
    r = h.raw.put(h.url(f"{ID}/identities/{ns['id']}"),
                  json={"name": "Renamed", "code": code, "idType": "Cross_device", "description": ns["description"]})
    assert r.status_code == 200, r.text
    st.preview(expect_no_changes=True, **QUIET)  # without a refresh the engine cannot know
    assert st.preview(refresh=True, **QUIET).change_summary == {"same": 3, "update": 1}
    h.reset()
    assert st.up(refresh=True, **QUIET).summary.resource_changes == {"same": 3, "update": 1}
    assert h.calls() == {**ONE_READ_EACH, route("PUT", ID, "/identities/{namespace_id}"): 1}
    assert stored(h, "identityNamespace")[0]["name"] == code
    st.preview(refresh=True, expect_no_changes=True, **QUIET)

    # Destroy deletes the descriptor and the schema; AEP cannot delete a namespace: it stays, with a warning.
    lines: list[str] = []
    h.reset()
    assert st.destroy(on_output=lines.append).summary.resource_changes == {"delete": 4}
    assert h.calls() == {route("DELETE", SR, "/tenant/descriptors/{descriptor_id}"): 1,
                         route("DELETE", SR, "/tenant/schemas/{schema_id:path}"): 1,
                         route("DELETE", SR, "/tenant/fieldgroups/{fg_id:path}"): 1}
    assert stored(h, "descriptor") == [] and stored(h, "schema") == []
    assert [n["code"] for n in stored(h, "identityNamespace")] == [code]
    output = "".join(lines)
    assert f"IdentityNamespace {code!r}" in output and "stays in sandbox" in output, output
    st.workspace.remove_stack("identity")
