"""Schema Registry (/data/foundation/schemaregistry): tenant schemas and field groups.

models.py is the backend (SchemaRegistry: the rules and the store, no HTTP), responses.py the
routes (Accept negotiation, listings, status codes).
"""

from .models import SchemaRegistry
from .responses import FILTERS, router

__all__ = ["FILTERS", "SchemaRegistry", "router"]
