"""Real-Time Customer Profile's entity lookup (/data/core/ups/access/entities), read-only and minimal.

models.py is the backend (Profile: the stitching, no HTTP), responses.py the route. The real
endpoint exists; what stands behind it here is the emulator's own small merge.
"""

from .models import Profile
from .responses import router

__all__ = ["Profile", "router"]
