"""The forms of AEP object ids, so that an `adopt:` id is checked before any call.

A wrong id would otherwise surface at `up` as a 404 on a GET (or, for an id of another
kind, a confusing mismatch). The forms, from the API specs and what the emulator makes:

* Flow Service (base, source and target connections, flows): a UUID, lower case.
* Catalog dataset: 24 lower-case hex digits (`["@/dataSets/5c8c3c555033b814b69f947f"]`).
* Data Prep mapping set: 32 lower-case hex digits.
* Schema Registry schema: its `$id`, `https://ns.adobe.com/{tenant}/schemas/{hash}`, or its
  `meta:altId`, `_{tenant}.schemas.{hash}`; the hash is lower-case hex (32 or 48 digits
  in Adobe's examples, 48 from the emulator), and the tenant is the pipeline's.
"""

from __future__ import annotations

import re
import urllib.parse
from typing import Any

from .problems import Problem, repeats

_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_HEX24 = re.compile(r"[0-9a-f]{24}")
_HEX32 = re.compile(r"[0-9a-f]{32}")
_SCHEMA_ID = re.compile(r"https://ns\.adobe\.com/(?P<tenant>[A-Za-z0-9]+)/schemas/(?P<hash>[0-9a-f]{16,64})")
_SCHEMA_ALT = re.compile(r"_(?P<tenant>[A-Za-z0-9]+)\.schemas\.(?P<hash>[0-9a-f]{16,64})")

_FLOW_HINT = "`GET /data/foundation/flowservice/flows/{flowId}` lists it"
# adopt field -> (what it is, the form, an example, where to find it)
FORMS: dict[str, tuple[str, str, str, str]] = {
    "account": ("base connection id", "a UUID", "76b968ff-3ff0-4e98-98bb-f3205d4d370c",
                "the source connection's `baseConnectionId`"),
    "source": ("source connection id", "a UUID", "76b968ff-3ff0-4e98-98bb-f3205d4d370c",
               f"the flow's `sourceConnectionIds`; {_FLOW_HINT}"),
    "target": ("target connection id", "a UUID", "c63978c1-df7e-4611-aa32-3657eab5704b",
               f"the flow's `targetConnectionIds`; {_FLOW_HINT}"),
    "flow": ("dataflow id", "a UUID", "c341617b-e143-43d5-aff1-da02b3e028b6",
             "the `x-adobe-flow-id` of the webhook URL, or `GET /data/foundation/flowservice/flows`"),
    "dataset": ("Catalog dataset id", "24 hex digits", "63dca52231a6031c07280614",
                "the target connection's `params.dataSetId`"),
    "mapping_set": ("Data Prep mapping set id", "32 hex digits", "bae11501021646e58cecc1182451af22",
                    f"the flow's `transformations[].params.mappingId`; {_FLOW_HINT}"),
    "schema": ("schema id", "the schema's $id `https://ns.adobe.com/{tenant}/schemas/<hex>` or its meta:altId "
               "`_{tenant}.schemas.<hex>`", "https://ns.adobe.com/{tenant}/schemas/945546112b746524bfd9f1264b26c2b7",
               "the target connection's `data.schema.id`"),
}
_PATTERN = {"account": _UUID, "source": _UUID, "target": _UUID, "flow": _UUID, "dataset": _HEX24,
            "mapping_set": _HEX32}


def check_adopt(adopt: dict[str, Any], tenant: str, path: str) -> list[Problem]:
    """Every `adopt` id that is not in the form AEP gives that kind of object."""
    problems = []
    for field, value in adopt.items():
        if field not in FORMS or not isinstance(value, str):
            continue
        why = _schema_problem(value, tenant) if field == "schema" else _plain_problem(field, value)
        if why:
            what, form, example, where = FORMS[field]
            problems.append(Problem(f"{path}.adopt.{field}", f"{value!r} is not a {what}: {why}. Expected "
                                    f"{form}, e.g. {example.replace('{tenant}', tenant)} ({where})"))
    return problems


def check_distinct(pipes: list[tuple[str, Any]]) -> list[Problem]:
    """One AEP object, one resource: two pipelines adopting the same id would fight over it."""
    adopted = ((f"{path}.adopt.{field}", (p.sandbox, field, value)) for path, p in pipes
               for field, value in p.adopt.items())
    return [Problem(where, f"{key[2]!r} is also adopted by {first.rsplit('.adopt.', 1)[0]}: one AEP object can be "
                    "managed by one pipeline only; remove one of them") for where, key, first in repeats(adopted)]


def _plain_problem(field: str, value: str) -> str | None:
    """Why a Flow Service, Catalog or Data Prep id is malformed (None when it is fine)."""
    pattern = _PATTERN[field]
    if pattern.fullmatch(value):
        return None
    if pattern.fullmatch(value.lower()):
        return "AEP writes its ids in lower case"
    if m := re.fullmatch(r"@/dataSets/([0-9a-f]{24})", value):
        return f"that is the Catalog reference; the id is {m.group(1)}"
    for other, other_pattern in (("a UUID (a Flow Service id)", _UUID), ("24 hex digits (a dataset id)", _HEX24),
                                 ("32 hex digits (a mapping set id)", _HEX32)):
        if other_pattern.fullmatch(value):
            return f"it is {other}, the id of another kind of object"
    if _SCHEMA_ID.fullmatch(value) or _SCHEMA_ALT.fullmatch(value):
        return "it is a schema id"
    return "it has the wrong form"


def _schema_problem(value: str, tenant: str) -> str | None:
    """Why a schema $id or meta:altId is malformed or names another tenant (None when it is fine)."""
    if "%" in value and urllib.parse.unquote(value) != value:
        decoded = urllib.parse.unquote(value)
        return f"it is URL-encoded: write it decoded, {decoded!r}" if _schema_problem(decoded, tenant) is None \
            else "it is URL-encoded: write it decoded"
    m = _SCHEMA_ID.fullmatch(value) or _SCHEMA_ALT.fullmatch(value)
    if m is None:
        if re.fullmatch(r"https?://ns\.adobe\.com/[^/]+/(mixins|fieldgroups)/.+|_[^.]+\.(mixins|fieldgroups)\..+",
                        value):
            return "it is a field group's id, not a schema's"
        if _SCHEMA_ID.fullmatch(value.lower()) or _SCHEMA_ALT.fullmatch(value.lower()):
            return "the hash is lower-case hex in AEP"
        return "it has the wrong form"
    if m.group("tenant") != tenant:
        return (f"it belongs to tenant {m.group('tenant')!r}, and this pipeline's tenant is {tenant!r} (the "
                "schema a pipeline adopts must be in its own tenant: check aep:tenantId or schema.tenant_id)")
    return None
