"""A connection's fields checked against its connection spec, and its secrets masked on read.

A base connection's `auth` must name one of the spec's `authSpec` entries and carry the
params that entry requires; a source connection's `params` must satisfy the spec's
`sourceSpec.spec` (required params, `anyOf` groups, enum values, string/boolean types) and
its `data.format` the formats the source's page names. AEP documents no code for these
failures, so they are FLOW-1400-400 (docs/emulator.md).
"""

from __future__ import annotations

import copy
import json
from typing import Any

from .errors import invalid

# What a GET shows in place of a secret auth param (one a spec marks `format: password`).
MASK = "********"

_TYPES = {"string": (str,), "boolean": (bool,), "integer": (int,), "number": (int, float)}


def _names(entries: list[dict[str, Any]]) -> str:
    return ", ".join(repr(e.get("name")) for e in entries) or "none"


def auth_entry(spec: dict[str, Any], spec_name: str) -> dict[str, Any]:
    """The spec's authSpec entry called `spec_name`; a 400 naming the entries there are when absent."""
    entries = spec.get("authSpec") or []
    for entry in entries:
        if entry.get("name") == spec_name:
            return entry
    raise invalid(f"Auth spec {spec_name!r} is not defined by connection spec {spec.get('name')} "
                  f"({spec['id']}); its auth specs: {_names(entries)}.")


def check_schema(schema: dict[str, Any], values: Any, where: str) -> None:
    """Check `values` against a spec's JSON Schema object: required, anyOf-of-required, enums, types."""
    if not isinstance(values, dict):
        raise invalid(f"'{where}' must be an object.")
    missing = [p for p in schema.get("required") or [] if values.get(p) in (None, "")]
    if missing:
        raise invalid(f"Required {where} missing: {', '.join(missing)}.")
    groups = [g.get("required") or [] for g in schema.get("anyOf") or []]
    if groups and not any(all(values.get(p) not in (None, "") for p in g) for g in groups):
        alternatives = " or ".join("+".join(g) for g in groups)
        raise invalid(f"{where} needs {alternatives}.")
    for name, rule in (schema.get("properties") or {}).items():
        if name not in values or values[name] is None:
            continue
        value = values[name]
        types = _TYPES.get(rule.get("type"))
        if types and (not isinstance(value, types) or (bool not in types and isinstance(value, bool))):
            raise invalid(f"'{where}.{name}' must be of type {rule['type']}, got {json.dumps(value)[:60]}.")
        enum = rule.get("enum")
        if enum and value not in enum:
            raise invalid(f"'{where}.{name}' must be one of {', '.join(map(str, enum))}; got {value!r}.")


def check_auth(spec: dict[str, Any], auth: Any) -> None:
    """A base connection's `auth`: a known auth spec name, and the params that auth spec requires."""
    if not spec.get("authSpec"):
        if isinstance(auth, dict) and auth.get("specName"):
            auth_entry(spec, str(auth["specName"]))  # a source without accounts: says it has none
        return
    if not (isinstance(auth, dict) and auth.get("specName") and isinstance(auth.get("params"), dict)):
        raise invalid("'auth.specName' and 'auth.params' are required for this connection spec.")
    if not isinstance(auth["specName"], str):
        raise invalid("'auth.specName' must be a string naming one of the connection spec's authSpec entries.")
    entry = auth_entry(spec, auth["specName"])
    check_schema(entry.get("spec") or {}, auth["params"], "auth.params")


def check_source(spec: dict[str, Any], body: dict[str, Any]) -> None:
    """A source connection's `params` against the spec's sourceSpec, and its `data.format`."""
    source_spec = spec.get("sourceSpec") or {}
    schema = source_spec.get("spec") or {}
    if schema.get("required") or schema.get("anyOf") or "params" in body:
        check_schema(schema, {} if body.get("params") is None else body["params"], "params")
    formats = (source_spec.get("attributes") or {}).get("dataFormats")
    fmt = (body.get("data") or {}).get("format", "json")
    if formats and fmt not in formats:
        raise invalid(f"{spec.get('name')} supports only data.format {', '.join(map(repr, formats))}; got {fmt!r}.")


def secret_params(spec: dict[str, Any] | None, spec_name: str | None) -> set[str]:
    """The auth params the named auth spec marks `format: password`."""
    for entry in (spec or {}).get("authSpec") or []:
        if entry.get("name") == spec_name:
            props = (entry.get("spec") or {}).get("properties") or {}
            return {k for k, v in props.items() if isinstance(v, dict) and v.get("format") == "password"}
    return set()


def masked(doc: dict[str, Any], spec: dict[str, Any] | None) -> dict[str, Any]:
    """A base connection as a GET shows it: each secret auth param replaced by MASK."""
    auth = doc.get("auth")
    if not isinstance(auth, dict) or not isinstance(auth.get("params"), dict):
        return doc
    hidden = secret_params(spec, auth.get("specName")) & set(auth["params"])
    if not hidden:
        return doc
    out = copy.copy(doc)
    out["auth"] = {**auth, "params": {k: (MASK if k in hidden else v) for k, v in auth["params"].items()}}
    return out
