"""Flow Service (/data/foundation/flowservice): specs, base/source/target connections, flows, runs.

models.py is the backend (FlowService: the rules and the store, no HTTP), flows.py the rules a
dataflow keeps, responses.py the routes, errors.py the error codes.
"""

from .models import FlowService
from .responses import FILTERS, router

__all__ = ["FILTERS", "FlowService", "router"]
