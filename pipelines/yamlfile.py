"""Reading the spec file: YAML that refuses duplicate keys and names the file in every error.

PyYAML's `safe_load` keeps the last of two equal keys without a word, so a pipeline that
says `name:` twice, or a second `flow:` block pasted below the first, silently loses
half of what the user wrote. `StrictLoader` refuses any mapping with a repeated key and
says where both are. Merge keys (`<<: *anchor`) still work: what they bring in may be
overridden, as YAML specifies; only keys written twice in the same mapping are refused.

Errors name the file as the user wrote its path (PyYAML says `<unicode string>` for text).
"""

from __future__ import annotations

import pathlib
from typing import Any

import yaml

_MERGE = "tag:yaml.org,2002:merge"


class YamlFileError(ValueError):
    """The file is not YAML, or repeats a key; `line` and `column` are 1-based (None when unknown)."""

    def __init__(self, name: str, line: int | None, column: int | None, message: str):
        self.name, self.line, self.column, self.message = name, line, column, message
        super().__init__(f"{self.location}: {message}")

    @property
    def location(self) -> str:
        """`file, line L, column C`, as far as they are known."""
        return "".join([self.name, f", line {self.line}" if self.line else "",
                        f", column {self.column}" if self.line and self.column else ""])


class _RefuseRepeats:
    """A loader part that refuses a mapping with the same key twice."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        """The mapping, after checking its own keys (not merged ones) for repeats."""
        if isinstance(node, yaml.MappingNode):
            seen: dict[Any, yaml.Node] = {}
            for key_node, _ in node.value:
                if key_node.tag == _MERGE:
                    continue
                key = self.construct_object(key_node, deep=True)
                try:
                    first = seen.get(key)
                except TypeError:  # an unhashable key: SafeConstructor reports it below
                    continue
                if first is not None:
                    raise yaml.constructor.ConstructorError(
                        None, None, f"duplicate key {key!r} (first at line {first.start_mark.line + 1}): "
                        "YAML keeps only the last value, so one of them would be ignored; keep one",
                        key_node.start_mark)
                seen[key] = key_node
        return super().construct_mapping(node, deep=deep)


class StrictLoader(_RefuseRepeats, yaml.SafeLoader):
    """SafeLoader that refuses a mapping with the same key twice."""


# libyaml's parser, where PyYAML has it: the same documents, ten times faster (a 50-pipeline
# spec: 0.18 s in pure Python). Its error messages are worded differently, so a file it
# refuses is read again by StrictLoader, and every error is the one StrictLoader gives.
_FastStrictLoader = type("_FastStrictLoader", (_RefuseRepeats, yaml.CSafeLoader), {}) if getattr(
    yaml, "__with_libyaml__", False) else None


def load_file(path: pathlib.Path, shown: str) -> Any:
    """The YAML document in `path`, with errors naming it as `shown`; raises YamlFileError.

    FileNotFoundError passes through: the caller knows which setting named the file.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        line = e.object[:e.start].count(b"\n") + 1
        raise YamlFileError(shown, line, None, f"is not UTF-8 text (byte 0x{e.object[e.start]:02X}): save it as "
                            "UTF-8") from None
    if _FastStrictLoader is not None:
        fast = _FastStrictLoader(text)
        try:
            return fast.get_single_data()
        except yaml.YAMLError:
            pass  # StrictLoader below says what is wrong, in its words
        finally:
            fast.dispose()
    try:
        loader = StrictLoader(text)
    except yaml.reader.ReaderError as e:  # checked up front for text: a character YAML does not allow
        line = text.count("\n", 0, e.position) + 1
        raise YamlFileError(shown, line, None, f"is not valid YAML: character U+{e.character:04X} is not "
                            "allowed in YAML: remove it (or write it as an escape in a double-quoted string)") from None
    # Marks take the reader's name when they are made, so set it before anything is parsed.
    loader.name = shown
    try:
        return loader.get_single_data()
    except yaml.constructor.ConstructorError as e:
        if e.problem and e.problem.startswith("duplicate key"):
            raise YamlFileError(shown, e.problem_mark.line + 1, None, e.problem) from None
        raise _syntax(shown, e) from None
    except yaml.MarkedYAMLError as e:
        raise _syntax(shown, e) from None
    finally:
        loader.dispose()


def _syntax(shown: str, e: yaml.MarkedYAMLError) -> YamlFileError:
    """A parser or scanner error as one line: where it was noticed, what, and what it was inside."""
    mark = e.problem_mark or e.context_mark
    message = f"is not valid YAML: {e.problem or e.context}"
    if e.context and e.problem and e.context_mark is not None:
        message += f" ({e.context} at line {e.context_mark.line + 1})"
    return YamlFileError(shown, mark.line + 1 if mark else None, mark.column + 1 if mark else None, message)
