"""Dataset: a Catalog dataset bound to an XDM schema. A different schema means a new dataset."""

from __future__ import annotations

from typing import Any

import pulumi
from pulumi.dynamic import Resource

from .base import AEPProvider, Managed, member_ops, output_slots, resource_props
from .client import AEPClient
from .models import DatasetArgs


class Dataset(Resource, module="aep", name="Dataset"):
    """A Catalog dataset for one schema. `tags` is Catalog's map of string lists."""

    name: pulumi.Output[str]
    dataset_id: pulumi.Output[str]
    schema_id: pulumi.Output[str]

    def __init__(self, resource_name: str, *, schema_id: Any, name: Any = None, description: Any = None,
                 schema_content_type: Any = None, tags: Any = None, sandbox: Any = None, adopt_id: Any = None,
                 allow_replace: Any = None,
                 opts: pulumi.ResourceOptions | None = None):
        """`schema_id` is the XdmSchema's id ($id); `allow_replace` lets a plan replace it (its data is lost)."""
        # The engine tells policy packs whether a resource is protected, never whether it is
        # retained on delete; protect-production-data needs to know, so it is also an input.
        retained = True if opts is not None and opts.retain_on_delete else None
        props = resource_props(sandbox, name=name, description=description, schema_id=schema_id,
                               schema_content_type=schema_content_type, tags=tags, adopt_id=adopt_id,
                               allow_replace=allow_replace, retain_on_delete=retained)
        super().__init__(DatasetProvider(), resource_name, {**props, **output_slots("dataset_id")}, opts)


class DatasetProvider(AEPProvider):
    kind = "Dataset"
    name_prefix = "dataset"
    args_model = DatasetArgs
    # retain_on_delete: the resource option, recorded for policy packs; AEP never sees it.
    passive = ("adopt_id", "retain_on_delete")
    fields = (
        Managed("sandbox", replaces=True),
        Managed("name"),
        Managed("description", default=""),
        Managed("schema_id", replaces=True),
        Managed("schema_content_type", replaces=True),
        # Catalog tag values are sets in all but type: their order never counts as a change.
        Managed("tags", normalize=lambda v: {k: sorted(x) for k, x in v.items()} if isinstance(v, dict) else v,
                default={}),
    )
    computed = ("dataset_id",)
    # A new dataset starts empty: what was ingested into the old one goes with it.
    allow_kinds = "dataset"
    replacement_loses = "its ingested batches are deleted with it, and a new, empty dataset takes its place"

    # -- create ---------------------------------------------------------------------------------

    def create_object(self, api: AEPClient, args: DatasetArgs) -> tuple[str, dict]:
        """POST /dataSets; Catalog answers only the id, and we expose nothing else it computes."""
        # `tags` is always sent, even empty, so later per-key patches have a parent to add to.
        body: dict[str, Any] = {"name": args.name, "description": args.description,
                                "schemaRef": {"id": args.schema_id, "contentType": args.schema_content_type},
                                "tags": args.tags}
        created = api.create_dataset(args.sandbox, body)
        return created.id, {"dataset_id": created.id}

    # -- read -----------------------------------------------------------------------------------

    def read_object(self, api: AEPClient, id_: str, props: dict) -> dict | None:
        """GET /dataSets/{id}; AEP's own `adobe/*` tags are not ours and are ignored."""
        ds = api.get_dataset(props["sandbox"], id_)
        ref = ds.get("schemaRef") or {}
        tags = {k: v for k, v in (ds.get("tags") or {}).items() if not k.startswith("adobe/")}
        return {"name": ds.get("name"), "description": ds.get("description"),
                "schema_id": ref.get("id"), "schema_content_type": ref.get("contentType"),
                "tags": tags, "dataset_id": id_}

    # -- update ---------------------------------------------------------------------------------

    def update_object(self, api: AEPClient, id_: str, olds: dict, args: DatasetArgs, changed: set[str]) -> dict:
        """One JSON Patch of absolute values (Catalog has no etag to send).

        Tags are patched key by key so that AEP's own `adobe/*` tags survive.
        """
        ops: list[dict] = member_ops(args, changed, "name", "description")
        if "tags" in changed:
            old_tags = olds.get("tags") or {}
            ops += [{"op": "remove", "path": f"/tags/{_ptr(k)}"} for k in old_tags if k not in args.tags]
            ops += [{"op": "add", "path": f"/tags/{_ptr(k)}", "value": v} for k, v in args.tags.items()
                    if old_tags.get(k) != v]
        if ops:
            api.patch_dataset(args.sandbox, id_, ops)
        return {}

    # -- delete ---------------------------------------------------------------------------------

    def delete_object(self, api: AEPClient, id_: str, props: dict) -> None:
        """DELETE /dataSets/{id} (Catalog may answer 200 [] for an id it does not know)."""
        api.delete_dataset(props["sandbox"], id_)

    # -- adopt ----------------------------------------------------------------------------------

    def adopt_object(self, api: AEPClient, adopt_id: str, args: DatasetArgs) -> tuple[str, dict]:
        """Adopt a dataset by id; its schema must be the declared one."""
        return self.adopt_by_read(api, adopt_id, args)


def _ptr(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")
