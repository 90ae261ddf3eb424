"""The streaming inlet (/collection/...) and the emulator-only dataset reader.

models.py is the backend (Inlet, over emulator/ingest.py), responses.py the routes and the
ASGI fast path that serves inlet posts.
"""

from .models import Inlet
from .responses import fast_path, router

__all__ = ["Inlet", "fast_path", "router"]
