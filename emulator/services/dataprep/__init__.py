"""Data Prep mapping sets (/data/foundation/conversion).

models.py is the backend (DataPrep: the rules and the store, no HTTP), responses.py the routes.
"""

from .models import DataPrep
from .responses import router

__all__ = ["DataPrep", "router"]
