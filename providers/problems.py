"""pydantic's validation errors as (path, fix) pairs: the one translator.

The providers' `check()` turns them into CheckFailures on the resource's inputs; the pipeline
spec (pipelines/spec.py) reports them at the spec paths the user wrote. Both read the same
rules from the same args models, so a rule and its message are written once.

A validator may raise `InputError(field, reason)` (or `InputErrors`) to put a problem on a
field of its own choosing; the field is taken relative to where the validator runs, so a
rule on a nested model (a mapping) lands on `mappings[3].destination`.
"""

from __future__ import annotations

import difflib
from typing import Any, Collection

from pydantic import BaseModel, ValidationError

from .models import InputError, InputErrors

# pydantic's own location entries for validator wrappers and union members, not user paths.
_WRAPPERS = ("function-", "literal[", "union[", "tagged-union[")


def clean_loc(loc: tuple) -> tuple:
    """A pydantic location without its validator-wrapper entries."""
    return tuple(p for p in loc if not (isinstance(p, str) and p.startswith(_WRAPPERS)))


def join(prefix: str, loc: tuple | str) -> str:
    """`prefix` followed by a location: `a.b[0].c`."""
    s = prefix
    parts = loc.split(".") if isinstance(loc, str) else loc
    for part in parts:
        if part == "":
            continue
        if isinstance(part, int):
            s += f"[{part}]"
        elif isinstance(part, str) and part.startswith("["):
            s += part
        else:
            s += f".{part}" if s else str(part)
    return s


def allowed_fields(model: type[BaseModel] | None, loc: tuple) -> list[str]:
    """The field names allowed where `loc` (an unknown field's location) points, for suggestions."""
    cur: Any = model
    for part in loc[:-1]:
        if isinstance(part, int) or cur is None:
            continue
        info = next((f for n, f in cur.model_fields.items() if part in (n, f.alias)), None)
        if info is not None:  # else a key of a dict of models: the model stays the same
            cur = _model_in(info.annotation)
    return [f.alias or n for n, f in cur.model_fields.items()] if cur is not None else []


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        found = _model_in(arg)
        if found:
            return found
    return None


def describe(e: ValidationError, model: type[BaseModel] | None = None,
             secret: Collection[str] = ()) -> list[tuple[str, str]]:
    """Every problem in `e` as (path, message), the message ending in the fix. `model` is the
    validated model (for the names allowed in place of an unknown one); values of `secret`
    fields are never quoted."""
    out: list[tuple[str, str]] = []
    for err in e.errors(include_url=False):
        loc = clean_loc(err.get("loc", ()))
        exc = (err.get("ctx") or {}).get("error")
        if isinstance(exc, (InputError, InputErrors)):
            for x in exc.errors if isinstance(exc, InputErrors) else [exc]:
                out.append((join(join("", loc), x.field), x.reason))
            continue
        typ = err.get("type")
        msg = str(err.get("msg", "invalid")).removeprefix("Value error, ")
        if typ == "extra_forbidden":
            allowed = allowed_fields(model, loc)
            close = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            msg = f"unknown field: {hint}allowed here: {', '.join(allowed)}" if allowed else "unknown field: remove it"
        elif typ == "missing":
            msg = "is required"
        elif typ != "value_error" and "input" in err and not (loc and loc[0] in secret):
            msg = f"{msg} (got {_short(err['input'])})"
        out.append((join("", loc), msg))
    return out


def _short(v: Any) -> str:
    r = repr(v)
    return r if len(r) <= 80 else r[:77] + "..."
