"""The Identity Service, descriptor, Profile and ingest rules called directly, with no HTTP."""

from __future__ import annotations

import pytest

from emulator import ingest, kinds
from emulator.errors import AEPError
from emulator.gateway import RequestContext
from emulator.services.catalog import Catalog
from emulator.services.identity import IdentityService
from emulator.services.profile import Profile
from emulator.services.schemaregistry import Descriptors, SchemaRegistry

from .data_helpers import NS, pendo_field_group_body, pendo_schema_body

CTX = RequestContext(org="ORG@AdobeOrg", sandbox="dev", client_id="client")


def _code(err: pytest.ExceptionInfo[AEPError]) -> str:
    return err.value.body["type"].rsplit("/", 1)[1]


def _schema(store) -> dict:
    sr = SchemaRegistry(store)
    fg = sr.create(CTX, "fieldgroups", pendo_field_group_body())
    return sr.create(CTX, "schemas", pendo_schema_body(fg["$id"]))


def _identity(schema: dict, **extra) -> dict:
    return {"@type": "xdm:descriptorIdentity", "xdm:sourceSchema": schema["$id"], "xdm:sourceVersion": 1,
            "xdm:sourceProperty": f"/{NS}/visitorid", "xdm:namespace": "PENDOVISITOR", "xdm:isPrimary": True, **extra}


def test_identity_service_ids_conflicts_and_immutable_code(store):
    ids = IdentityService(store)
    a = ids.create(CTX, {"name": "Pendo", "code": "PENDOVISITOR", "idType": "cross_device"})
    b = ids.create(CTX, {"name": "Loyalty", "code": "Loyalty", "idType": "EMAIL"})
    assert (a["id"], b["id"]) == (10_000_000, 10_000_001) and (a["idType"], b["idType"]) == ("Cross_device", "Email")
    with pytest.raises(AEPError) as err:
        ids.create(CTX, {"name": "x", "code": "loyalty", "idType": "Email"})
    assert err.value.status == 409 and err.value.body["report"]["code"] == "INTEGRATION_CODE_EXISTS"
    with pytest.raises(AEPError) as err:
        ids.update(CTX, str(a["id"]), {"name": "Pendo", "code": "PENDOVISITOR", "idType": "Cookie"})
    assert err.value.status == 400
    assert store.count(kinds.NAMESPACE) == {kinds.NAMESPACE: 2}


def test_second_primary_identity_and_the_profile_one_way_doors(store):
    IdentityService(store).create(CTX, {"name": "Pendo", "code": "PENDOVISITOR", "idType": "Cross_device"})
    sr, ds = SchemaRegistry(store), Descriptors(store)
    schema = _schema(store)
    union = [{"op": "add", "path": "/meta:immutableTags", "value": ["union"]}]
    with pytest.raises(AEPError) as err:
        sr.patch(CTX, "schemas", schema["meta:altId"], union)
    assert _code(err) == "XDM-1041-400"
    d = ds.create(CTX, _identity(schema))
    with pytest.raises(AEPError) as err:
        ds.create(CTX, _identity(schema, **{"xdm:sourceProperty": f"/{NS}/accountid", "xdm:namespace": "Email"}))
    assert _code(err) == "XDM-1033-400"
    enabled = sr.patch(CTX, "schemas", schema["meta:altId"], union)
    assert kinds.is_profile_schema(enabled)
    with pytest.raises(AEPError) as err:
        sr.delete(CTX, "schemas", schema["meta:altId"])
    assert _code(err) == "XDM-1042-400"
    with pytest.raises(AEPError) as err:
        ds.delete(CTX, d["@id"])
    assert _code(err) == "XDM-1034-400"
    # A refused write leaves the store as it was.
    with pytest.raises(AEPError):
        sr.patch(CTX, "schemas", schema["meta:altId"], [{"op": "remove", "path": "/allOf/1"}])
    assert sr.get(CTX, "tenant", "schemas", schema["meta:altId"]) == enabled


def test_ingest_fails_a_record_without_its_primary_identity_and_profile_stitches_the_rest(store):
    IdentityService(store).create(CTX, {"name": "Pendo", "code": "PENDOVISITOR", "idType": "Cross_device"})
    schema = _schema(store)
    Descriptors(store).create(CTX, _identity(schema))
    SchemaRegistry(store).patch(CTX, "schemas", schema["meta:altId"],
                                [{"op": "add", "path": "/meta:immutableTags", "value": ["union"]}])
    dataset = Catalog(store).create(CTX, {"name": "events", "schemaRef": {"id": schema["$id"]},
                                          "tags": {"unifiedProfile": ["enabled:true"]}})
    target = ingest.Target(org=CTX.org, sandbox=CTX.sandbox, flow={"id": "f"}, dataset_id=dataset["id"],
                           index=None, primary=(f"{NS}.visitorid", f"/{NS}/visitorid", "PENDOVISITOR"))
    ok = ingest.process(target, {NS: {"visitorid": "v-1", "uniqueid": "u"}}, 0)
    missing = ingest.process(target, {NS: {"uniqueid": "u"}}, 0)
    assert ok.record is not None and missing.record is None and missing.code == ingest.IDENTITY_MISSING
    store.append_record_texts(CTX.org, CTX.sandbox, dataset["id"], ['{"%s": {"visitorid": "v-1", "a": 1}}' % NS])
    [entity] = Profile(store).entity(CTX, "_xdm.context.profile", "v-1", "PENDOVISITOR").values()
    assert entity["entity"][NS] == {"visitorid": "v-1", "a": 1} and entity["sources"] == [dataset["id"]]
