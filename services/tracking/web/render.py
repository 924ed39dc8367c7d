"""Jinja2 templates and the filters the pages format figures with.

Times are shown in China Standard Time (UTC+8, the notice's zone; every stored time is UTC),
durations in hours and minutes, rates as percentages; a missing figure is a dash, never a zero.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from services.tracking.access import Caller
from services.tracking.web.session import COOKIE, csrf_token

HERE = Path(__file__).resolve().parent
STATIC_DIR = HERE / "static"
DISPLAY_ZONE = timezone(timedelta(hours=8), "UTC+8")
DASH = "—"

templates = Jinja2Templates(directory=HERE / "templates")


def local_time(moment: datetime | str | None, pattern: str = "%m-%d %H:%M") -> str:
    """A time in UTC+8; also an RFC 3339 string (evidence items keep their times as text)."""
    if isinstance(moment, str):
        try:
            parsed: datetime | None = datetime.fromisoformat(moment.replace("Z", "+00:00"))
        except ValueError:
            return moment
    else:
        parsed = moment
    return DASH if parsed is None else parsed.astimezone(DISPLAY_ZONE).strftime(pattern)


def duration(seconds: float | None) -> str:
    """``3 h 05 min``; negative durations read as overdue by that much."""
    if seconds is None:
        return DASH
    sign = "−" if seconds < 0 else ""
    minutes = int(abs(seconds) // 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{sign}{hours} h {minutes:02d} min"
    if minutes:
        return f"{sign}{minutes} min"
    return f"{sign}{int(abs(seconds))} s"


def percent(rate: float | None) -> str:
    return DASH if rate is None else f"{rate * 100:.1f} %"


templates.env.filters.update(local_time=local_time, duration=duration, percent=percent)


def page(
    request: Request,
    name: str,
    caller: Caller | None,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    """Render a page with what every page needs: the caller and the CSRF token of its forms."""
    token = request.cookies.get(COOKIE, "")
    return templates.TemplateResponse(
        request,
        name,
        {"caller": caller, "csrf": csrf_token(token) if token else "", **context},
        status_code=status_code,
    )
