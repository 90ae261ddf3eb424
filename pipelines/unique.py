"""Names that must be unique across a stack's pipelines, compared the way AEP compares them.

The Schema Registry keeps schema titles, and field group titles, unique per sandbox and
compares them without regard to letter case: a second schema titled `pendo events` next
to `Pendo events` is refused with XDM-3005-400 "Title must be unique". `title_key` is that
comparison, the same rule the emulator applies (emulator/services/schemaregistry.py,
`_check_unique_title`); docs/emulator.md, "Unique titles", states it for both. The spec
checks it across all pipelines of the stack, so `preview` refuses what `up` would fail on
half way, after some objects exist.

Dataset and flow names are not unique in AEP; the spec still keeps them apart within a
sandbox, compared exactly, because two objects of one name are hard to tell apart in the UI.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable

from .problems import Problem, repeats

# What a pipeline's XdmSchema titles its field group (providers/xdm_schema.py, _field_group_body).
FIELD_GROUP_TITLE = "{title} fields"
RULE_DOC = "docs/emulator.md, Unique titles"


def title_key(title: str) -> str:
    """A title as the Schema Registry compares it: surrounding whitespace dropped, then lower case.

    str.lower, not str.casefold: `Straße` and `STRASSE` are two titles to AEP (and to the
    emulator), as they are to Java's equalsIgnoreCase.
    """
    return title.strip().lower()


def field_group_title(schema_title: str) -> str:
    """The title of the tenant field group a pipeline's schema keeps its fields in."""
    return FIELD_GROUP_TITLE.format(title=schema_title)


def unique_titles(schema_title: str) -> list[tuple[str, str]]:
    """(kind, title) of every object of a pipeline whose title AEP keeps unique per sandbox."""
    return [("schema", schema_title), ("field group", field_group_title(schema_title))]


def check(pipes: list[tuple[str, Any]]) -> list[Problem]:
    """Names AEP (or Pulumi) insists on being unique, checked across the stack's pipelines.

    `pipes` is (path in the spec, resolved pipeline). Each clash is reported once, on the
    later pipeline, naming the earlier one.
    """
    problems = []
    names = [p.name for _, p in pipes]
    dup_names = {n for n in names if names.count(n) > 1}
    problems += [Problem(f"{path}.name", f"{p.name!r} names another pipeline too: pipeline names name the Pulumi "
                         "resources, give each pipeline its own")
                 for i, (path, p) in enumerate(pipes) if p.name in dup_names and p.name in names[:i]]
    problems += _previous_names(pipes)
    pipes = [(path, p) for path, p in pipes if p.name not in dup_names]
    flagged: set[str] = set()
    for kind in ("schema", "field group"):
        seen: dict[tuple[str, str], tuple[str, str]] = {}
        for path, p in pipes:
            title = dict(unique_titles(p.schema_title))[kind]
            k = (p.sandbox, title_key(title))
            if k not in seen:
                seen[k] = (path, title)
                continue
            if path in flagged:
                continue  # the schema title already says it: its field group's title follows from it
            flagged.add(path)
            other, theirs = seen[k]
            same = "" if theirs == title else f" as {theirs!r}"
            problems.append(Problem(f"{path}.schema.title", f"{title!r} is also the {kind} title of {other}{same}: "
                                    f"{kind} titles are unique per sandbox, compared ignoring letter case "
                                    f"({RULE_DOC}); AEP would refuse the second with XDM-3005-400. Give each "
                                    "pipeline its own schema.title"))
    rules: list[tuple[str, Callable[[Any], tuple[str, str]], str]] = [
        ("dataset.name", lambda p: (p.sandbox, p.dataset_name), "two datasets of one name are hard to tell apart"),
        ("flow.name", lambda p: (p.sandbox, p.flow_name), "flow names identify pipelines in the AEP UI")]
    for field, key, why in rules:
        problems += [Problem(f"{path}.{field}", f"{k[1]!r} is also used by {first} ({why}): give each pipeline its "
                             "own") for path, k, first in repeats((path, key(p)) for path, p in pipes)]
    return problems


def _previous_names(pipes: Iterable[tuple[str, Any]]) -> list[Problem]:
    """`previous_names` must name no current pipeline and belong to one pipeline only."""
    pipes = list(pipes)
    current = {p.name: path for path, p in pipes}
    claimed: dict[str, str] = {}
    problems = []
    for path, p in pipes:
        for i, old in enumerate(p.previous_names):
            where = f"{path}.previous_names[{i}]"
            if old == p.name:
                problems.append(Problem(where, f"{old!r} is this pipeline's own name: list only the names it had "
                                        "before"))
            elif old in current:
                problems.append(Problem(where, f"{old!r} is the name of {current[old]}: a pipeline can only take "
                                        "over the name of one that is no longer declared. Remove it from "
                                        "previous_names, or rename that pipeline"))
            elif claimed.get(old) == path:
                problems.append(Problem(where, f"{old!r} is listed twice: list each previous name once"))
            elif old in claimed:
                problems.append(Problem(where, f"{old!r} is also a previous name of {claimed[old]}: the objects "
                                        "deployed under that name can go to one pipeline only"))
            else:
                claimed[old] = path
    return problems
