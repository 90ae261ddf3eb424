"""MappingSet: a Data Prep mapping set. Changing it PUTs a new version; it is never replaced.

Every PUT creates a new immutable version on the same id; a Dataflow that takes this
resource's `version` output then patches its transformation to the new version.
Destinations are checked against `schema_field_paths` (XdmSchema.known_field_paths) during
preview, when given; source attributes are checked for syntax.
"""

from __future__ import annotations

import logging
from typing import Any

import pulumi
from pulumi.dynamic import Resource

from .base import AEPProvider, Managed, output_slots, resource_props
from .client import AEPClient, AEPError
from .models import MappingSetArgs

log = logging.getLogger("providers")


class MappingSet(Resource, module="aep", name="MappingSet"):
    """Data Prep mappings from the incoming JSON into the target schema."""

    name: pulumi.Output[str]
    mapping_set_id: pulumi.Output[str]
    version: pulumi.Output[int]

    def __init__(self, resource_name: str, *, schema_id: Any, mappings: Any, name: Any = None,
                 schema_content_type: Any = None, schema_field_paths: Any = None, sandbox: Any = None,
                 adopt_id: Any = None, opts: pulumi.ResourceOptions | None = None):
        """`mappings`: [{source, destination, source_type?}]; `schema_field_paths`: XdmSchema.known_field_paths."""
        props = resource_props(sandbox, name=name, schema_id=schema_id, schema_content_type=schema_content_type,
                               mappings=mappings, schema_field_paths=schema_field_paths, adopt_id=adopt_id)
        super().__init__(MappingSetProvider(), resource_name,
                         {**props, **output_slots("mapping_set_id", "version")}, opts)


def _mappings_norm(v: Any) -> Any:
    # Order carries no meaning to Data Prep; compare as sorted lists.
    if isinstance(v, list):
        return sorted(v, key=lambda m: (m.get("destination", ""), m.get("source", "")) if isinstance(m, dict) else ("", ""))
    return v


class MappingSetProvider(AEPProvider):
    kind = "MappingSet"
    name_prefix = "mapping"
    args_model = MappingSetArgs
    passive = ("adopt_id", "schema_field_paths")
    fields = (
        Managed("sandbox", replaces=True),
        Managed("name"),
        Managed("schema_id"),
        Managed("schema_content_type", normalize=lambda v: v.replace(" ", "") if isinstance(v, str) else v),
        Managed("mappings", normalize=_mappings_norm),
    )
    computed = ("mapping_set_id", "version")

    # -- create ---------------------------------------------------------------------------------

    def create_object(self, api: AEPClient, args: MappingSetArgs) -> tuple[str, dict]:
        """POST /mappingSets -> 200 {id, version}; the version comes with the answer."""
        created = api.create_mapping_set(args.sandbox, _body(args))
        return created.id, {"mapping_set_id": created.id, "version": int(created.body.get("version") or 0)}

    # -- read -----------------------------------------------------------------------------------

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

    # -- update ---------------------------------------------------------------------------------

    def update_object(self, api: AEPClient, id_: str, olds: dict, args: MappingSetArgs, changed: set[str]) -> dict:
        """PUT the whole set: Data Prep answers with the same id and the next version."""
        out = api.update_mapping_set(args.sandbox, id_, _body(args))
        return {"mapping_set_id": id_, "version": int(out.get("version") or 0)}

    # -- delete ---------------------------------------------------------------------------------

    def delete_object(self, api: AEPClient, id_: str, props: dict) -> None:
        """DELETE /mappingSets/{id}; Adobe documents no delete, so 405 leaves it (unused) in place."""
        try:
            api.delete_mapping_set(props["sandbox"], id_)
        except AEPError as e:
            if e.status != 405:
                raise
            log.warning("%s: Data Prep does not delete mapping sets; it stays, unused", self.label(props, id_))

    # -- adopt ----------------------------------------------------------------------------------

    def adopt_object(self, api: AEPClient, adopt_id: str, args: MappingSetArgs) -> tuple[str, dict]:
        """Adopt a mapping set by id; differing mappings are PUT as a new version."""
        return self.adopt_by_read(api, adopt_id, args)


def _body(args: MappingSetArgs) -> dict:
    return {
        "name": args.name,
        "outputSchema": {"schemaRef": {"id": args.schema_id, "contentType": args.schema_content_type}},
        "mappings": [{"sourceType": m.source_type, "source": m.source, "destination": m.destination}
                     for m in args.mappings or []],
    }
