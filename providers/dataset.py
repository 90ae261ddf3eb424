"""Dataset: a Catalog dataset bound to an XDM schema. A different schema means a new dataset."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Mapping, Sequence

import pulumi
from pydantic import AfterValidator, Field

from .base import AEPProvider, member_ops, resource_args
from .client import AEPClient
from .models import DATASET_SCHEMA_FORMAT, DEFAULT_DESCRIPTION, AEPArgs, InputError, Managed, Name, Passive
from .resource import Resource


def _tags(v: dict[str, list[str]]) -> dict[str, list[str]]:
    return {k: sorted(set(vals)) for k, vals in sorted(v.items())}


def _tag_sets(v: Any) -> Any:
    # Catalog tag values are sets in all but type: their order never counts as a change.
    return {k: sorted(x) for k, x in v.items()} if isinstance(v, dict) else v


class DatasetArgs(AEPArgs):
    _required: ClassVar[dict[str, str]] = {"schema_id": "pass the XdmSchema's schema_id ($id)"}

    name: Annotated[Name | None, Managed()] = None
    description: Annotated[str, Managed(default="")] = DEFAULT_DESCRIPTION
    schema_id: Annotated[str | None, Managed(replaces=True)] = None
    schema_content_type: Annotated[str, Managed(replaces=True)] = DATASET_SCHEMA_FORMAT
    tags: Annotated[dict[str, list[str]], AfterValidator(_tags), Managed(normalize=_tag_sets, default={})] = Field(
        default_factory=dict)
    # The resource option, recorded for policy packs; AEP never sees it.
    retain_on_delete: Annotated[bool | None, Passive()] = Field(
        None, description="the resource option, recorded for policy packs")

    def cross_check(self, unknown: set[str]) -> list[InputError]:
        errs = []
        if "schema_id" not in unknown and self.schema_id and not self.schema_id.startswith("https://"):
            errs.append(InputError("schema_id", f"{self.schema_id!r} is not a schema $id: pass the XdmSchema's "
                                   "schema_id output (https://ns.adobe.com/<tenant>/schemas/<hash>)"))
        bad = [k for k in self.tags if k.startswith("adobe/")]
        if bad and "tags" not in unknown:
            errs.append(InputError("tags", f"{bad} are system tags AEP manages itself: remove them"))
        return errs


class DatasetProvider(AEPProvider):
    kind = "Dataset"
    name_prefix = "dataset"
    args_model = DatasetArgs
    computed = ("dataset_id",)
    # A new dataset starts empty: what was ingested into the old one goes with it.
    allow_kinds = "dataset"
    replacement_loses = "its ingested batches are deleted with it, and a new, empty dataset takes its place"

    def create_object(self, api: AEPClient, args: DatasetArgs) -> tuple[str, dict]:
        """POST /dataSets; Catalog answers only the id, and we expose nothing else it computes."""
        # `tags` is always sent, even empty, so later per-key patches have a parent to add to.
        body: dict[str, Any] = {"name": args.name, "description": args.description,
                                "schemaRef": {"id": args.schema_id, "contentType": args.schema_content_type},
                                "tags": args.tags}
        created = api.create_dataset(args.sandbox, body)
        return created.id, {"dataset_id": created.id}

    def read_object(self, api: AEPClient, id_: str, props: dict) -> dict | None:
        """GET /dataSets/{id}; AEP's own `adobe/*` tags are not ours and are ignored."""
        ds = api.get_dataset(props["sandbox"], id_)
        ref = ds.get("schemaRef") or {}
        tags = {k: v for k, v in (ds.get("tags") or {}).items() if not k.startswith("adobe/")}
        return {"name": ds.get("name"), "description": ds.get("description"),
                "schema_id": ref.get("id"), "schema_content_type": ref.get("contentType"),
                "tags": tags, "dataset_id": id_}

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

    def delete_object(self, api: AEPClient, id_: str, props: dict) -> None:
        """DELETE /dataSets/{id} (Catalog may answer 200 [] for an id it does not know)."""
        api.delete_dataset(props["sandbox"], id_)


def _ptr(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")


class Dataset(Resource, module="aep", name="Dataset"):
    """A Catalog dataset for one schema. `tags` is Catalog's map of string lists."""

    name: pulumi.Output[str]
    dataset_id: pulumi.Output[str]
    schema_id: pulumi.Output[str]

    def __init__(self, resource_name: str, *, schema_id: pulumi.Input[str], name: pulumi.Input[str] | None = None,
                 description: pulumi.Input[str] | None = None, schema_content_type: pulumi.Input[str] | None = None,
                 tags: pulumi.Input[Mapping[str, Sequence[str]]] | None = None,
                 sandbox: pulumi.Input[str] | None = None, adopt_id: pulumi.Input[str] | None = None,
                 allow_replace: pulumi.Input[bool] | None = None, opts: pulumi.ResourceOptions | None = None):
        """A dataset whose records follow one XDM schema.

        Args:
            resource_name: the Pulumi resource name.
            schema_id: the XdmSchema's id ($id); another schema means another dataset.
            name: the dataset's name in AEP (default `dataset-<7 random characters>`, kept across updates).
            description: its description (default "Managed by Pulumi (aep-pipelines)").
            schema_content_type: the schema reference's media type (default the XDM one, version 1).
            tags: Catalog's tags, a map of string lists; AEP's own `adobe/*` tags are left alone.
            sandbox: the AEP sandbox (default stack config aep:sandbox).
            adopt_id: the id of an existing dataset to manage instead of creating one.
            allow_replace: let a plan replace it, although its ingested data goes with it.
            opts: Pulumi resource options.
        """
        # The engine tells policy packs whether a resource is protected, never whether it is
        # retained on delete; protect-production-data needs to know, so it is also an input.
        retain_on_delete = True if opts is not None and opts.retain_on_delete else None  # noqa: F841 - an input
        super().__init__(DatasetProvider(), resource_name, *resource_args(DatasetProvider, locals()))
