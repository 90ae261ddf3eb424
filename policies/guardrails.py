"""The project's guardrails as Pulumi policies (pulumi-policy); docs/policies.md lists them.

Two facts the guardrails are about never reach a pulumi-policy validation: whether an
input is a Pulumi secret (the SDK unwraps secrets before calling a policy) and the stack's
own configuration (the SDK keeps only the stack's tags from ConfigureStack). Both are in
the gRPC requests the engine sends, so `serve()` runs the pack with a servicer that keeps
them: the stack (name, config, secret keys) from ConfigureStack, and the raw properties of
the resources under analysis, with secrets still marked and unknowns as the engine's
sentinels. Policies read resources from there; values are never logged or reported.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Mapping
from typing import Any

from google.protobuf import json_format
from pulumi.runtime import rpc
from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    PolicyPack,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from pipelines.workspace import is_loopback

AEP_TYPE = "pulumi-python:dynamic/aep:"
PROVIDER_TYPE = "pulumi:providers:"
# How the engine marks a secret value on the wire: the SDK's own sentinels, not copies of them.
_SIG, _SECRET = rpc._special_sig_key, rpc._special_secret_sig
_UNKNOWNS = {"04da6b54-80e4-46f7-96ec-b56ff0331ba9", "1c4a061d-8072-4f0a-a4cb-0ff528b18fe7",
             "3eeb2bf0-c639-47a8-9e75-3b44932eb421", "6a19a0b0-7e62-4c92-b797-7f8e31da9cc2",
             "dd056dcd-154b-4c76-9bd3-c8f88648b5ff"}
NON_PRODUCTION = ["dev"]
DEFAULT_NAME_PATTERN = r"^\S(.{0,98}\S)?$"
# Until identity descriptors exist, an identity field is a mapping destination with one of
# these path segments (XDM's identity containers and the usual person/account ids).
DEFAULT_IDENTITY_FIELDS = ["identityMap", "endUserIDs", "personID", "personalEmail", "email", "ecid", "crmId",
                           "userId", "visitorId", "accountId", "customerId", "personId"]


class StackInfo:
    """The stack under analysis, as the engine's ConfigureStack request describes it."""

    def __init__(self) -> None:
        self.name = ""
        self.config: dict[str, str] = {}
        self.secret_keys: set[str] | None = None  # None: the engine did not say
        self._said: set[str] = set()
        self._lock = threading.Lock()

    def configure(self, request: Any) -> None:
        self.name = request.stack
        self.config = dict(request.config)
        self.secret_keys = set(request.config_secret_keys)

    def once(self, key: str) -> bool:
        """True the first time `key` is asked for: a stack-wide finding is reported once."""
        with self._lock:
            if key in self._said:
                return False
            self._said.add(key)
            return True


STACK = StackInfo()
_seen = threading.local()  # .props: {urn: raw properties} of the request being analyzed


def raw_props(urn: str) -> dict[str, Any]:
    return (getattr(_seen, "props", None) or {}).get(urn) or {}


def is_secret(v: Any) -> bool:
    return isinstance(v, Mapping) and v.get(_SIG) == _SECRET


def is_unknown(v: Any) -> bool:
    return isinstance(v, str) and v in _UNKNOWNS


def plain(v: Any) -> Any:
    """The value with secret markers removed (for checks that are not about secrecy)."""
    if is_secret(v):
        return plain(v.get("value"))
    if isinstance(v, Mapping):
        return {k: plain(x) for k, x in v.items()}
    if isinstance(v, list):
        return [plain(x) for x in v]
    return v


def plaintext_paths(v: Any, path: str) -> list[str]:
    """Where under `v` a value reaches the resource without being a secret."""
    if is_secret(v) or v is None or is_unknown(v):
        return []
    if isinstance(v, Mapping):
        return [p for k, x in v.items() for p in plaintext_paths(x, f"{path}.{k}")]
    if isinstance(v, list):
        return [p for i, x in enumerate(v) for p in plaintext_paths(x, f"{path}[{i}]")]
    return [path]


def kind_of(resource_type: str) -> str | None:
    """`Dataset` for an AEP resource of the project's providers, else None."""
    return resource_type[len(AEP_TYPE):] if resource_type.startswith(AEP_TYPE) else None


def label(resource_type: str, name: str) -> str:
    kind = kind_of(resource_type) or resource_type
    return f"{kind} «{name}»"


def production(args: ResourceValidationArgs | StackValidationArgs) -> bool:
    """Does the stack count as production? Not in nonProductionStacks, and holding data: the rule
    the pipeline component protects datasets by (pipelines/streaming.py protect_data), so a
    stack on the local emulator counts only when aep-pipelines:protectData: true says so (turning
    protectData off elsewhere does not make a stack non-production)."""
    if STACK.name in (args.get_config().get("nonProductionStacks") or NON_PRODUCTION):
        return False
    if str(STACK.config.get("aep-pipelines:protectData") or "").strip().lower() == "true":
        return True
    return not is_loopback(str(STACK.config.get("aep:endpoint") or os.environ.get("AEP_ENDPOINT") or ""))


# ---------------------------------------------------------------------------------------------
# The policies
# ---------------------------------------------------------------------------------------------


def no_plaintext_credentials(args: ResourceValidationArgs, report) -> None:
    """Base-connection auth params and the client secret reach resources only as secrets."""
    props, what = raw_props(args.urn), label(args.resource_type, args.name)
    if kind_of(args.resource_type) == "BaseConnection":
        for path in plaintext_paths(props.get("auth_params"), "auth_params"):
            report(f"{what} receives {path} in plaintext: it would be stored unencrypted in the state and shown in "
                   "diffs. Fix: pass the auth params as Pulumi secrets (providers.BaseConnection wraps them with "
                   "pulumi.Output.secret; from config, `pulumi config set --secret` and Config.require_secret).")
    # A default provider's inputs are the stack's config, which the stack-wide finding below
    # covers with a better fix whenever the engine said which config keys are secret.
    default = args.name.startswith("default")
    if args.resource_type.startswith(PROVIDER_TYPE) and not (default and STACK.secret_keys is not None):
        fix = ("`pulumi config set --secret aep:clientSecret <secret>`" if default else
               "give it as a secret (pipelines.shards.provider_inputs() does; or pulumi.Output.secret(...))")
        for key, value in props.items():
            if key.rsplit(":", 1)[-1] == "clientSecret" and plaintext_paths(value, key):
                report(f"{what} receives {key} in plaintext: the provider's inputs are stored in the state. "
                       f"Fix: {fix}.")
    if (kind_of(args.resource_type) and STACK.secret_keys is not None and "aep:clientSecret" in STACK.config
            and "aep:clientSecret" not in STACK.secret_keys and STACK.once("clientSecret")):
        report(f"stack {STACK.name!r} holds aep:clientSecret as plaintext config, so the client secret reaches {what} "
               "and every AEP resource unencrypted (and sits in stacks/Pulumi.<stack>.yaml in the clear). Fix: "
               f"`pulumi config set --secret aep:clientSecret <secret> --stack {STACK.name}`, or leave it out of the "
               "config and set AEP_CLIENT_SECRET in the environment.")


def sandbox_of_the_stack(args: ResourceValidationArgs, report) -> None:
    """Every AEP resource targets the stack's own aep:sandbox."""
    if not kind_of(args.resource_type):
        return
    got = plain(raw_props(args.urn).get("sandbox"))
    want = STACK.config.get("aep:sandbox")
    what = label(args.resource_type, args.name)
    if is_unknown(got):
        return
    if not want:
        report(f"{what} targets sandbox {got!r}, but stack {STACK.name!r} sets no aep:sandbox, so nothing says which "
               f"sandbox it owns. Fix: `pulumi config set aep:sandbox <sandbox> --stack {STACK.name}`.")
    elif got != want:
        report(f"{what} targets sandbox {got!r}, but stack {STACK.name!r} deploys sandbox {want!r} (aep:sandbox): one "
               f"stack never writes another sandbox. Fix: remove the pipeline's `sandbox:` (it defaults to "
               f"aep:sandbox) or set it to {want!r}, and deploy sandbox {got!r} from a stack of its own "
               f"(stacks/Pulumi.{got}.yaml, docs/real-sandbox.md).")


def protect_production_data(args: ResourceValidationArgs, report) -> None:
    """Outside non-production stacks, datasets and Profile schemas are protected or retained on delete."""
    kind = kind_of(args.resource_type)
    profile_schema = kind == "XdmSchema" and plain(raw_props(args.urn).get("profile")) is True
    if kind != "Dataset" and not profile_schema:
        return
    if not production(args):
        args.not_applicable(f"stack {STACK.name!r} is not a production stack")
    if args.opts.protect or plain(raw_props(args.urn).get("retain_on_delete")) is True:
        return
    if profile_schema:
        report(f"XdmSchema «{args.name}» in stack {STACK.name!r} is enabled for Profile but neither protected nor "
               "retained on delete: AEP cannot delete a Profile schema, so a plan that deletes it fails half way, "
               "after its dataset and flow are gone. Fix: the pipeline component retains it; in a program of your "
               "own, give the XdmSchema retain_on_delete=True (or protect=True).")
        return
    report(f"Dataset «{args.name}» in stack {STACK.name!r} is neither protected nor retained on delete: "
           "`pulumi destroy`, or removing its pipeline, would delete the dataset and the data ingested into it. "
           "Fix: set `retain_on_delete: true` on the pipeline in the spec (or aep-pipelines:retainOnDelete: true "
           f"in stacks/Pulumi.{STACK.name}.yaml for every pipeline of the stack); in a program of your own, give "
           "the Dataset protect=True or retain_on_delete=True.")


def enabled_flow_has_mapping(args: StackValidationArgs, report) -> None:
    """An enabled dataflow from a non-XDM source carries a mapping."""
    for res in args.resources:
        if kind_of(res.resource_type) != "Dataflow":
            continue
        props = plain(raw_props(res.urn))
        if props.get("enabled") is False or props.get("mapping_id") not in (None, ""):
            continue  # disabled, or mapped (an id, or one known once its MappingSet exists)
        sources = [d for d in res.property_dependencies.get("source_connection_id", [])
                   if kind_of(d.resource_type) == "SourceConnection"]
        formats = [source_format(plain(raw_props(s.urn))) for s in sources]
        if sources and all(f == "xdm" for f in formats):
            continue
        origin = (", ".join(f"«{s.name}» ({f})" for s, f in zip(sources, formats, strict=True)) if sources else
                  "a source connection outside this stack (its data format cannot be checked)")
        report(f"Dataflow «{res.name}» is enabled but carries no mapping, and its source {origin} does not send "
               "XDM: AEP would ingest nothing that is not already shaped as the target schema. Fix: give it "
               "mapping_id and mapping_version from a MappingSet (the spec's `mappings:`), or enabled=False "
               "until it has one.", res.urn)


def source_format(props: Mapping[str, Any]) -> str:
    """`xdm` for a source that sends XDM already, else what it sends (json by default)."""
    params = props.get("params") if isinstance(props.get("params"), Mapping) else {}
    for value in (params.get("dataType"), props.get("data_format")):
        if isinstance(value, str) and value.lower() == "xdm":
            return "xdm"
    return str(props.get("data_format") or "json")


def naming(args: ResourceValidationArgs, report) -> None:
    """Display names match the configured pattern (for example a team prefix)."""
    kind = kind_of(args.resource_type)
    if not kind:
        return
    field = "title" if kind == "XdmSchema" else "name"
    value = plain(raw_props(args.urn).get(field))
    if not isinstance(value, str) or is_unknown(value):
        return
    pattern = args.get_config().get("pattern") or DEFAULT_NAME_PATTERN
    try:
        matches = re.search(pattern, value) is not None
    except re.error as e:
        report(f"the naming pattern {pattern!r} is not a regular expression ({e}), so {kind} «{args.name}» cannot "
               "be checked. Fix: correct naming.pattern in the stack's policy config (policies/config/).")
        return
    if not matches:
        rule = args.get_config().get("description") or f"the pattern {pattern}"
        report(f"{kind} «{args.name}» has the display name {value!r}, which does not follow {rule} (naming.pattern "
               f"in policies/config/{STACK.name}.json). Fix: rename it (its `{field}` in the spec), or change the "
               "pattern.")


def identity_fields(mappings: Any, names: list[str]) -> list[str]:
    """The mapping destinations that are identity fields: one of `names` as a path segment."""
    wanted = {n.lower() for n in names}
    found = []
    for m in mappings if isinstance(mappings, list) else []:
        dest = m.get("destination") if isinstance(m, Mapping) else None
        if isinstance(dest, str) and wanted & {seg.lower() for seg in dest.split(".")}:
            found.append(dest)
    return found


def identity_in_production(args: ResourceValidationArgs, report) -> None:
    """Production pipelines map at least one identity field."""
    if kind_of(args.resource_type) != "MappingSet":
        return
    if not production(args):
        args.not_applicable(f"stack {STACK.name!r} is not a production stack")
    mappings = plain(raw_props(args.urn).get("mappings"))
    if not isinstance(mappings, list):
        return  # not known before an earlier resource exists
    names = args.get_config().get("identityFields") or DEFAULT_IDENTITY_FIELDS
    if identity_fields(mappings, names):
        return
    dests = ", ".join(str(m.get("destination")) for m in mappings if isinstance(m, Mapping)) or "none"
    report(f"MappingSet «{args.name}» in stack {STACK.name!r} maps no identity field (destinations: {dests}), so "
           "Real-Time Customer Profile cannot tie these records to a person or account. Fix: map an identity, a "
           f"destination with a segment such as {', '.join(names[:6])}, ...; or list your own identity fields in "
           "identity-in-production.identityFields.")


_STACKS = {"nonProductionStacks": {"type": "array", "items": {"type": "string"},
                                   "description": "stacks this policy does not apply to (default: dev)"}}

POLICIES = [
    ResourceValidationPolicy(
        name="no-plaintext-credentials", enforcement_level=EnforcementLevel.MANDATORY,
        validate=no_plaintext_credentials,
        description="Base-connection auth parameters and the AEP client secret reach resources only as Pulumi "
                    "secrets."),
    ResourceValidationPolicy(
        name="sandbox-of-the-stack", enforcement_level=EnforcementLevel.MANDATORY, validate=sandbox_of_the_stack,
        description="Every AEP resource targets the stack's own aep:sandbox."),
    ResourceValidationPolicy(
        name="protect-production-data", enforcement_level=EnforcementLevel.MANDATORY,
        validate=protect_production_data, config_schema=PolicyConfigSchema(properties=_STACKS),
        description="Outside dev, datasets and Profile schemas are protected or retained on delete."),
    StackValidationPolicy(
        name="enabled-flow-has-mapping", enforcement_level=EnforcementLevel.MANDATORY,
        validate=enabled_flow_has_mapping,
        description="An enabled dataflow from a source that does not send XDM carries a mapping."),
    ResourceValidationPolicy(
        name="naming", enforcement_level=EnforcementLevel.ADVISORY, validate=naming,
        config_schema=PolicyConfigSchema(properties={
            "pattern": {"type": "string", "description": "a regular expression every display name must match"},
            "description": {"type": "string", "description": "the convention in words, for the message"}}),
        description="AEP display names follow the team's naming convention."),
    ResourceValidationPolicy(
        name="identity-in-production", enforcement_level=EnforcementLevel.ADVISORY, validate=identity_in_production,
        config_schema=PolicyConfigSchema(properties={**_STACKS, "identityFields": {
            "type": "array", "items": {"type": "string"},
            "description": "path segments that make a mapping destination an identity field"}}),
        description="Production pipelines map at least one identity field."),
]


def serve() -> None:
    """Run the pack (prints its port and serves the engine until it is stopped)."""
    from pulumi_policy import policy as sdk  # noqa: PLC0415 - the servicer the pack is built on

    def props_of(struct: Any) -> dict[str, Any]:
        return json_format.MessageToDict(struct)

    class Servicer(sdk._PolicyAnalyzerServicer):  # noqa: SLF001 - see the module docstring
        def ConfigureStack(self, request, context):  # noqa: N802 - the gRPC method
            STACK.configure(request)
            return super().ConfigureStack(request, context)

        def Analyze(self, request, context):  # noqa: N802
            _seen.props = {request.urn: props_of(request.properties)}
            try:
                return super().Analyze(request, context)
            finally:
                _seen.props = None

        def AnalyzeStack(self, request, context):  # noqa: N802
            _seen.props = {r.urn: props_of(r.properties) for r in request.resources}
            try:
                return super().AnalyzeStack(request, context)
            finally:
                _seen.props = None

    sdk._PolicyAnalyzerServicer = Servicer  # noqa: SLF001
    PolicyPack(name="aep-guardrails", policies=POLICIES, enforcement_level=EnforcementLevel.ADVISORY)
