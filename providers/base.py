"""The shared dynamic-provider base: every hard part of a resource's lifecycle lives here.

Each resource module declares its args model, every field with its rules on it
(`Managed(...)`, `Passive()`, providers/models.py), a small subclass of `AEPProvider` (its
kind, args model and computed outputs) and four short methods that only translate between
its model and the client: `create_object`, `read_object`, `update_object` and
`delete_object` (`adopt_object` when adoption needs more than the default). This base
derives the managed fields from the model and supplies the rest, following
../shared/reference/pulumi-dynamic-providers.md:

* the provider pickles by reference (installed module + class name, no instance state)
  and is never stored as a secret, because it captures nothing secret;
* credentials come from `configure()` / the environment, never from resource inputs;
* `check` validates with pydantic, naming the field and the fix, leaves unknown values
  alone, and auto-names (`<prefix>-<7 random chars>`, kept across updates);
* `diff` compares each managed field explicitly after normalisation, with no network;
* `read` answers `ReadResult(None, {})` when the object is gone, and returns the inputs
  normalised exactly as `check` would, so refresh never leaves stale inputs behind;
* `create`/`update` return every managed field plus the computed outputs;
* `update` sends the stored etag; 412 and 404 become messages that say what to run next;
* `delete` treats 404 as success;
* `adopt_id` brings an existing object under management (`pulumi import` cannot work for
  dynamic providers: pulumi/pulumi#16175).
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
import string
import sys
import traceback
from typing import Any, ClassVar

from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    ConfigureRequest,
    CreateResult,
    DiffResult,
    ReadResult,
    ResourceProvider,
    UpdateResult,
)
from pulumi.output import Unknown, contains_unknowns
from pulumi.runtime.rpc import UNKNOWN
from pydantic import BaseModel, ValidationError

from . import rpc_workers, sdk_serialize
from .client import (
    CONFIG_KEYS,
    AEPClient,
    AEPError,
    AEPSettings,
    AuthError,
    BadRequest,
    ConfigurationError,
    NotFound,
    PreconditionFailed,
    RateLimited,
    Secret,
    ServerError,
    TransportError,
    get_client,
)
from .models import AEPArgs, Managed, Passive
from .problems import describe
from .resource import declared, member_ops, output_slots, resource_args, resource_props  # noqa: F401 - re-exported
from .transport import plain  # noqa: F401 - re-exported

log = logging.getLogger("providers")

_ALPHABET = string.ascii_lowercase + string.digits
# How a refused one-way door starts, so the CLI can tell it from a failure (pipelines/drift.py).
ONE_WAY_DOOR = "refused (one-way door)"
# The inputs check() returned in this process, by digest, so diff() can tell inputs checked in
# this run from old inputs out of state. Kept here, never in the inputs: a stamp stored in
# every resource's inputs changed them all on every run, and the engine then rewrote the whole
# state once per unchanged resource (a no-op `up` of 50 pipelines took 22 s instead of 3 s).
_CHECKED_THIS_RUN: set[str] = set()
# Codes of 404s that are about the sandbox, not the object: those must never read as "gone".
_SANDBOX_MISSING = {"FLOW-2100-404", "FLOW-1101-404"}


class ProviderError(Exception):
    """A lifecycle step failed; the message names the resource, the cause and the next step."""


class _MessageOnlyTraceback:
    """Stands in for the `traceback` module inside Pulumi's dynamic-provider server.

    The server answers every failed call with `traceback.format_exc()`, so a user would see
    Python frames above the message we wrote for them. A ProviderError is such a message
    (resource, status, AEP code, next step) and is shown alone; anything else is a bug and
    keeps its traceback.
    """

    def __getattr__(self, name: str) -> Any:
        return getattr(traceback, name)

    @staticmethod
    def format_exc(*args: Any, **kwargs: Any) -> str:
        err = sys.exc_info()[1]
        if isinstance(err, ProviderError):
            return str(err)
        return traceback.format_exc(*args, **kwargs)


def _quiet_provider_errors() -> None:
    """In the dynamic-provider server process (`python -m pulumi.dynamic`) only, show provider
    errors without a traceback. tests/providers/test_errors.py fails if the server stops
    looking `traceback` up there."""
    server = sys.modules.get("__main__")
    spec = getattr(server, "__spec__", None)
    if spec is not None and spec.name == "pulumi.dynamic.__main__" and hasattr(server, "traceback"):
        server.traceback = _MessageOnlyTraceback()


class AEPProvider(ResourceProvider):
    """Base for the seven AEP resource providers. Subclasses are declarations plus five methods."""

    serialize_as_secret_always = False

    kind: ClassVar[str] = "Resource"          # shown in messages: "Dataset «name» (id)"
    name_prefix: ClassVar[str] = "aep"         # auto-names: "<prefix>-<7 chars>"
    args_model: ClassVar[type[AEPArgs]] = AEPArgs
    computed: ClassVar[tuple[str, ...]] = ()   # server-generated outputs (never diffed)
    # Derived from the args model's field declarations (`Managed(...)`, `Passive()`):
    fields: ClassVar[tuple[Managed, ...]] = ()  # the managed inputs, in declaration order
    passive: ClassVar[tuple[str, ...]] = ()     # stored but neither managed nor diffed
    secret_inputs: ClassVar[tuple[str, ...]] = ()  # inputs whose values must never appear in a message
    # What a replacement of this object loses, for kinds that hold data or an address others
    # use (a one-way door): a plan that replaces one is refused unless `allow_replace` is set.
    replacement_loses: ClassVar[str | None] = None
    allow_kinds: ClassVar[str] = ""             # what the spec's allow_replace must list to allow it
    # Replace by deleting first when a replacement would collide on a unique name.
    unique_name: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: Any):
        """Derive the managed, passive and secret inputs from the args model's declarations."""
        super().__init_subclass__(**kwargs)
        cls.fields, cls.passive = declared(cls.args_model, cls.computed, cls.__name__)
        cls.secret_inputs = tuple(f.name for f in cls.fields if f.secret)

    # -- pickling and configuration ------------------------------------------------------

    def __getstate__(self) -> dict:
        # Pickled by reference into Pulumi state: module + class and nothing else, even after
        # configure() stored settings on the instance.
        return {}

    def __setstate__(self, _state: dict) -> None:
        pass

    def configure(self, req: ConfigureRequest) -> None:
        """Keep the `aep:*` stack config (secret wrapped); the client is built lazily."""
        cfg = {}
        for key in CONFIG_KEYS:
            val = req.config.get(key)
            if val is not None:
                cfg[key] = Secret(val) if key == "aep:clientSecret" else val
        self._aep_config = cfg

    def client(self) -> AEPClient:
        """The process-wide client for the configured settings (environment first)."""
        try:
            settings = AEPSettings.load(getattr(self, "_aep_config", None))
        except ConfigurationError as e:
            raise ProviderError(str(e)) from None
        return get_client(settings)

    # -- names and messages ------------------------------------------------------------------

    @property
    def name_field(self) -> str:
        return self.args_model.name_field

    def label(self, props: dict, id_: str | None = None) -> str:
        """«kind» «name» (id), for messages."""
        name = props.get(self.name_field)
        ident = f" ({id_})" if id_ else ""
        return f"{self.kind} {name!r}{ident}" if name else f"{self.kind}{ident}"

    def fail(self, err: Exception, action: str, props: dict, id_: str | None = None) -> ProviderError:
        """Turn a client error into a message naming the resource, status, AEP code and next step."""
        what = self.label(props, id_)
        if isinstance(err, ProviderError):
            return err
        if isinstance(err, ConfigurationError):
            return ProviderError(f"{what}: cannot {action}: {err}")
        if not isinstance(err, AEPError):
            return ProviderError(f"{what}: {action} failed: {err}")
        if isinstance(err, PreconditionFailed):
            return ProviderError(f"{what} was changed outside Pulumi: run `pulumi refresh`, then `pulumi up` "
                                 f"({error_cause(err)})")
        if isinstance(err, NotFound):
            hint = ("the sandbox does not exist: check stack config aep:sandbox"
                    if err.code in _SANDBOX_MISSING else
                    "it no longer exists in AEP: run `pulumi refresh` to drop it from state, then `pulumi up` "
                    "to recreate it")
        elif isinstance(err, BadRequest):
            hint = "AEP rejected the request: fix the inputs it names, then run `pulumi up` again"
        elif isinstance(err, AuthError):
            hint = ("check AEP_CLIENT_ID / AEP_CLIENT_SECRET / AEP_ORG_ID (or aep:clientId, aep:clientSecret, "
                    "aep:orgId) and that the credential's product profile grants access to this sandbox")
        elif isinstance(err, (RateLimited, ServerError, TransportError)):
            hint = ("AEP is throttling or unavailable and the retry budget ran out: run `pulumi up` again "
                    "later (raise AEP_RETRY_BUDGET to wait longer)")
        else:
            hint = "see the AEP message above"
        return ProviderError(f"{what}: {action} failed: {error_cause(err)}. Next: {hint}")

    # -- check ---------------------------------------------------------------------------------

    def check(self, _olds: dict, news: dict) -> CheckResult:
        """Validate and normalise inputs; auto-name; leave unknown values untouched."""
        olds = _olds or {}
        props = {k: v for k, v in news.items() if not k.startswith("__")}
        nf = self.name_field
        if props.get(nf) is None and self.args_model.auto_name:
            props[nf] = olds.get(nf) or f"{self.name_prefix}-{''.join(secrets.choice(_ALPHABET) for _ in range(7))}"
        unknown = {k for k, v in props.items() if contains_unknowns(v)}
        known = {k: v for k, v in props.items() if k not in unknown}
        try:
            model = self.args_model.model_validate(known, context={"unknown": unknown})
        except ValidationError as e:
            return CheckResult(news, _failures(e, self.args_model, set(self.secret_inputs)))
        inputs = self.inputs_from(model)
        inputs.update({k: props[k] for k in unknown})
        _CHECKED_THIS_RUN.add(_digest(inputs))
        return CheckResult(inputs, [])

    def inputs_from(self, model: BaseModel) -> dict:
        """The stored form of validated inputs: JSON types, no None values."""
        return model.model_dump(mode="json", exclude_none=True)

    def parse(self, props: dict) -> AEPArgs:
        """Typed args from checked inputs (or from outputs: extra output keys are dropped)."""
        allowed = set(self.args_model.model_fields)
        data = {k: v for k, v in props.items() if k in allowed}
        return self.args_model.model_validate(data)

    # -- diff ------------------------------------------------------------------------------------

    def diff(self, _id: str, olds: dict, news: dict) -> DiffResult:
        """Explicit per-field comparison; unknown counts as changed. No network."""
        changed, replaces = [], []
        for f in self.fields:
            new = news.get(f.name)
            if contains_unknowns(new):
                changed.append(f.name)
            elif new is None and f.server_default:
                continue
            elif f.norm(olds.get(f.name)) != f.norm(new):
                changed.append(f.name)
            else:
                continue
            if f.replaces:
                replaces.append(f.name)
        # The guard reads `allow_replace` from inputs this process checked. The engine also calls
        # diff on the dependants of a delete-before-replace object (an XdmSchema) with their *old*
        # inputs, to learn which must go first; those inputs predate the user's allow_replace, and
        # the schema's own guard already covers every dependant its replacement takes along.
        if (replaces and self.replacement_loses and not news.get("allow_replace")
                and checked_this_run(news)):
            raise ProviderError(self.refusal(_id, olds, replaces))
        dbr = None
        same_title = _title_key(news.get(self.name_field)) == _title_key(olds.get(self.name_field))
        if replaces and self.unique_name and same_title:
            dbr = True
        return DiffResult(changes=bool(changed), replaces=replaces,
                          stables=[f.name for f in self.fields if f.replaces and f.name not in replaces],
                          delete_before_replace=dbr)

    def refusal(self, id_: str, olds: dict, replaces: list[str]) -> str:
        """Why a replacement is refused: the object, what forces it, what would be lost, how to allow it."""
        lost = self.replacement_loses.format(id=id_, inlet_url=olds.get("inlet_url") or "(unknown)")
        return (f"{ONE_WAY_DOOR}: {self.label(olds, id_)} would be replaced ({', '.join(replaces)} would change): "
                f"{lost}. Nothing was changed. If that is what you want, add `allow_replace: [{self.allow_kinds}]` "
                "to its pipeline in the spec, or allow it for one run with `make up ALLOW_DATA_LOSS=1`")

    def changed_fields(self, olds: dict, args: AEPArgs) -> set[str]:
        """Managed fields whose declared value differs from the stored one."""
        news = self.inputs_from(args)
        return {f.name for f in self.fields
                if not (news.get(f.name) is None and f.server_default)
                and f.norm(olds.get(f.name)) != f.norm(news.get(f.name))}

    # -- lifecycle -------------------------------------------------------------------------------

    def create(self, props: dict) -> CreateResult:
        """Create (or adopt, with adopt_id) and return every managed field plus computed outputs."""
        args = self.parse(props)
        try:
            api = self.client()
            if args.adopt_id:
                id_, computed = self.adopt_object(api, args.adopt_id, args)
            else:
                id_, computed = self.create_object(api, args)
        except Exception as e:  # noqa: BLE001 - every failure gets the resource's name and a next step
            raise self.fail(e, "adopt" if args.adopt_id else "create", props, args.adopt_id) from None
        return CreateResult(id_, {**self.inputs_from(args), **computed})

    def read(self, id_: str, props: dict) -> ReadResult:
        """Refresh from AEP; gone -> ReadResult(None, {}); else outs plus inputs normalised like check."""
        props = props or {}
        try:
            live = self.read_object(self.client(), id_, props)
        except NotFound as e:
            if e.code in _SANDBOX_MISSING:
                raise self.fail(e, "read", props, id_) from None
            return ReadResult(None, {})
        except Exception as e:  # noqa: BLE001
            raise self.fail(e, "read", props, id_) from None
        if live is None:
            return ReadResult(None, {})
        inputs = self.live_inputs(live, props)
        outs = {**{k: v for k, v in props.items() if not k.startswith("__")}, **inputs,
                **{k: v for k, v in live.items() if k in self.computed}}
        return ReadResult(id_, outs, inputs)

    def live_inputs(self, live: dict, props: dict) -> dict:
        """What `read_object` found, as inputs normalised exactly as check() would.

        What AEP cannot show us (masked secrets, validation aids, the sandbox) comes from `props`.
        """
        state = dict(live)
        for f in self.fields:
            if not f.observable and f.name in props:
                state[f.name] = props[f.name]
            elif f.observable and state.get(f.name) is None and f.default is not None:
                # What AEP does not hold is the field's empty value, not the model's default for
                # an undeclared input: else an object without a description would read as having
                # ours, and neither a refresh nor an adoption would ever set it.
                state[f.name] = f.default
        for k in self.passive:
            if k in props:
                state.setdefault(k, props[k])
        state.setdefault("sandbox", props.get("sandbox"))
        return self.normalized_inputs(state)

    def normalized_inputs(self, state: dict) -> dict:
        """Managed and passive inputs out of a state dict, normalised exactly as check() would."""
        keys = {f.name for f in self.fields} | set(self.passive) | {self.name_field}
        raw = {k: v for k, v in state.items() if k in keys and k in self.args_model.model_fields and v is not None}
        try:
            return self.inputs_from(self.args_model.model_validate(raw))
        except ValidationError:
            # AEP holds something our inputs could not declare; keep it raw so the diff shows it.
            return raw

    def update(self, id_: str, olds: dict, news: dict) -> UpdateResult:
        """Apply in-place changes with the stored etag; return all managed fields + computed outs."""
        args = self.parse(news)
        changed = self.changed_fields(olds, args)
        try:
            computed = self.update_object(self.client(), id_, olds, args, changed) if changed else {}
        except NotFound as e:
            if e.code in _SANDBOX_MISSING:
                raise self.fail(e, "update", olds, id_) from None
            raise ProviderError(f"{self.label(olds, id_)} no longer exists in AEP ({error_cause(e)}): run `pulumi "
                                "refresh` to drop it from state, then `pulumi up` to recreate it") from None
        except Exception as e:  # noqa: BLE001 - named after the object as it exists (old name)
            raise self.fail(e, "update", olds, id_) from None
        kept = {k: olds[k] for k in self.computed if k in olds}
        return UpdateResult({**kept, **self.inputs_from(args), **computed})

    def delete(self, id_: str, props: dict) -> None:
        """Delete; an object that is already gone counts as deleted."""
        try:
            self.delete_object(self.client(), id_, props)
        except NotFound as e:
            if e.code in _SANDBOX_MISSING:
                raise self.fail(e, "delete", props, id_) from None
            log.info("%s was already gone", self.label(props, id_))
        except Exception as e:  # noqa: BLE001
            raise self.fail(e, "delete", props, id_) from None

    # -- adoption helper -------------------------------------------------------------------------

    def adopt_by_read(self, api: AEPClient, adopt_id: str, args: AEPArgs) -> tuple[str, dict]:
        """Read an existing object, insist its immutable fields match, patch the rest, manage it.

        Resources whose id is not the adopt_id the user passes (schemas: altId vs $id) give
        the canonical id back through the `id` key of `read_object`'s answer.
        """
        try:
            live = self.read_object(api, adopt_id, {"sandbox": args.sandbox})
        except NotFound as e:
            if e.code in _SANDBOX_MISSING:
                raise
            live = None
        if live is None:
            raise ProviderError(f"{self.kind}: adopt_id {adopt_id!r} does not exist in sandbox {args.sandbox!r}: "
                                "check the id, or remove adopt_id to create a new object")
        declared = self.inputs_from(args)
        # Compare what AEP has in the form read() gives it, never raw: AEP answers in its own
        # dialect (a mapping's sourceType "text/x.schema-path" for ATTRIBUTE, spaced media
        # types, reordered lists), and a raw comparison would write an identical object back.
        observed = self.live_inputs(live, declared)
        mismatched = [f for f in self.fields if f.replaces and f.observable and not f.server_default
                      and f.norm(observed.get(f.name)) != f.norm(declared.get(f.name))]
        if mismatched:
            detail = "; ".join(f"{f.name}: declared {declared.get(f.name)!r}, AEP has {observed.get(f.name)!r}"
                               for f in mismatched)
            raise ProviderError(f"{self.label(declared, adopt_id)} cannot be adopted: fields that cannot change "
                                f"in place differ ({detail}). Declare them as AEP has them, or remove adopt_id "
                                "to create a new object")
        id_ = live.get("id") or adopt_id
        # What AEP cannot show (masked credentials) is taken as declared: adopting makes no write that
        # could replace working credentials with another copy of them; a later change of the declared
        # value (a rotation) is what writes them.
        state = {**observed, **{f.name: declared.get(f.name) for f in self.fields if not f.observable}}
        changed = self.changed_fields(state, args)
        computed = {k: v for k, v in live.items() if k in self.computed}
        if changed:
            log.info("adopting %s: bringing %s to the declared state", self.label(declared, id_), sorted(changed))
            computed.update(self.update_object(api, id_, {**state, **computed}, args, changed))
        return id_, computed

    # -- per-resource translation (implemented by each resource module) -------------------------

    def create_object(self, api: AEPClient, args: Any) -> tuple[str, dict]:
        """POST the object; return (id, computed outputs)."""
        raise NotImplementedError

    def read_object(self, api: AEPClient, id_: str, props: dict) -> dict | None:
        """GET the object; return managed fields as AEP has them plus computed outputs, None if gone."""
        raise NotImplementedError

    def update_object(self, api: AEPClient, id_: str, olds: dict, args: Any, changed: set[str]) -> dict:
        """Apply the changed managed fields; return the computed outputs that changed."""
        raise NotImplementedError

    def delete_object(self, api: AEPClient, id_: str, props: dict) -> None:
        """DELETE the object (NotFound is handled by the base)."""
        raise NotImplementedError

    def adopt_object(self, api: AEPClient, adopt_id: str, args: Any) -> tuple[str, dict]:
        """Bring an existing object under management; return (id, computed outputs)."""
        return self.adopt_by_read(api, adopt_id, args)


def checked_this_run(news: dict) -> bool:
    """Whether these inputs are ones this process's own check() returned: the engine diffing what
    the program declared, not a probe with old inputs out of state."""
    return _digest(news) in _CHECKED_THIS_RUN


def _digest(inputs: dict) -> str:
    """The inputs as the engine hands them back: `__` keys dropped, unknowns alike, whole floats
    as ints (numbers cross the wire as doubles)."""
    def canon(v: Any) -> Any:
        if isinstance(v, Unknown) or v == UNKNOWN:
            return "\0unknown"
        if isinstance(v, float) and v.is_integer():
            return int(v)
        if isinstance(v, dict):
            return {str(k): canon(x) for k, x in v.items() if not str(k).startswith("__")}
        if isinstance(v, (list, tuple)):
            return [canon(x) for x in v]
        return v

    text = json.dumps(canon(inputs), sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _title_key(title: Any) -> Any:
    """What the Schema Registry compares to keep titles unique (docs/emulator.md, Unique titles):
    a replacement whose title differs only in case still collides, so it must delete first."""
    return title.strip().lower() if isinstance(title, str) else title


def error_cause(err: Exception) -> str:
    """The cause of an error, for messages: an AEPError's own `cause`, else its text."""
    return err.cause if isinstance(err, AEPError) else str(err)


def _failures(e: ValidationError, model: type[BaseModel], secret: set[str] = frozenset()) -> list[CheckFailure]:
    """One CheckFailure per problem, on the field it concerns, with its fix."""
    return [CheckFailure(path or "(resource)", msg) for path, msg in describe(e, model, secret)]


__all__ = ["ONE_WAY_DOOR", "AEPProvider", "Managed", "Passive", "ProviderError", "declared", "member_ops",
           "output_slots", "plain", "resource_args", "resource_props"]

_quiet_provider_errors()
# In the provider server: more than the SDK's 4 RPCs at once (providers/rpc_workers.py).
rpc_workers.widen()
# In the program: each resource's provider pickled through one sorting layer, not one more per
# resource (past about 985 resources the SDK's nesting is a RecursionError; providers/sdk_serialize.py).
sdk_serialize.install()
