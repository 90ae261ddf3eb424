"""Real-Time Customer Profile's entity lookup (/data/core/ups/access/entities): read-only.

The providers never call it; `make demo` does, to show the profile a pipeline's records were
stitched into.
"""

from __future__ import annotations

from .transport import Transport

PROFILE_ACCESS = "/data/core/ups/access"
PROFILE_SCHEMA = "_xdm.context.profile"


class ProfileAccess(Transport):
    """The Profile Access endpoint the demo reads."""

    def get_profile(self, sandbox: str, entity_id: str, namespace: str) -> dict:
        """GET /entities for one identity (`entityId` in namespace `entityIdNS`) -> the merged
        profile, keyed by its entity id. Retried."""
        return self._call("GET", f"{PROFILE_ACCESS}/entities", sandbox=sandbox, accept="application/json",
                          params={"schema.name": PROFILE_SCHEMA, "entityId": entity_id, "entityIdNS": namespace},
                          idempotent=True) or {}
