"""Retention in the task policy (``policy.prune``): aging forgets, and never sends a task record,
nor makes a later one downgrade, move a deadline or restart the task's versions."""

from __future__ import annotations

import pickle
from datetime import UTC, datetime

from paicha.matching import cell_join, stays
from paicha.matching.model import (
    CaseStayChange,
    ExposureChange,
    ExposureKey,
    Person,
    StayChange,
    Task,
)
from paicha.matching.params import MatchParams
from paicha.matching.policy import (
    PersonPolicy,
    apply_exposure,
    apply_person,
    decide,
    prune,
    task_id_for,
)
from paicha.matching.timeutil import DAY, HOUR, to_micros
from paicha.task_records import task_record
from schemas.tasks import ScreeningTask
from services.tracking.transitions import QueueView, Upstream, merge_upstream

PARAMS = MatchParams()
T0 = to_micros(datetime(2021, 12, 1, tzinfo=UTC))
CELL = "88319085cbfffff"
TAIYUAN = "140100"


def exposure(
    kind: str, source: str, *overlaps: tuple[int, int], place: str = CELL
) -> ExposureChange:
    return ExposureChange("p", ExposureKey(kind, source, place), overlaps, TAIYUAN)


def day(n: float) -> tuple[int, int]:
    """An hour-long overlap on day ``n`` after T0."""
    start = T0 + round(n * DAY)
    return (start, start + HOUR)


def receive(state: PersonPolicy, *changes: ExposureChange, now: int) -> Task | None:
    """What the policy processor does with a batch: apply every change, then decide."""
    for change in changes:
        apply_exposure(state, change, now)
    return decide(state, now, PARAMS)


def test_an_overlap_ending_at_the_horizon_is_kept_and_one_ending_before_it_is_dropped() -> None:
    at_horizon, before = PersonPolicy("p"), PersonPolicy("p")
    for state in (at_horizon, before):
        receive(state, exposure("co_located", "K1", day(0), day(3)), now=T0 + DAY)

    prune(at_horizon, day(0)[1])
    prune(before, day(0)[1] + 1)

    key = ExposureKey("co_located", "K1", CELL)
    assert at_horizon.exposures[key].overlaps == (day(0), day(3))
    assert before.exposures[key].overlaps == (day(3),)
    assert before.task is not None
    assert [(e.overlap_start, e.overlap_end) for e in before.task.evidence] == [day(3)]


def test_pruning_moves_at_most_once_a_day_of_event_time() -> None:
    state = PersonPolicy("p")
    receive(state, exposure("co_located", "K1", day(0), day(0.5), day(3)), now=T0 + DAY)
    key = ExposureKey("co_located", "K1", CELL)

    prune(state, day(0)[1] + 1)
    prune(state, day(0.5)[1] + 1)  # half a day later: not yet
    assert state.exposures[key].overlaps == (day(0.5), day(3))

    prune(state, day(0)[1] + 1 + DAY)
    assert state.exposures[key].overlaps == (day(3),)


def test_a_person_whose_exposures_all_aged_out_gets_no_record_and_keeps_nothing_of_them() -> None:
    state = PersonPolicy("p")
    receive(state, exposure("co_located", "K1", day(0)), now=T0 + DAY)
    assert receive(state, exposure("area_stay", "A1", day(1)), now=T0 + 2 * DAY) is not None

    prune(state, T0 + 5 * DAY)

    assert (state.exposures, state.task, state.last_version) == ({}, None, 2)
    assert decide(state, T0 + 30 * DAY, PARAMS) is None, "no withdrawal record"


def test_a_person_exposed_again_after_everything_aged_out_gets_the_next_version_detected_anew() -> (
    None
):
    state = PersonPolicy("p")
    first = receive(state, exposure("co_located", "K1", day(0)), now=T0 + DAY)
    assert receive(state, exposure("area_stay", "A1", day(1)), now=T0 + 2 * DAY) is not None
    prune(state, T0 + 5 * DAY)

    again = T0 + 26 * DAY
    task = receive(state, exposure("co_located", "K1", day(25)), now=again)

    assert first is not None and task is not None
    assert (task.task_id, task.version, task.status) == (task_id_for("p"), 3, "open")
    assert task.detected_at == again
    assert [e.detected_at for e in task.evidence] == [again]
    assert task.due_at == again + PARAMS.deadline("co_located")


def test_partial_aging_sends_nothing_and_new_data_later_neither_downgrades_nor_delays() -> None:
    state = PersonPolicy("p")
    contact_seen, trip_seen = T0 + DAY, T0 + 11 * DAY
    receive(state, exposure("co_located", "K1", day(0)), now=contact_seen)
    sent = receive(state, exposure("city_visit", "case:K1", day(10), place=TAIYUAN), now=trip_seen)
    assert sent is not None and sent.kind == "co_located"

    prune(state, T0 + 5 * DAY)  # the co_located contact ages out; the trip is kept
    assert decide(state, T0 + 26 * DAY, PARAMS) is None, "aging alone sends nothing"

    later = T0 + 27 * DAY
    task = receive(
        state, exposure("city_visit", "case:K1", day(10), day(12), place=TAIYUAN), now=later
    )
    assert task is not None
    assert (task.kind, task.due_at, task.detected_at) == (
        "co_located",
        contact_seen + PARAMS.deadline("co_located"),
        sent.detected_at,
    )
    assert task.version == sent.version + 1
    assert [(e.kind, e.overlap_start) for e in task.evidence] == [
        ("city_visit", day(10)[0]),
        ("city_visit", day(12)[0]),
    ]

    apply_person(state, Person("p", "330106001001"))  # lives in Hangzhou
    moved = decide(state, T0 + 28 * DAY, PARAMS)
    assert moved is not None
    assert (moved.jurisdiction, moved.kind, moved.due_at, moved.evidence) == (
        "330106001001",
        task.kind,
        task.due_at,
        task.evidence,
    )


def test_an_aged_out_contact_keeps_the_task_open_when_upstream_withdraws_the_rest() -> None:
    """The forgotten contact was not withdrawn: the task stays as strong as it was sent, until
    the next prune finds nothing left and forgets it without a record."""
    state = PersonPolicy("p")
    receive(state, exposure("co_located", "K1", day(0)), now=T0 + DAY)
    receive(state, exposure("area_stay", "A1", day(10)), now=T0 + 11 * DAY)
    prune(state, T0 + 5 * DAY)

    task = receive(state, exposure("area_stay", "A1"), now=T0 + 26 * DAY)

    assert task is not None
    assert (task.status, task.kind, task.evidence) == ("open", "co_located", [])
    prune(state, T0 + 6 * DAY)
    assert (state.exposures, state.task, state.last_version) == ({}, None, task.version)


def test_an_aged_out_overlap_sent_again_by_a_join_is_not_taken_back_in() -> None:
    state = PersonPolicy("p")
    receive(state, exposure("area_stay", "A1", day(0)), now=T0 + DAY)
    receive(state, exposure("city_visit", "case:K1", day(10), place=TAIYUAN), now=T0 + 11 * DAY)
    prune(state, T0 + 5 * DAY)

    # A stay the cell join still holds, against an area lifted weeks ago, is evaluated again.
    resent = receive(state, exposure("area_stay", "A1", day(0)), now=T0 + 26 * DAY)

    assert resent is None
    assert ExposureKey("area_stay", "A1", CELL) not in state.exposures


def test_policy_state_pickled_before_retention_existed_reads_with_defaults() -> None:
    # A PersonPolicy as the changelogs and stores held it before last_version and pruned_to.
    old = (
        b"\x80\x05\x95s\x00\x00\x00\x00\x00\x00\x00\x8c\x16paicha.matching.policy\x94\x8c\x0c"
        b"PersonPolicy\x94\x93\x94)\x81\x94N}\x94(\x8c\tperson_id\x94\x8c\x01x\x94\x8c\x06person"
        b"\x94N\x8c\x08case_ids\x94\x8f\x94\x8c\texposures\x94}\x94\x8c\x04task\x94Nu\x86\x94b."
    )
    state = pickle.loads(old)
    assert (state.person_id, state.last_version, state.pruned_to) == ("x", 0, 0)

    state.last_version, state.pruned_to = 4, T0
    again = pickle.loads(pickle.dumps(state, protocol=5))
    assert (again.last_version, again.pruned_to) == (4, T0)


def test_the_record_after_forgetting_reopens_a_completed_task_as_a_new_round() -> None:
    """Through the tracking service's upstream merge: a record at version 1 again would be
    ignored as stale; the next version, detected after the completion, re-opens the task."""
    state = PersonPolicy("p")
    first = receive(state, exposure("co_located", "K1", day(0)), now=T0 + DAY)
    assert first is not None
    completed = ScreeningTask.model_validate(task_record(first)).detected_at.replace(hour=20)
    prune(state, T0 + 5 * DAY)

    again = receive(state, exposure("co_located", "K2", day(25)), now=T0 + 26 * DAY)

    assert again is not None
    record = ScreeningTask.model_validate(task_record(again))
    incoming = Upstream(
        record.version, record.status, max(item.detected_at for item in record.evidence)
    )
    stored = QueueView(status="completed", version=first.version, completed_at=completed)
    assert merge_upstream(stored, incoming) == "reopen"


def test_the_cell_join_sends_nothing_for_a_pair_whose_older_overlap_aged_out() -> None:
    """The joins' side of the promise: a pair evaluated again after a prune finds what it last
    sent less the aged overlaps, which is no news (the policy forgets those on its own)."""
    cell = stays.cell_of(37.87, 112.55, PARAMS.h3_resolution)
    state = cell_join.CellState(cell)
    met = [day(0), day(10)]
    changes: list[cell_join.CellChange] = [
        CaseStayChange("K1", "c1", TAIYUAN, cell, cell, start, (start, end)) for start, end in met
    ]
    changes += [StayChange("q", cell, start, end) for start, end in met]
    (found,) = cell_join.apply_batch(state, changes, PARAMS)
    assert found.overlaps == tuple(met)

    cell_join.prune(state, T0 + 7 * DAY)
    back = StayChange("q", cell, *day(28))

    assert cell_join.apply_batch(state, [back], PARAMS) == []
