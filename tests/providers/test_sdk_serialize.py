"""providers/sdk_serialize.py: each resource's provider pickled through one sorting layer.

The SDK's `serialize_provider` adds one wrapper to the pickler per call and never takes it
off; these tests show it still does (so the fix is still needed), that the installed wrapper
pickles the same bytes through one layer, and that it survives far more calls than the
recursion limit allows the SDK. tests/pipeline/test_sdk_serialize_engine.py previews a stack
of more than a thousand resources through the real engine."""

from __future__ import annotations

import sys

import pytest
from pulumi.dynamic import dynamic

from providers import sdk_serialize


@pytest.fixture(autouse=True)
def plain_pickler():
    sdk_serialize.plain()
    yield
    sdk_serialize.plain()


class Stateful:
    """A provider-like object whose state has nested dicts, so the sorting shows in the bytes
    (the project's providers pickle no state at all: providers/base.py, __getstate__)."""

    def __init__(self) -> None:
        self.settings = {"b": {"z": 1, "y": [{"x": 2, "w": 3}]}, "a": 1}


def provider() -> Stateful:
    return Stateful()


def test_the_sdk_still_adds_a_layer_per_call():
    # When this fails, the SDK stopped stacking wrappers on the pickler: providers/sdk_serialize.py
    # (and its install() in providers/base.py) can go.
    sdk = dynamic.serialize_provider.sdk
    for expected in (1, 2, 3):
        sdk(provider())
        assert sdk_serialize.layers() == expected


def test_installed_when_the_providers_are_imported():
    assert dynamic.serialize_provider.sdk is not None
    assert sdk_serialize.install() is True  # again: still one wrapper, not two
    assert getattr(dynamic.serialize_provider.sdk, "sdk", None) is None


def test_same_bytes_through_one_layer_past_the_recursion_limit():
    expected = dynamic.serialize_provider.sdk(provider())  # the SDK's first call: one layer
    sdk_serialize.plain()
    for _ in range(sys.getrecursionlimit() + 500):
        assert dynamic.serialize_provider(provider()) == expected
    assert sdk_serialize.layers() == 0


def test_plain_peels_only_the_sdks_layers():
    sdk = dynamic.serialize_provider.sdk
    for _ in range(5):
        sdk(provider())
    assert sdk_serialize.layers() == 5
    sdk_serialize.plain()
    import pickle  # noqa: PLC0415

    assert pickle._Pickler._batch_setitems.__qualname__ == "_Pickler._batch_setitems"

