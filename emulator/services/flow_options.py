"""A flow's `options`, checked against its flow spec's `optionSpec` (a JSON Schema of properties).

GenericStreamingAEP declares `errorDiagnosticsEnabled` (boolean) and `partialIngestionPercent`
(number above 0); a flow stores what it was created with and renders it beside the
`inletUrl` the service adds. Flow Service documents no update of a flow's options, so PATCH
leaves them alone (its path rules refuse `/options`).
"""

from __future__ import annotations

from typing import Any

# What the service itself writes into `options`: a client does not set it.
_SERVER_OWNED = {"inletUrl"}
_TYPES = {"boolean": (bool,), "number": (int, float), "integer": (int,), "string": (str,)}


def check(flow_spec: dict[str, Any], options: Any) -> dict[str, Any]:
    """The options to store for a new flow of `flow_spec`; ValueError naming what is wrong."""
    if options is None:
        return {}
    if not isinstance(options, dict):
        raise ValueError("'options' must be an object.")
    spec = ((flow_spec.get("optionSpec") or {}).get("spec") or {}).get("properties") or {}
    out: dict[str, Any] = {}
    for key, value in options.items():
        if key in _SERVER_OWNED:
            continue
        rule = spec.get(key)
        if rule is None:
            known = ", ".join(sorted(spec)) or "none"
            raise ValueError(f"Option '{key}' is not defined by flow spec {flow_spec.get('name')} (options: {known}).")
        types = _TYPES.get(rule.get("type"), (object,))
        if (isinstance(value, bool) and bool not in types) or not isinstance(value, types):
            raise ValueError(f"Option '{key}' must be of type {rule.get('type')}.")
        minimum = rule.get("exclusiveMinimum")
        if minimum is not None and not value > minimum:
            raise ValueError(f"Option '{key}' must be greater than {minimum}.")
        out[key] = value
    return out
