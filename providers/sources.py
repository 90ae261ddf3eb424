"""The source catalog: every source kind the project deploys, in one table (CATALOG).

Each entry says which AEP connection spec, provider and flow spec a kind uses, whether it
needs a base connection (an "account"), the auth specs of that account (their required
params, and which are secret), its source-connection params (required ones, enums), and
the data formats it accepts. The ids and params come from Adobe's pages, named per entry
(`page`, in AdobeDocs/experience-platform.en); tests/providers/test_sources.py checks every
entry against the emulator's GET /connectionSpecs and /flowSpecs, and docs/pipelines.md's
catalog table is generated from it (`markdown_table`).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any, Literal

STREAMING_PROVIDER_ID = "521eee4d-8cbe-4906-bb48-fb6bd4450033"
GENERIC_STREAMING_FLOW_SPEC = "e77fde5a-22a8-11ed-861d-0242ac120002"   # GenericStreamingAEP
OPTIONAL_TRANSFORM_FLOW_SPEC = "d69717ba-71b4-4313-b654-49f9cf126d7a"  # Stream data with optional transformation
FLOW_SPEC_NAMES = {GENERIC_STREAMING_FLOW_SPEC: "GenericStreamingAEP",
                   OPTIONAL_TRANSFORM_FLOW_SPEC: "Stream data with optional transformation"}
# Flow specs whose optionSpec takes errorDiagnosticsEnabled/partialIngestionPercent; collect/streaming.md
# shows none on d69717ba.
FLOW_SPECS_WITH_OPTIONS = frozenset({GENERIC_STREAMING_FLOW_SPEC})
_PAGES = "help/sources/tutorials/api/create"
_DATA_TYPES = ("raw", "xdm")
_RESET = ("latest", "earliest")


@dataclass(frozen=True)
class Param:
    """One param of an auth spec or of a source connection."""

    name: str
    required: bool = False
    enum: tuple[str, ...] = ()
    secret: bool = False


@dataclass(frozen=True)
class AuthSpec:
    """One of a connection spec's auth specs: the name a base connection sends and its params."""

    name: str
    params: tuple[Param, ...]

    @property
    def required(self) -> tuple[str, ...]:
        """The names of its required params."""
        return tuple(p.name for p in self.params if p.required)

    @property
    def secrets(self) -> tuple[str, ...]:
        """The names of its secret params (AEP masks them on read)."""
        return tuple(p.name for p in self.params if p.secret)


@dataclass(frozen=True)
class SourceKind:
    """One kind of source: its AEP ids and the rules its connections keep."""

    kind: str
    label: str
    connection_spec_id: str
    flow_spec_id: str
    account: Literal["none", "optional", "required"]
    page: str
    provider_id: str = STREAMING_PROVIDER_ID
    auth_specs: tuple[AuthSpec, ...] = ()
    params: tuple[Param, ...] = ()
    # At least one of these source params must be given (Pub/Sub: a topic or a subscription).
    one_of: tuple[str, ...] = ()
    data_formats: tuple[str, ...] = ()      # () when the page names none: any format is sent as given
    streaming: bool = True

    @property
    def needs_account(self) -> bool:
        """Whether its source connection must sit on a base connection."""
        return self.account == "required"

    @property
    def takes_account(self) -> bool:
        """Whether it may have a base connection at all."""
        return self.account != "none"

    def auth_spec(self, name: str) -> AuthSpec | None:
        """Its auth spec called `name`, or None."""
        return next((a for a in self.auth_specs if a.name == name), None)


def _webhook(kind: str, label: str, spec_id: str, page: str) -> SourceKind:
    return SourceKind(kind, label, spec_id, GENERIC_STREAMING_FLOW_SPEC, "none", f"{_PAGES}/{page}",
                      data_formats=("json",))


_HTTP_AUTH = AuthSpec("Streaming Connection", (Param("dataType", True, _DATA_TYPES), Param("name"),
                                               Param("sourceId"), Param("authenticationRequired")))
_PUBSUB_CREDENTIALS = Param("credentials", True, secret=True)

CATALOG: tuple[SourceKind, ...] = (
    _webhook("pendo", "Pendo (webhook)", "6ff5654f-19d5-427d-bd3e-c0ebc802389a", "analytics/pendo-webhook.md"),
    _webhook("chatlio", "Chatlio (webhook)", "073127a3-26e3-496c-9d94-9f48fb93fba8",
             "marketing-automation/chatlio-webhook.md"),
    _webhook("customerio", "Customer.io (webhook)", "96479064-7b8a-4d69-b9ed-21c5683837ea",
             "marketing-automation/customerio-webhook.md"),
    # The project's unauthenticated HTTP API path: an optional account, GenericStreamingAEP.
    SourceKind("http-streaming", "HTTP API streaming", "bc7b00d6-623a-4dfc-9fdb-f1240aeadaeb",
               GENERIC_STREAMING_FLOW_SPEC, "optional", f"{_PAGES}/streaming/http.md", auth_specs=(_HTTP_AUTH,)),
    SourceKind("http-authenticated", "HTTP API with authentication", "bc7b00d6-623a-4dfc-9fdb-f1240aeadaeb",
               OPTIONAL_TRANSFORM_FLOW_SPEC, "required", f"{_PAGES}/streaming/http.md", auth_specs=(_HTTP_AUTH,)),
    SourceKind("kinesis", "Amazon Kinesis", "86043421-563b-46ec-8e6c-e23184711bf6", OPTIONAL_TRANSFORM_FLOW_SPEC,
               "required", f"{_PAGES}/cloud-storage/kinesis.md",
               auth_specs=(AuthSpec("Aws Kinesis authentication credentials", (
                   Param("accessKeyId", True), Param("secretKey", True, secret=True), Param("region", True))),),
               params=(Param("stream", True), Param("dataType", True, _DATA_TYPES), Param("reset", True, _RESET)),
               data_formats=("json",)),
    SourceKind("eventhubs", "Azure Event Hubs", "bf9f5905-92b7-48bf-bf20-455bc6b60a4e", OPTIONAL_TRANSFORM_FLOW_SPEC,
               "required", f"{_PAGES}/cloud-storage/eventhub.md",
               auth_specs=(AuthSpec("Azure EventHub authentication credentials", (
                   Param("sasKeyName", True), Param("sasKey", True, secret=True), Param("namespace", True),
                   Param("eventHubName"))),),
               params=(Param("eventHubName", True), Param("dataType", True, _DATA_TYPES), Param("reset", enum=_RESET),
                       Param("consumerGroup")),
               data_formats=("json",)),
    SourceKind("pubsub", "Google Pub/Sub", "70116022-a743-464a-bbfe-e226a7f8210c", OPTIONAL_TRANSFORM_FLOW_SPEC,
               "required", f"{_PAGES}/cloud-storage/google-pubsub.md",
               auth_specs=(AuthSpec("Project Based Authentication", (Param("projectId", True), _PUBSUB_CREDENTIALS)),
                           AuthSpec("Topic & Subscription Based Authentication", (
                               _PUBSUB_CREDENTIALS, Param("topicName", True), Param("subscriptionName", True)))),
               params=(Param("topicName"), Param("subscriptionName"), Param("dataType", True, _DATA_TYPES)),
               one_of=("topicName", "subscriptionName"), data_formats=("json",)),
)

KINDS: dict[str, SourceKind] = {s.kind: s for s in CATALOG}


def by_spec(spec_id: str) -> tuple[SourceKind, ...]:
    """Every kind on connection spec `spec_id` (HTTP API has two: with and without an account)."""
    return tuple(s for s in CATALOG if s.connection_spec_id == spec_id)


def flow_specs_for(kind: SourceKind) -> tuple[str, ...]:
    """The flow specs that take `kind`'s connection spec (a spec shared by kinds has each kind's)."""
    return tuple(dict.fromkeys(s.flow_spec_id for s in by_spec(kind.connection_spec_id)))


def spec_ids() -> dict[str, str]:
    """Connection spec id -> label, in catalog order (a spec shared by kinds keeps its first label)."""
    out: dict[str, str] = {}
    for s in CATALOG:
        out.setdefault(s.connection_spec_id, s.label)
    return out


def fill_spec(data: Any, auth: bool = False) -> Any:
    """Args data with `connection_spec_id` (and, with `auth`, a kind's only auth spec name) taken from a
    known `source_kind` when they are not given."""
    kind = KINDS.get(data.get("source_kind") or "") if isinstance(data, dict) and isinstance(
        data.get("source_kind"), str) else None
    if kind is None:
        return data
    data = dict(data)
    if data.get("connection_spec_id") is None:
        data["connection_spec_id"] = kind.connection_spec_id
    if auth and data.get("auth_spec_name") is None and len(kind.auth_specs) == 1:
        data["auth_spec_name"] = kind.auth_specs[0].name
    return data


def short(label: str) -> str:
    """A kind's label without its parenthesis: "Pendo (webhook)" is "Pendo"."""
    return label.split(" (")[0]


def suggest(name: str, known: Any) -> str:
    """' (did you mean X?)' for the closest of `known`, or ''."""
    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


@dataclass(frozen=True)
class Problem:
    """A rule broken by a connection's inputs: which input, and what to do."""

    field: str
    reason: str


def account_problems(has_account: bool, kinds: tuple[SourceKind, ...]) -> list[Problem]:
    """Whether a source connection of one of `kinds` (one connection spec) may, or must, have an account."""
    if not kinds:
        return []
    label = kinds[0].label
    if has_account and not any(k.takes_account for k in kinds):
        return [Problem("base_connection_id", f"{short(label)} sources take no account (no base connection: "
                                              "AEP answers FLOW-1332-400): remove it")]
    if not has_account and all(k.needs_account for k in kinds):
        return [Problem("base_connection_id", f"{label} reads through an account (a base connection holding its "
                                              "credentials): declare one (a BaseConnection, its id as "
                                              "base_connection_id)")]
    return []


def param_problems(kind: SourceKind, params: dict[str, Any], data_format: str | None) -> list[Problem]:
    """A source connection's params and data format checked against its kind."""
    out = []
    known = {p.name: p for p in kind.params}
    # A kind whose page documents no params (the webhooks, HTTP API) passes them through as given.
    if kind.params:
        for name in params:
            if name not in known:
                listing = ", ".join(known) or "none"
                out.append(Problem("params", f"{name!r} is not a param of {kind.label}{suggest(name, known)}; "
                                             f"its params: {listing}"))
        for p in kind.params:
            value = params.get(p.name)
            if p.required and value in (None, ""):
                out.append(Problem("params", f"{p.name!r} is required for {kind.label}"
                                             + (f": one of {', '.join(p.enum)}" if p.enum else "")))
            elif p.enum and value is not None and value not in p.enum:
                out.append(Problem("params", f"{p.name}={value!r} is not accepted by {kind.label}: use one of "
                                             f"{', '.join(p.enum)}{suggest(str(value), p.enum)}"))
        if kind.one_of and not any(params.get(n) not in (None, "") for n in kind.one_of):
            out.append(Problem("params", f"{kind.label} needs {' or '.join(kind.one_of)}"))
    if data_format is not None and kind.data_formats and data_format not in kind.data_formats:
        formats = ", ".join(f.upper() if f == "json" else f for f in kind.data_formats)
        out.append(Problem("data_format", f"{short(kind.label)} sends {formats} only; {data_format!r} is not "
                                          f"supported: set data_format to {kind.data_formats[0]} (or leave it out)"))
    return out


def auth_problems(kinds: tuple[SourceKind, ...], auth_spec_name: str | None,
                  auth_params: dict[str, Any] | None) -> list[Problem]:
    """A base connection's auth spec name and params against the kinds of its connection spec.

    Reasons name params, never their values: auth params are secrets.
    """
    if not kinds:
        return []
    label = kinds[0].label
    specs = {a.name: a for k in kinds for a in k.auth_specs}
    if not specs:
        return [Problem("connection_spec_id", f"{short(label)} sources take no account (no base connection: "
                                              "AEP answers FLOW-1332-400): remove it")]
    if auth_spec_name is None:
        return [Problem("auth_spec_name", f"is required: {label} authenticates with "
                                          f"{' or '.join(repr(n) for n in specs)}")]
    spec = specs.get(auth_spec_name)
    if spec is None:
        listing = ", ".join(repr(n) for n in specs)
        return [Problem("auth_spec_name", f"{auth_spec_name!r} is not an auth spec of {label}"
                                          f"{suggest(auth_spec_name, specs)}; use {listing}")]
    if not isinstance(auth_params, dict):
        return []
    missing = [n for n in spec.required if auth_params.get(n) in (None, "")]
    if missing:
        return [Problem("auth_params", f"{auth_spec_name!r} needs {', '.join(missing)} (of "
                                       f"{', '.join(spec.required)})")]
    out = []
    for p in spec.params:
        value = auth_params.get(p.name)
        if p.enum and not p.secret and isinstance(value, str) and value not in p.enum:
            out.append(Problem("auth_params", f"{p.name} must be one of {', '.join(p.enum)}"))
    return out


def markdown_table() -> str:
    """The catalog as the Markdown table docs/pipelines.md shows."""
    rows = ["| Kind | Source | Connection spec | Provider | Flow spec | Account | Auth spec: required params "
            "(secret*) | Source params (required*) | Data formats | Page |",
            "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for s in CATALOG:
        auth = "; ".join(f"{a.name}: " + ", ".join(p.name + ("*" if p.secret else "") for p in a.params if p.required)
                         for a in s.auth_specs) or "none"
        params = ", ".join(p.name + ("*" if p.required else "") + (f" ({'/'.join(p.enum)})" if p.enum else "")
                           for p in s.params) or "none"
        if s.one_of:
            params += f"; one of {'/'.join(s.one_of)}"
        rows.append(f"| `{s.kind}` | {s.label} | `{s.connection_spec_id}` | `{s.provider_id[:8]}…` | "
                    f"{FLOW_SPEC_NAMES[s.flow_spec_id]} (`{s.flow_spec_id[:8]}…`) | {s.account} | {auth} | "
                    f"{params} | {', '.join(s.data_formats) or 'any'} | `{s.page.removeprefix(_PAGES + '/')}` |")
    return "\n".join(rows) + "\n"


__all__ = ["CATALOG", "KINDS", "AuthSpec", "Param", "Problem", "SourceKind", "account_problems", "auth_problems",
           "by_spec", "fill_spec", "flow_specs_for", "markdown_table", "param_problems", "spec_ids", "suggest"]
