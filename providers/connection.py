"""What Flow Service's connection objects share (base, source and target connections).

Each is created from one POST body, read back by id, patched by name and description with
the stored etag in `If-Match`, and deleted by id. A connection module declares its args
(on `ConnectionArgs`), the body of its own definition (`definition`) and how its own fields
read back (`from_item`); the rest is here.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from .base import AEPProvider, member_ops
from .client import AEPClient
from .models import DEFAULT_DESCRIPTION, AEPArgs, Managed, Name
from .resource import etag_patch


class ConnectionArgs(AEPArgs):
    """The inputs every connection has; `connection_spec_id` is declared by each kind."""

    name: Annotated[Name | None, Managed()] = None
    description: Annotated[str, Managed(default="")] = DEFAULT_DESCRIPTION
    connection_spec_id: Annotated[str | None, Managed(replaces=True)] = None
    connection_spec_version: Annotated[str, Managed(replaces=True)] = "1.0"


class ConnectionProvider(AEPProvider):
    """CRUD for one Flow Service connection collection, through the client's `<verb>_<api>` methods."""

    computed = ("etag",)

    @property
    def api(self) -> str:
        """The client's method suffix, the kind in snake case: `SourceConnection` is `source_connection`."""
        return re.sub(r"(?<!^)(?=[A-Z])", "_", self.kind).lower()

    def definition(self, args: Any) -> dict:
        """The POST body beyond name, description and connection spec."""
        raise NotImplementedError

    def from_item(self, item: dict) -> dict:
        """The kind's own inputs, read back from the item AEP holds."""
        raise NotImplementedError

    def patch_ops(self, args: Any, changed: set[str]) -> list[dict]:
        """The JSON Patch operations of an in-place update: name and description."""
        return member_ops(args, changed, "name", "description")

    def create_object(self, api: AEPClient, args: Any) -> tuple[str, dict]:
        """POST -> {id, etag}; nothing else needs reading back."""
        created = getattr(api, f"create_{self.api}")(args.sandbox, {
            "name": args.name, "description": args.description,
            "connectionSpec": {"id": args.connection_spec_id, "version": args.connection_spec_version},
            **self.definition(args)})
        return created.id, {"etag": created.body.get("etag")}

    def read_object(self, api: AEPClient, id_: str, props: dict) -> dict | None:
        """GET by id, mapped back onto the inputs."""
        item = getattr(api, f"get_{self.api}")(props["sandbox"], id_)
        spec = item.get("connectionSpec") or {}
        return {"name": item.get("name"), "description": item.get("description"),
                "connection_spec_id": spec.get("id"), "connection_spec_version": spec.get("version"),
                **self.from_item(item), "etag": item.get("etag")}

    def update_object(self, api: AEPClient, id_: str, olds: dict, args: Any, changed: set[str]) -> dict:
        """One PATCH with If-Match (the stored etag); the answer carries the new etag."""
        return etag_patch(getattr(api, f"patch_{self.api}"), args.sandbox, id_, self.patch_ops(args, changed), olds)

    def delete_object(self, api: AEPClient, id_: str, props: dict) -> None:
        """DELETE by id."""
        getattr(api, f"delete_{self.api}")(props["sandbox"], id_)
