"""Ingestion rehearsal: what a pipeline's mapping makes of sample payloads, before it is deployed.

`make preview` sends each pipeline's `samples:` (or, with REHEARSE=1, the source's default
samples) through Data Prep's own preview API (`POST /mappingSets/preview`) with the mapping
set as the spec declares it and the schema as the spec declares it (inline, as
`outputSchema.jsonSchema`, so a schema not deployed yet, or changed by the plan, is what the
records are typed against). The same code answers against the real AEP. It is one read-only
call per rehearsed pipeline, and none for a pipeline without samples.

A record without the primary identity is refused in the run, not by Data Prep; the rehearsal
says so itself from the record Data Prep answers, with the same rule the inlet applies.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from providers.mapping_set import MappingSetArgs, mapping_set_body
from providers.xdm_schema import XdmSchemaArgs, planned_json_schema

from . import parts
from .samples import sample_events

# What the emulator's inlet calls a record without its primary identity (docs/emulator.md).
IDENTITY_MISSING = "INGEST-1213-400"


@dataclass(frozen=True)
class Result:
    """One sample's rehearsal: the record the mapping makes, or the errors AEP gives."""

    pipeline: str
    name: str
    expect: str
    record: dict[str, Any]
    errors: tuple[str, ...]

    @property
    def failed(self) -> bool:
        """Whether AEP would refuse the sample."""
        return bool(self.errors)

    @property
    def surprising(self) -> bool:
        """Whether the outcome is not the one the sample expects."""
        return self.failed != (self.expect == "failure")


def samples_for(p: Any, rehearse_all: bool) -> list[dict[str, Any]]:
    """A pipeline's declared samples; with `rehearse_all`, the source's defaults when it declares none."""
    if p.samples is not None:
        return list(p.samples)
    if rehearse_all and p.source_kind == "pendo":
        # The payloads `make demo` posts; the malformed one is meant to fail.
        return [{"name": label, "payload": event, "expect": "failure" if label.startswith("malformed") else "success"}
                for label, event in sample_events()]
    return []


def request(p: Any) -> dict[str, Any]:
    """The mapping set to preview: the spec's mappings, typed by the spec's schema (inline)."""
    i = parts.inputs(p)
    schema = XdmSchemaArgs.model_validate({k: v for k, v in i["schema"].items() if v is not None})
    mapping = MappingSetArgs.model_validate({**{k: v for k, v in i["mapping"].items() if v is not None},
                                             "schema_id": f"https://ns.adobe.com/{p.tenant_id}/schemas/planned"})
    body = mapping_set_body(mapping)
    body["outputSchema"] = {"jsonSchema": planned_json_schema(schema, p.tenant_id)}
    return body


def rehearse(api: Any, p: Any, samples: list[dict[str, Any]]) -> list[Result]:
    """Each sample through Data Prep's preview, in one call."""
    answers = api.preview_mapping_set(p.sandbox, request(p), [s["payload"] for s in samples])
    primary = next((d["field"] for d in p.identities if d["primary"]), None)
    out = []
    for sample, answer in zip(samples, answers, strict=False):
        record = answer.get("data") or {}
        errors = [f"{e['code']}: {e.get('exception')}" if e.get("code") else str(e.get("exception"))
                  for e in answer.get("errors") or []]
        if not errors and primary is not None and not _value(record, f"_{p.tenant_id}.{primary}"):
            errors.append(f"{IDENTITY_MISSING}: the record has no {primary}, the schema's primary identity: AEP "
                          "refuses it in the run")
        out.append(Result(p.name, sample["name"], sample["expect"], record, tuple(errors)))
    return out


def _value(record: dict[str, Any], path: str) -> Any:
    value: Any = record
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value.strip() if isinstance(value, str) else value


def report(results: list[Result]) -> list[str]:
    """The rehearsal as `make preview` prints it: each sample's record or errors."""
    import json  # noqa: PLC0415

    lines = []
    for r in results:
        if r.failed:
            verdict = "refused, as expected" if not r.surprising else "REFUSED"
            lines.append(f"  ✗ {r.pipeline}: {r.name} — {verdict}")
            lines += [f"      {e}" for e in r.errors]
        else:
            verdict = "mapped" if not r.surprising else "MAPPED, but the sample expects a failure"
            lines.append(f"  ✓ {r.pipeline}: {r.name} — {verdict}:")
            lines += [f"      {line}" for line in json.dumps(r.record, indent=2, sort_keys=True).splitlines()]
    return lines
