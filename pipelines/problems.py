"""What is wrong with a spec: `Problem` (a path in the spec and the fix), `SpecError` (all of
them), and pydantic's validation errors turned into problems at the paths the user wrote.

Its own module so that the spec's checks (pipelines/unique.py, pipelines/ids.py) can report
problems without importing pipelines/spec.py.
"""

from __future__ import annotations

import copy
import difflib
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the spec: where (a path such as `pipelines[0].flow.name`) and the fix."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


class SpecError(ValueError):
    """The spec is invalid. `problems` lists every problem found, not just the first."""

    def __init__(self, origin: str, problems: list[Problem]):
        self.origin = origin
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"invalid pipeline spec ({origin}), {len(problems)} problem(s):\n{lines}")


# ---------------------------------------------------------------------------------------------
# pydantic's errors, at the user's paths
# ---------------------------------------------------------------------------------------------


def _loc(prefix: str, loc: tuple) -> str:
    s = prefix
    for part in loc:
        s += f"[{part}]" if isinstance(part, int) else (f".{part}" if s else str(part))
    return s


def _clean_loc(loc: tuple) -> tuple:
    """A pydantic location without its validator-wrapper entries (function-after[...], literal[...])."""
    return tuple(p for p in loc if not (isinstance(p, str) and p.startswith(("function-", "literal["))))


def _allowed(model: type[BaseModel], loc: tuple) -> list[str]:
    """The field names allowed at `loc` (the location of an unknown field), for suggestions."""
    cur: Any = model
    for part in loc[:-1]:
        if isinstance(part, int) or cur is None:
            continue
        if isinstance(cur, type) and issubclass(cur, BaseModel):
            info = next((f for n, f in cur.model_fields.items() if part in (n, f.alias)), None)
            cur = _model_in(info.annotation) if info else None
        else:
            cur = None
    if isinstance(cur, type) and issubclass(cur, BaseModel):
        return [f.alias or n for n, f in cur.model_fields.items()]
    return []


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        found = _model_in(arg)
        if found:
            return found
    return None


def pydantic_problems(e: ValidationError, root: type[BaseModel], prefix: str) -> list[Problem]:
    out = []
    for err in e.errors(include_url=False):
        loc = _clean_loc(err.get("loc", ()))
        path = _loc(prefix, loc)
        typ = err.get("type")
        msg = str(err.get("msg", "invalid")).removeprefix("Value error, ")
        if typ == "extra_forbidden":
            allowed = _allowed(root, loc)
            close = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            msg = f"unknown field: {hint}allowed here: {', '.join(allowed)}" if allowed else "unknown field: remove it"
        elif typ == "literal_error":
            msg = f"{msg} (got {err.get('input')!r})"
        elif typ == "missing":
            msg = "is required"
        out.append(Problem(path, msg))
    return out


def top_level(found: list[Problem], base: str) -> list[Problem]:
    """Problems at their real paths: under `pipelines` as `base[...]`, a file's other keys as
    written; a misspelled `pipelines:` is said once, as the typo it is."""
    out = []
    typo = any(p.path != "pipelines" and "did you mean 'pipelines'" in p.message for p in found)
    for p in found:
        if p.path == "pipelines" and p.message == "is required" and typo:
            continue  # the misspelled key above is the cause
        if p.path == "pipelines" or p.path.startswith(("pipelines.", "pipelines[")):
            out.append(Problem(base + p.path.removeprefix("pipelines"), p.message))
        elif "." not in p.path and "[" not in p.path and p.message.startswith("unknown field"):
            hint = "did you mean 'pipelines'? " if typo else ""
            out.append(Problem(p.path, f"unknown top-level key: {hint}the file holds one key, `pipelines:`, a list "
                               "of pipelines"))
        else:
            out.append(p)
    return out


def without(data: Any, e: ValidationError) -> Any:
    """A deep copy of `data` without the keys and list items the validation errors point at."""
    data = copy.deepcopy(data)
    for loc in sorted((err.get("loc", ()) for err in e.errors()), key=len, reverse=True):
        loc = _clean_loc(loc)
        cur = data
        for part in loc[:-1]:
            try:
                cur = cur[part]
            except (KeyError, IndexError, TypeError):
                cur = None
                break
        if isinstance(cur, dict) and loc:
            cur.pop(loc[-1], None)
    return data
