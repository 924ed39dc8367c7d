"""Signing in to the pages: the same bearer tokens as the API, kept in an HttpOnly cookie.

The cookie holds the token itself (only its hash is stored server-side, as for the API), is
HttpOnly (no script can read it), SameSite=Strict (no other site's page can send it), and Secure
when served over HTTPS. Every form that changes something also carries a CSRF token derived from
the session token, which another site cannot read, so a forged post fails even where SameSite
is not honoured. The caller is authenticated, scoped and audited exactly as through the API.
"""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import RedirectResponse, Response

from services.tracking.access import Caller, Role, require_role
from services.tracking.api.service import TrackingService
from services.tracking.errors import Forbidden
from services.tracking.users import authenticate

COOKIE = "paicha_session"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
MAX_AGE_S = 12 * 3600  # one duty shift; the token itself stays valid until revoked


class SignInRequired(Exception):
    """No valid session: the page redirects to /login."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


class PageRefused(Exception):
    """A signed-in caller may not use this page (wrong role): an error page, not JSON."""

    def __init__(self, caller: Caller, status: int, reason: str) -> None:
        super().__init__(reason)
        self.caller, self.status, self.reason = caller, status, reason


def csrf_token(session_token: str) -> str:
    return hashlib.sha256(f"paicha-csrf:{session_token}".encode()).hexdigest()


def page_caller(request: Request, tracking: TrackingService) -> Caller:
    """The signed-in caller, or ``SignInRequired``."""
    token = request.cookies.get(COOKIE)
    caller = None
    if token:
        with tracking.database.transaction() as session:
            caller = authenticate(session, token)
    if caller is None:
        raise SignInRequired(request.url.path)
    return caller


def page_caller_as(request: Request, tracking: TrackingService, role: Role, *, page: str) -> Caller:
    """The signed-in caller, who must have ``role`` for ``page``: a 403 page otherwise."""
    caller = page_caller(request, tracking)
    try:
        require_role(caller, role, action=page)
    except Forbidden as error:
        raise PageRefused(caller, 403, error.reason) from None
    return caller


def check_csrf(request: Request, submitted: str | None) -> None:
    """Refuse a change whose form (or header) lacks this session's CSRF token."""
    token = request.cookies.get(COOKIE, "")
    given = submitted or request.headers.get(CSRF_HEADER, "")
    if not token or not hmac.compare_digest(given, csrf_token(token)):
        raise Forbidden("the form is stale or was not sent by this site: reload the page")


def sign_in(response: Response, request: Request, token: str) -> None:
    response.set_cookie(
        COOKIE,
        token,
        max_age=MAX_AGE_S,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/",
    )


def sign_out(response: Response) -> None:
    response.delete_cookie(COOKIE, path="/")


def to_login(next_path: str) -> RedirectResponse:
    return RedirectResponse(f"/login?next={quote(next_path)}", status_code=303)
