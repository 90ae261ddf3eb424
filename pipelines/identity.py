"""The spec's identity and Profile rules, across a stack's pipelines, checked before any API call.

Identity Service and the Schema Registry enforce these one object at a time, after earlier
objects were created: a second primary identity is a 400 on the descriptor, an unknown
namespace a 400, a schema without a primary identity cannot be enabled for Profile. Checked
here, the spec fails whole and at once, naming the field.
"""

from __future__ import annotations

import difflib
from typing import Any, Iterator

from providers.models import STANDARD_NAMESPACE_CODES

from .problems import Problem, repeats

_STANDARD = {c.lower(): c for c in STANDARD_NAMESPACE_CODES}


def field_path(field: str) -> str:
    """The spec path of a field below `schema.fields`: `o.e` is `o.properties.e`."""
    return "schema.fields." + ".properties.".join(field.split("."))


def declared(pipes: list[tuple[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    """Every custom namespace of the stack by (sandbox, code in lower case): the first declaration."""
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for _path, p in pipes:
        for ns in p.namespaces:
            out.setdefault((p.sandbox, ns["code"].lower()), ns)
    return out


def plain_field(f: Any) -> dict[str, Any]:
    """A field as the schema holds it: without its identity, which is a descriptor of its own."""
    out = f.model_dump(exclude_none=True, exclude={"identity", "properties", "items"})
    if f.properties:
        out["properties"] = {k: plain_field(v) for k, v in f.properties.items()}
    if f.items is not None:
        out["items"] = plain_field(f.items)
    return out


def identities(fields: dict[str, Any], prefix: str = "") -> Iterator[dict[str, Any]]:
    """The identity fields, by their path below the tenant's object, in the spec's order."""
    for name, f in fields.items():
        if f.identity is not None:
            yield {"field": prefix + name, "namespace": f.identity.namespace, "primary": f.identity.primary}
        if f.properties:
            yield from identities(f.properties, f"{prefix}{name}.")


def check(pipes: list[tuple[str, Any]]) -> list[Problem]:
    """Every identity and Profile problem of the stack's pipelines."""
    problems: list[Problem] = []
    codes = ((f"{path}.namespaces[{i}].code", (p.sandbox, ns["code"].lower()))
             for path, p in pipes for i, ns in enumerate(p.namespaces))
    problems += [Problem(where, f"{key[1]!r} is also declared by {first.rsplit('.namespaces', 1)[0]}: declare a "
                         "namespace once per sandbox; other pipelines use it by its code")
                 for where, key, first in repeats(codes)]
    known = declared(pipes)
    for path, p in pipes:
        for i, ns in enumerate(p.namespaces):
            if ns["code"].lower() in _STANDARD:
                problems.append(Problem(f"{path}.namespaces[{i}].code", f"{ns['code']!r} is the standard namespace "
                                        f"{_STANDARD[ns['code'].lower()]}, which every sandbox has: remove it from "
                                        "namespaces and use its code"))
        problems += _pipeline(path, p, known)
    return problems


def _pipeline(path: str, p: Any, known: dict[tuple[str, str], dict[str, Any]]) -> list[Problem]:
    problems: list[Problem] = []
    primary: str | None = None
    mapped = {m["destination"] for m in p.mappings}
    for ident in p.identities:
        where = f"{path}.{field_path(ident['field'])}.identity"
        code = ident["namespace"]
        if code.lower() not in _STANDARD and (p.sandbox, code.lower()) not in known:
            names = [*STANDARD_NAMESPACE_CODES, *(ns["code"] for (sb, _), ns in known.items() if sb == p.sandbox)]
            close = difflib.get_close_matches(code, names, n=1, cutoff=0.6)
            hint = f"did you mean {close[0]!r}? " if close else ""
            problems.append(Problem(f"{where}.namespace", f"{code!r} is neither a standard namespace nor one the "
                                    f"stack declares: {hint}Declare it under this pipeline's namespaces (code, name, "
                                    f"id_type), or use one of {', '.join(names)}"))
        if not ident["primary"]:
            continue
        if primary is not None:
            problems.append(Problem(f"{where}.primary", f"{ident['field']} is a second primary identity (the first "
                                    f"is {primary}): a schema has at most one, so set primary: false on one"))
            continue
        primary = ident["field"]
        destination = f"_{p.tenant_id}.{ident['field']}"
        if p.tenant_id and p.mappings and destination not in mapped:
            problems.append(Problem(f"{where}.primary", f"{ident['field']} is the primary identity, but no mapping "
                                    "fills it, so AEP would refuse every record: add a mapping with destination "
                                    f"_{{tenantId}}.{ident['field']}"))
    if p.profile and primary is None:
        problems.append(Problem(f"{path}.profile", "Profile stitches records on the schema's primary identity, and "
                                "AEP refuses to enable a schema without one: mark one field with `identity: "
                                "{namespace: <code>, primary: true}`"))
    return problems
