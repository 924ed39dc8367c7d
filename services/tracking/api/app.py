"""The tracking service's FastAPI app, built from a ``TrackingService`` (``bootstrap`` makes one).

Nothing here reads settings or connects: ``create_app`` only wires routes to the service it is
given, so tests build the app on a test database and an in-memory publisher.
"""

from __future__ import annotations

from fastapi import FastAPI

from services.tracking.api import (
    docs,
    errors,
    routes_admin,
    routes_ingest,
    routes_ops,
    routes_supervision,
    routes_tasks,
)
from services.tracking.api.service import TrackingService
from services.tracking.web import pages as web

DESCRIPTION = """Screening tasks (排查任务) for tracing teams: the queue, claims with leases,
evidence, notes and outcomes. Every request needs `Authorization: Bearer <token>`; everything is
scoped to the caller's jurisdiction, and a task outside it is a 404 like a missing one."""


def create_app(service: TrackingService) -> FastAPI:
    app = FastAPI(
        title="paicha tracking service",
        version="1",
        description=DESCRIPTION,
        docs_url=None,
        redoc_url=None,
    )
    app.state.service = service
    errors.install(app)
    docs.install(app)
    app.include_router(routes_tasks.router)
    app.include_router(routes_admin.router)
    app.include_router(routes_supervision.router)
    app.include_router(routes_ops.router)
    app.include_router(routes_ingest.router)
    web.install(app)
    return app
