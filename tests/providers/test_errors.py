"""Error paths end in messages that name the resource, the HTTP status, AEP's code and the next step."""

from __future__ import annotations

import uuid

import pytest

from emulator import config as dev
from providers import (
    BaseConnectionProvider,
    DataflowProvider,
    DatasetProvider,
    SourceConnectionProvider,
    XdmSchemaProvider,
)
from providers.base import ProviderError
from providers.client import AEPSettings, NotFound, get_client
from providers.models import PENDO_SPEC

from .support import FIELDS, FS, TENANT, Harness


def _source(h: Harness):
    p = h.provider(SourceConnectionProvider)
    news = h.check(p, {"connection_spec_id": PENDO_SPEC, "name": "pendo"})
    created = p.create(news)
    return p, news, created.id, created.outs


def test_412_means_changed_outside_pulumi(h):
    p, news, id_, outs = _source(h)
    h.fs_patch("sourceConnections", id_, [{"op": "replace", "path": "/description", "value": "edited"}])
    with pytest.raises(ProviderError) as e:
        p.update(id_, outs, {**news, "name": "renamed"})  # outs still hold the old etag
    msg = str(e.value)
    assert f"SourceConnection 'pendo' ({id_}) was changed outside Pulumi: run `pulumi refresh`" in msg
    assert "HTTP 412 FLOW-1404-412" in msg and "request id" in msg


def test_update_of_a_deleted_object_says_refresh(h):
    p, news, id_, outs = _source(h)
    h.delete(f"{FS}/sourceConnections/{id_}")
    with pytest.raises(ProviderError) as e:
        p.update(id_, outs, {**news, "name": "renamed"})
    msg = str(e.value)
    assert f"SourceConnection 'pendo' ({id_}) no longer exists in AEP" in msg
    assert "HTTP 404 FLOW-1439-404" in msg and "run `pulumi refresh`" in msg


def test_400_with_flow_code_names_the_fix(h):
    p = h.provider(DataflowProvider)
    news = h.check(p, {"name": "flow", "source_connection_id": h.source()[0],
                       "target_connection_id": h.target()[0], "mapping_id": h.mapping()[0], "mapping_version": 7})
    with pytest.raises(ProviderError) as e:
        p.create(news)
    msg = str(e.value)
    assert msg.startswith("Dataflow 'flow': create failed: HTTP 400 FLOW-1412-400: ")
    assert "POST /data/foundation/flowservice/flows" in msg
    assert "Next: AEP rejected the request: fix the inputs it names" in msg


def test_400_with_xdm_code_on_a_duplicate_title(h):
    h.create(XdmSchemaProvider, title="Pendo events", tenant_id=TENANT, fields=FIELDS)
    p = h.provider(XdmSchemaProvider)
    with pytest.raises(ProviderError) as e:
        p.create(h.check(p, {"title": "Pendo events", "tenant_id": TENANT, "fields": FIELDS}))
    assert "XdmSchema 'Pendo events': create failed: HTTP 400 XDM-3005-400: Title must be unique" in str(e.value)


def test_400_from_catalog(h):
    p = h.provider(DatasetProvider)
    missing = f"https://ns.adobe.com/{TENANT}/schemas/{uuid.uuid4().hex}"
    with pytest.raises(ProviderError) as e:
        p.create(h.check(p, {"name": "ds", "schema_id": missing}))
    assert "Dataset 'ds': create failed: HTTP 400 CAT-1003-400" in str(e.value)


def test_base_connection_in_use_names_the_flows(h):
    base_id, base_outs = h.base_connection()
    # AEP's streaming specs refuse a base connection on their source connections, so the "in use"
    # precondition (a flow reading through this account) is planted directly in the emulator's store.
    sid, fid = str(uuid.uuid4()), str(uuid.uuid4())
    scope = f"org={dev.DEV_ORG_ID}&sandbox={h.sandbox}"
    h.emu.admin("PUT", f"objects/sourceConnection/{sid}?{scope}", json={"id": sid, "baseConnectionId": base_id})
    h.emu.admin("PUT", f"objects/flow/{fid}?{scope}", json={
        "id": fid, "name": "pendo flow", "sourceConnectionIds": [sid], "state": "enabled", "etag": '"1"',
        "inheritedAttributes": {"sourceConnections": [{"id": sid, "baseConnection": {"id": base_id}}]}})
    p = h.provider(BaseConnectionProvider)
    with pytest.raises(ProviderError) as e:
        p.delete(base_id, base_outs)
    msg = str(e.value)
    assert f"cannot be deleted: it is still used by 'pendo flow' ({fid}) (HTTP 400 FLOW-1418-400)" in msg
    assert "delete those dataflows first" in msg


def test_wrong_credentials(h):
    h.config["aep:clientSecret"] = "not-the-secret"
    p = h.provider(SourceConnectionProvider)
    with pytest.raises(ProviderError) as e:
        p.create(h.check(p, {"connection_spec_id": PENDO_SPEC}))
    msg = str(e.value)
    assert "HTTP 401 invalid_client" in msg and "AEP_CLIENT_SECRET" in msg
    assert "not-the-secret" not in msg


def test_missing_credentials_name_every_setting(monkeypatch):
    for var in ("AEP_CLIENT_ID", "AEP_CLIENT_SECRET", "AEP_ORG_ID"):
        monkeypatch.delenv(var, raising=False)
    p = SourceConnectionProvider()
    with pytest.raises(ProviderError) as e:
        p.read("x", {"sandbox": "dev", "name": "n"})
    msg = str(e.value)
    for name in ("AEP_CLIENT_ID", "aep:clientId", "AEP_CLIENT_SECRET", "aep:clientSecret", "AEP_ORG_ID"):
        assert name in msg


def test_typed_error_carries_status_code_and_request_id(h):
    api = get_client(AEPSettings.load(h.config, env={}))
    with pytest.raises(NotFound) as e:
        api.get_source_connection(h.sandbox, str(uuid.uuid4()))
    err = e.value
    assert (err.status, err.code) == (404, "FLOW-1439-404")
    assert err.request_id and err.request_id in str(err)
    assert err.method == "GET" and err.path.startswith(f"{FS}/sourceConnections/")


def test_the_provider_server_still_formats_errors_through_the_module_we_replace():
    """base._quiet_provider_errors swaps the `traceback` global of Pulumi's dynamic-provider
    server; if the SDK stops formatting failures with it, provider errors would regain their
    Python frames silently: fail here instead."""
    import importlib.util
    import pathlib

    from providers.base import ProviderError, _MessageOnlyTraceback

    # Read, not imported: the server module starts serving on import.
    source = pathlib.Path(importlib.util.find_spec("pulumi.dynamic.__main__").origin).read_text()
    assert "\nimport traceback\n" in source, "pulumi.dynamic's server no longer imports traceback"
    assert "context.abort(grpc.StatusCode.UNKNOWN, traceback.format_exc())" in source
    try:
        raise ProviderError("Dataset 'x' (id): read failed: HTTP 401 invalid_client. Next: check ...")
    except ProviderError:
        assert _MessageOnlyTraceback().format_exc() == "Dataset 'x' (id): read failed: HTTP 401 invalid_client. Next: check ..."
    try:
        raise KeyError("a bug")
    except KeyError:
        assert _MessageOnlyTraceback().format_exc().startswith("Traceback (most recent call last):")
