"""`make export`'s identity and Profile part: a schema's identity descriptors as `identity:` on
its fields, the custom namespaces they use as `namespaces:`, and its union tag as `profile: true`.

Read from two more listings (the sandbox's namespaces and its identity descriptors), one call
each, never per schema.
"""

from __future__ import annotations

from typing import Any

from providers.models import STANDARD_NAMESPACE_CODES

from .parts import PROFILE_TAGS

_STANDARD = {c.lower() for c in STANDARD_NAMESPACE_CODES}


def apply(pipe: dict[str, Any], schema: dict, tenant: str, namespaces: dict[str, dict], descriptors: list[dict],
          declared: set[str], adopt: bool, notes: list[tuple[str, str]]) -> None:
    """Mark `pipe`'s identity fields, declare the custom namespaces not declared yet, and say Profile."""
    root = f"/_{tenant}/"
    for d in sorted((d for d in descriptors if d.get("xdm:sourceSchema") == schema.get("$id")),
                    key=lambda d: str(d.get("xdm:sourceProperty"))):
        pointer = str(d.get("xdm:sourceProperty") or "")
        code = str(d.get("xdm:namespace") or "")
        field = _field(pipe["schema"]["fields"], pointer[len(root):].split("/")) if pointer.startswith(root) else None
        if field is None:
            notes.append(("schema.fields", f"the identity descriptor on {pointer} is not a custom field of the "
                          "schema, so the spec cannot carry it: it stays as it is"))
            continue
        ns = namespaces.get(code.lower())
        field["identity"] = {"namespace": ns.get("code", code) if ns else code, "primary": bool(d.get("xdm:isPrimary"))}
        if ns is not None and code.lower() not in _STANDARD and code.lower() not in declared:
            declared.add(code.lower())
            # No description in AEP is an empty one here: left out, the default would be written.
            entry = {"code": ns.get("code"), "name": ns.get("name"), "description": ns.get("description") or "",
                     "id_type": ns.get("idType")}
            if adopt:
                entry["adopt"] = str(ns.get("id"))
            pipe.setdefault("namespaces", []).append(entry)
    if "union" in (schema.get("meta:immutableTags") or []):
        pipe["profile"] = True
        tags = pipe.get("dataset", {}).get("tags") or {}
        for key, value in PROFILE_TAGS.items():
            if tags.get(key) == value:
                del tags[key]
        if "tags" in pipe.get("dataset", {}) and not tags:
            del pipe["dataset"]["tags"]


def _field(fields: dict[str, Any], names: list[str]) -> dict | None:
    """The spec field at a path of names (through `properties`), or None."""
    cur: Any = {"properties": fields}
    for name in names:
        cur = (cur.get("properties") or {}).get(name) if isinstance(cur, dict) else None
    return cur if isinstance(cur, dict) and "type" in cur else None
