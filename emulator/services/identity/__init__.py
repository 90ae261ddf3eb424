"""Identity Service namespaces (/data/core/idnamespace).

models.py is the backend (IdentityService: the rules and the store, no HTTP), responses.py the
routes.
"""

from .models import IdentityService
from .responses import router

__all__ = ["IdentityService", "router"]
