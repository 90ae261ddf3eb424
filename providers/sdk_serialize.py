"""The Pulumi SDK's `serialize_provider`, pickling each resource's provider through one sorting
layer instead of one more per resource.

Why. For every dynamic resource the SDK (3.272.0, `pulumi/dynamic/dynamic.py`,
`serialize_provider`) pickles the provider with dill. To make the bytes deterministic it
wraps the pure-Python pickler's `_batch_setitems` in a function that sorts a dict's items
first. It takes the method to wrap from the class, where the previous call left its own
wrapper, and never puts the original back. So the k-th resource of a program is pickled
through k nested wrappers, each one sorting again and each one Python frame deep:
- The cost grows with the square of the resources: 0.18 s of a 50-pipeline program.
- At about 985 dynamic resources in one program the nesting passes Python's recursion
  limit, and the program dies with a RecursionError. That is 165 of the tutorial's pipelines,
  or 110 with identities and Profile.

What `install()` does. It replaces the module attribute the SDK's `Resource.__init__` calls,
`pulumi.dynamic.dynamic.serialize_provider`, with a wrapper that:
1. puts the standard library's own `_batch_setitems` back first, peeling off the SDK's
   wrappers (the functions of the SDK's qualified names whose one free variable is the method
   they wrap);
2. calls the SDK's function, which then wraps the method exactly once;
3. puts the standard library's method back again afterwards.

The pickled bytes are the same, because sorting once or k times gives the same order. An SDK
without the function, or whose layers look different, is left alone. Applied when the
providers package is imported, in every program that declares its resources.
tests/providers/test_sdk_serialize.py fails when the SDK stops nesting (this module can then
go) and when the wrapper changes what the SDK pickles.
"""

from __future__ import annotations

import pickle
from typing import Any, Callable

_SDK_LAYERS = ("serialize_provider.<locals>.batch_set_items_sorted_before_py14",
               "serialize_provider.<locals>.batch_set_items_sorted")
_FREE_VARIABLE = ("unsorted_batch_setitems",)


def _is_layer(f: Any) -> bool:
    code = getattr(f, "__code__", None)
    return (getattr(f, "__qualname__", "") in _SDK_LAYERS and code is not None
            and code.co_freevars == _FREE_VARIABLE and f.__closure__ is not None)


def _peel(f: Any) -> tuple[Any, int]:
    """The method under the SDK's wrappers on `f`, and how many there were."""
    depth = 0
    while _is_layer(f):
        f, depth = f.__closure__[0].cell_contents, depth + 1
    return f, depth


def layers() -> int:
    """How many of the SDK's sorting wrappers sit on the pure-Python pickler's `_batch_setitems`."""
    return _peel(pickle._Pickler.__dict__.get("_batch_setitems"))[1]


def plain() -> None:
    """Put the standard library's `_batch_setitems` back on the pure-Python pickler."""
    method, depth = _peel(pickle._Pickler.__dict__.get("_batch_setitems"))
    if depth:
        pickle._Pickler._batch_setitems = method


def _one_layer(sdk: Callable[[Any], str]) -> Callable[[Any], str]:
    def serialize_provider(provider: Any) -> str:
        """The SDK's serialize_provider, through one sorting layer (providers/sdk_serialize.py)."""
        plain()
        try:
            return sdk(provider)
        finally:
            plain()

    serialize_provider.sdk = sdk  # type: ignore[attr-defined]
    return serialize_provider


def install() -> bool:
    """Route the SDK's dynamic resources through `_one_layer`; whether it is in place."""
    try:
        from pulumi.dynamic import dynamic  # noqa: PLC0415 - the providers import pulumi anyway
    except ImportError:
        return False
    current = getattr(dynamic, "serialize_provider", None)
    if current is None:
        return False
    if getattr(current, "sdk", None) is not None:
        return True
    dynamic.serialize_provider = _one_layer(current)
    return True
