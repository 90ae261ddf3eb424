"""Flow Service's JSON Patch dialect: RFC 6902 add, replace and remove only, op names in any case.

Kept apart from emulator/json_patch.py (full RFC 6902, for Schema Registry and Catalog) because
Flow Service rejects move/copy/test (1434) and tells a missing path (1455) from a malformed op.
"""

from __future__ import annotations

import copy
from typing import Any

SUPPORTED_OPS = ("add", "replace", "remove")
RFC_OPS = ("move", "copy", "test")


class PatchError(Exception):
    """reason: 'unsupported_op', 'missing_path' (target does not exist) or 'invalid' (malformed op)."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason
        self.message = message


def parse_pointer(path: str) -> list[str]:
    """Split a JSON Pointer into unescaped tokens ("" is the whole document)."""
    if path == "":
        return []
    if not path.startswith("/"):
        raise PatchError("invalid", f"path {path!r} is not a JSON Pointer")
    return [t.replace("~1", "/").replace("~0", "~") for t in path[1:].split("/")]


def _index(container: list, token: str, allow_end: bool) -> int:
    if allow_end and token == "-":
        return len(container)
    if not token.isdigit() or (len(token) > 1 and token[0] == "0"):
        raise PatchError("missing_path", f"array index {token!r} is not valid")
    i = int(token)
    if i > len(container) or (i == len(container) and not allow_end):
        raise PatchError("missing_path", f"array index {i} is out of range")
    return i


def _parent(doc: Any, tokens: list[str], path: str) -> Any:
    node = doc
    for t in tokens[:-1]:
        if isinstance(node, dict) and t in node:
            node = node[t]
        elif isinstance(node, list):
            node = node[_index(node, t, allow_end=False)]
        else:
            raise PatchError("missing_path", f"path {path} does not exist")
    if not isinstance(node, (dict, list)):
        raise PatchError("missing_path", f"path {path} does not exist")
    return node


def normalise_ops(ops: Any) -> list[dict[str, Any]]:
    """Validate the op list; op names are matched case-insensitively and returned lower case."""
    if isinstance(ops, dict):
        ops = [ops]
    if not isinstance(ops, list) or not ops:
        raise PatchError("invalid", "the request body must be a non-empty JSON Patch array")
    out = []
    for op in ops:
        if not isinstance(op, dict) or not isinstance(op.get("op"), str) or not isinstance(op.get("path"), str):
            raise PatchError("invalid", "each patch operation needs string 'op' and 'path'")
        name = op["op"].lower()
        if name not in SUPPORTED_OPS:
            raise PatchError("unsupported_op", f"patch operation {op['op']!r} is not supported")
        if name != "remove" and "value" not in op:
            raise PatchError("invalid", f"patch operation {op['op']!r} needs a value")
        out.append({**op, "op": name})
    return out


def apply(doc: dict[str, Any], ops: list[dict[str, Any]]) -> dict[str, Any]:
    """Apply normalised ops to a deep copy of doc, atomically (the original is never touched)."""
    doc = copy.deepcopy(doc)
    for op in ops:
        tokens = parse_pointer(op["path"])
        if not tokens:
            raise PatchError("invalid", "patching the whole document is not supported")
        parent = _parent(doc, tokens, op["path"])
        last = tokens[-1]
        name = op["op"]
        value = copy.deepcopy(op.get("value"))
        if isinstance(parent, list):
            i = _index(parent, last, allow_end=(name == "add"))
            if name == "add":
                parent.insert(i, value)
            elif name == "replace":
                parent[i] = value
            else:
                del parent[i]
        else:
            if name != "add" and last not in parent:
                raise PatchError("missing_path", f"path {op['path']} does not exist")
            if name == "remove":
                del parent[last]
            else:
                parent[last] = value
    return doc
