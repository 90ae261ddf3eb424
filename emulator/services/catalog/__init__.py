"""Catalog Service datasets (/data/foundation/catalog).

models.py is the backend (Catalog: the rules and the store, no HTTP), responses.py the routes
(Catalog's response shapes, listing parameters).
"""

from .models import Catalog
from .responses import FILTERS, router

__all__ = ["FILTERS", "Catalog", "router"]
