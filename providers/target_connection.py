"""TargetConnection: the data lake target, bound to one dataset and its schema.

As with source connections, a definition change (dataset, schema, format, spec) replaces
the connection and therefore its flow; name and description are patched in place.
"""

from __future__ import annotations

from typing import Annotated, ClassVar

import pulumi

from .base import resource_args
from .connection import ConnectionArgs, ConnectionProvider
from .models import (
    DATA_LAKE_SPEC,
    TARGET_SCHEMA_FORMAT,
    TARGET_SPECS,
    InputError,
    Managed,
    no_spaces,
)
from .resource import Resource


class TargetConnectionArgs(ConnectionArgs):
    _required: ClassVar[dict[str, str]] = {
        "dataset_id": "pass the Dataset's id",
        "schema_id": "pass the XdmSchema's schema_id ($id)",
    }

    connection_spec_id: Annotated[str, Managed(replaces=True)] = DATA_LAKE_SPEC
    data_format: Annotated[str, Managed(replaces=True)] = "json"
    dataset_id: Annotated[str | None, Managed(replaces=True)] = None
    schema_id: Annotated[str | None, Managed(replaces=True)] = None
    schema_version: Annotated[str, Managed(replaces=True, normalize=no_spaces)] = TARGET_SCHEMA_FORMAT

    def cross_check(self, unknown: set[str]) -> list[InputError]:
        if "connection_spec_id" not in unknown and self.connection_spec_id not in TARGET_SPECS:
            return [InputError("connection_spec_id", f"{self.connection_spec_id!r}: AEP only accepts the data "
                               f"lake target spec {DATA_LAKE_SPEC} here (FLOW-1307-400); remove the input "
                               "or set it to that id")]
        return []


class TargetConnectionProvider(ConnectionProvider):
    kind = "TargetConnection"
    name_prefix = "target"
    args_model = TargetConnectionArgs

    def definition(self, args: TargetConnectionArgs) -> dict:
        """The dataset, and the schema its records follow."""
        return {"data": {"format": args.data_format, "schema": {"id": args.schema_id, "version": args.schema_version}},
                "params": {"dataSetId": args.dataset_id}}

    def from_item(self, item: dict) -> dict:
        data = item.get("data") or {}
        schema = data.get("schema") or {}
        return {"data_format": data.get("format"), "dataset_id": (item.get("params") or {}).get("dataSetId"),
                "schema_id": schema.get("id"), "schema_version": schema.get("version")}


class TargetConnection(Resource, module="aep", name="TargetConnection"):
    """A data lake target connection writing into `dataset_id` with schema `schema_id`."""

    name: pulumi.Output[str]
    etag: pulumi.Output[str]

    def __init__(self, resource_name: str, *, dataset_id: pulumi.Input[str], schema_id: pulumi.Input[str],
                 name: pulumi.Input[str] | None = None, description: pulumi.Input[str] | None = None,
                 data_format: pulumi.Input[str] | None = None, schema_version: pulumi.Input[str] | None = None,
                 connection_spec_id: pulumi.Input[str] | None = None,
                 connection_spec_version: pulumi.Input[str] | None = None, sandbox: pulumi.Input[str] | None = None,
                 adopt_id: pulumi.Input[str] | None = None, opts: pulumi.ResourceOptions | None = None):
        """A target connection; a change to its definition replaces it, and its flow with it.

        Args:
            resource_name: the Pulumi resource name.
            dataset_id: the Dataset's id, where the records go.
            schema_id: the XdmSchema's id ($id), the records' schema.
            name: its name in AEP (default `target-<7 random characters>`, kept across updates).
            description: its description (default "Managed by Pulumi (aep-pipelines)").
            data_format: the format written (default "json").
            schema_version: the schema reference's media type (default xed-full, version 1).
            connection_spec_id: the target's connection spec (default, and the only one AEP takes: the data lake).
            connection_spec_version: the connection spec's version (default "1.0").
            sandbox: the AEP sandbox (default stack config aep:sandbox).
            adopt_id: the id of an existing target connection to manage instead of creating one.
            opts: Pulumi resource options.
        """
        super().__init__(TargetConnectionProvider(), resource_name,
                         *resource_args(TargetConnectionProvider, locals()))
