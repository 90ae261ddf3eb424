"""The aep-guardrails policy pack: `pulumi preview --policy-pack policies` (docs/policies.md)."""

from guardrails import serve

serve()
