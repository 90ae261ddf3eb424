"""Stack setting `aep-pipelines:recordStackTraces` (default true): whether each resource's
state keeps the full Python stack trace the Pulumi SDK records when it is registered.

Why. For every resource the Python SDK walks the whole interpreter stack with
`traceback.extract_stack()` (which reads each frame's source line) and sends it to the
engine, which stores it in the state: about 1.3 KB per resource here, more than a third of
the state file, rewritten on every checkpoint of the file backend (docs/benchmarks.md,
"Engine cost per resource"). Offline nothing reads it; the Pulumi Cloud console shows it.

What `false` does. The SDK's private `pulumi.runtime.resource._get_stack_trace` is replaced,
for this program only, by one that returns just the frame of the code that created the
resource, found the way the SDK finds it (the caller of the third `__init__` from the top),
without reading source lines. So each resource keeps its `sourcePosition` (the file and
line that declared it) and a one-frame `stackTrace`; nothing else changes (URNs, inputs,
plans, API calls).

The SDK function is private: tests/pipeline/test_stack_traces.py fails when its name, its
call sites or its return type change, and at run time a missing function leaves the SDK's
behaviour in place with a warning instead of failing the deployment.
"""

from __future__ import annotations

import pathlib
import sys
from typing import Any

from .settings import bool_setting

CONFIG_KEY = "aep-pipelines:recordStackTraces"
SDK_FUNCTION = "_get_stack_trace"


class StackTraceConfigError(ValueError):
    """`aep-pipelines:recordStackTraces` is not true or false."""


def parse(value: Any) -> bool:
    """The setting from a raw config value: unset means true (the SDK's own behaviour)."""
    return bool_setting(value, CONFIG_KEY, StackTraceConfigError)


def caller_only() -> Any:
    """The SDK's StackTrace, reduced to the frame that created the resource (see module doc)."""
    from pulumi.runtime.proto import source_pb2  # noqa: PLC0415

    frame = sys._getframe(1)
    inits = 0
    while frame is not None:
        if frame.f_code.co_name == "__init__":
            inits += 1
            if inits == 3:
                break
        frame = frame.f_back
    caller = frame.f_back if frame is not None else None
    if caller is None or not caller.f_code.co_filename:
        return source_pb2.StackTrace()
    try:
        uri = pathlib.Path(caller.f_code.co_filename).as_uri()
    except ValueError:  # a relative or synthetic file name, as the SDK skips it
        return source_pb2.StackTrace()
    return source_pb2.StackTrace(frames=[source_pb2.StackFrame(pc=source_pb2.SourcePosition(
        uri=uri, line=caller.f_lineno))])


def apply(record: bool) -> bool:
    """Install `caller_only` in the SDK unless `record`; True when the SDK's function was replaced."""
    if record:
        return False
    import pulumi  # noqa: PLC0415
    from pulumi.runtime import resource  # noqa: PLC0415

    if not callable(getattr(resource, SDK_FUNCTION, None)):
        pulumi.log.warn(f"{CONFIG_KEY}=false has no effect with this Pulumi SDK (no pulumi.runtime.resource."
                        f"{SDK_FUNCTION}): full stack traces are recorded")
        return False
    setattr(resource, SDK_FUNCTION, caller_only)
    return True


def from_stack() -> bool:
    """The running program's setting (raises StackTraceConfigError with the fix)."""
    import pulumi  # noqa: PLC0415

    project, key = CONFIG_KEY.split(":", 1)
    return parse(pulumi.Config(project).get(key))
