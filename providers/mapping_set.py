"""MappingSet: a Data Prep mapping set. Changing it PUTs a new version; it is never replaced.

Every PUT creates a new immutable version on the same id; a Dataflow that takes this
resource's `version` output then patches its transformation to the new version.
Destinations are checked against `schema_field_paths` (XdmSchema.known_field_paths) during
preview, when given; source attributes are checked for syntax.
"""

from __future__ import annotations

import difflib
import logging
from typing import Annotated, Any, ClassVar, Sequence
from typing import Mapping as MappingType

import pulumi
from pydantic import Field, model_validator

from .base import AEPProvider, resource_args
from .client import AEPClient, AEPError
from .models import TARGET_SCHEMA_FORMAT, AEPArgs, InputError, Managed, Mapping, Name, Passive, no_spaces
from .resource import Resource

log = logging.getLogger("providers")


def _mappings_norm(v: Any) -> Any:
    # Order carries no meaning to Data Prep; compare as sorted lists.
    if isinstance(v, list):
        return sorted(v, key=lambda m: (m.get("destination", ""), m.get("source", ""))
                      if isinstance(m, dict) else ("", ""))
    return v


class MappingSetArgs(AEPArgs):
    _required: ClassVar[dict[str, str]] = {
        "schema_id": "pass the target XdmSchema's schema_id ($id)",
        "mappings": "declare at least one mapping",
    }

    name: Annotated[Name | None, Managed()] = None
    schema_id: Annotated[str | None, Managed()] = None
    schema_content_type: Annotated[str, Managed(normalize=no_spaces)] = TARGET_SCHEMA_FORMAT
    mappings: Annotated[list[Mapping] | None, Managed(normalize=_mappings_norm)] = None
    schema_field_paths: Annotated[list[str] | None, Passive()] = Field(
        None, description="the target schema's field paths (XdmSchema.known_field_paths), to validate "
                          "destinations at preview time")

    def cross_check(self, unknown: set[str]) -> list[InputError]:
        errs: list[InputError] = []
        if "mappings" in unknown or not self.mappings:
            return errs
        seen: dict[str, int] = {}
        # In the schema's order (class fields, then the tenant's), as the message lists them.
        known = list(dict.fromkeys(self.schema_field_paths or ())) if "schema_field_paths" not in unknown else []
        for i, m in enumerate(self.mappings):
            where = f"mappings[{i}].destination"
            if m.destination in seen:
                errs.append(InputError(where, f"{m.destination!r} is already mapped by mappings[{seen[m.destination]}]"
                                       ": keep one mapping per destination"))
                continue
            seen[m.destination] = i
            if known and m.destination not in known:
                errs.append(InputError(where, not_in_schema(m.destination, known)))
        return errs

    @model_validator(mode="after")
    def _in_order(self) -> "MappingSetArgs":
        # After the checks (their messages count the mappings as written): the order of mappings
        # carries no meaning to Data Prep, so store them sorted and it never shows as a diff.
        if self.mappings:
            self.mappings = sorted(self.mappings, key=lambda m: (m.destination, m.source, m.source_type))
        return self


def not_in_schema(destination: str, paths: list[str]) -> str:
    """Why a destination outside the schema is refused, with the closest paths and the fix."""
    # Compared below the tenant root: `_acme.` would make every tenant path look alike.
    def below(path: str) -> str:
        return path.split(".", 1)[1] if path.startswith("_") and "." in path else path

    by_key = {below(p): p for p in reversed(paths)}
    close = [by_key[k] for k in difflib.get_close_matches(below(destination), list(by_key), n=3, cutoff=0.6)]
    hint = f"did you mean {' or '.join(close)}? " if close else ""
    return (f"{destination!r} is not a field of the target schema: {hint}Add the field to the schema's fields, or "
            f"map to one of: {', '.join(paths)}")


class MappingSetProvider(AEPProvider):
    kind = "MappingSet"
    name_prefix = "mapping"
    args_model = MappingSetArgs
    computed = ("mapping_set_id", "version")

    def create_object(self, api: AEPClient, args: MappingSetArgs) -> tuple[str, dict]:
        """POST /mappingSets -> 200 {id, version}; the version comes with the answer."""
        created = api.create_mapping_set(args.sandbox, mapping_set_body(args))
        return created.id, {"mapping_set_id": created.id, "version": int(created.body.get("version") or 0)}

    def read_object(self, api: AEPClient, id_: str, props: dict) -> dict | None:
        """GET /mappingSets/{id} (latest version); both mapping dialects are understood."""
        ms = api.get_mapping_set(props["sandbox"], id_)
        out_schema = ms.get("outputSchema") or {}
        ref = out_schema.get("schemaRef") or {}
        mappings = [{"source": m.get("source") if m.get("source") is not None else m.get("sourceAttribute"),
                     "destination": m.get("destination") or m.get("destinationXdmPath"),
                     "source_type": m.get("sourceType") or "ATTRIBUTE"}
                    for m in ms.get("mappings") or []]
        return {"name": ms.get("name") or props.get("name"), "schema_id": ref.get("id") or out_schema.get("id"),
                "schema_content_type": ref.get("contentType") or props.get("schema_content_type"),
                "mappings": mappings, "mapping_set_id": ms.get("id") or id_,
                "version": int(ms.get("version") or 0)}

    def update_object(self, api: AEPClient, id_: str, olds: dict, args: MappingSetArgs, changed: set[str]) -> dict:
        """PUT the whole set: Data Prep answers with the same id and the next version."""
        out = api.update_mapping_set(args.sandbox, id_, mapping_set_body(args))
        return {"mapping_set_id": id_, "version": int(out.get("version") or 0)}

    def delete_object(self, api: AEPClient, id_: str, props: dict) -> None:
        """DELETE /mappingSets/{id}; Adobe documents no delete, so 405 leaves it (unused) in place."""
        try:
            api.delete_mapping_set(props["sandbox"], id_)
        except AEPError as e:
            if e.status != 405:
                raise
            log.warning("%s: Data Prep does not delete mapping sets; it stays, unused", self.label(props, id_))


def mapping_set_body(args: MappingSetArgs) -> dict:
    """The mapping set as Data Prep takes it (create, new version, preview)."""
    return {
        "name": args.name,
        "outputSchema": {"schemaRef": {"id": args.schema_id, "contentType": args.schema_content_type}},
        "mappings": [{"sourceType": m.source_type, "source": m.source, "destination": m.destination}
                     for m in args.mappings or []],
    }


class MappingSet(Resource, module="aep", name="MappingSet"):
    """Data Prep mappings from the incoming JSON into the target schema."""

    name: pulumi.Output[str]
    mapping_set_id: pulumi.Output[str]
    version: pulumi.Output[int]

    def __init__(self, resource_name: str, *, schema_id: pulumi.Input[str],
                 mappings: pulumi.Input[Sequence[MappingType[str, str]]], name: pulumi.Input[str] | None = None,
                 schema_content_type: pulumi.Input[str] | None = None,
                 schema_field_paths: pulumi.Input[Sequence[str]] | None = None,
                 sandbox: pulumi.Input[str] | None = None, adopt_id: pulumi.Input[str] | None = None,
                 opts: pulumi.ResourceOptions | None = None):
        """A mapping set into one target schema.

        Args:
            resource_name: the Pulumi resource name.
            schema_id: the target XdmSchema's id ($id).
            mappings: `[{source, destination, source_type?}]`: a path into the incoming JSON (or an
                expression, with source_type EXPRESSION) into an XDM path of the schema.
            name: the set's name in AEP (default `mapping-<7 random characters>`, kept across updates).
            schema_content_type: the schema reference's media type (default xed-full, version 1).
            schema_field_paths: XdmSchema.known_field_paths, so that preview checks every destination.
            sandbox: the AEP sandbox (default stack config aep:sandbox).
            adopt_id: the id of an existing mapping set to manage instead of creating one.
            opts: Pulumi resource options.
        """
        super().__init__(MappingSetProvider(), resource_name, *resource_args(MappingSetProvider, locals()))
