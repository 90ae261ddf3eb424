"""Stack setting `aep-pipelines:linearOutputWait` (default true): a linear-time version of the
Pulumi Python SDK's end-of-program wait for outstanding outputs.

Why. When the program's code has run, the SDK (`pulumi.runtime.stack.wait_for_rpcs`, 3.272.0)
drains the set of pending Outputs with `asyncio.wait(pending, return_when=FIRST_COMPLETED)`
once per completed output, and puts the rest back: each call adds and removes a callback on
every pending task, so N outputs cost O(N^2). Every resource has an Output per property, so
a stack of 50 pipelines (about 350 resources, thousands of Outputs) spent most of the
program's CPU there: 7.0-7.3 s of 2 cores per `up` at 0 ms, 2.5-2.7 s with this version
(docs/benchmarks.md, "What was tried").

What it does instead. The same loop, except that the pending outputs are awaited one after
the other (each `await` blocks until that task is done; the others keep running on the event
loop meanwhile), then the set is read again for outputs created in the meantime. Every task
is still awaited and the first exception met is raised, as the SDK does; the difference is
only which of several failures is reported first.

Why it is safe to keep. The replacement is installed only when the SDK's function is the
exact code it was written against (a SHA-256 of its source): any other SDK version keeps its
own, and tests/pipeline/test_sdk_wait.py fails until someone reviews the new code and updates
SDK_SOURCE_SHA256 (or drops this module).
"""

from __future__ import annotations

import asyncio
import hashlib
import inspect
from typing import Any

from .settings import bool_setting

CONFIG_KEY = "aep-pipelines:linearOutputWait"
# inspect.getsource(pulumi.runtime.stack.wait_for_rpcs) of pulumi 3.272.0.
SDK_SOURCE_SHA256 = "c0f9027f85ad09255ded0a1908033b490f76d303a3e40b50d3cf47a69265469d"


class OutputWaitConfigError(ValueError):
    """`aep-pipelines:linearOutputWait` is not true or false."""


def parse(value: Any) -> bool:
    """The setting from a raw config value: unset means true."""
    return bool_setting(value, CONFIG_KEY, OutputWaitConfigError)


def sdk_matches() -> bool:
    """Whether the installed SDK's wait_for_rpcs is the code this module replaces."""
    from pulumi.runtime import stack  # noqa: PLC0415

    source = inspect.getsource(stack.wait_for_rpcs)
    return hashlib.sha256(source.encode()).hexdigest() == SDK_SOURCE_SHA256


async def wait_for_rpcs(await_all_outstanding_tasks: bool = True) -> None:
    """The SDK's wait_for_rpcs (3.272.0) with a linear drain of the pending outputs."""
    from pulumi import log  # noqa: PLC0415
    from pulumi.runtime.settings import SETTINGS, _get_rpc_manager  # noqa: PLC0415

    log.debug("Waiting for outstanding RPCs to complete")
    rpc_manager = _get_rpc_manager()
    while True:
        # As the SDK: await each RPC in turn (the most recent first), re-raising the original cause.
        while len(rpc_manager.rpcs) > 0:
            await asyncio.sleep(0)
            try:
                await rpc_manager.rpcs.pop()
            except Exception as exn:
                if rpc_manager.unhandled_exception is not None:
                    cause = rpc_manager.unhandled_exception.with_traceback(rpc_manager.exception_traceback)
                    raise exn from cause
                raise
        if rpc_manager.unhandled_exception is not None:
            raise rpc_manager.unhandled_exception.with_traceback(rpc_manager.exception_traceback)
        log.debug("RPCs successfully completed")
        if await_all_outstanding_tasks:
            while True:
                with SETTINGS.lock:
                    if len(SETTINGS.outputs) == 0:
                        break
                    pending: list[asyncio.Future] = list(SETTINGS.outputs)
                    SETTINGS.outputs.clear()
                # The one change: one pass over the pending outputs instead of one
                # asyncio.wait(FIRST_COMPLETED) over all of them per completion.
                for task in pending:
                    await task
            log.debug("All outstanding outputs completed.")
        if len(rpc_manager.rpcs) == 0:
            break


def apply(enabled: bool) -> bool:
    """Install the linear wait in the SDK if `enabled` and the SDK is the reviewed version;
    True when it was installed."""
    if not enabled:
        return False
    from pulumi import log  # noqa: PLC0415
    from pulumi.runtime import stack  # noqa: PLC0415

    if not sdk_matches():
        log.debug(f"{CONFIG_KEY}: this Pulumi SDK's wait_for_rpcs is not the reviewed one; keeping the SDK's")
        return False
    # run_pulumi_func looks it up as a module global when the program's code has run.
    stack.wait_for_rpcs = wait_for_rpcs
    return True


def from_stack() -> bool:
    """The running program's setting (raises OutputWaitConfigError with the fix)."""
    import pulumi  # noqa: PLC0415

    project, key = CONFIG_KEY.split(":", 1)
    return parse(pulumi.Config(project).get(key))
