"""RFC 6902 JSON Patch and RFC 7386 JSON Merge Patch over plain JSON values.

Used by the Schema Registry (PATCH schemas and field groups) and Catalog (PATCH
datasets). Patches apply to a deep copy; a failing operation raises `PatchError` and
leaves the original untouched, as RFC 6902 requires (all or nothing).
"""

from __future__ import annotations

import copy
from typing import Any


class PatchError(ValueError):
    """An operation that cannot apply.

    `reason` lets a service map failures onto its own error codes: "invalid" (a malformed
    operation), "missing_path" (its target does not exist) or "unsupported_op" (an operation
    the service's dialect refuses; see services/flow_patch.py).
    """

    def __init__(self, message: str, reason: str = "invalid"):
        super().__init__(message)
        self.message = message
        self.reason = reason


def parse_pointer(pointer: str) -> list[str]:
    """Split a JSON Pointer into unescaped tokens ("" is the whole document)."""
    if pointer == "":
        return []
    if not pointer.startswith("/"):
        raise PatchError(f"invalid JSON pointer '{pointer}': must start with '/'")
    return [t.replace("~1", "/").replace("~0", "~") for t in pointer[1:].split("/")]


_tokens = parse_pointer


def _index(container: list, token: str, allow_end: bool) -> int:
    if token == "-" and allow_end:
        return len(container)
    if not token.isdigit() or (token != "0" and token.startswith("0")):
        raise PatchError(f"invalid array index '{token}'", "missing_path")
    i = int(token)
    if i > len(container) or (i == len(container) and not allow_end):
        raise PatchError(f"array index {i} out of range", "missing_path")
    return i


def _parent(doc: Any, tokens: list[str]) -> Any:
    cur = doc
    for t in tokens[:-1]:
        if isinstance(cur, dict):
            if t not in cur:
                raise PatchError(f"path segment '{t}' does not exist", "missing_path")
            cur = cur[t]
        elif isinstance(cur, list):
            cur = cur[_index(cur, t, False)]
        else:
            raise PatchError(f"path segment '{t}' does not exist", "missing_path")
    return cur


def get(doc: Any, pointer: str) -> Any:
    """The value at a JSON pointer (PatchError when absent)."""
    tokens = _tokens(pointer)
    if not tokens:
        return doc
    parent = _parent(doc, tokens)
    last = tokens[-1]
    if isinstance(parent, dict):
        if last not in parent:
            raise PatchError(f"path '{pointer}' does not exist", "missing_path")
        return parent[last]
    if isinstance(parent, list):
        return parent[_index(parent, last, False)]
    raise PatchError(f"path '{pointer}' does not exist", "missing_path")


def _add(doc: Any, pointer: str, value: Any) -> Any:
    tokens = _tokens(pointer)
    if not tokens:
        return value
    parent = _parent(doc, tokens)
    last = tokens[-1]
    if isinstance(parent, dict):
        parent[last] = value
    elif isinstance(parent, list):
        parent.insert(_index(parent, last, True), value)
    else:
        raise PatchError(f"cannot add at '{pointer}'", "missing_path")
    return doc


def _remove(doc: Any, pointer: str) -> Any:
    tokens = _tokens(pointer)
    if not tokens:
        raise PatchError("cannot remove the whole document")
    parent = _parent(doc, tokens)
    last = tokens[-1]
    if isinstance(parent, dict):
        if last not in parent:
            raise PatchError(f"path '{pointer}' does not exist", "missing_path")
        del parent[last]
    elif isinstance(parent, list):
        del parent[_index(parent, last, False)]
    else:
        raise PatchError(f"path '{pointer}' does not exist", "missing_path")
    return doc


def apply_patch(doc: Any, ops: Any) -> Any:
    """Apply an RFC 6902 operation list to a copy of `doc` and return the copy.

    `op` names are matched case-insensitively because AEP's specs spell them upper case
    while its docs and clients use lower case.
    """
    if not isinstance(ops, list):
        raise PatchError("a JSON Patch body must be an array of operations")
    out = copy.deepcopy(doc)
    for op in ops:
        if not isinstance(op, dict) or "op" not in op or "path" not in op:
            raise PatchError("each operation needs 'op' and 'path'")
        name = str(op["op"]).lower()
        path = op["path"]
        if not isinstance(path, str):
            raise PatchError("'path' must be a string")
        if name in ("add", "replace", "test") and "value" not in op:
            raise PatchError(f"'{name}' needs a 'value'")
        if name == "add":
            out = _add(out, path, copy.deepcopy(op["value"]))
        elif name == "remove":
            out = _remove(out, path)
        elif name == "replace":
            get(out, path)
            out = _remove(out, path) if _tokens(path) else out
            out = _add(out, path, copy.deepcopy(op["value"]))
        elif name in ("move", "copy"):
            src = op.get("from")
            if not isinstance(src, str):
                raise PatchError(f"'{name}' needs 'from'")
            value = copy.deepcopy(get(out, src))
            if name == "move":
                if path.startswith(src + "/"):
                    raise PatchError("cannot move a value into one of its children")
                out = _remove(out, src)
            out = _add(out, path, value)
        elif name == "test":
            if get(out, path) != op["value"]:
                raise PatchError(f"test failed at '{path}'")
        else:
            raise PatchError(f"unsupported operation '{op['op']}'")
    return out


def merge_patch(doc: Any, patch: Any) -> Any:
    """RFC 7386: objects merge recursively, `null` deletes, anything else replaces."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    out = copy.deepcopy(doc) if isinstance(doc, dict) else {}
    for k, v in patch.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = merge_patch(out.get(k), v)
    return out
