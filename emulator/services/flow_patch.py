"""JSON Patch for the emulator's services: RFC 6902 by the jsonpatch library, our error mapping,
Flow Service's dialect, and RFC 7386 merge patch.

Schema Registry and Catalog take any RFC 6902 operation (`apply_patch`). Flow Service's dialect
(`normalise_ops`, then `apply`) takes add, replace and remove only (move, copy and test are
1434), a single operation object where the base-connection spec declares one, and never the
whole document. Op names match in any case everywhere: AEP's specs spell them upper case while
its docs and clients use lower case.

A failed patch raises `PatchError`, whose `reason` each service maps onto its own codes. Its
messages are ours, naming the operation's path: the libraries' own name the document they failed
in, and a base connection's document holds its credentials.
"""

from __future__ import annotations

import copy
from typing import Any

import jsonpatch
import jsonpointer

__all__ = ["PatchError", "apply", "apply_patch", "merge_patch", "normalise_ops", "parse_pointer"]

SUPPORTED_OPS = ("add", "replace", "remove")


class PatchError(ValueError):
    """An operation that cannot apply.

    `reason`: "invalid" (a malformed operation), "missing_path" (its target does not exist) or
    "unsupported_op" (an operation Flow Service's dialect refuses).
    """

    def __init__(self, message: str, reason: str = "invalid"):
        super().__init__(message)
        self.message = message
        self.reason = reason


def parse_pointer(pointer: str) -> list[str]:
    """Split a JSON Pointer into unescaped tokens ("" is the whole document)."""
    try:
        return jsonpointer.JsonPointer(pointer).parts
    except jsonpointer.JsonPointerException:
        why = "must start with '/'" if not pointer.startswith("/") else "'~' must be followed by 0 or 1"
        raise PatchError(f"invalid JSON pointer '{pointer}': {why}") from None


def _checked(op: Any) -> dict[str, Any]:
    """One operation with its op name lower-cased; PatchError for a shape the library would trip on."""
    if not isinstance(op, dict) or "op" not in op or "path" not in op:
        raise PatchError("each operation needs 'op' and 'path'")
    if not isinstance(op["path"], str):
        raise PatchError("'path' must be a string")
    name = str(op["op"]).lower()
    if name not in jsonpatch.JsonPatch.operations:
        raise PatchError(f"unsupported operation '{op['op']}'")
    if name in ("add", "replace", "test") and "value" not in op:
        raise PatchError(f"'{name}' needs a 'value'")
    if name in ("move", "copy") and not isinstance(op.get("from"), str):
        raise PatchError(f"'{name}' needs 'from'")
    parse_pointer(op["path"])
    if name in ("move", "copy"):
        parse_pointer(op["from"])
    return {**op, "op": name}


def apply_patch(doc: Any, ops: Any) -> Any:
    """Apply an RFC 6902 operation list to a copy of `doc` and return the copy (all or nothing)."""
    if not isinstance(ops, list):
        raise PatchError("a JSON Patch body must be an array of operations")
    checked = [_checked(op) for op in ops]
    out = copy.deepcopy(doc)
    for op in checked:
        if op["op"] == "remove" and op["path"] == "":
            raise PatchError("cannot remove the whole document")
        if op["op"] == "move" and op["path"].startswith(op["from"] + "/"):
            raise PatchError("cannot move a value into one of its children")
        # One operation at a time, so a failure names its operation; `out` is our copy.
        try:
            out = jsonpatch.JsonPatch([op]).apply(out, in_place=True)
        except jsonpatch.JsonPatchTestFailed:
            raise PatchError(f"test failed at '{op['path']}'") from None
        except (jsonpatch.JsonPatchConflict, jsonpointer.JsonPointerException, jsonpatch.InvalidJsonPatch):
            # _checked() caught every malformed operation, so an invalid one here is a `replace`
            # of /-, the array element after the last: a path that does not exist.
            raise PatchError(f"path '{_missing(op)}' does not exist", "missing_path") from None
    return out


def _missing(op: dict[str, Any]) -> str:
    """The pointer a failed operation could not resolve: its `from` if it reads one, else its `path`."""
    return op["from"] if op["op"] in ("move", "copy") and "from" in op else op["path"]


def merge_patch(doc: Any, patch: Any) -> Any:
    """RFC 7386: objects merge recursively, `null` deletes, anything else replaces (on a copy)."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    out = copy.deepcopy(doc) if isinstance(doc, dict) else {}
    for k, v in patch.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = merge_patch(out.get(k), v)
    return out


# -- Flow Service's dialect ------------------------------------------------------------


def normalise_ops(ops: Any) -> list[dict[str, Any]]:
    """Validate a Flow Service op list; op names are matched case-insensitively and returned lower case."""
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
    """Apply normalised Flow Service ops to a copy of doc, all or nothing."""
    for op in ops:
        if not parse_pointer(op["path"]):
            raise PatchError("patching the whole document is not supported")
    return apply_patch(doc, ops)
