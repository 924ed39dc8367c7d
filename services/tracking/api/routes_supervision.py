"""Supervisors' routes: deadline compliance figures and the at-risk and overdue lists."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import AwareDatetime

from services.tracking.api.auth import CallerDep, ServiceDep
from services.tracking.api.routes_tasks import ERRORS
from services.tracking.api.schemas import Code, Kind
from services.tracking.api.schemas_supervision import Compliance, DeadlineList
from services.tracking.compliance.figures import HOUR, hour_floor
from services.tracking.compliance.read import Scope, compliance
from services.tracking.deadlines import Level
from services.tracking.supervision import deadline_list

router = APIRouter(prefix="/v1", responses=ERRORS, tags=["supervision"])
DEFAULT_WINDOW = timedelta(hours=24)


@router.get("/compliance", response_model=Compliance, response_model_by_alias=True)
def get_compliance(
    caller: CallerDep,
    tracking: ServiceDep,
    start: Annotated[
        AwareDatetime | None,
        Query(alias="from", description="window start (RFC 3339 with offset); default: to - 24 h"),
    ] = None,
    end: Annotated[
        AwareDatetime | None,
        Query(alias="to", description="window end, exclusive; default: the end of this hour"),
    ] = None,
    jurisdiction: Code | None = None,
    team: str | None = None,
    kind: Kind | None = None,
) -> dict[str, Any]:
    """Deadline compliance of your jurisdiction: open, at-risk and overdue tasks now; tasks
    completed on time and late, deadlines missed and the on-time rate in the window; time to
    complete and push latency; per team, jurisdiction and kind, and hour by hour."""
    now = tracking.clock()
    end_at = end or hour_floor(now) + HOUR
    start_at = start or end_at - DEFAULT_WINDOW
    with tracking.database.transaction() as session:
        return compliance(
            session,
            caller,
            Scope(jurisdiction=jurisdiction, team=team, kind=kind),
            start=start_at,
            end=end_at,
            now=now,
            fraction=tracking.at_risk_fraction,
        )


@router.get("/deadlines/{level}", response_model=DeadlineList)
def get_deadlines(
    level: Level,
    caller: CallerDep,
    tracking: ServiceDep,
    jurisdiction: Code | None = None,
    team: str | None = None,
    kind: Kind | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> dict[str, Any]:
    """Tasks at risk (``at_risk``) or past their deadline (``overdue``) now, most urgent first;
    no personal data."""
    with tracking.database.transaction() as session:
        return deadline_list(
            session,
            caller,
            level,
            Scope(jurisdiction=jurisdiction, team=team, kind=kind),
            now=tracking.clock(),
            fraction=tracking.at_risk_fraction,
            limit=limit,
        )
