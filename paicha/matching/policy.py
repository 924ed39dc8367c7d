"""Rule 8: exposures become at most one open screening task per person (state by person).

The task's kind is the strongest of its exposures (co_located 时空伴随 > area_stay 重点区域驻留 >
city_visit 旅居史); its deadline the earliest any exposure sets, each counted from the moment the
system first pushed that exposure (``detected_at``, the only clock in the rules); its evidence
lists every exposure. A person who is a case is never tasked, and an open task closes when its
person becomes one. A city_visit in the person's own city of residence does not count.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from paicha.matching.model import (
    KIND_STRENGTH,
    Evidence,
    ExposureChange,
    ExposureKey,
    Interval,
    Person,
    Task,
)
from paicha.matching.params import MatchParams

TASK_NAMESPACE = uuid.UUID("5b0c4f6e-3f0a-4c1e-9a59-706169636861")


def task_id_for(person_id: str) -> str:
    """Deterministic, so a task pushed twice (at-least-once) is one task downstream."""
    return str(uuid.uuid5(TASK_NAMESPACE, person_id))


@dataclass(slots=True)
class Exposure:
    """The overlaps of one person under one exposure key, and when the system first saw it."""

    overlaps: tuple[Interval, ...]
    city_code: str
    detected_at: int


@dataclass(slots=True)
class PersonPolicy:
    """Everything the task policy keeps for one person."""

    person_id: str
    person: Person | None = None
    case_ids: set[str] = field(default_factory=set)
    exposures: dict[ExposureKey, Exposure] = field(default_factory=dict)
    task: Task | None = None


def apply_exposure(state: PersonPolicy, change: ExposureChange, now: int) -> None:
    """Replace the overlaps under one key; a key seen for the first time is detected ``now``."""
    if not change.overlaps:
        state.exposures.pop(change.key, None)
        return
    known = state.exposures.get(change.key)
    detected_at = known.detected_at if known is not None else now
    state.exposures[change.key] = Exposure(change.overlaps, change.city_code, detected_at)


def apply_person(state: PersonPolicy, person: Person) -> None:
    """A later registry record for the person replaces the earlier one."""
    state.person = person


def apply_case(state: PersonPolicy, case_id: str) -> None:
    """The person is a case: no task, and an open one closes."""
    state.case_ids.add(case_id)


def counts(state: PersonPolicy, key: ExposureKey) -> bool:
    """Whether an exposure can task this person (rule 7's own-city exclusion)."""
    if key.kind != "city_visit" or state.person is None:
        return True
    return key.place != state.person.residence_city


def decide(state: PersonPolicy, now: int, params: MatchParams) -> Task | None:
    """The person's task as it should be now; returns it only when it changed."""
    current = state.task
    live = [(k, x) for k, x in state.exposures.items() if counts(state, k)]
    if state.case_ids or not live:
        if current is None or current.status != "open":
            return None
        state.task = Task(
            task_id=current.task_id,
            person_id=current.person_id,
            kind=current.kind,
            status="closed" if state.case_ids else "withdrawn",
            detected_at=current.detected_at,
            due_at=current.due_at,
            jurisdiction=current.jurisdiction,
            evidence=current.evidence,
            version=current.version + 1,
            close_reason="became_case" if state.case_ids else "exposures_withdrawn",
        )
        return state.task
    strongest_key, strongest = max(
        live, key=lambda kx: (KIND_STRENGTH[kx[0].kind], -kx[1].detected_at)
    )
    due_at = min(x.detected_at + params.deadline(k.kind) for k, x in live)
    evidence = sorted(
        (
            Evidence(k.kind, k.source_id, k.place, lo, hi, x.detected_at, x.city_code)
            for k, x in live
            for lo, hi in x.overlaps
        ),
        key=lambda e: (-KIND_STRENGTH[e.kind], e.overlap_start, e.source_id, e.place),
    )
    reopened = current is None or current.status != "open"
    jurisdiction = state.person.residence_code if state.person is not None else strongest.city_code
    task = Task(
        task_id=current.task_id if current is not None else task_id_for(state.person_id),
        person_id=state.person_id,
        kind=strongest_key.kind,
        status="open",
        detected_at=now if reopened else current.detected_at,  # type: ignore[union-attr]
        due_at=due_at,
        jurisdiction=jurisdiction,
        evidence=evidence,
        version=1 if current is None else current.version + 1,
    )
    if current is not None and _same(current, task):
        return None
    state.task = task
    return task


def _same(a: Task, b: Task) -> bool:
    return (a.kind, a.status, a.due_at, a.jurisdiction, a.evidence) == (
        b.kind,
        b.status,
        b.due_at,
        b.jurisdiction,
        b.evidence,
    )
