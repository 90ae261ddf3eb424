"""aep-pipelines:linearOutputWait (pipelines/sdk_wait.py): the SDK code it replaces is the
reviewed version (this fails loudly when the SDK changes it), and the linear wait awaits
every output, late ones included, and raises a failed one's exception."""

from __future__ import annotations

import asyncio
import inspect

import pytest
from pulumi.runtime import stack
from pulumi.runtime.settings import SETTINGS, _get_rpc_manager

from pipelines import sdk_wait


def test_the_sdk_function_is_the_reviewed_one():
    """If this fails, the Pulumi SDK changed wait_for_rpcs: the linear wait is no longer installed. Read the
    new pulumi/runtime/stack.py, port the change into pipelines/sdk_wait.py (or drop the module) and update
    SDK_SOURCE_SHA256."""
    assert sdk_wait.sdk_matches(), "pulumi.runtime.stack.wait_for_rpcs changed: review pipelines/sdk_wait.py"
    # The program's end runs through this call site, a module-global lookup the replacement relies on.
    assert "await wait_for_rpcs()" in inspect.getsource(stack.run_pulumi_func)
    assert inspect.signature(stack.wait_for_rpcs).parameters.keys() == \
        inspect.signature(sdk_wait.wait_for_rpcs).parameters.keys()


@pytest.mark.parametrize("raw, expected", [(None, True), ("", True), ("false", False), ("TRUE", True), (False, False)])
def test_the_setting(raw, expected):
    assert sdk_wait.parse(raw) is expected


def test_a_bad_setting_names_the_key():
    with pytest.raises(sdk_wait.OutputWaitConfigError, match="linearOutputWait must be true or false"):
        sdk_wait.parse("fast")


@pytest.fixture
def outputs():
    """The SDK's global set of pending outputs, emptied for the test and restored after it."""
    assert not _get_rpc_manager().rpcs
    saved = set(SETTINGS.outputs)
    SETTINGS.outputs.clear()
    yield SETTINGS.outputs
    SETTINGS.outputs.clear()
    SETTINGS.outputs.update(saved)


def test_every_output_is_awaited_late_ones_included(outputs):
    done: list[str] = []

    async def scenario():
        async def value(name: str, delay: float):
            await asyncio.sleep(delay)
            done.append(name)
            if name == "b":  # an output created while the wait runs, as an apply callback makes
                outputs.add(asyncio.ensure_future(value("late", 0.01)))

        for name, delay in (("a", 0.03), ("b", 0.0), ("c", 0.02)):
            outputs.add(asyncio.ensure_future(value(name, delay)))
        await sdk_wait.wait_for_rpcs()

    run(scenario())
    assert sorted(done) == ["a", "b", "c", "late"] and not outputs


def test_a_failed_output_is_raised(outputs):
    async def scenario():
        async def fails():
            await asyncio.sleep(0.01)
            raise RuntimeError("create failed: HTTP 400")

        async def slow():
            await asyncio.sleep(0.02)

        outputs.update({asyncio.ensure_future(slow()), asyncio.ensure_future(fails())})
        await sdk_wait.wait_for_rpcs()

    with pytest.raises(RuntimeError, match="create failed: HTTP 400"):
        run(scenario())


def test_apply_installs_it_only_when_enabled(monkeypatch):
    monkeypatch.setattr(stack, "wait_for_rpcs", stack.wait_for_rpcs)
    original = stack.wait_for_rpcs
    assert sdk_wait.apply(False) is False and stack.wait_for_rpcs is original
    assert sdk_wait.apply(True) is True and stack.wait_for_rpcs is sdk_wait.wait_for_rpcs
    monkeypatch.setattr(sdk_wait, "SDK_SOURCE_SHA256", "0" * 64)
    monkeypatch.setattr(stack, "wait_for_rpcs", original)
    assert sdk_wait.apply(True) is False and stack.wait_for_rpcs is original


def run(coro) -> None:
    """On a loop of its own: asyncio.run() would leave the thread without a current event loop,
    which later tests (Pulumi's mocks) need."""
    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(coro)
    finally:
        loop.close()
