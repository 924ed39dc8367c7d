"""The pages' wiring: static files, signing in and out, and the supervisor and tracer pages.

``install(app)`` is all ``create_app`` calls. Pages reuse the API's handlers (``work``,
``queries``, ``compliance``), so scoping, audit and the rules of the queue are the same.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, FastAPI, Form, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from services.tracking.api.auth import ServiceDep
from services.tracking.users import authenticate
from services.tracking.web import dashboard, tracer
from services.tracking.web.render import STATIC_DIR, page
from services.tracking.web.session import (
    PageRefused,
    SignInRequired,
    sign_in,
    sign_out,
    to_login,
)

router = APIRouter(include_in_schema=False)
HOME = {"supervisor": "/dashboard", "tracer": "/tracer"}


def install(app: FastAPI) -> None:
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.add_exception_handler(SignInRequired, _sign_in_required)  # type: ignore[arg-type]
    app.add_exception_handler(PageRefused, _refused)  # type: ignore[arg-type]
    app.include_router(router)
    app.include_router(dashboard.router)
    app.include_router(tracer.router)


def _sign_in_required(_request: Request, error: SignInRequired) -> Response:
    return to_login(error.next_path)


def _refused(request: Request, error: PageRefused) -> Response:
    return page(request, "error.html", error.caller, status_code=error.status, reason=error.reason)


@router.get("/")
def home() -> Response:
    return RedirectResponse("/login", status_code=303)


@router.get("/login")
def login_form(request: Request, next: str = "") -> Response:
    return page(request, "login.html", None, next=_safe_next(next))


@router.post("/login")
def login(
    request: Request,
    tracking: ServiceDep,
    token: Annotated[str, Form()],
    next: Annotated[str, Form()] = "",
) -> Response:
    """Check the token, set the session cookie, and go to the page the role works on."""
    with tracking.database.transaction() as session:
        caller = authenticate(session, token.strip())
    if caller is None or caller.role not in HOME:
        reason = (
            "unknown or revoked token"
            if caller is None
            else "pages are for tracers and supervisors"
        )
        return page(request, "login.html", None, status_code=401, error=reason, next=next)
    response = RedirectResponse(_safe_next(next) or HOME[caller.role], status_code=303)
    sign_in(response, request, token.strip())
    return response


@router.post("/logout")
def logout() -> Response:
    response = RedirectResponse("/login", status_code=303)
    sign_out(response)
    return response


def _safe_next(path: str) -> str:
    """Only a path of this site (no open redirect to another host)."""
    return path if path.startswith("/") and not path.startswith("//") else ""
