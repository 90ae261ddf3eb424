"""Names of the stored object kinds, and the lookups one service makes into another's data.

Cross-service rules (a flow's mapping version must exist, the inlet applies a flow's
mapping to its target dataset) read each other's documents only through these
helpers, so each service's storage shape is defined in one place.
"""

from __future__ import annotations

from typing import Any

from .store import Store

# Global (org "" / sandbox ""):
TOKEN = "token"                    # id = access token: {clientId, org, expiresAt}
CONNECTION_SPEC = "connectionSpec"  # seeded, read-only
FLOW_SPEC = "flowSpec"              # seeded, read-only
INLET = "inlet"                    # id = inlet id: {org, sandbox, flowIds: [...]}

# Scoped to (org, sandbox):
BASE_CONNECTION = "connection"
SOURCE_CONNECTION = "sourceConnection"
TARGET_CONNECTION = "targetConnection"
FLOW = "flow"
RUN = "run"
MAPPING_SET = "mappingSet"         # {"id", "versions": [MappingSet, ...]}, index == version
SCHEMA = "schema"                  # id = meta:altId; the full schema document
FIELD_GROUP = "fieldGroup"         # id = meta:altId
DATASET = "dataset"                # id = 24-hex id; the Catalog object plus "id"
NAMESPACE = "identityNamespace"    # id = str(numeric id); custom identity namespaces only
DESCRIPTOR = "descriptor"          # id = @id (40 hex); Schema Registry descriptors

# Standard identity namespaces every sandbox sees (Identity Service seeds none in the store):
# (id, code, name, idType, description, createTime). Ids and codes are the ones Adobe documents
# (privacy/api/appendix.md, identity-service/api/list-namespaces.md); AAID (Adobe Analytics legacy
# id) is namespace 10.
STANDARD_NAMESPACES: tuple[tuple[int, str, str, str, str, int], ...] = (
    (0, "CORE", "CORE", "COOKIE", "CORE Namespace", 1441122419000),
    (4, "ECID", "ECID", "COOKIE", "ECID Namespace", 1495153678000),
    (6, "Email", "Email", "EMAIL", "Email Namespace", 1441122419000),
    (7, "Phone", "Phone", "PHONE", "Phone Namespace", 1441122419000),
    (8, "WAID", "Windows AID", "DEVICE", "Windows Advertising ID", 1441122419000),
    (9, "TNTID", "TNTID", "COOKIE", "Adobe Target ID", 1441122419000),
    (10, "AAID", "Adobe Analytics (Legacy ID)", "COOKIE", "Adobe Analytics legacy visitor ID", 1441122419000),
    (411, "AdCloud", "AdCloud", "COOKIE", "Adobe AdCloud - ID Syncing Partner", 1522783145000),
    (20914, "GAID", "Google Ad ID (GAID)", "DEVICE", "Google Advertising ID", 1441122419000),
    (20915, "IDFA", "Apple IDFA (ID for Advertisers)", "DEVICE", "Apple ID for Advertisers", 1441122419000),
)


def mapping_version(store: Store, org: str, sandbox: str, mapping_id: str, version: int | str | None
                    ) -> dict[str, Any] | None:
    """The MappingSet document of one version (latest when version is None), or None."""
    doc = store.get(MAPPING_SET, org, sandbox, mapping_id)
    if doc is None:
        return None
    versions = doc["versions"]
    if version is None:
        return versions[-1]
    try:
        v = int(version)
    except (TypeError, ValueError):
        return None
    return versions[v] if 0 <= v < len(versions) else None


def dataset(store: Store, org: str, sandbox: str, dataset_id: str) -> dict[str, Any] | None:
    return store.get(DATASET, org, sandbox, dataset_id)


def schema_by_id(store: Store, org: str, sandbox: str, schema_id: str) -> dict[str, Any] | None:
    """Find a tenant schema by `$id` URI or `meta:altId`."""
    doc = store.get(SCHEMA, org, sandbox, schema_id)
    if doc is not None:
        return doc
    for s in store.list(SCHEMA, org, sandbox):
        if s.get("$id") == schema_id:
            return s
    return None


def standard_namespaces() -> list[dict[str, Any]]:
    """The standard namespaces as Identity Service lists them (`custom: false`)."""
    return [{"updateTime": t, "code": code, "status": "ACTIVE", "description": desc, "id": nid, "createTime": t,
             "idType": id_type, "name": name, "custom": False}
            for nid, code, name, id_type, desc, t in STANDARD_NAMESPACES]


def namespaces(store: Store, org: str, sandbox: str) -> list[dict[str, Any]]:
    """Every namespace a sandbox sees: the standard ones, then its custom ones in creation order."""
    return standard_namespaces() + store.list(NAMESPACE, org, sandbox)


def namespace_by_code(store: Store, org: str, sandbox: str, code: str) -> dict[str, Any] | None:
    """A namespace by its code (the identity symbol), compared case-insensitively as AEP does."""
    want = str(code).lower()
    return next((n for n in namespaces(store, org, sandbox) if n["code"].lower() == want), None)


def descriptors_of(store: Store, org: str, sandbox: str, schema_uri: str) -> list[dict[str, Any]]:
    """The descriptors whose `xdm:sourceSchema` is this schema `$id`."""
    return [d for d in store.list(DESCRIPTOR, org, sandbox) if d.get("xdm:sourceSchema") == schema_uri]


def primary_identity(store: Store, org: str, sandbox: str, schema_uri: str) -> dict[str, Any] | None:
    """The schema's primary identity descriptor, or None."""
    return next((d for d in descriptors_of(store, org, sandbox, schema_uri)
                 if d.get("@type") == "xdm:descriptorIdentity" and d.get("xdm:isPrimary") is True), None)


def is_profile_schema(schema: dict[str, Any] | None) -> bool:
    """Whether a schema is enabled for Real-Time Customer Profile (its `union` immutable tag)."""
    tags = (schema or {}).get("meta:immutableTags")
    return isinstance(tags, list) and "union" in tags
