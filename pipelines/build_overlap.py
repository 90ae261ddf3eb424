"""Stack setting `aep-pipelines:overlapBuild` (default true): the program builds its pipelines
one at a time and lets the SDK send each one's registrations to the engine while it builds
the next.

Why. A Pulumi Python program's module code runs in one step of the SDK's event loop, and every
resource's registration is a task on that loop, so with a plain top-level loop over the
pipelines no registration leaves the program before the last pipeline is built. The engine
then starts the dynamic-provider process (about 0.5 s of start-up) and checks and diffs the
resources one after the other only after all of that, while the machine's other core sat
idle during the build. Built through `pulumi.run` (the SDK's public async entrypoint), with a
short pause after each pipeline, the first pipeline's registrations reach the engine while
the second is being built: a no-op `preview` of 50 pipelines took 2.47 s instead of 2.72 s
(docs/benchmarks.md, "What was tried").

Why a real pause and not `asyncio.sleep(0)`. Each registration's RPC runs on an executor
thread, which needs the interpreter's lock that the building thread holds; yielding to the
loop alone gives the tasks a turn but not the threads (measured: 2.65 s against 2.50 s with
PAUSE_S). PAUSE_S per pipeline is far below what the engine spends on one (six resources'
`Check` and `Diff`, about 16 ms), so the pauses never make the program the slower side.

What it does not change. The resources, their order of registration, their options and the
plan are the same as with `false`; the spec and the settings are validated before the first
resource is built either way, so a bad spec still registers nothing. `false` builds them all
in the program's module code, as the project did before.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any

from .settings import bool_setting

CONFIG_KEY = "aep-pipelines:overlapBuild"
PAUSE_S = 0.002


class OverlapBuildConfigError(ValueError):
    """`aep-pipelines:overlapBuild` is not true or false."""


def parse(value: Any) -> bool:
    """The setting from a raw config value: unset means true."""
    return bool_setting(value, CONFIG_KEY, OverlapBuildConfigError)


async def build(pipelines: list, providers: Sequence = (), export: Callable[[dict], None] = lambda _built: None,
                pause_s: float | None = None) -> None:
    """`streaming.build`, pausing after each pipeline so that its registrations leave, then
    `export` the pipelines by name. It returns nothing: `pulumi.run` would export a mapping."""
    from .streaming import build_each  # noqa: PLC0415

    # The loop is this coroutine's own, so each resource's stack trace has as many of the
    # project's frames as the module-level build had.
    pause_s = PAUSE_S if pause_s is None else pause_s
    built = {}
    for name, component in build_each(pipelines, providers):
        built[name] = component
        await asyncio.sleep(pause_s)
    export(built)


def run(overlap: bool, pipelines: list, providers: Sequence, export: Callable[[dict], None]) -> None:
    """Build the pipelines and `export` them: through `pulumi.run` when `overlap`, else at once."""
    import pulumi  # noqa: PLC0415

    from .streaming import build as build_at_once  # noqa: PLC0415

    if overlap:
        pulumi.run(lambda: build(pipelines, providers, export))
    else:
        export(build_at_once(pipelines, providers))


def from_stack() -> bool:
    """The running program's setting (raises OverlapBuildConfigError with the fix)."""
    import pulumi  # noqa: PLC0415

    project, key = CONFIG_KEY.split(":", 1)
    return parse(pulumi.Config(project).get(key))
