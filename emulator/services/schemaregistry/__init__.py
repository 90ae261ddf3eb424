"""Schema Registry (/data/foundation/schemaregistry): tenant schemas, field groups and descriptors.

models.py is the backend (SchemaRegistry: the rules and the store, no HTTP), responses.py the
routes (Accept negotiation, listings, status codes); descriptors.py and descriptor_routes.py the
same for identity descriptors.
"""

from .descriptor_routes import router as descriptor_router
from .descriptors import Descriptors
from .models import SchemaRegistry
from .responses import FILTERS, router

router.include_router(descriptor_router)

__all__ = ["FILTERS", "Descriptors", "SchemaRegistry", "router"]
