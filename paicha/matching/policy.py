"""Rule 8: exposures become at most one open screening task per person (state by person).

The task's kind is the strongest of its exposures (co_located 时空伴随 > area_stay 重点区域驻留 >
city_visit 旅居史); its deadline the earliest any exposure sets, each counted from the moment the
system first pushed that exposure (``detected_at``, the only clock in the rules); its evidence
lists every exposure. A person who is a case is never tasked, and an open task closes when its
person becomes one. A city_visit in the person's own city of residence does not count.

Retention (``prune``) forgets exposures as the joins forget stays and itineraries: quietly. It
never sends a task record, and a record sent later differs from the last one only by what new
data brought, apart from the evidence retention took away.
"""

from __future__ import annotations

import dataclasses
import uuid
from dataclasses import dataclass, field
from typing import Any

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
from paicha.matching.timeutil import DAY

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
    """Everything the task policy keeps for one person.

    ``last_version`` is the version of the last task record sent about a task retention has
    since forgotten (``prune``): the person's next task goes on from it, under the same task id.
    """

    person_id: str
    person: Person | None = None
    case_ids: set[str] = field(default_factory=set)
    exposures: dict[ExposureKey, Exposure] = field(default_factory=dict)
    task: Task | None = None
    last_version: int = 0
    pruned_to: int = 0

    def __setstate__(self, state: tuple[Any, dict[str, Any]]) -> None:
        """Unpickle, the fields added since a changelog record was written taking defaults."""
        _, values = state
        for name, value in (_ADDED_FIELDS | values).items():
            setattr(self, name, value)


# Fields PersonPolicy gained after its state was first written to changelogs and stores.
_ADDED_FIELDS: dict[str, Any] = {"last_version": 0, "pruned_to": 0}


def apply_exposure(state: PersonPolicy, change: ExposureChange, now: int) -> None:
    """Replace the overlaps under one key; a key seen for the first time is detected ``now``.

    Overlaps that ended before what this person's state was pruned to are not taken back in: a
    join whose horizon lags, or one that re-evaluates a stay it still holds against an area lifted
    long ago, may send them again, and what retention forgot must not come back as news.
    """
    if state.pruned_to and any(end < state.pruned_to for _, end in change.overlaps):
        kept = tuple(iv for iv in change.overlaps if iv[1] >= state.pruned_to)
        change = dataclasses.replace(change, overlaps=kept)
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
        version=(state.last_version if current is None else current.version) + 1,
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


def prune(state: PersonPolicy, horizon: int) -> None:
    """Forget the overlaps that ended before the retention horizon, without sending anything.

    Like the joins' prunes, at most once per day of event time. The joins do not retract what
    they forget, so aging is not a withdrawal: no task record comes of it, now or later.

    - Nothing left (no exposure with an overlap in retention): the exposures and the task are
      forgotten, the task being made of location data, and ``last_version`` keeps the version of
      the last record sent. A later exposure opens a new task under the same id at the next
      version, detected then: the tracking service ignores any version it already has, and a
      completed task re-opens as a new round only for an exposure detected after completion.
    - Some left: the task stays as it was sent, less the aged evidence items, which is what
      ``decide`` computes from what remains, so the next record (new data, a registry update)
      differs from the last by the new data only. An exposure aged out entirely leaves a trace
      without place, source or overlaps (``_trace``): its kind, when it was first detected, and the
      city where it happened. ``decide`` counts the trace as it counted the exposure, so the task
      keeps its kind, its deadline and (with no known residence) its jurisdiction: a co_located
      contact forgotten after three weeks does not make the person's open task an area_stay one
      due later. The deadline was promised when the exposure was pushed, compliance is measured
      against it, and forgetting the evidence does not make the contact less serious. Should
      upstream withdraw the real exposures left, the traces keep the task open (the forgotten
      contact was not withdrawn) until the next prune finds nothing left and forgets it all.
    - Kept: the person's registry record (registry data, not movement; it routes the next task)
      and ``case_ids`` (a person who was a case is still never tasked).
    """
    if horizon - state.pruned_to < DAY:
        return
    state.pruned_to = horizon
    kept: dict[ExposureKey, Exposure] = {}
    traces: dict[ExposureKey, Exposure] = {}
    for key, exposure in state.exposures.items():
        overlaps = tuple(iv for iv in exposure.overlaps if iv[1] >= horizon)
        if overlaps:
            kept[key] = (
                exposure
                if overlaps == exposure.overlaps
                else Exposure(overlaps, exposure.city_code, exposure.detected_at)
            )
            continue
        trace = _trace(key)
        held = traces.get(trace)
        if held is None or exposure.detected_at < held.detected_at:
            traces[trace] = Exposure((), exposure.city_code, exposure.detected_at)
    if not kept:
        state.exposures = {}
        if state.task is not None:
            state.last_version = state.task.version
            state.task = None
        return
    state.exposures = kept | traces
    task = state.task
    if task is not None and any(e.overlap_end < horizon for e in task.evidence):
        evidence = [e for e in task.evidence if e.overlap_end >= horizon]
        state.task = dataclasses.replace(task, evidence=evidence)


def _trace(key: ExposureKey) -> ExposureKey:
    """What is kept of an exposure aged out while others remain: its kind, and for city_visit the
    city (whether it counts depends on the person's residence). One per kind and city, holding
    the earliest detection, which is all the task's kind, deadline and routing read of it."""
    return ExposureKey(key.kind, "", key.place if key.kind == "city_visit" else "")
