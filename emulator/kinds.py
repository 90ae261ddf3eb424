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
