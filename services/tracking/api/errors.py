"""Turning the service's errors into HTTP answers, all with one body shape (``ErrorOut``).

401 unauthenticated, 403 forbidden, 404 not found (also: outside your jurisdiction), 409 conflict
(the task's state forbids it), 422 invalid input (naming each field and why).
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from paicha.errors import InvalidInput
from services.tracking.errors import Conflict, Forbidden, NotFound, TrackingError, Unauthenticated

STATUS = {Unauthenticated: 401, Forbidden: 403, NotFound: 404, Conflict: 409}
CODE = {401: "unauthenticated", 403: "forbidden", 404: "not_found", 409: "conflict"}


def install(app: FastAPI) -> None:
    """Register the handlers on ``app``."""
    app.add_exception_handler(TrackingError, _tracking_error)  # type: ignore[arg-type]
    app.add_exception_handler(InvalidInput, _invalid_input)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _request_invalid)  # type: ignore[arg-type]


def _tracking_error(_request: Request, error: TrackingError) -> JSONResponse:
    status = STATUS.get(type(error), 400)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(
        {"error": CODE.get(status, "bad_request"), "reason": error.reason},
        status_code=status,
        headers=headers,
    )


def _invalid_input(_request: Request, error: InvalidInput) -> JSONResponse:
    problems = [{"field": p.field or None, "reason": p.reason} for p in error.problems]
    return _unprocessable(problems)


def _request_invalid(_request: Request, error: RequestValidationError) -> JSONResponse:
    problems = []
    for item in error.errors():
        # ("body", "outcome") → "outcome"; ("query", "limit") → "limit"
        location = [str(part) for part in item.get("loc", ()) if part not in ("body",)]
        if location and location[0] in ("query", "path", "header"):
            location = location[1:]
        problems.append({"field": ".".join(location) or None, "reason": item.get("msg", "")})
    return _unprocessable(problems)


def _unprocessable(problems: list[dict[str, str | None]]) -> JSONResponse:
    first = problems[0] if problems else {"field": None, "reason": "invalid input"}
    reason = f"{first['field']}: {first['reason']}" if first["field"] else str(first["reason"])
    return JSONResponse(
        {"error": "invalid_input", "reason": reason, "field": first["field"], "problems": problems},
        status_code=422,
    )
