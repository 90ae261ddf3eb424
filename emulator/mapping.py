"""Apply a Data Prep mapping set version to one raw (non-XDM) event.

Each stored mapping carries `sourceType` (`text/x.schema-path` for attributes,
`text/x.aep-xl` for expressions, `STATIC`), `source`/`sourceAttribute` and
`destination`/`destinationXdmPath`. Attributes are dot paths into the raw event
(`properties.guideProperties.name`, `items[0].id`); destinations are dot paths into the
XDM record, whose intermediate objects are created on demand. When the destination
field's definition is known the value is converted to its XDM type first (Pendo's
epoch-seconds `timestamp` becomes an ISO date-time for a `date-time` field).
"""

from __future__ import annotations

import datetime as _dt
import re
import uuid
from typing import Any

from . import xdm

SCHEMA_PATH = "text/x.schema-path"
EXPRESSION = "text/x.aep-xl"
STATIC = "STATIC"
# Input sourceType values (DP's SourceType enum) and the media-type-like values AEP returns.
SOURCE_TYPES = {"ATTRIBUTE": SCHEMA_PATH, "EXPRESSION": EXPRESSION, "STATIC": STATIC,
                SCHEMA_PATH: SCHEMA_PATH, EXPRESSION: EXPRESSION}

MAPPER_ERROR = "MAPPER-3700-400"

_SEGMENT = r"[A-Za-z_$@][\w$@:-]*(?:\[\d+\])*"
SOURCE_PATH = re.compile(rf"^{_SEGMENT}(?:\.{_SEGMENT})*$")
DESTINATION_PATH = re.compile(r"^[A-Za-z_@][\w@:-]*(?:\.[A-Za-z_@][\w@:-]*)*$")


class MappingError(ValueError):
    """A mapping that could not be applied to this event (reported as MAPPER-3700-400)."""


def get_path(event: Any, path: str) -> tuple[bool, Any]:
    """(found, value) for a dot path with optional `[n]` indexes into a JSON value."""
    cur = event
    for seg in path.split("."):
        name, *idx = re.split(r"\[(\d+)\]", seg)
        if name:
            if not isinstance(cur, dict) or name not in cur:
                return False, None
            cur = cur[name]
        for i in (x for x in idx if x != ""):
            if not isinstance(cur, list) or int(i) >= len(cur):
                return False, None
            cur = cur[int(i)]
    return True, cur


def set_path(record: dict[str, Any], path: str, value: Any) -> None:
    """Set a dot path, creating intermediate objects."""
    parts = path.split(".")
    cur = record
    for p in parts[:-1]:
        nxt = cur.get(p)
        if not isinstance(nxt, dict):
            nxt = cur[p] = {}
        cur = nxt
    cur[parts[-1]] = value


def apply(mapping_set: dict[str, Any], event: Any,
          index: dict[str, dict[str, Any]] | None = None) -> tuple[dict[str, Any], list[str]]:
    """Map one raw event with a stored mapping set version.

    Returns (record, errors). A source attribute that is empty or absent from the event
    leaves its destination unset (schema validation decides whether that matters).
    """
    record: dict[str, Any] = {}
    errors: list[str] = []
    for m in mapping_set.get("mappings") or []:
        dest = m.get("destinationXdmPath") or m.get("destination") or ""
        source = m.get("sourceAttribute") if m.get("sourceAttribute") is not None else m.get("source")
        kind = SOURCE_TYPES.get(m.get("sourceType") or SCHEMA_PATH, SCHEMA_PATH)
        try:
            if kind == STATIC:
                found, value = True, source
            elif kind == EXPRESSION:
                found, value = True, evaluate(source or "", event)
            else:
                if not source:
                    continue
                found, value = get_path(event, source)
            if not found or value is None:
                continue
            spec = (index or {}).get(dest)
            if spec is not None:
                value = xdm.coerce(value, spec, dest)
            set_path(record, dest, value)
        except (MappingError, xdm.ConversionError) as exc:
            errors.append(str(exc))
    return record, errors


# -- a small subset of Data Prep's expression language ------------------------------------

_TOKEN = re.compile(r'\s*(?:(?P<str>"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\')|(?P<num>-?\d+(?:\.\d+)?)'
                    r'|(?P<name>[A-Za-z_$@][\w$@.\[\]:-]*)|(?P<punct>[(),]))')


def _now(*_a: Any) -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


_FUNCTIONS = {
    "concat": lambda *a: "".join("" if x is None else str(x) for x in a),
    "lower": lambda s: None if s is None else str(s).lower(),
    "upper": lambda s: None if s is None else str(s).upper(),
    "trim": lambda s: None if s is None else str(s).strip(),
    "now": _now,
    "uuid": lambda *a: str(uuid.uuid4()),
    "guid": lambda *a: str(uuid.uuid4()),
    "iif": lambda c, a, b: a if c else b,
    "isEmpty": lambda s: s is None or s == "" or s == [] or s == {},
}


def evaluate(expression: str, event: Any) -> Any:
    """Evaluate literals, field references and a few functions (concat, lower, upper, trim, now, uuid, iif).

    Anything else raises MappingError so the record fails visibly instead of mapping wrongly.
    """
    tokens = []
    pos = 0
    text = expression.strip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise MappingError(f"Unsupported expression '{expression}' at position {pos}")
        tokens.append(m)
        pos = m.end()
        while pos < len(text) and text[pos].isspace():
            pos += 1
    value, rest = _parse(tokens, 0, event, expression)
    if rest != len(tokens):
        raise MappingError(f"Unsupported expression '{expression}'")
    return value


def _parse(tokens: list[re.Match], i: int, event: Any, expression: str) -> tuple[Any, int]:
    if i >= len(tokens):
        raise MappingError(f"Incomplete expression '{expression}'")
    t = tokens[i]
    if t.group("str") is not None:
        return bytes(t.group("str")[1:-1], "utf-8").decode("unicode_escape"), i + 1
    if t.group("num") is not None:
        n = t.group("num")
        return (float(n) if "." in n else int(n)), i + 1
    name = t.group("name")
    if name is None:
        raise MappingError(f"Unexpected '{t.group('punct')}' in expression '{expression}'")
    if i + 1 < len(tokens) and tokens[i + 1].group("punct") == "(":
        fn = _FUNCTIONS.get(name)
        if fn is None:
            raise MappingError(f"Function '{name}' is not supported by the emulator")
        args: list[Any] = []
        j = i + 2
        if j < len(tokens) and tokens[j].group("punct") == ")":
            return fn(*args), j + 1
        while True:
            value, j = _parse(tokens, j, event, expression)
            args.append(value)
            if j < len(tokens) and tokens[j].group("punct") == ",":
                j += 1
                continue
            if j < len(tokens) and tokens[j].group("punct") == ")":
                try:
                    return fn(*args), j + 1
                except TypeError:
                    raise MappingError(f"Wrong number of arguments to '{name}'") from None
            raise MappingError(f"Unbalanced parentheses in expression '{expression}'")
    if name in ("true", "false"):
        return name == "true", i + 1
    if name == "null":
        return None, i + 1
    return get_path(event, name)[1], i + 1
