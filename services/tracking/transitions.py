"""The task's life in the queue, as pure decisions over plain values (no database, no HTTP).

Statuses in the queue::

    open ──claim──► claimed ──complete──► completed
     ▲  ◄─release──   │   (lease expiry: claimable again)   │
     │                 ▼                                     │ new exposure after completion
     └──reopen── closed / withdrawn ◄──upstream close──┘     └──► open (a new round)

Upstream records (``screening-tasks``) carry the whole task and an increasing ``version``; only a
newer version does anything. Decisions made where the issue is silent:

- Upstream closes (``closed``: the person became a case; ``withdrawn``: the exposures went away)
  close an open or claimed task, but never undo a tracer's completion: the record is kept in the
  history and the task stays completed.
- A completed task re-opens, as a new round, when an upstream update carries an exposure the
  system detected after the completion (a new contact while the person was already screened);
  re-sent or extended old exposures do not re-open it, and a person found positive is never
  re-opened (the stream closes such tasks anyway). A closed or withdrawn task re-opens on any
  newer open record.
- Re-opening clears the claim and the outcome on the task row; the previous round's claimer,
  outcome and times stay in the append-only history. Apart from re-opening, upstream records never
  touch tracer-side fields (claim, lease, outcome, completion time, team after reassignment).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from paicha.matching.model import KIND_STRENGTH
from services.tracking.errors import Conflict

QueueStatus = Literal["open", "claimed", "completed", "closed", "withdrawn"]
UpstreamStatus = Literal["open", "closed", "withdrawn"]
Outcome = Literal[
    "cleared",
    "home_quarantine",
    "central_quarantine",
    "health_monitoring",
    "unreachable",
    "tested_positive",
]
OUTCOMES: tuple[Outcome, ...] = (
    "cleared",
    "home_quarantine",
    "central_quarantine",
    "health_monitoring",
    "unreachable",
    "tested_positive",
)

UpstreamAction = Literal["stale", "create", "update", "close", "reopen", "record"]


@dataclass(frozen=True, slots=True)
class Upstream:
    """What the merge needs from an incoming ``screening-tasks`` record."""

    version: int
    status: UpstreamStatus
    latest_detection: datetime | None  # the newest evidence item's detected_at


@dataclass(frozen=True, slots=True)
class QueueView:
    """What the merge and the tracer checks need from a stored task."""

    status: QueueStatus
    version: int
    team: str | None = None
    claimed_by: str | None = None
    lease_expires_at: datetime | None = None
    completed_at: datetime | None = None
    outcome: str | None = None
    close_reason: str | None = None


def merge_upstream(current: QueueView | None, incoming: Upstream) -> UpstreamAction:
    """What an upstream record does to the stored task (see the module docstring)."""
    if current is None:
        return "create"
    if incoming.version <= current.version:
        return "stale"
    if current.status in ("open", "claimed"):
        return "update" if incoming.status == "open" else "close"
    if current.status == "completed":
        if incoming.status != "open" or current.outcome == "tested_positive":
            return "record"
        detected, completed = incoming.latest_detection, current.completed_at
        new_exposure = detected is not None and completed is not None and detected > completed
        return "reopen" if new_exposure else "record"
    # closed or withdrawn
    return "reopen" if incoming.status == "open" else "close"


def describe_update(old_kind: str, old_due: datetime, new_kind: str, new_due: datetime) -> str:
    """``upgraded`` when the task became more urgent (stronger kind or earlier deadline)."""
    stronger = KIND_STRENGTH.get(new_kind, 0) > KIND_STRENGTH.get(old_kind, 0)
    return "upgraded" if stronger or new_due < old_due else "updated"


def lease_live(view: QueueView, now: datetime) -> bool:
    """Whether a claim still holds: claimed, and its lease not yet run out."""
    return (
        view.status == "claimed"
        and view.lease_expires_at is not None
        and view.lease_expires_at > now
    )


def holds_claim(view: QueueView, user_id: str, now: datetime) -> bool:
    """Whether ``user_id`` holds a live claim on the task (and so may see contact details)."""
    return lease_live(view, now) and view.claimed_by == user_id


def check_claimable(view: QueueView, user_id: str, team: str | None, now: datetime) -> None:
    """Raise Conflict unless ``user_id`` of ``team`` may claim (or renew its claim on) the task."""
    _check_not_finished(view, "claim")
    if view.team is None or view.team != team:
        raise Conflict(f"the task is assigned to team {view.team or '(none)'}, not yours")
    if lease_live(view, now) and view.claimed_by != user_id:
        raise Conflict(f"the task is claimed by {view.claimed_by} until {_at(view)}")


def check_holder(view: QueueView, user_id: str, now: datetime, action: str) -> None:
    """Raise Conflict unless ``user_id`` holds a live claim: what complete and release need."""
    _check_not_finished(view, action)
    if view.status != "claimed":
        raise Conflict(f"cannot {action} an unclaimed task: claim it first")
    if view.claimed_by != user_id:
        raise Conflict(f"cannot {action}: the task is claimed by {view.claimed_by}, not you")
    if not lease_live(view, now):
        raise Conflict(f"cannot {action}: your claim expired at {_at(view)}; claim the task again")


def check_releasable_by_supervisor(view: QueueView) -> None:
    """A supervisor may return any claimed task to the queue."""
    _check_not_finished(view, "release")
    if view.status != "claimed":
        raise Conflict("cannot release an unclaimed task")


def check_reassignable(view: QueueView) -> None:
    """Only a task still to be worked can change team."""
    _check_not_finished(view, "reassign")


def _check_not_finished(view: QueueView, action: str) -> None:
    if view.status == "completed":
        raise Conflict(f"cannot {action} a completed task (outcome {view.outcome})")
    if view.status in ("closed", "withdrawn"):
        reason = f" ({view.close_reason})" if view.close_reason else ""
        raise Conflict(f"cannot {action} a task {view.status} upstream{reason}")


def _at(view: QueueView) -> str:
    return view.lease_expires_at.isoformat() if view.lease_expires_at else "?"
