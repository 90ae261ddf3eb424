"""Stack setting `aep-pipelines:recordStackTraces`: how much of the Python stack each
resource's state keeps from the trace the Pulumi SDK records when it is registered.

Why. For every resource the Python SDK walks the whole interpreter stack with
`traceback.extract_stack()` (which reads each frame's source line) and sends it to the
engine, which stores it in the state: 16 frames, about 1.3 KB per resource here, more than a
third of the state file, rewritten on every checkpoint of the file backend
(docs/benchmarks.md, "Engine cost per resource"). Eleven of the 16 are not the project's
code: the language host's runner, the SDK's own frames and asyncio's, with paths of the
machine that ran the update (`/root/.pyenv/...`). Offline nothing reads the trace; the
Pulumi Cloud console shows it.

The values:

* unset or `project` (the default): the frame of the code that declared the resource, then
  the frames in the project's own files out to `__main__.py` (5 for a pipeline's resource);
  the interpreter's, the SDK's and the installed packages' frames are left out.
* `true`: the SDK's full trace, as recorded without this project.
* `false`: only the frame of the code that declared the resource.

How. The SDK's private `pulumi.runtime.resource._get_stack_trace` is replaced, for this
program only, by a walk of the live frames that finds the declaring frame the way the SDK
does (the caller of the third `__init__` from the top) and keeps what the mode keeps,
without reading source lines. Each resource keeps its `sourcePosition` (the file and line
that declared it, the first frame either way); nothing else changes (URNs, inputs, plans,
API calls).

The SDK function is private: tests/pipeline/test_stack_traces.py fails when its name, its
call sites or its return type change, and at run time a missing function leaves the SDK's
behaviour in place with a warning instead of failing the deployment.
"""

from __future__ import annotations

import os
import pathlib
import sys
from typing import Any, Callable

CONFIG_KEY = "aep-pipelines:recordStackTraces"
SDK_FUNCTION = "_get_stack_trace"
FULL, PROJECT, CALLER = "full", "project", "caller"
_VALUES = {"true": FULL, "project": PROJECT, "false": CALLER}


class StackTraceConfigError(ValueError):
    """`aep-pipelines:recordStackTraces` is not true, project or false."""


def parse(value: Any) -> str:
    """The mode from a raw config value: unset means `project`."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return PROJECT
    text = str(value).strip().lower()  # YAML may have made a bool of true/false
    if text in _VALUES:
        return _VALUES[text]
    raise StackTraceConfigError(
        f"{CONFIG_KEY} must be true, project or false, got {value!r}: set it with `pulumi config set "
        f"{CONFIG_KEY} false` (or `true`, the SDK's full trace), or remove it (`pulumi config rm {CONFIG_KEY}`) "
        f"for the default, project (the frames in the project's own files)")


def _declaring_frame(frame: Any) -> Any:
    """The frame of the code that created the resource: the caller of the third `__init__`
    from the top, as the SDK's `_get_stack_trace` finds it; None if there is none."""
    inits = 0
    while frame is not None:
        if frame.f_code.co_name == "__init__":
            inits += 1
            if inits == 3:
                return frame.f_back
        frame = frame.f_back
    return None


def _uri(filename: str) -> str | None:
    """A frame's file as the SDK writes it (a file URI); None for a synthetic one, which it skips."""
    if not filename:
        return None
    try:
        return pathlib.Path(filename).as_uri()
    except ValueError:  # a relative or synthetic file name ("<frozen runpy>")
        return None


def _stack_trace(frames: list[tuple[str, int]]) -> Any:
    from pulumi.runtime.proto import source_pb2  # noqa: PLC0415

    return source_pb2.StackTrace(frames=[source_pb2.StackFrame(pc=source_pb2.SourcePosition(uri=uri, line=line))
                                         for uri, line in frames])


def caller_only() -> Any:
    """The SDK's StackTrace, reduced to the frame that created the resource (see module doc)."""
    caller = _declaring_frame(sys._getframe(1))
    uri = _uri(caller.f_code.co_filename) if caller is not None else None
    return _stack_trace([(uri, caller.f_lineno)] if uri else [])


# A frame's file -> its URI if it is the project's own code, else None (decided once per file).
_PROJECT_FILES: dict[str, str | None] = {}


def _project_uri(filename: str, root: str, prefixes: tuple[str, ...]) -> str | None:
    if filename not in _PROJECT_FILES:
        path = os.path.abspath(filename) if filename and not filename.startswith("<") else ""
        inside = bool(path) and path.startswith(root) and not path.startswith(prefixes)
        _PROJECT_FILES[filename] = _uri(path) if inside else None
    return _PROJECT_FILES[filename]


def project_frames() -> Any:
    """The SDK's StackTrace, reduced to the frames in the project's own files (see module doc):
    under the program's directory and outside the interpreter's prefixes (the virtualenv)."""
    root = os.path.join(os.getcwd(), "")
    prefixes = tuple(os.path.join(p, "") for p in {sys.prefix, sys.base_prefix, sys.exec_prefix})
    frame = _declaring_frame(sys._getframe(1))
    frames = []
    if frame is not None:
        # The declaring frame always, wherever it is: it is the resource's sourcePosition.
        uri = _uri(frame.f_code.co_filename)
        if uri:
            frames.append((uri, frame.f_lineno))
        frame = frame.f_back
    while frame is not None:
        uri = _project_uri(frame.f_code.co_filename, root, prefixes)
        if uri:
            frames.append((uri, frame.f_lineno))
        frame = frame.f_back
    return _stack_trace(frames)


REPLACEMENTS: dict[str, Callable[[], Any]] = {PROJECT: project_frames, CALLER: caller_only}


def apply(mode: str) -> bool:
    """Install the mode's replacement in the SDK (none for `full`); True when it was replaced."""
    replacement = REPLACEMENTS.get(mode)
    if replacement is None:
        return False
    import pulumi  # noqa: PLC0415
    from pulumi.runtime import resource  # noqa: PLC0415

    if not callable(getattr(resource, SDK_FUNCTION, None)):
        pulumi.log.warn(f"{CONFIG_KEY} has no effect with this Pulumi SDK (no pulumi.runtime.resource."
                        f"{SDK_FUNCTION}): full stack traces are recorded")
        return False
    setattr(resource, SDK_FUNCTION, replacement)
    return True


def from_stack() -> str:
    """The running program's setting (raises StackTraceConfigError with the fix)."""
    import pulumi  # noqa: PLC0415

    project, key = CONFIG_KEY.split(":", 1)
    return parse(pulumi.Config(project).get(key))
