"""Flow Service's JSON Patch dialect: RFC 6902 add, replace and remove only, op names in any case.

The patching itself is emulator/json_patch.py's. This module adds the dialect's rules:
Flow Service rejects move/copy/test (1434), accepts a single operation object where the
base-connection spec declares one, and never patches the whole document.
"""

from __future__ import annotations

from typing import Any

from ..json_patch import PatchError, apply_patch, parse_pointer

__all__ = ["PatchError", "apply", "normalise_ops", "parse_pointer"]

SUPPORTED_OPS = ("add", "replace", "remove")


def normalise_ops(ops: Any) -> list[dict[str, Any]]:
    """Validate the op list; op names are matched case-insensitively and returned lower case."""
    if isinstance(ops, dict):
        ops = [ops]
    if not isinstance(ops, list) or not ops:
        raise PatchError("the request body must be a non-empty JSON Patch array")
    out = []
    for op in ops:
        if not isinstance(op, dict) or not isinstance(op.get("op"), str) or not isinstance(op.get("path"), str):
            raise PatchError("each patch operation needs string 'op' and 'path'")
        name = op["op"].lower()
        if name not in SUPPORTED_OPS:
            raise PatchError(f"patch operation {op['op']!r} is not supported", "unsupported_op")
        if name != "remove" and "value" not in op:
            raise PatchError(f"patch operation {op['op']!r} needs a value")
        out.append({**op, "op": name})
    return out


def apply(doc: dict[str, Any], ops: list[dict[str, Any]]) -> dict[str, Any]:
    """Apply normalised ops to a copy of doc, all or nothing."""
    for op in ops:
        if not parse_pointer(op["path"]):
            raise PatchError("patching the whole document is not supported")
    return apply_patch(doc, ops)
