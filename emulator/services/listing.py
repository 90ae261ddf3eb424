"""Listing for every service: `property` filters, ordering, pages and continuation tokens.

One filter language serves Flow Service, Schema Registry and Catalog: `path==a,b` (any of),
`path!=a`, `path~pattern`, `path>n` (and `<`, `>=`, `<=`; numeric when both sides are numbers)
and a bare `path` (it exists). Paths are dotted and go through arrays (`a[]` is `a`), so on a
list `==` matches a member; values compare as JSON text (booleans are `true`/`false`). What
each service takes of it is its `FilterSyntax` (docs/emulator.md lists them per service).
Nothing here knows HTTP: callers pass the query's values and render the page themselves.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Sequence

from ..errors import AEPError


@dataclass(frozen=True)
class FilterSyntax:
    """What one service's `property=` filters take.

    ops: the operators, longest first where one starts another. regex: `~` is a regular
    expression (else a substring). alternatives: `==`/`!=` values are comma-separated
    alternatives (Schema Registry titles may hold commas, so it takes the value whole).
    strip: values are stripped of surrounding blanks. negation: `!path` means the path is
    absent. error: the service's 400 for a filter it cannot read; None takes such a filter as
    the name of a key no document has (Schema Registry never rejects a filter).
    """

    ops: tuple[str, ...]
    error: Callable[[str], AEPError] | None
    regex: bool = True
    alternatives: bool = True
    strip: bool = False
    negation: bool = False

    def __post_init__(self) -> None:
        ops = "|".join(re.escape(o) for o in self.ops)
        grammar = rf"^\s*(?P<neg>!?)(?P<path>[\w.:/@$\[\]-]+?)\s*(?:(?P<op>{ops})(?P<value>.*))?$"
        object.__setattr__(self, "_grammar", re.compile(grammar, re.S))

    def parse(self, expr: str) -> "Filter":
        """One `property` expression as a Filter; the service's 400 when it cannot be read."""
        m = self._grammar.match(expr)
        if m is None or (m["neg"] and not self.negation):
            return self._unreadable(expr, f"Invalid property filter '{expr}'.")
        path = tuple(t.removesuffix("[]") for t in m["path"].split("."))
        op, value = m["op"], m["value"] or ""
        if self.strip:
            value = value.strip()
        values = tuple(v.strip() if self.strip else v for v in value.split(",")) \
            if self.alternatives and op in ("==", "!=") else (value,)
        pattern = None
        if op == "~":
            try:
                pattern = re.compile(value if self.regex else re.escape(value))
            except re.error as exc:
                return self._unreadable(expr, f"Invalid regular expression in property filter '{expr}': {exc}")
        # `!` negates only a bare path (Catalog has always read `!name==x` as `name==x`).
        return Filter(path, op, values, bool(m["neg"]) and op is None, pattern)

    def _unreadable(self, expr: str, message: str) -> "Filter":
        """The service's 400 or, for a service that never rejects a filter, one that matches nothing."""
        if self.error is not None:
            raise self.error(message)
        return Filter((expr.strip(),), None, (), False, None)

    def compile(self, exprs: Iterable[str]) -> Callable[[dict[str, Any]], bool]:
        """A predicate that holds when every expression does (repeated `property` parameters AND)."""
        filters = [self.parse(e) for e in exprs]
        return lambda doc: all(f.matches(doc) for f in filters)

    def select(self, docs: Iterable[dict[str, Any]], exprs: Iterable[str]) -> list[dict[str, Any]]:
        """The documents every expression matches, in their order."""
        exprs = list(exprs)
        if not exprs:
            return list(docs)
        pred = self.compile(exprs)
        return [d for d in docs if pred(d)]


@dataclass(frozen=True)
class Filter:
    """One parsed `property` expression: `op` None tests that `path` exists (absent when `negate`)."""

    path: tuple[str, ...]
    op: str | None
    values: tuple[str, ...]
    negate: bool
    pattern: re.Pattern | None

    def matches(self, doc: dict[str, Any]) -> bool:
        """Whether `doc` satisfies this filter."""
        found = leaves(doc, self.path)
        if self.op is None:
            return bool(found) != self.negate
        texts = [as_text(v) for v in found]
        if self.op == "==":
            return any(t in self.values for t in texts)
        if self.op == "!=":
            return not any(t in self.values for t in texts)
        if self.op == "~":
            return any(self.pattern.search(t) for t in texts)
        want = {">": (1,), "<": (-1,), ">=": (0, 1), "<=": (-1, 0)}[self.op]
        return any(_compare(t, self.values[0]) in want for t in texts)


def leaves(doc: Any, path: Sequence[str]) -> list[Any]:
    """Every value at a dotted path; arrays along the way, and at its end, are flattened."""
    nodes = [doc]
    for token in path:
        nxt: list[Any] = []
        for n in nodes:
            if isinstance(n, dict) and token in n:
                v = n[token]
                nxt.extend(v if isinstance(v, list) else [v])
        nodes = nxt
    return nodes


def as_text(value: Any) -> str:
    """A stored value as a query string would spell it: strings as they are, the rest as JSON."""
    return value if isinstance(value, str) else json.dumps(value)


def _compare(a: str, b: str) -> int:
    try:
        x, y = float(a), float(b)
    except ValueError:
        x, y = a, b  # type: ignore[assignment]
    return (x > y) - (x < y)


# -- ordering and pages ----------------------------------------------------------------


def sort_key(value: Any) -> tuple:
    """A total order over JSON values: numbers by value, then the rest by text, missing last."""
    if value is None:
        return (2, 0, "")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return (0, value, "")
    return (1, 0, as_text(value))


def ordered(docs: Iterable[dict[str, Any]], fields: Sequence[str], descending: bool = False) -> list[dict[str, Any]]:
    """`docs` sorted by `fields` in turn (dotted paths allowed); stable, so ties keep their order."""
    def key(doc: dict[str, Any]) -> tuple:
        return tuple(sort_key((leaves(doc, f.split(".")) or [None])[0]) for f in fields)

    return sorted(docs, key=key, reverse=descending)


def key_text(doc: dict[str, Any], key: str) -> str:
    """A document's sort-key value as a `start` parameter spells it."""
    found = leaves(doc, key.split("."))
    return as_text(found[0]) if found else ""


def ordered_after(docs: list[dict[str, Any]], orderby: str | None, start: str | None) -> list[dict[str, Any]]:
    """Schema Registry's paging: sorted by `orderby` (keys, a leading `-` for descending), then only
    the documents past `start`, a value of the first sort key (the previous page's last one)."""
    if not orderby:
        return docs
    keys = [k.strip().lstrip("+-") for k in orderby.split(",") if k.strip()]
    desc = orderby.strip().startswith("-")
    docs = ordered(docs, keys, desc)
    if start is not None:
        docs = [d for d in docs if (key_text(d, keys[0]) < start if desc else key_text(d, keys[0]) > start)]
    return docs


def page(docs: Sequence[Any], start: int, size: int) -> tuple[list[Any], bool]:
    """The `size` items from offset `start`, and whether more follow."""
    return list(docs[start:start + size]), start + size < len(docs)


def encode_token(state: dict[str, Any]) -> str:
    """An opaque continuation token carrying a listing's state (base64url JSON).

    No '=' padding: clients take `href.split("=")[1]` as the token.
    """
    return base64.urlsafe_b64encode(json.dumps(state, separators=(",", ":")).encode()).rstrip(b"=").decode()


def decode_token(token: str, error: Callable[[str], AEPError]) -> dict[str, Any]:
    """The state an `encode_token` token carries; the service's 400 for anything else."""
    try:
        state = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        if not isinstance(state, dict):
            raise ValueError
        return state
    except (ValueError, binascii.Error):
        raise error("Invalid continuationToken.") from None
