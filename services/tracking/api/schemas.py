"""Request and response bodies of the HTTP API, as pydantic models (they are the OpenAPI docs)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from services.tracking.transitions import Outcome

Status = Literal["open", "claimed", "completed", "closed", "withdrawn"]
StatusFilter = Literal["open", "claimed", "completed", "closed", "withdrawn", "any"]
Kind = Literal["co_located", "area_stay", "city_visit"]
Code = Annotated[str, Field(pattern=r"^[0-9]{6}([0-9]{3}([0-9]{3})?)?$", examples=["140105"])]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TaskSummary(BaseModel):
    """A queue row: what, by when, whose. No evidence and no contact details."""

    task_id: str
    person_id: str
    kind: str
    status: str
    detected_at: datetime
    due_at: datetime
    jurisdiction: str | None
    team: str | None
    claimed_by: str | None
    claimed_at: datetime | None
    lease_expires_at: datetime | None
    completed_at: datetime | None
    outcome: str | None
    close_reason: str | None
    version: int
    round: int


class Contact(BaseModel):
    """Personal data: only for the tracer holding the claim, and for supervisors."""

    name: str | None
    phone: str | None
    residence_code: str | None


class Note(BaseModel):
    id: int
    author: str
    at: datetime
    text: str


class HistoryEntry(BaseModel):
    at: datetime
    actor: str | None = Field(description="who; null: upstream or the system")
    action: str
    details: dict[str, Any]


class TaskDetail(TaskSummary):
    """The whole task: the evidence of why the person was flagged, notes and history."""

    evidence: list[dict[str, Any]]
    contact: Contact | None
    notes: list[Note]
    history: list[HistoryEntry]


class Page(BaseModel):
    items: list[TaskSummary]
    total: int
    limit: int
    offset: int


class NoteIn(Body):
    text: Annotated[str, Field(min_length=1, max_length=4000)]


class ReleaseIn(Body):
    reason: Annotated[str, Field(max_length=1000)] | None = None


class CompleteIn(Body):
    outcome: Outcome
    note: Annotated[str, Field(max_length=4000)] | None = None
    classification: Literal["confirmed", "asymptomatic"] = Field(
        default="confirmed", description="for tested_positive: how the new case is classified"
    )


class ReassignIn(Body):
    team_id: Annotated[str, Field(min_length=1)]
    reason: Annotated[str, Field(max_length=1000)] | None = None


class Me(BaseModel):
    user_id: str
    role: str
    jurisdiction: str
    team_id: str | None


class UserIn(Body):
    user_id: Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[\w.@-]+$")]
    role: Literal["tracer", "supervisor", "admin", "feed"]
    jurisdiction: Code | None = None
    team_id: str | None = None
    name: str | None = None


class UserOut(BaseModel):
    user_id: str
    name: str | None
    role: str
    team_id: str | None
    jurisdiction: str
    created_at: datetime
    revoked_at: datetime | None


class TokenIn(Body):
    label: Annotated[str, Field(max_length=200)] | None = None


class TokenOut(BaseModel):
    user_id: str
    token: str = Field(description="shown once; only its hash is stored")


class TeamOut(BaseModel):
    team_id: str
    name: str
    jurisdiction: str
    covers: list[str]


class Problem(BaseModel):
    field: str | None
    reason: str


class ErrorOut(BaseModel):
    """Every 4xx: a machine-readable ``error``, a ``reason`` a person can act on, and for 422
    every field that was wrong."""

    error: str
    reason: str
    field: str | None = None
    problems: list[Problem] = Field(default_factory=list)
