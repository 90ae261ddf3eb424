"""Stack setting `aep-pipelines:sdkDebugLogs` (default false): whether the Pulumi Python SDK's
own debug messages about each resource are sent to the engine.

Why. For every resource the SDK's runtime logs "registering resource ...", "resource
registration prepared ...", "resource registration successful ...", "beginning rpc ..." and more at
debug level, and each message is a blocking gRPC call to the engine (`pulumi.log.debug` ->
`engine.Log`), made on the program's event loop, about 1,400 calls for 50 pipelines. The CLI
shows them only under `pulumi up --debug`; otherwise the engine drops them. A no-op
`preview` of 50 pipelines took 8.1-8.6 s with them and 7.2-7.3 s without
(docs/benchmarks.md).

What `false` does. The SDK modules that log per resource or per RPC (`pulumi.runtime.resource`,
`pulumi.runtime.rpc`, `pulumi.runtime.rpc_manager`, `pulumi.runtime.stack`, `pulumi.resource`,
`pulumi.output`) each hold
the `pulumi.log` module as their module attribute `log`; that attribute is replaced, in this
program only, by a stand-in that drops `debug` and hands everything else (info, warn,
error) to the real module. `pulumi.log.debug` itself is untouched, so the project's own
debug messages still reach `--debug`. Set it to true when you need the SDK's chatter.

tests/pipeline/test_sdk_logs.py fails when those modules stop holding `log`, and a module
without it is left alone at run time.
"""

from __future__ import annotations

import importlib
import types
from typing import Any

from .settings import bool_setting

CONFIG_KEY = "aep-pipelines:sdkDebugLogs"
SDK_MODULES = ("pulumi.runtime.resource", "pulumi.runtime.rpc", "pulumi.runtime.rpc_manager", "pulumi.runtime.stack",
               "pulumi.resource", "pulumi.output")


class SdkLogsConfigError(ValueError):
    """`aep-pipelines:sdkDebugLogs` is not true or false."""


def parse(value: Any) -> bool:
    """The setting from a raw config value: unset means false."""
    return bool_setting(value, CONFIG_KEY, SdkLogsConfigError, default=False)


class WithoutDebug(types.ModuleType):
    """`pulumi.log` without `debug`: every other name is the real module's."""

    def __init__(self, real: types.ModuleType):
        super().__init__(real.__name__, real.__doc__)
        self._real = real

    def debug(self, *_args: Any, **_kwargs: Any) -> None:
        """Dropped: see the module doc."""

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)


def apply(send: bool) -> list[str]:
    """Unless `send`, silence the SDK's debug messages; the modules changed."""
    if send:
        return []
    from pulumi import log  # noqa: PLC0415

    quiet = WithoutDebug(log)
    changed = []
    for name in SDK_MODULES:
        module = importlib.import_module(name)
        if getattr(module, "log", None) is log:
            module.log = quiet
            changed.append(name)
    return changed


def from_stack() -> bool:
    """The running program's setting (raises SdkLogsConfigError with the fix)."""
    import pulumi  # noqa: PLC0415

    project, key = CONFIG_KEY.split(":", 1)
    return parse(pulumi.Config(project).get(key))
