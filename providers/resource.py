"""What the resource modules build on besides the provider base.

`Resource` is the base of every AEP resource class; `declared` derives a provider's managed
and passive inputs from its args model; `resource_args` turns a Resource constructor's
keyword arguments into its props and options; `member_ops`, `etag_patch` and `output_slots`
are the small pieces updates and constructors share.

Every Resource constructor also takes:

* `sandbox`: the AEP sandbox (default stack config aep:sandbox);
* `adopt_id`: the id of an existing AEP object to manage instead of creating one
  (docs/adoption.md): it is read, and written only where it differs from the inputs;
* `opts`: Pulumi's resource options.
"""

from __future__ import annotations

import dataclasses
import inspect
from typing import Any, Callable

import pulumi
import pulumi.dynamic

from .models import AEPArgs, Managed, Passive


class Resource(pulumi.dynamic.Resource):
    """The SDK's dynamic Resource, with each subclass's output annotations evaluated once.

    Why. The modules here use `from __future__ import annotations`, so an annotation such as
    `inlet_url: pulumi.Output[str]` is a string. The SDK resolves a resource class's annotations
    with `typing.get_type_hints` each time a resource's outputs arrive, compiling every string
    again: 0.16 s of a 50-pipeline program. Evaluated here, when the class is defined, they are
    objects already. Defines no `__init__`, so the frame that declared a resource stays its
    `sourcePosition`.
    """

    def __init_subclass__(cls, **kwargs: Any):
        super().__init_subclass__(**kwargs)
        cls.__annotations__ = inspect.get_annotations(cls, eval_str=True)


def declared(model: type[AEPArgs], computed: tuple[str, ...] = (), owner: str = "") -> tuple[
        tuple[Managed, ...], tuple[str, ...]]:
    """The managed fields (with their names) and passive field names an args model declares.

    Every field must say what it is: one left undeclared would be stored and never diffed,
    a change to it silently lost, so it is refused here, when the provider class is defined.
    """
    managed, passive, undeclared = [], [], []
    for name, info in model.model_fields.items():
        rule = next((m for m in info.metadata if isinstance(m, (Managed, Passive))), None)
        if isinstance(rule, Managed):
            managed.append(dataclasses.replace(rule, name=name))
        elif isinstance(rule, Passive):
            passive.append(name)
        elif name not in computed:
            undeclared.append(name)
    if undeclared:
        raise TypeError(f"{owner or model.__name__}: args-model field(s) {undeclared} are neither managed, computed "
                        "nor passive: annotate each with Managed(...) or Passive() (providers/models.py)")
    return tuple(managed), tuple(passive)


def resource_args(provider: Any, arguments: dict[str, Any]) -> tuple[dict, Any]:
    """The props and options of a dynamic Resource, from its constructor's `locals()`.

    Every keyword argument but `resource_name` and `opts` must be an input of the args model.
    The sandbox defaults to stack config aep:sandbox; secret inputs go in as secrets and come
    out as secret outputs; None values stay (they register the output and never reach
    check()), and every computed output gets its slot.
    """
    opts = arguments.get("opts")
    inputs = {k: v for k, v in arguments.items() if k not in ("self", "resource_name", "opts", "__class__")}
    unknown = sorted(set(inputs) - set(provider.args_model.model_fields))
    if unknown:
        raise TypeError(f"{provider.kind}: {unknown} are not inputs of {provider.args_model.__name__}")
    inputs = resource_props(inputs.pop("sandbox", None), **inputs)
    for name in provider.secret_inputs:
        if inputs.get(name) is not None:
            inputs[name] = pulumi.Output.secret(inputs[name])
    if provider.secret_inputs:
        opts = pulumi.ResourceOptions.merge(
            opts, pulumi.ResourceOptions(additional_secret_outputs=list(provider.secret_inputs)))
    return {**inputs, **output_slots(*provider.computed)}, opts


def resource_props(sandbox: Any, **inputs: Any) -> dict:
    """Inputs for a dynamic Resource: the sandbox (defaulting to stack config aep:sandbox) plus
    every input. None values stay: they register the output and never reach check()."""
    if sandbox is None:
        sandbox = pulumi.Config("aep").get("sandbox")
    return {"sandbox": sandbox, **inputs}


def member_ops(args: Any, changed: set[str], *keys: str) -> list[dict]:
    """JSON Patch ops setting top-level members that changed.

    `add`, not `replace`: RFC 6902 `replace` fails on a member the object lacks (an adopted
    object may have no description), while `add` on an existing member replaces it.
    """
    return [{"op": "add", "path": f"/{k}", "value": getattr(args, k)} for k in keys if k in changed]


def output_slots(*names: str) -> dict:
    """Placeholders that register computed outputs on a dynamic Resource."""
    return {n: None for n in names}


def etag_patch(patch: Callable[..., dict], sandbox: str, id_: str, ops: list[dict], olds: dict) -> dict:
    """One Flow Service PATCH with the stored etag; the new etag from its answer. No ops, no call."""
    if not ops:
        return {}
    return {"etag": patch(sandbox, id_, ops, olds["etag"]).get("etag")}
