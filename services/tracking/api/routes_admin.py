"""Admin routes: users, tokens, jurisdictions and teams, inside the admin's own subtree."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from sqlalchemy import select

from services.tracking import jurisdictions, users
from services.tracking.access import require_role
from services.tracking.api.auth import CallerDep, ServiceDep
from services.tracking.api.routes_tasks import ERRORS
from services.tracking.api.schemas import TeamOut, TokenIn, TokenOut, UserIn, UserOut
from services.tracking.codes import contains
from services.tracking.db.models import Team, TeamCoverage
from services.tracking.errors import Forbidden

router = APIRouter(prefix="/v1/admin", responses=ERRORS, tags=["admin"])


@router.get("/users", response_model=list[UserOut])
def list_users(caller: CallerDep, tracking: ServiceDep) -> list[dict[str, Any]]:
    """Users in your jurisdiction."""
    require_role(caller, "admin", action="listing users")
    with tracking.database.transaction() as session:
        return users.list_users(session, actor=caller)


@router.post("/users", response_model=UserOut, status_code=201)
def add_user(body: UserIn, caller: CallerDep, tracking: ServiceDep) -> dict[str, Any]:
    """Add a user in your jurisdiction (a tracer needs a team)."""
    require_role(caller, "admin", action="adding users")
    with tracking.database.transaction() as session:
        return users.add_user(
            session,
            user_id=body.user_id,
            role=body.role,
            jurisdiction=body.jurisdiction,
            team_id=body.team_id,
            name=body.name,
            actor=caller,
            now=tracking.clock(),
        )


@router.post("/users/{user_id}/tokens", response_model=TokenOut, status_code=201)
def issue_token(
    user_id: str, caller: CallerDep, tracking: ServiceDep, body: TokenIn | None = None
) -> dict[str, Any]:
    """A new bearer token for the user, shown once."""
    require_role(caller, "admin", action="issuing tokens")
    with tracking.database.transaction() as session:
        token = users.issue_token(
            session,
            user_id,
            label=body.label if body else None,
            actor=caller,
            now=tracking.clock(),
        )
    return {"user_id": user_id, "token": token}


@router.post("/users/{user_id}/revoke", response_model=UserOut)
def revoke_user(user_id: str, caller: CallerDep, tracking: ServiceDep) -> dict[str, Any]:
    """Revoke the user and all their tokens."""
    require_role(caller, "admin", action="revoking users")
    with tracking.database.transaction() as session:
        users.revoke_user(session, user_id, actor=caller, now=tracking.clock())
        return next(u for u in users.list_users(session, actor=caller) if u["user_id"] == user_id)


@router.put("/jurisdictions", response_model=dict[str, int])
def load_jurisdictions(
    document: dict[str, Any], caller: CallerDep, tracking: ServiceDep
) -> dict[str, int]:
    """Merge a ``jurisdictions.json`` document (the tree and its teams)."""
    require_role(caller, "admin", action="loading jurisdictions")
    parsed = jurisdictions.parse(document)
    codes = [p.code for p in [*parsed.provinces, *([parsed.province] if parsed.province else [])]]
    codes += [team.jurisdiction for team in parsed.teams]
    for code in codes:
        if not contains(caller.jurisdiction, code):
            raise Forbidden(f"{code} lies outside your jurisdiction {caller.jurisdiction}")
    with tracking.database.transaction() as session:
        return jurisdictions.load(session, document, actor=caller.user_id, now=tracking.clock())


@router.get("/teams", response_model=list[TeamOut])
def list_teams(caller: CallerDep, tracking: ServiceDep) -> list[dict[str, Any]]:
    """Teams working in your jurisdiction, with what each covers."""
    require_role(caller, "admin", "supervisor", action="listing teams")
    with tracking.database.transaction() as session:
        covers: dict[str, list[str]] = {}
        for code, team_id in session.execute(
            select(TeamCoverage.jurisdiction_code, TeamCoverage.team_id)
        ):
            covers.setdefault(team_id, []).append(code)
        return [
            {
                "team_id": team.team_id,
                "name": team.name,
                "jurisdiction": team.jurisdiction,
                "covers": sorted(covers.get(team.team_id, [])),
            }
            for team in session.scalars(select(Team).order_by(Team.team_id))
            if contains(caller.jurisdiction, team.jurisdiction)
        ]
