"""IdentityNamespace: a custom identity namespace of Identity Service (`/data/core/idnamespace/identities`).

AEP lets a namespace's name and description change, never its code or idType, and offers no
way to delete one. So a new code is a new namespace (the old one stays in the sandbox), an
idType change under the same code is refused at preview (no replacement could ever succeed),
and removing the resource makes no call: it logs that the namespace stays. Standard
namespaces (ECID, Email, Phone, ...) are looked up by code, never created: their codes are
refused here.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any, ClassVar

import pulumi
from pulumi.dynamic import DiffResult
from pydantic import AfterValidator

from .base import ONE_WAY_DOOR, AEPProvider, ProviderError, checked_this_run, error_cause, resource_args
from .client import AEPClient, Conflict
from .models import (
    DEFAULT_DESCRIPTION,
    ID_TYPES,
    STANDARD_NAMESPACE_CODES,
    AEPArgs,
    InputError,
    Managed,
    Name,
    namespace_code,
)
from .resource import Resource

log = logging.getLogger("providers")

_ID_TYPE_BY_LOWER = {t.lower(): t for t in ID_TYPES}
_STANDARD = {c.lower(): c for c in STANDARD_NAMESPACE_CODES}


def _lower(v: Any) -> Any:
    # AEP compares namespace codes ignoring letter case: "pendoVisitor" is PENDOVISITOR.
    return v.lower() if isinstance(v, str) else v


def _id_type(v: Any) -> Any:
    """The spec's spelling of an idType given in any letter case (COOKIE -> Cookie)."""
    if v is None:
        return v
    if not isinstance(v, str) or v.lower() not in _ID_TYPE_BY_LOWER:
        raise ValueError(f"{v!r} is not an identity type: use one of {', '.join(ID_TYPES)} (any letter case)")
    return _ID_TYPE_BY_LOWER[v.lower()]


class IdentityNamespaceArgs(AEPArgs):
    name_field: ClassVar[str] = "code"
    auto_name: ClassVar[bool] = False
    _required: ClassVar[dict[str, str]] = {
        "code": "give the namespace's code (letters and digits, e.g. PENDOVISITOR): descriptors name it",
        "id_type": f"give its identity type, one of {', '.join(ID_TYPES)}"}

    code: Annotated[str | None, AfterValidator(namespace_code), Managed(replaces=True, normalize=_lower)] = None
    name: Annotated[Name | None, Managed()] = None
    description: Annotated[str, Managed(default="")] = DEFAULT_DESCRIPTION
    id_type: Annotated[str | None, AfterValidator(_id_type), Managed(replaces=True, normalize=_lower)] = None

    def cross_check(self, unknown: set[str]) -> list[InputError]:
        errs: list[InputError] = []
        if "code" not in unknown and self.code:
            standard = _STANDARD.get(self.code.lower())
            if standard:
                errs.append(InputError("code", f"{self.code!r} is the standard namespace {standard}: "
                                       "standard namespaces are looked up, not created. Remove this resource and "
                                       "name the code where it is used (an IdentityDescriptor's namespace)"))
            if self.name is None and "name" not in unknown:
                self.name = self.code  # a namespace's display name defaults to its code
        return errs


class IdentityNamespaceProvider(AEPProvider):
    kind = "IdentityNamespace"
    name_prefix = "namespace"
    args_model = IdentityNamespaceArgs
    computed = ("namespace_id",)

    def diff(self, _id: str, olds: dict, news: dict) -> DiffResult:
        """As every resource's, but an idType change under the same code is refused: AEP can neither
        change a namespace's idType nor delete it, so its code stays taken and no replacement could succeed."""
        result = super().diff(_id, olds, news)
        if ("id_type" in result.replaces and "code" not in result.replaces and "sandbox" not in result.replaces
                and checked_this_run(news)):
            raise ProviderError(
                f"{ONE_WAY_DOOR}: {self.label(olds, _id)} cannot change its id_type from {olds.get('id_type')!r} to "
                f"{news.get('id_type')!r}: AEP cannot change a namespace's idType nor delete the namespace, so its "
                "code stays taken. Nothing was changed. Keep id_type as it is, or declare a namespace with a new code "
                "(the old one stays in the sandbox)")
        return result

    @staticmethod
    def _body(args: IdentityNamespaceArgs, code: str | None = None) -> dict:
        return {"name": args.name, "code": code or args.code, "description": args.description,
                "idType": args.id_type}

    def create_object(self, api: AEPClient, args: IdentityNamespaceArgs) -> tuple[str, dict]:
        """POST the namespace; on 409 for the same code adopt it when its name and idType match."""
        try:
            created = api.create_namespace(args.sandbox, self._body(args))
        except Conflict as e:
            return self._adopt_conflict(api, args, e)
        return created.id, {"namespace_id": created.id, "code": created.body.get("code") or args.code}

    def _adopt_conflict(self, api: AEPClient, args: IdentityNamespaceArgs, err: Conflict) -> tuple[str, dict]:
        """Create-or-adopt: the namespace a 409 is about is ours when its code, name and idType agree."""
        known = api.list_namespaces(args.sandbox)
        same = next((n for n in known if _lower(n.get("code")) == args.code.lower()), None)
        what = self.label({"code": args.code})
        if same is None:
            taken = args.name.strip().lower()
            named = next((n for n in known if str(n.get("name", "")).strip().lower() == taken), None)
            holder = f" namespace {named.get('code')!r} (id {named.get('id')}) has that name." if named else ""
            raise ProviderError(f"{what}: create failed: {error_cause(err)}. The name {args.name!r} is taken:{holder} "
                                "Next: give this namespace another name") from None
        ident = str(same.get("id"))
        found = f"namespace {same.get('code')!r} (id {ident}, name {same.get('name')!r}, idType {same.get('idType')!r})"
        if not same.get("custom", True):
            raise ProviderError(f"{what}: create failed: {found} is a standard namespace. Next: remove this resource "
                                "and use the code where identities name it") from None
        if same.get("name") != args.name or _lower(same.get("idType")) != args.id_type.lower():
            raise ProviderError(
                f"{what}: create failed: {error_cause(err)}: {found} already exists in sandbox {args.sandbox!r} and "
                f"differs from the declared one (name {args.name!r}, idType {args.id_type!r}). Next: declare its name "
                f"and id_type as AEP has them to manage it (adopt_id={ident!r}), or choose another code") from None
        log.warning("%s: adopting existing %s (same code, name and idType)", what, found)
        computed = {"namespace_id": ident, "code": same.get("code")}
        if (same.get("description") or "") != args.description:
            self.update_object(api, ident, {"code": same.get("code")}, args, {"description"})
        return ident, computed

    def read_object(self, api: AEPClient, id_: str, props: dict) -> dict | None:
        """GET /identities/{id}: the namespace as AEP has it."""
        ns = api.get_namespace(props["sandbox"], id_)
        return {"code": ns.get("code"), "name": ns.get("name"), "description": ns.get("description"),
                "id_type": ns.get("idType"), "namespace_id": str(ns.get("id", id_)), "id": str(ns.get("id", id_))}

    def update_object(self, api: AEPClient, id_: str, olds: dict, args: IdentityNamespaceArgs,
                      changed: set[str]) -> dict:
        """PUT the full body; only name and description change (the code as AEP spells it)."""
        try:
            api.update_namespace(args.sandbox, id_, self._body(args, olds.get("code")))
        except Conflict as e:  # display names are unique in a sandbox too
            raise ProviderError(f"{self.label(olds, id_)}: update failed: {error_cause(e)}. Next: the name "
                                f"{args.name!r} belongs to another namespace: choose another name") from None
        return {}

    def delete_object(self, api: AEPClient, id_: str, props: dict) -> None:
        """No call: AEP cannot delete a namespace, so it stays in the sandbox."""
        log.warning("%s: removed from the stack, but namespace %r stays in sandbox %r (AEP cannot delete a "
                    "namespace; its code stays taken)", self.label(props, id_), props.get("code"), props.get("sandbox"))


class IdentityNamespace(Resource, module="aep", name="IdentityNamespace"):
    """A custom identity namespace; AEP keeps it when the resource is removed."""

    namespace_id: pulumi.Output[str]
    code: pulumi.Output[str]
    name: pulumi.Output[str]

    def __init__(self, resource_name: str, *, code: pulumi.Input[str], id_type: pulumi.Input[str],
                 name: pulumi.Input[str] | None = None, description: pulumi.Input[str] | None = None,
                 sandbox: pulumi.Input[str] | None = None, adopt_id: pulumi.Input[str] | None = None,
                 opts: pulumi.ResourceOptions | None = None):
        """A custom identity namespace (Identity Service).

        Args:
            resource_name: the Pulumi resource name.
            code: its code (letters and digits, compared ignoring case), what descriptors name; a new
                code is a new namespace. Standard codes (ECID, Email, ...) are refused.
            id_type: one of Cookie, Cross_device, Device, Email, Mobile, Non_people, Phone (any case);
                it cannot change.
            name: its display name (default: the code).
            description: its description (default "Managed by Pulumi (aep-pipelines)").
            sandbox: the AEP sandbox (default stack config aep:sandbox).
            adopt_id: the numeric id of an existing custom namespace to manage instead of creating one.
            opts: Pulumi resource options.
        """
        super().__init__(IdentityNamespaceProvider(), resource_name,
                         *resource_args(IdentityNamespaceProvider, locals()))
