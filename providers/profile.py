"""ProfileEnablement: a schema enabled for Real-Time Customer Profile (`meta:immutableTags: ["union"]`).

A one-way door in AEP: once a schema carries the union tag it cannot lose it, be deleted, or
lose fields. So this resource has no way back: `enabled` cannot be set to false, and removing
the resource leaves the schema enabled in AEP (the component protects it, so removing it is
refused until the user unprotects it on purpose). AEP enables a schema only once it has a
primary identity descriptor, so the component makes this depend on that descriptor.

Its id is the schema's `$id`: a schema is enabled once.
"""

from __future__ import annotations

import logging
from typing import Annotated, ClassVar

import pulumi

from .base import AEPProvider, resource_args
from .client import AEPClient
from .models import AEPArgs, InputError, Managed
from .resource import Resource

log = logging.getLogger("providers")

UNION = "union"


class ProfileEnablementArgs(AEPArgs):
    name_field: ClassVar[str] = "schema_id"
    auto_name: ClassVar[bool] = False
    _required: ClassVar[dict[str, str]] = {"schema_id": "pass the XdmSchema's id ($id)"}

    schema_id: Annotated[str | None, Managed(replaces=True)] = None
    enabled: Annotated[bool, Managed(default=True)] = True

    def cross_check(self, unknown: set[str]) -> list[InputError]:
        if "schema_id" not in unknown and self.schema_id and not self.schema_id.startswith("https://"):
            return [InputError("schema_id", f"{self.schema_id!r} is not a schema $id: pass the XdmSchema's id")]
        if "enabled" not in unknown and not self.enabled:
            return [InputError("enabled", "a schema enabled for Profile cannot be disabled in AEP (nor deleted, nor "
                               "lose fields): keep enabled=true; a new schema is the only way out")]
        return []


class ProfileEnablementProvider(AEPProvider):
    kind = "ProfileEnablement"
    name_prefix = "profile"
    args_model = ProfileEnablementArgs

    def create_object(self, api: AEPClient, args: ProfileEnablementArgs) -> tuple[str, dict]:
        """One PATCH adding the union tag (adding it again changes nothing, so a retry is safe)."""
        api.patch_schema(args.sandbox, args.schema_id, [{"op": "add", "path": "/meta:immutableTags", "value": [UNION]}])
        return args.schema_id, {}

    def read_object(self, api: AEPClient, id_: str, props: dict) -> dict | None:
        """GET the schema: enabled while it carries the union tag; gone with the schema."""
        schema = api.get_schema(props["sandbox"], id_)
        return {"schema_id": schema.get("$id") or id_, "enabled": UNION in (schema.get("meta:immutableTags") or [])}

    def update_object(self, api: AEPClient, id_: str, olds: dict, args: ProfileEnablementArgs,
                      changed: set[str]) -> dict:
        """Enable again a schema whose tag went missing (the only change there is)."""
        self.create_object(api, args)
        return {}

    def delete_object(self, api: AEPClient, id_: str, props: dict) -> None:
        """No call: AEP cannot disable Profile on a schema, so the schema stays enabled."""
        log.warning("%s: removed from the stack, but %s stays enabled for Profile in AEP (it cannot be disabled)",
                    self.label(props, id_), id_)


class ProfileEnablement(Resource, module="aep", name="ProfileEnablement"):
    """A schema enabled for Real-Time Customer Profile; it cannot be undone."""

    schema_id: pulumi.Output[str]
    enabled: pulumi.Output[bool]

    def __init__(self, resource_name: str, *, schema_id: pulumi.Input[str], enabled: pulumi.Input[bool] | None = None,
                 sandbox: pulumi.Input[str] | None = None, adopt_id: pulumi.Input[str] | None = None,
                 opts: pulumi.ResourceOptions | None = None):
        """Enable a schema for Profile: AEP merges its datasets' records into profiles.

        Args:
            resource_name: the Pulumi resource name.
            schema_id: the XdmSchema's id ($id); it needs a primary identity descriptor first.
            enabled: always true (the default): AEP cannot disable Profile on a schema.
            sandbox: the AEP sandbox (default stack config aep:sandbox).
            adopt_id: the schema's id when the schema is adopted: its Profile state is read, and the union
                tag written only if it lacks it.
            opts: Pulumi resource options; the pipeline component protects it.
        """
        super().__init__(ProfileEnablementProvider(), resource_name,
                         *resource_args(ProfileEnablementProvider, locals()))

