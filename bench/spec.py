"""N pipelines for one stack, in the issue-5 spec format.

The same resolved `pipelines.spec.Pipeline` objects drive both the Pulumi program (through
the stack's `aep-pipelines:specFile`) and the sequential baseline, so both send the same
requests with the same names.
"""

from __future__ import annotations

from typing import Any

from emulator.config import TENANT_ID
from pipelines.spec import DEFAULT_FIELDS, DEFAULT_MAPPINGS, Pipeline, load


def pipeline_name(i: int) -> str:
    return f"bench-{i:03d}"


def spec(n: int) -> dict[str, Any]:
    """`pipelines:` for N copies of the tutorial pipeline, with the names AEP wants unique."""
    out = []
    for i in range(n):
        name = pipeline_name(i)
        out.append({
            "name": name,
            "source": {"kind": "pendo", "name": f"{name} source"},
            "schema": {"title": f"{name} events", "fields": DEFAULT_FIELDS},
            "dataset": {"name": f"{name} events"},
            "mapping_set": {"name": f"{name}-mapping"},
            "mappings": DEFAULT_MAPPINGS,
            "flow": {"name": f"{name} flow"},
        })
    return {"pipelines": out}


def resolved(n: int, sandbox: str) -> list[Pipeline]:
    """The pipelines exactly as the program resolves them."""
    return load(spec(n)["pipelines"], sandbox=sandbox, tenant_id=TENANT_ID)
