"""The supervisors' dashboard: compliance tiles, the on-time rate and backlog by hour, the
at-risk and overdue lists with reassignment; ``/dashboard/live`` feeds its refresh every few
seconds (the page polls it; no personal data in it, so polling adds nothing to the audit log)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from paicha.errors import InvalidInput
from services.tracking import work
from services.tracking.access import Caller
from services.tracking.api.auth import ServiceDep
from services.tracking.api.errors import STATUS
from services.tracking.api.service import TrackingService
from services.tracking.compliance.figures import HOUR, hour_floor
from services.tracking.compliance.read import Scope, compliance
from services.tracking.errors import TrackingError
from services.tracking.supervision import deadline_list, teams_in_scope
from services.tracking.web.render import duration, local_time, page, percent, templates
from services.tracking.web.session import COOKIE, check_csrf, csrf_token, page_caller_as

router = APIRouter(include_in_schema=False)
WINDOW = timedelta(hours=24)
REFRESH_S = 5


def _supervisor(request: Request, tracking: TrackingService) -> Caller:
    return page_caller_as(request, tracking, "supervisor", page="the dashboard")


def snapshot(session: Session, caller: Caller, tracking: TrackingService) -> dict[str, Any]:
    """Everything the dashboard shows, as of the service's clock."""
    now = tracking.clock()
    end = hour_floor(now) + HOUR
    fraction = tracking.at_risk_fraction
    lists = {
        level: deadline_list(session, caller, level, Scope(), now=now, fraction=fraction)
        for level in ("at_risk", "overdue")
    }
    report = compliance(
        session, caller, Scope(), start=end - WINDOW, end=end, now=now, fraction=fraction
    )
    return {"now": now, "report": report, "lists": lists, "teams": teams_in_scope(session, caller)}


def chart_data(report: dict[str, Any]) -> dict[str, Any]:
    """The chart's series: hours (UTC+8), on-time rate in percent, the backlog and its overdue
    and at-risk parts."""
    hours = report["hourly"]
    return {
        "labels": [local_time(row["hour"], "%H:00") for row in hours],
        "on_time_rate": [
            None if row["on_time_rate"] is None else round(row["on_time_rate"] * 100, 1)
            for row in hours
        ],
        "backlog": [row["backlog"] for row in hours],
        "backlog_overdue": [row["backlog_overdue"] for row in hours],
        "backlog_at_risk": [row["backlog_at_risk"] for row in hours],
    }


@router.get("/dashboard")
def dashboard(request: Request, tracking: ServiceDep, done: str = "") -> HTMLResponse:
    caller = _supervisor(request, tracking)
    with tracking.database.transaction() as session:
        data = snapshot(session, caller, tracking)
    return page(
        request,
        "dashboard.html",
        caller,
        chart=chart_data(data["report"]),
        tiles=tiles(data["report"]),
        refresh_s=REFRESH_S,
        done=done,
        **data,
    )


@router.get("/dashboard/live")
def live(request: Request, tracking: ServiceDep) -> JSONResponse:
    """The dashboard's refresh: tiles and chart as data, the lists as rendered rows."""
    caller = _supervisor(request, tracking)
    with tracking.database.transaction() as session:
        data = snapshot(session, caller, tracking)
    rows = {
        level: templates.get_template("_deadline_rows.html").render(
            items=data["lists"][level]["items"], teams=data["teams"], csrf=_csrf(request)
        )
        for level in ("at_risk", "overdue")
    }
    report = data["report"]
    figure_rows = templates.get_template("_figure_rows.html")
    rows["teams"] = figure_rows.render(rows=report["by_team"], key="team")
    rows["areas"] = figure_rows.render(rows=report["by_jurisdiction"], key="jurisdiction")
    return JSONResponse(
        jsonable_encoder(
            {
                "as_of": data["now"],
                "as_of_local": local_time(data["now"], "%Y-%m-%d %H:%M:%S"),
                "tiles": tiles(report),
                "chart": chart_data(report),
                "totals": {level: data["lists"][level]["total"] for level in data["lists"]},
                "rows": rows,
            }
        )
    )


def tiles(report: dict[str, Any]) -> dict[str, str]:
    """The tiles' texts, formatted as the page first renders them."""
    totals = report["totals"]
    return {
        "open": str(totals["open"]),
        "at_risk": str(totals["at_risk"]),
        "overdue": str(totals["overdue"]),
        "completed_on_time": str(totals["completed_on_time"]),
        "completed_late": str(totals["completed_late"]),
        "on_time_rate": percent(totals["on_time_rate"]),
        "time_to_complete_p50": duration(report["time_to_complete_seconds"]["p50"]),
        "push_latency_p50": duration(report["push_latency_seconds"]["p50"]),
    }


def _csrf(request: Request) -> str:
    return csrf_token(request.cookies.get(COOKIE, ""))


@router.post("/dashboard/tasks/{task_id}/reassign")
def reassign(
    task_id: str,
    request: Request,
    tracking: ServiceDep,
    team_id: Annotated[str, Form()],
    csrf_token: Annotated[str, Form()],
    reason: Annotated[str | None, Form()] = None,
) -> Response:
    """Move a task to another team (the same handler and audit as the API's reassign)."""
    caller = _supervisor(request, tracking)
    try:
        check_csrf(request, csrf_token)
        with tracking.database.transaction() as session:
            work.reassign(
                session, caller, task_id, team_id, now=tracking.clock(), reason=reason or None
            )
    except (TrackingError, InvalidInput) as error:
        return error_page(request, caller, error)
    return RedirectResponse(f"/dashboard?done=reassigned+{task_id[:8]}+to+{team_id}", 303)


def error_page(
    request: Request, caller: Caller, error: TrackingError | InvalidInput
) -> HTMLResponse:
    """The refusal as a page, with the status the API would answer."""
    if isinstance(error, InvalidInput):
        status, reason = 422, f"{error.field}: {error.reason}" if error.field else error.reason
    else:
        status, reason = STATUS.get(type(error), 400), error.reason
    return page(request, "error.html", caller, status_code=status, reason=reason)
