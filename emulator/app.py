"""The emulator's ASGI application: one FastAPI app serving every AEP path under one base URL."""

from __future__ import annotations

import os

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from .errors import AEPError, route_error
from .faults import FaultInjector, RequestGate
from .metrics import Metrics
from .seed import seed
from .store import Store


class EmulatorApp(FastAPI):
    """FastAPI with the request gate (metrics, latency, faults) outside every other layer."""

    def build_middleware_stack(self):
        from .services import inlet  # noqa: PLC0415

        async def inlet_post(scope, receive, send):
            await inlet.fast_path(self.state, scope, receive, send)

        fast = {("POST", t): inlet_post for t in ("/collection/{inlet_id}", "/collection/{inlet_id}/",
                                                  "/collection/batch/{inlet_id}", "/collection/batch/{inlet_id}/")}
        return RequestGate(super().build_middleware_stack(), self, self.state.metrics, self.state.faults, fast)


def create_app(data_dir: str, **settings) -> FastAPI:
    """Build the app over the SQLite database in `data_dir` (created if missing).

    settings: token_ttl (s), clients {id: (secret, org)}, faults (config dict, see faults.py).
    """
    from .services import (  # noqa: PLC0415
        admin,
        catalog,
        dataprep,
        flowservice,
        identity,
        ims,
        inlet,
        profile,
        schemaregistry,
    )

    os.makedirs(data_dir, exist_ok=True)
    app = EmulatorApp(title="aep-pipelines AEP emulator", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.store = Store(os.path.join(data_dir, "aep.sqlite3"))
    app.state.settings = settings
    app.state.metrics = Metrics()
    app.state.faults = FaultInjector(settings.get("faults"))
    seed(app.state.store)
    # Each service's backend (its rules and store, no HTTP); its routes reach it through app.state.
    app.state.flowservice = flowservice.FlowService(app.state.store)
    app.state.schemaregistry = schemaregistry.SchemaRegistry(app.state.store)
    app.state.descriptors = schemaregistry.Descriptors(app.state.store)
    app.state.identity = identity.IdentityService(app.state.store)
    app.state.profile = profile.Profile(app.state.store)
    app.state.catalog = catalog.Catalog(app.state.store)
    app.state.dataprep = dataprep.DataPrep(app.state.store)
    app.state.inlet = inlet.Inlet(app.state.store)

    @app.exception_handler(AEPError)
    async def _aep_error(_request: Request, exc: AEPError):
        return JSONResponse(exc.body, status_code=exc.status, headers=exc.headers)

    @app.exception_handler(StarletteHTTPException)
    async def _routing_error(request: Request, exc: StarletteHTTPException):
        # Raised by routing only (no handler raises it): an unknown path (404) or method (405).
        err = route_error(request.url.path, exc.status_code, f"{request.method} {request.url.path}: "
                          + ("no such resource" if exc.status_code == 404 else "method not allowed"))
        return JSONResponse(err.body, status_code=err.status, headers={**err.headers, **(exc.headers or {})})

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError):
        # Handlers read raw parameters themselves, so this is a safety net, never FastAPI's 422 shape.
        err = route_error(request.url.path, 400, f"{request.method} {request.url.path}: malformed request")
        return JSONResponse(err.body, status_code=err.status, headers=err.headers)

    # The inlet first: webhook traffic is the hot path, and its /collection/ paths overlap nothing.
    app.include_router(inlet.router)
    app.include_router(admin.router)
    app.include_router(ims.router)
    app.include_router(flowservice.router, prefix="/data/foundation/flowservice")
    app.include_router(dataprep.router, prefix="/data/foundation/conversion")
    app.include_router(schemaregistry.router, prefix="/data/foundation/schemaregistry")
    app.include_router(catalog.router, prefix="/data/foundation/catalog")
    app.include_router(identity.router, prefix="/data/core/idnamespace")
    app.include_router(profile.router, prefix="/data/core/ups")
    return app
