"""IdentityDescriptor: a Schema Registry identity descriptor (`xdm:descriptorIdentity`) on one schema field.

It says which namespace the values of a schema's string field belong to, and whether that
field is the schema's primary identity. The schema and the field are what the descriptor is
about, so another one is another descriptor; a PUT rewrites the rest (namespace, primary,
source version) in place. A schema has at most one primary identity, so a primary one that
moves to another field of the same schema is deleted before its successor is created.
"""

from __future__ import annotations

import logging
import re
from typing import Annotated, Any, ClassVar

import pulumi
from pulumi.dynamic import DiffResult
from pydantic import AfterValidator

from .base import AEPProvider, ProviderError, resource_args
from .client import IDENTITY_DESCRIPTOR, AEPClient, BadRequest
from .models import AEPArgs, InputError, Managed, Version, namespace_code
from .resource import Resource

log = logging.getLogger("providers")

_SEGMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# AEP's own code for "cannot remove the primary identity of a Profile-enabled schema".
PROFILE_PRIMARY = "XDM-1034-400"


def _lower(v: Any) -> Any:
    # A descriptor names its namespace by code, which AEP compares ignoring letter case.
    return v.lower() if isinstance(v, str) else v


def _source_property(v: str | None) -> str | None:
    if v is None:
        return v
    parts = v[1:].split("/") if v.startswith("/") else []
    if not parts or not all(_SEGMENT.fullmatch(p) for p in parts) or "properties" in parts:
        hint = "/" + v.replace(".", "/") if not v.startswith("/") and "." in v else "/_tenant/visitorId"
        raise ValueError(f"{v!r} is not a field path: give the field's XDM path with a leading slash and no "
                         f"`properties` segments, e.g. {hint!r}")
    return v


class IdentityDescriptorArgs(AEPArgs):
    name_field: ClassVar[str] = "source_property"
    auto_name: ClassVar[bool] = False
    _required: ClassVar[dict[str, str]] = {
        "schema_id": "pass the XdmSchema's schema_id ($id)",
        "source_property": "give the identity field's path, e.g. /_tenant/visitorId",
        "namespace": "give the namespace code, e.g. ECID or an IdentityNamespace's code"}

    schema_id: Annotated[str | None, Managed(replaces=True)] = None
    source_property: Annotated[str | None, AfterValidator(_source_property), Managed(replaces=True)] = None
    namespace: Annotated[str | None, AfterValidator(namespace_code), Managed(normalize=_lower)] = None
    primary: Annotated[bool, Managed(default=False)] = False
    source_version: Annotated[Version, Managed(default=1)] = 1

    def cross_check(self, unknown: set[str]) -> list[InputError]:
        if "schema_id" not in unknown and self.schema_id and not self.schema_id.startswith("https://"):
            return [InputError("schema_id", f"{self.schema_id!r} is not a schema $id: pass the XdmSchema's schema_id "
                               "output (https://ns.adobe.com/<tenant>/schemas/<hash>)")]
        return []


class IdentityDescriptorProvider(AEPProvider):
    kind = "IdentityDescriptor"
    name_prefix = "identity"
    args_model = IdentityDescriptorArgs
    computed = ("descriptor_id",)

    def diff(self, _id: str, olds: dict, news: dict) -> DiffResult:
        """As every resource's; a primary identity moving to another field of the same schema goes
        first, since the schema cannot hold two primary identities at once."""
        result = super().diff(_id, olds, news)
        moves = set(result.replaces) == {"source_property"}
        if moves and olds.get("primary") and news.get("primary") is not False:
            result.delete_before_replace = True
        return result

    @staticmethod
    def _body(args: IdentityDescriptorArgs) -> dict:
        return {"@type": IDENTITY_DESCRIPTOR, "xdm:sourceSchema": args.schema_id,
                "xdm:sourceVersion": args.source_version, "xdm:sourceProperty": args.source_property,
                "xdm:namespace": args.namespace, "xdm:property": "xdm:code", "xdm:isPrimary": args.primary}

    def create_object(self, api: AEPClient, args: IdentityDescriptorArgs) -> tuple[str, dict]:
        """Create-or-adopt: an identity descriptor already on this schema field is adopted when it
        says the same, else refused; otherwise POST a new one."""
        existing = [d for d in api.list_descriptors(args.sandbox, args.schema_id)
                    if d.get("xdm:sourceProperty") == args.source_property]
        if existing:
            return self._adopt_existing(existing[0], args)
        created = api.create_descriptor(args.sandbox, self._body(args))
        return created.id, {"descriptor_id": created.id}

    def _adopt_existing(self, found: dict, args: IdentityDescriptorArgs) -> tuple[str, dict]:
        live = self._fields(found)
        id_ = found["@id"]
        declared = self.inputs_from(args)
        differ = [f.name for f in self.fields
                  if f.name != "sandbox" and f.norm(live.get(f.name)) != f.norm(declared.get(f.name))]
        if differ:
            detail = "; ".join(f"{n}: declared {declared.get(n)!r}, AEP has {live.get(n)!r}" for n in differ)
            raise ProviderError(
                f"{self.label(declared)}: create failed: schema {args.schema_id} already has an identity descriptor on "
                f"{args.source_property} ({id_}) that differs ({detail}). Next: manage it with adopt_id={id_!r} (its "
                "namespace and primary are then set as declared), or delete it in AEP, then run `pulumi up` again")
        log.warning("%s: adopting identity descriptor %s, already on the schema field and saying the same",
                    self.label(declared), id_)
        return id_, {"descriptor_id": id_}

    @staticmethod
    def _fields(d: dict) -> dict:
        version = d.get("xdm:sourceVersion")
        return {"schema_id": d.get("xdm:sourceSchema"), "source_property": d.get("xdm:sourceProperty"),
                "namespace": d.get("xdm:namespace"), "primary": bool(d.get("xdm:isPrimary", False)),
                "source_version": int(version) if str(version).isdigit() else version, "descriptor_id": d.get("@id")}

    def read_object(self, api: AEPClient, id_: str, props: dict) -> dict | None:
        """GET /tenant/descriptors/{@id}: the descriptor as AEP has it."""
        return self._fields(api.get_descriptor(props["sandbox"], id_))

    def update_object(self, api: AEPClient, id_: str, olds: dict, args: IdentityDescriptorArgs,
                      changed: set[str]) -> dict:
        """PUT the full descriptor (AEP rewrites it whole)."""
        api.replace_descriptor(args.sandbox, id_, self._body(args))
        return {}

    def delete_object(self, api: AEPClient, id_: str, props: dict) -> None:
        """DELETE /tenant/descriptors/{@id}; AEP keeps the primary identity of a Profile-enabled schema."""
        try:
            api.delete_descriptor(props["sandbox"], id_)
        except BadRequest as e:
            if e.code != PROFILE_PRIMARY:
                raise
            raise ProviderError(
                f"{self.label(props, id_)}: delete failed: {e.cause}. It is the primary identity of a schema enabled "
                "for Profile, which AEP keeps. Next: keep it in the stack, or leave it in AEP with the resource option "
                "retain_on_delete=True (then `pulumi up`)") from None


class IdentityDescriptor(Resource, module="aep", name="IdentityDescriptor"):
    """An identity descriptor: a schema field's values are identities in one namespace."""

    descriptor_id: pulumi.Output[str]
    schema_id: pulumi.Output[str]
    namespace: pulumi.Output[str]
    primary: pulumi.Output[bool]

    def __init__(self, resource_name: str, *, schema_id: pulumi.Input[str], source_property: pulumi.Input[str],
                 namespace: pulumi.Input[str], primary: pulumi.Input[bool] | None = None,
                 source_version: pulumi.Input[int] | None = None, sandbox: pulumi.Input[str] | None = None,
                 adopt_id: pulumi.Input[str] | None = None, opts: pulumi.ResourceOptions | None = None):
        """An identity descriptor on one field of a schema (Schema Registry).

        Args:
            resource_name: the Pulumi resource name.
            schema_id: the XdmSchema's id ($id); another schema means another descriptor.
            source_property: the field's XDM path with a leading slash, e.g. /_tenant/visitorId (a string
                field); another field means another descriptor.
            namespace: the namespace code (standard, e.g. ECID, or an IdentityNamespace's code).
            primary: whether it is the schema's primary identity (default false; one per schema).
            source_version: the schema's major version (default 1).
            sandbox: the AEP sandbox (default stack config aep:sandbox).
            adopt_id: the @id of an existing identity descriptor to manage instead of creating one.
            opts: Pulumi resource options.
        """
        super().__init__(IdentityDescriptorProvider(), resource_name,
                         *resource_args(IdentityDescriptorProvider, locals()))
