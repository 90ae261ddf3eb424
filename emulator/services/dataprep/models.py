"""Data Prep's backend: mapping sets, their versions, validation and preview, without HTTP.

A mapping set is stored as `{"id", "versions": [...]}` (see kinds.MAPPING_SET): create makes
version 0, each update appends an immutable new version under the same id, and any version
stays readable, because flows pin the `mappingVersion` they were given. Mappings are accepted
in either dialect (the tutorial's sourceAttribute/destinationXdmPath or the spec's
sourceType/source/destination) and stored as the union of both. Methods take the caller's
RequestContext and raise AEPError in the shape Data Prep sends (DP-xxxx).
"""

from __future__ import annotations

from typing import Any

from ... import ingest, kinds, mapping, xdm
from ...errors import AEPError, service_error
from ...gateway import RequestContext
from ...store import Store
from .._common import hex_id, now_ms


def bad(message: str) -> AEPError:
    """Data Prep's 400 (DP-1001-400)."""
    return service_error(400, "DP-1001", message)


def not_found(message: str) -> AEPError:
    """Data Prep's 404 (DP-1404-404)."""
    return service_error(404, "DP-1404", message)


# -- normalisation --------------------------------------------------------------------


def _normalise_mapping(m: Any, i: int, ctx: RequestContext, now: int) -> dict[str, Any]:
    """One input mapping (either dialect) -> the stored union shape."""
    if not isinstance(m, dict):
        raise bad(f"mappings[{i}] must be an object")
    dest_a, dest_b = m.get("destinationXdmPath"), m.get("destination")
    src_a, src_b = m.get("sourceAttribute"), m.get("source")
    if dest_a is not None and dest_b is not None and dest_a != dest_b:
        raise bad(f"mappings[{i}]: 'destination' and 'destinationXdmPath' disagree")
    if src_a is not None and src_b is not None and src_a != src_b:
        raise bad(f"mappings[{i}]: 'source' and 'sourceAttribute' disagree")
    dest = dest_a if dest_a is not None else dest_b
    source = src_a if src_a is not None else src_b
    if not isinstance(dest, str) or not dest:
        raise bad(f"mappings[{i}] needs a 'destination' (or 'destinationXdmPath')")
    if not mapping.DESTINATION_PATH.match(dest):
        raise bad(f"mappings[{i}]: invalid destination path '{dest}'")
    if source is not None and not isinstance(source, str):
        raise bad(f"mappings[{i}]: 'source' must be a string")
    _check_mapping_types(m, i)
    raw_type = m.get("sourceType") or "ATTRIBUTE"
    if raw_type not in mapping.SOURCE_TYPES:
        raise bad(f"mappings[{i}]: sourceType must be one of ATTRIBUTE, EXPRESSION, STATIC (got '{raw_type}')")
    out = {
        "id": m.get("id") if isinstance(m.get("id"), str) and m.get("id") else hex_id(16),
        "version": m.get("version", 0) if isinstance(m.get("version"), int) else 0,
        "createdDate": now,
        "modifiedDate": now,
        "createdBy": ctx.user,
        "modifiedBy": ctx.user,
        "sourceType": mapping.SOURCE_TYPES[raw_type],
        "source": source if source is not None else "",
        "destination": dest,
        "identity": bool(m.get("identity", False)),
        "primaryIdentity": bool(m.get("primaryIdentity", False)),
        "matchScore": float(m.get("matchScore", 0.0)) if isinstance(m.get("matchScore"), (int, float)) else 0.0,
        "functionVersion": m.get("functionVersion", 1) if isinstance(m.get("functionVersion"), int) else 1,
        "sourceAttribute": source if source is not None else "",
        "destinationXdmPath": dest,
    }
    for extra in ("name", "description", "identityGroup", "namespaceCode", "expressionAttributes"):
        if extra in m:
            out[extra] = m[extra]
    return out


# The types of the MappingOperation fields a client sets (server fields such as id, version and
# the created/modified stamps are the server's: a sent value is ignored, whatever its type).
_MAPPING_TYPES: dict[str, tuple[type, ...]] = {
    "sourceType": (str,), "name": (str,), "description": (str,), "identity": (bool,), "primaryIdentity": (bool,),
    "functionVersion": (int,), "matchScore": (int, float), "expressionAttributes": (list,),
    "identityGroup": (str,), "namespaceCode": (str,),
}


def _check_types(obj: dict[str, Any], types_by_key: dict[str, tuple[type, ...]], where: str,
                 nullable: frozenset[str] = frozenset()) -> None:
    """Sent fields have their spec type; null only where it means "not sent" (`nullable`)."""
    for key, types in types_by_key.items():
        if key not in obj or (obj[key] is None and key in nullable):
            continue
        value = obj[key]
        if not isinstance(value, types) or (isinstance(value, bool) and bool not in types):
            raise bad(f"{where}{key} has the wrong type ({type(value).__name__})")


def _check_set_types(body: dict[str, Any]) -> None:
    """The client-set top-level fields of a mapping set (this project's provider sends name: null)."""
    _check_types(body, {"name": (str,), "description": (str,), "strictMapping": (bool,),
                        "allowNullValues": (bool,), "tags": (list,)}, "", nullable=frozenset({"name", "description"}))
    for tag in body.get("tags") or []:
        if not (isinstance(tag, dict) and isinstance(tag.get("name", ""), str)
                and isinstance(tag.get("values", []), list) and all(isinstance(v, str) for v in tag.get("values", []))):
            raise bad("'tags' must be an array of {name, values: [strings]}")


def _check_mapping_types(m: dict[str, Any], i: int) -> None:
    # A null source is an empty one (the destination stays unset), as the tutorial's "" is.
    _check_types(m, {**_MAPPING_TYPES, "source": (str,), "sourceAttribute": (str,)}, f"mappings[{i}].",
                 nullable=frozenset({"source", "sourceAttribute"}))
    attrs = m.get("expressionAttributes")
    if isinstance(attrs, list) and not all(isinstance(a, str) for a in attrs):
        raise bad(f"mappings[{i}].expressionAttributes must be an array of strings")


def _schema_ref(body: dict[str, Any]) -> dict[str, Any]:
    out = body.get("outputSchema")
    ref = out.get("schemaRef") if isinstance(out, dict) else None
    if not isinstance(ref, dict) or not isinstance(ref.get("id"), str) or not ref["id"]:
        raise bad("outputSchema.schemaRef.id is required")
    if ref.get("contentType") is not None and not isinstance(ref["contentType"], str):
        raise bad("outputSchema.schemaRef.contentType must be a string")
    return {"id": ref["id"], "contentType": ref.get("contentType") or "application/vnd.adobe.xed-full+json;version=1"}


def _check_destinations(ctx: RequestContext, store, schema_id: str, mappings: list[dict[str, Any]]) -> None:
    """Every destination must be a field of the output schema (when that schema exists in this sandbox)."""
    schema = xdm.get_schema(store, ctx.org, ctx.sandbox, schema_id)
    if schema is None:
        return
    paths = xdm.field_paths(schema, store, ctx.org, ctx.sandbox)
    missing = [m["destination"] for m in mappings if m["destination"] not in paths]
    if missing:
        raise bad(f"Destination path '{missing[0]}' does not exist in output schema {schema_id}"
                   + (f" (also: {', '.join(missing[1:])})" if len(missing) > 1 else ""))


def proposed(ctx: RequestContext, body: Any, now: int) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A mapping-set request body checked and normalised (stamped `now`): its output schema ref and mappings."""
    if not isinstance(body, dict):
        raise bad("The mapping set must be a JSON object")
    ref = _schema_ref(body)
    raw = body.get("mappings")
    if not isinstance(raw, list):
        raise bad("'mappings' must be an array")
    _check_set_types(body)
    return ref, [_normalise_mapping(m, i, ctx, now) for i, m in enumerate(raw)]


def summary(doc: dict[str, Any]) -> dict[str, Any]:
    """What create answers: the version's id, number and stamps."""
    return {k: doc[k] for k in ("id", "version", "createdDate", "modifiedDate", "createdBy", "modifiedBy")}


def _validation(ctx: RequestContext, store, schema_id: str, mappings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One ValidationResponse per mapping: destination exists, source syntax, no duplicate destinations."""
    schema = xdm.get_schema(store, ctx.org, ctx.sandbox, schema_id)
    paths = xdm.field_paths(schema, store, ctx.org, ctx.sandbox) if schema else None
    seen: set[str] = set()
    out = []
    for m in mappings:
        problems = []
        if schema is None:
            problems.append(f"Output schema {schema_id} does not exist in sandbox '{ctx.sandbox}'")
        elif m["destination"] not in paths:
            problems.append(f"Destination path '{m['destination']}' does not exist in output schema {schema_id}")
        if m["destination"] in seen:
            problems.append(f"Destination path '{m['destination']}' is mapped more than once")
        seen.add(m["destination"])
        if m["sourceType"] == mapping.SCHEMA_PATH:
            if not m["source"]:
                problems.append(f"Source attribute for '{m['destination']}' is empty")
            elif not mapping.SOURCE_PATH.match(m["source"]):
                problems.append(f"Source attribute '{m['source']}' is not a valid path")
        elif m["sourceType"] == mapping.EXPRESSION:
            try:
                mapping.evaluate(m["source"], {})
            except mapping.MappingError as exc:
                problems.append(str(exc))
        input_type = {v: k for k, v in mapping.SOURCE_TYPES.items() if k.isupper()}[m["sourceType"]]
        out.append({"status": "FAILED" if problems else "SUCCESS",
                    "errors": [{"destination": m["destination"], "source": m["source"], "sourceType": input_type,
                                "exception": p} for p in problems]})
    return out


class DataPrep:
    """The Data Prep backend over one Store."""

    def __init__(self, store: Store):
        self.store = store

    def _build_version(self, ctx: RequestContext, body: Any, previous: dict[str, Any] | None,
                       validate: bool) -> dict[str, Any]:
        now = now_ms()
        ref, mappings = proposed(ctx, body, now)
        _check_destinations(ctx, self.store, ref["id"], mappings)
        if validate:
            failures = [r for r in _validation(ctx, self.store, ref["id"], mappings) if r["status"] == "FAILED"]
            if failures:
                raise bad("Mapping set validation failed: " + "; ".join(
                    e["exception"] for r in failures for e in r["errors"]))
        first = previous["versions"][0] if previous else {}
        doc = {
            "id": previous["id"] if previous else hex_id(16),
            "version": len(previous["versions"]) if previous else 0,
            "createdDate": first.get("createdDate", now),
            "modifiedDate": now,
            "createdBy": first.get("createdBy", ctx.user),
            "modifiedBy": ctx.user,
            "supportVersion": "1.1",
            "outputSchema": {"id": (first.get("outputSchema") or {}).get("id") or hex_id(16), "version": 0,
                             "schemaRef": ref},
            "mappings": mappings,
            "status": "PUBLISHED",
            "strictMapping": bool(body.get("strictMapping", False)),
            "allowNullValues": bool(body.get("allowNullValues", False)),
            "xdmVersion": "1.0",
            "schemaRef": ref,
            "xdmSchema": ref["id"],
        }
        if isinstance(body.get("inputSchema"), dict):
            doc["inputSchema"] = body["inputSchema"]
        for extra in ("name", "description", "tags"):
            if extra in body:
                doc[extra] = body[extra]
        return doc

    def create(self, ctx: RequestContext, body: Any, validate: bool = False) -> dict[str, Any]:
        """Create a mapping set (version 0); with `validate`, refuse one whose mappings fail validation."""
        doc = self._build_version(ctx, body, None, validate)
        self.store.put(kinds.MAPPING_SET, ctx.org, ctx.sandbox, doc["id"], {"id": doc["id"], "versions": [doc]})
        return doc

    def update(self, ctx: RequestContext, set_id: str, body: Any, validate: bool = False) -> dict[str, Any]:
        """Replace a mapping set with a full body: same id, version + 1; older versions stay readable."""
        with self.store.tx():
            stored = self.stored(ctx, set_id)
            doc = self._build_version(ctx, body, stored, validate)
            self.store.put(kinds.MAPPING_SET, ctx.org, ctx.sandbox, set_id,
                           {"id": set_id, "versions": [*stored["versions"], doc]})
        return doc

    def latest(self, ctx: RequestContext) -> list[dict[str, Any]]:
        """The latest version of every mapping set in the caller's sandbox, oldest set first."""
        return [d["versions"][-1] for d in self.store.list(kinds.MAPPING_SET, ctx.org, ctx.sandbox)]

    def stored(self, ctx: RequestContext, set_id: str) -> dict[str, Any]:
        """The stored mapping set, every version; 404 when there is none."""
        doc = self.store.get(kinds.MAPPING_SET, ctx.org, ctx.sandbox, set_id)
        if doc is None:
            raise not_found(f"Mapping set {set_id} was not found")
        return doc

    def version(self, ctx: RequestContext, stored: dict[str, Any], version: int | None) -> dict[str, Any]:
        """One version of a stored set (from `stored`): the latest when None; 404 for one that does not exist."""
        if version is None:
            return stored["versions"][-1]
        doc = kinds.mapping_version(self.store, ctx.org, ctx.sandbox, stored["id"], version)
        if doc is None:
            raise not_found(f"Mapping set {stored['id']} has no version {version} "
                            f"(latest is {len(stored['versions']) - 1})")
        return doc

    def mapping(self, version: dict[str, Any], mapping_id: str) -> dict[str, Any]:
        """One mapping of a version; 404 when the version has no mapping of that id."""
        for m in version["mappings"]:
            if m["id"] == mapping_id:
                return m
        raise not_found(f"Mapping {mapping_id} was not found in mapping set {version['id']}")

    def delete(self, ctx: RequestContext, set_id: str) -> None:
        """Delete a mapping set and all its versions; 404 when there is none."""
        if not self.store.delete(kinds.MAPPING_SET, ctx.org, ctx.sandbox, set_id):
            raise not_found(f"Mapping set {set_id} was not found")

    def validate(self, ctx: RequestContext, body: Any) -> list[dict[str, Any]]:
        """One ValidationResponse per mapping of a proposed set, which is not stored."""
        ref, mappings = proposed(ctx, body, now_ms())
        return _validation(ctx, self.store, ref["id"], mappings)

    def preview(self, ctx: RequestContext, mapping_set: Any, rows: Any) -> Any:
        """Map sample rows with a proposed mapping set, through the inlet's own steps (map, complete,
        validate, primary identity: ingest.process), so a row previews as the inlet would store or
        fail it: {data, errors} per row (one object for one row).

        The output schema is `outputSchema.jsonSchema` when given inline (a schema not stored yet
        is typed from it), else the stored schema `schemaRef` names; a stored schema also brings
        its primary identity."""
        if not isinstance(mapping_set, dict):
            raise bad("The preview request needs 'mappingSet' and 'data'")
        out = mapping_set.get("outputSchema") if isinstance(mapping_set.get("outputSchema"), dict) else {}
        inline = out.get("jsonSchema")
        if inline is not None and not isinstance(inline, dict):
            raise bad("'mappingSet.outputSchema.jsonSchema' must be an object")
        # A schema reference, when sent, must be one, even beside an inline schema.
        ref = _schema_ref(mapping_set) if inline is None or "schemaRef" in out else None
        raw = mapping_set.get("mappings") or []
        if not isinstance(raw, list):
            raise bad("'mappingSet.mappings' must be an array")
        now = now_ms()
        mappings = [_normalise_mapping(m, i, ctx, now) for i, m in enumerate(raw)]
        target = ingest.Target(org=ctx.org, sandbox=ctx.sandbox, flow={}, mapping_set={"mappings": mappings})
        ingest.with_schema(target, self.store, ref["id"] if ref else None)
        if inline is not None:
            target.index = xdm.index_of(inline)

        def one(row: Any) -> dict[str, Any]:
            outcome = ingest.process(target, row, now)
            return {"data": outcome.record or {},
                    "errors": [{"code": outcome.code, "exception": e} for e in outcome.errors]}

        return [one(r) for r in rows] if isinstance(rows, list) else one(rows if rows is not None else {})

    def expand(self, ctx: RequestContext, doc: dict[str, Any]) -> dict[str, Any]:
        """A version with its output schema embedded (`expandSchema=true`), when that schema exists."""
        schema = xdm.get_schema(self.store, ctx.org, ctx.sandbox, doc["outputSchema"]["schemaRef"]["id"])
        if schema is None:
            return doc
        full = xdm.full_view(schema, self.store, ctx.org, ctx.sandbox)
        return {**doc, "outputSchema": {**doc["outputSchema"], "jsonSchema": full}}
