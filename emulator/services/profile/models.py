"""A minimal Profile view: the records of Profile-enabled datasets, stitched on their primary identity.

A dataset feeds Profile when its `unifiedProfile` tag holds `enabled:true` and its schema carries
the `union` tag. Each of its records belongs to the profile whose identity is the value at the
schema's primary identity field, in that descriptor's namespace. The merge is the emulator's:
records are deep-merged oldest first (a later value wins; objects merge), with no merge
policies, no identity graph beyond that one identity and no time-series ordering. It exists so
users and tests can see what a Profile pipeline stitched; AEP computes far more.
"""

from __future__ import annotations

import base64
import datetime as _dt
import hashlib
from typing import Any

from ... import kinds, xdm
from ...errors import AEPError, profile_error
from ...gateway import RequestContext
from ...store import Store

PROFILE_SCHEMA = "_xdm.context.profile"
SCHEMA_NAMES = ("_xdm.context.profile", "_xdm.context.account", "_xdm.context.opportunity")
MAX_RECORDS = 100_000  # read per dataset; the emulator's datasets are small


def bad(message: str) -> AEPError:
    """Profile Access's 400 (`ResponseErrorContext`)."""
    return profile_error(400, message)


def xid(namespace: str, value: str) -> str:
    """A stable, XID-like entity id for (namespace, value): base64url, as AEP's entity ids look."""
    digest = hashlib.sha256(f"{namespace.lower()}\0{value}".encode()).digest()[:20]
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def _merge(into: dict[str, Any], new: dict[str, Any]) -> None:
    for k, v in new.items():
        if isinstance(v, dict) and isinstance(into.get(k), dict):
            _merge(into[k], v)
        else:
            into[k] = v


def _value_at(record: dict[str, Any], path: str) -> Any:
    cur: Any = record
    for part in path.split("."):
        cur = cur.get(part) if isinstance(cur, dict) else None
    return cur


class Profile:
    """The Profile view over one Store."""

    def __init__(self, store: Store):
        self.store = store

    def _sources(self, ctx: RequestContext, namespace: str) -> list[tuple[str, str]]:
        """(dataset id, primary identity dot path) of each Profile dataset keyed on `namespace`."""
        out = []
        for ds in self.store.list(kinds.DATASET, ctx.org, ctx.sandbox):
            if "enabled:true" not in ((ds.get("tags") or {}).get("unifiedProfile") or []):
                continue
            schema_id = (ds.get("schemaRef") or {}).get("id")
            schema = xdm.get_schema(self.store, ctx.org, ctx.sandbox, schema_id) if schema_id else None
            if not kinds.is_profile_schema(schema):
                continue
            primary = kinds.primary_identity(self.store, ctx.org, ctx.sandbox, schema["$id"])
            if primary is None or not self._same_namespace(ctx, primary, namespace):
                continue
            out.append((ds["id"], ".".join(primary["xdm:sourceProperty"].strip("/").split("/"))))
        return out

    def _same_namespace(self, ctx: RequestContext, descriptor: dict[str, Any], namespace: str) -> bool:
        ns = str(descriptor["xdm:namespace"])
        if descriptor.get("xdm:property") == "xdm:id":
            found = next((n for n in kinds.namespaces(self.store, ctx.org, ctx.sandbox) if str(n["id"]) == ns), None)
            ns = found["code"] if found else ns
        return ns.lower() == namespace.lower()

    def entity(self, ctx: RequestContext, schema_name: str | None, entity_id: str | None,
               namespace: str | None) -> dict[str, Any]:
        """The merged profile of one identity, keyed by its entity id (GetEntityResponse)."""
        if schema_name not in SCHEMA_NAMES:
            raise bad(f"Query parameter 'schema.name' must be one of {list(SCHEMA_NAMES)}, got {schema_name!r}")
        if schema_name != PROFILE_SCHEMA:
            raise profile_error(422, f"schema.name {schema_name} is not emulated; use {PROFILE_SCHEMA}")
        if not entity_id:
            raise bad("Query parameter 'entityId' is required")
        if not namespace:
            raise bad("Query parameter 'entityIdNS' is required: the emulator looks profiles up by identity "
                      "value and namespace code, not by XID")
        merged: dict[str, Any] = {}
        sources: list[str] = []
        last = None
        for ds_id, path in self._sources(ctx, namespace):
            for record in self.store.records(ctx.org, ctx.sandbox, ds_id, limit=MAX_RECORDS):
                if _value_at(record, path) != entity_id:
                    continue
                _merge(merged, record)
                if ds_id not in sources:
                    sources.append(ds_id)
                stamp = record.get("timestamp")
                last = stamp if isinstance(stamp, str) and (last is None or stamp > last) else last
        if not sources:
            raise profile_error(404, f"No profile found for entityId {entity_id} in namespace {namespace}")
        code = (kinds.namespace_by_code(self.store, ctx.org, ctx.sandbox, namespace) or {}).get("code", namespace)
        identity = {"id": entity_id, "namespace": {"code": code}}
        merged["identities"] = [{**identity, "primary": True}]
        eid = xid(code, entity_id)
        return {eid: {"entityId": eid, "requestedIdentity": identity, "sources": sources, "entity": merged,
                      "lastModifiedAt": last or _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")}}
