"""Who is calling, and what the role may do: pure, so the rules read in one place.

Roles (CONTRACTS.md and issue 5):

- ``tracer`` (流调员): works the queue of their team: claims, notes, releases, completes.
- ``supervisor``: sees every task in their jurisdiction's subtree, with contact details;
  releases claims, reassigns tasks, writes notes. Does not complete: the outcome is the tracer's.
- ``admin``: manages jurisdictions, teams, users and tokens in their subtree; sees no task.
- ``feed``: upstream systems posting records (HTTP ingestion, a later issue); sees no task.

Every query is scoped to the caller's jurisdiction subtree; outside it, a task is a 404 exactly
like a missing one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from services.tracking.codes import Level, level_of
from services.tracking.errors import Forbidden

Role = Literal["tracer", "supervisor", "admin", "feed"]
ROLES: tuple[Role, ...] = ("tracer", "supervisor", "admin", "feed")

# The task column that holds the ancestor of each level (community: the task's own code).
SCOPE_COLUMN: dict[Level, str] = {
    "province": "province_code",
    "city": "city_code",
    "district": "district_code",
    "street": "street_code",
    "community": "jurisdiction",
}


@dataclass(frozen=True, slots=True)
class Caller:
    """An authenticated user, as every handler receives it."""

    user_id: str
    role: Role
    jurisdiction: str
    team_id: str | None = None

    @property
    def scope_column(self) -> str:
        """The task column to compare with ``jurisdiction`` to stay inside the subtree."""
        return SCOPE_COLUMN[level_of(self.jurisdiction)]


def require_role(caller: Caller, *roles: Role, action: str) -> None:
    """Raise Forbidden unless the caller has one of ``roles``."""
    if caller.role not in roles:
        allowed = " or ".join(roles)
        raise Forbidden(f"{action} needs the role {allowed}; {caller.user_id} is a {caller.role}")


def sees_contact_details(caller: Caller, *, holds_claim: bool) -> bool:
    """Name and phone: only to the tracer holding the claim, and to supervisors."""
    return caller.role == "supervisor" or (caller.role == "tracer" and holds_claim)
