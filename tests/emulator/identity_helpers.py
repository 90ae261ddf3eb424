"""Helpers for the Identity Service, descriptor and Profile tests: namespaces, descriptors, Profile pipelines."""

from __future__ import annotations

from typing import Any

from .data_helpers import CAT, NS, SR, DataApi, quote

IDN = "/data/core/idnamespace/identities"
DESCRIPTORS = f"{SR}/tenant/descriptors"
ENTITIES = "/data/core/ups/access/entities"
XDM_LIST = "application/vnd.adobe.xdm+json"


def namespace(api: DataApi, code: str = "PENDOVISITOR", id_type: str = "Cross_device", **extra) -> dict[str, Any]:
    """Create a custom namespace; the namespace."""
    r = api.post(IDN, {"name": extra.pop("name", f"{code} namespace"), "code": code, "idType": id_type,
                       "description": "Pendo visitor ids", **extra})
    assert r.status_code == 200, r.text
    return r.json()


def descriptor_body(schema: dict[str, Any], prop: str = f"/{NS}/visitorid", ns: str = "PENDOVISITOR",
                    primary: bool = True, **extra) -> dict[str, Any]:
    return {"@type": "xdm:descriptorIdentity", "xdm:sourceSchema": schema["$id"], "xdm:sourceVersion": 1,
            "xdm:sourceProperty": prop, "xdm:namespace": ns, "xdm:property": "xdm:code", "xdm:isPrimary": primary,
            **extra}


def descriptor(api: DataApi, schema: dict[str, Any], **kw) -> dict[str, Any]:
    r = api.post(DESCRIPTORS, descriptor_body(schema, **kw))
    assert r.status_code == 201, r.text
    return r.json()


def enable_profile(api: DataApi, schema: dict[str, Any]) -> dict[str, Any]:
    r = api.patch(f"{SR}/tenant/schemas/{quote(schema['$id'])}",
                  [{"op": "add", "path": "/meta:immutableTags", "value": ["union"]}])
    assert r.status_code == 200, r.text
    return r.json()


def profile_dataset(api: DataApi, dataset_id: str) -> None:
    r = api.patch(f"{CAT}/dataSets/{dataset_id}",
                  {"tags": {"unifiedProfile": ["enabled:true"], "unifiedIdentity": ["enabled:true"]}})
    assert r.status_code == 200, r.text


def profile_pipeline(api: DataApi) -> dict[str, Any]:
    """A Pendo pipeline whose schema has a primary identity on visitorid (PENDOVISITOR), enabled for Profile."""
    p = api.pipeline()
    namespace(api)
    p["descriptor"] = descriptor(api, p["schema"])
    p["schema"] = enable_profile(api, p["schema"])
    profile_dataset(api, p["dataset"])
    return p
