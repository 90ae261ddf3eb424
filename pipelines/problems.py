"""What is wrong with a spec: `Problem` (a path in the spec and the fix), `SpecError` (all of
them), and pydantic's validation errors turned into problems at the paths the user wrote.

Its own module so that the spec's checks (pipelines/unique.py, pipelines/ids.py) can report
problems without importing pipelines/spec.py.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any, Iterable, Iterator

from pydantic import BaseModel, ValidationError

from providers.problems import clean_loc, describe, join


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


def pydantic_problems(e: ValidationError, root: type[BaseModel], prefix: str) -> list[Problem]:
    """The validation errors of the spec's own models, at the user's paths (providers.problems)."""
    return [Problem(join(prefix, path) if path else prefix, msg) for path, msg in describe(e, root)]


def repeats(items: Iterable[tuple[str, Any]]) -> Iterator[tuple[str, Any, str]]:
    """(path, key, first path) for every item whose key an earlier item already has."""
    seen: dict[Any, str] = {}
    for path, key in items:
        if key in seen:
            yield path, key, seen[key]
        else:
            seen[key] = path


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
        loc = clean_loc(loc)
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
