"""Bearer-token authentication: every route but the docs depends on ``current_caller``."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from services.tracking.access import Caller
from services.tracking.api.service import TrackingService
from services.tracking.errors import Unauthenticated
from services.tracking.users import authenticate

# auto_error=False: a missing header becomes our 401 with our body, not FastAPI's 403.
bearer = HTTPBearer(auto_error=False, description="a token from `paicha users token USER`")


def service(request: Request) -> TrackingService:
    """The service the app was built with (``app.state.service``)."""
    return request.app.state.service


def current_caller(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    tracking: Annotated[TrackingService, Depends(service)],
) -> Caller:
    """The authenticated caller, or 401."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthenticated("send Authorization: Bearer <token>")
    with tracking.database.transaction() as session:
        caller = authenticate(session, credentials.credentials)
    if caller is None:
        raise Unauthenticated("unknown or revoked token")
    return caller


CallerDep = Annotated[Caller, Depends(current_caller)]
ServiceDep = Annotated[TrackingService, Depends(service)]
