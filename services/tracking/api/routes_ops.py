"""Operations endpoints: ``/metrics`` (Prometheus), ``/healthz`` (alive), ``/readyz`` (the
database answers and its schema is at the newest migration). No token: they reveal counts,
never a task or a person; restrict them at the network edge if the counts are sensitive."""

from __future__ import annotations

from functools import cache

from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from services.tracking.api.auth import ServiceDep
from services.tracking.db.migrate import alembic_config

router = APIRouter(tags=["operations"])


@cache
def migration_heads() -> frozenset[str]:
    return frozenset(ScriptDirectory.from_config(alembic_config()).get_heads())


@router.get("/metrics", include_in_schema=False)
def metrics(tracking: ServiceDep) -> Response:
    return Response(generate_latest(tracking.metrics.registry), media_type=CONTENT_TYPE_LATEST)


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process answers."""
    return {"status": "ok"}


@router.get("/readyz", responses={503: {"description": "not ready, with the reason"}})
def readyz(tracking: ServiceDep) -> JSONResponse:
    """Ready to serve: the database answers and is migrated to the newest revision."""
    try:
        with tracking.database.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
            current = frozenset(MigrationContext.configure(connection).get_current_heads())
    except Exception as error:
        reason = f"database unreachable: {type(error).__name__}"
        return JSONResponse({"status": "unavailable", "reason": reason}, status_code=503)
    if current != migration_heads():
        reason = f"database at revision {sorted(current)}, expected {sorted(migration_heads())}"
        return JSONResponse({"status": "unavailable", "reason": reason}, status_code=503)
    return JSONResponse({"status": "ready", "revision": sorted(current)})
