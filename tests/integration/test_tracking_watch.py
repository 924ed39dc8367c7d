"""The deadline watch on a real PostgreSQL, under a clock the tests move: each task is marked at
risk and overdue exactly once, with a history entry and one ``escalations`` record per mark,
also across a restart and with two instances sweeping at the same moment."""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from paicha.matching.policy import task_id_for
from schemas.tracking import Escalation
from services.tracking.db.models import OutboxRecord, ScreeningTask, TaskHistory
from services.tracking.db.session import Database
from services.tracking.outbox import relay
from services.tracking.watch import Marked, sweep, watch_once

from .test_tracking_world import T0, World, build_world

pytestmark = pytest.mark.integration

H = timedelta(hours=1)


def sweep_at(world: World, at: timedelta) -> list[Marked]:
    """One sweep with the clock at ``T0 + at``, then the outbox relay (as ``paicha serve``)."""
    world.clock.now = T0 + at
    marked = watch_once(world.database, world.clock())
    relay(world.database, world.publisher, clock=world.clock)
    return marked


def history_actions(world: World, task_id: str) -> list[str]:
    with world.database.transaction() as session:
        return list(
            session.scalars(
                select(TaskHistory.action)
                .where(TaskHistory.task_id == task_id)
                .order_by(TaskHistory.id)
            )
        )


def test_a_task_is_marked_at_risk_at_75_percent_and_overdue_at_its_deadline_once_each(
    world: World,
) -> None:
    world.push_task("p1", jurisdiction="140105001001", due_in=timedelta(hours=24))
    task = task_id_for("p1")

    before = sweep_at(world, 18 * H - timedelta(seconds=1))
    at_risk = sweep_at(world, 18 * H)
    again = sweep_at(world, 20 * H)
    just_before_deadline = sweep_at(world, 24 * H - timedelta(microseconds=1))
    overdue = sweep_at(world, 24 * H)
    later = [sweep_at(world, at * H) for at in (25, 48, 100)]

    assert before == []
    assert [(m.task_id, m.level) for m in at_risk] == [(task, "at_risk")]
    assert again == [] and just_before_deadline == []
    assert [(m.task_id, m.level) for m in overdue] == [(task, "overdue")]
    assert later == [[], [], []]
    assert history_actions(world, task) == ["created", "at_risk", "overdue"]
    with world.database.transaction() as session:
        row = session.get_one(ScreeningTask, task)
        assert (row.at_risk_at, row.overdue_at) == (T0 + 18 * H, T0 + 24 * H)
    published = world.publisher.on("escalations")
    assert [(e["level"], e["threshold_at"], e["escalated_at"]) for e in published] == [
        ("at_risk", "2021-12-07T18:00:00Z", "2021-12-07T18:00:00Z"),
        ("overdue", "2021-12-08T00:00:00Z", "2021-12-08T00:00:00Z"),
    ]
    first = published[0]
    assert first["escalation_id"] == f"{task}:r1:at_risk"
    assert (first["team"], first["jurisdiction"], first["kind"]) == (
        "T140105001",
        "140105001001",
        "co_located",
    )
    assert first["due_at"] == "2021-12-08T00:00:00Z"
    for record in published:
        Escalation.model_validate(record)  # what goes out is what the schema says


def test_the_48_hour_deadline_of_an_area_stay_is_at_risk_after_36_hours(world: World) -> None:
    world.push_task("p-area", jurisdiction="140105001001", kind="area_stay", due_in=48 * H)

    assert sweep_at(world, 35 * H) == []
    assert [m.level for m in sweep_at(world, 36 * H)] == ["at_risk"]


def test_a_watch_that_was_down_marks_an_overdue_task_at_risk_first_then_overdue(
    world: World,
) -> None:
    world.push_task("p1", jurisdiction="140105001001", due_in=24 * H)

    marked = sweep_at(world, 30 * H)

    assert [m.level for m in marked] == ["at_risk", "overdue"]
    assert [e["threshold_at"] for e in world.publisher.on("escalations")] == [
        "2021-12-07T18:00:00Z",
        "2021-12-08T00:00:00Z",
    ]


def test_completed_and_closed_tasks_are_not_escalated(world: World) -> None:
    world.push_task("p-done", jurisdiction="140105001001", due_in=24 * H)
    world.push_task("p-closed", jurisdiction="140105001001", due_in=24 * H)
    world.push_task(
        "p-closed", jurisdiction="140105001001", status="closed", version=2, close_reason="case"
    )
    task = task_id_for("p-done")
    world.clock.advance(H)
    assert world.call("tracer_a", "POST", f"/v1/tasks/{task}/claim").status_code == 200
    done = world.call("tracer_a", "POST", f"/v1/tasks/{task}/complete", json={"outcome": "cleared"})
    assert done.status_code == 200

    assert sweep_at(world, 30 * H) == []
    assert world.publisher.on("escalations") == []


def test_a_claimed_task_is_still_escalated(world: World) -> None:
    world.push_task("p1", jurisdiction="140105001001", due_in=24 * H)
    world.call("tracer_a", "POST", f"/v1/tasks/{task_id_for('p1')}/claim")

    assert [m.level for m in sweep_at(world, 19 * H)] == ["at_risk"]


def test_a_restarted_watch_neither_repeats_nor_misses_a_mark(world: World) -> None:
    world.push_task("p1", jurisdiction="140105001001", due_in=24 * H)
    world.push_task("p2", jurisdiction="140105002001", due_in=48 * H)
    assert [m.task_id for m in sweep_at(world, 20 * H)] == [task_id_for("p1")]
    world.database.dispose()

    # A new process: a new engine on the same database, and no memory of the first sweep.
    restarted = Database(url=world.database.url, pool_size=2)
    try:
        with restarted.transaction() as session:
            repeat = sweep(session, T0 + 21 * H)
        with restarted.transaction() as session:
            after = sweep(session, T0 + 40 * H)
        with restarted.transaction() as session:
            outbox = session.scalars(
                select(OutboxRecord.payload["escalation_id"].as_string()).order_by(OutboxRecord.id)
            ).all()
    finally:
        restarted.dispose()

    assert repeat == []
    assert sorted((m.task_id, m.level) for m in after) == sorted(
        [(task_id_for("p1"), "overdue"), (task_id_for("p2"), "at_risk")]
    )
    assert outbox == [  # a sweep does every at-risk mark before the overdue ones
        f"{task_id_for('p1')}:r1:at_risk",
        f"{task_id_for('p2')}:r1:at_risk",
        f"{task_id_for('p1')}:r1:overdue",
    ]


def test_two_instances_sweeping_at_once_mark_every_task_once(world: World) -> None:
    people = [f"p{i}" for i in range(120)]
    for person in people:
        world.push_task(person, jurisdiction="140105001001", due_in=24 * H)
    instances = [Database(url=world.database.url, pool_size=2) for _ in range(2)]
    start = threading.Barrier(len(instances))
    results: list[list[Marked]] = [[] for _ in instances]
    errors: list[BaseException] = []

    def run(index: int) -> None:
        try:
            start.wait()
            # Small batches, so the two sweeps interleave over many statements.
            with instances[index].transaction() as session:
                results[index] = sweep(session, T0 + 30 * H, batch=7)
        except BaseException as error:  # reported below, not lost in the thread
            errors.append(error)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(instances))]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
    finally:
        for database in instances:
            database.dispose()

    assert errors == []
    marks = [(m.task_id, m.level) for result in results for m in result]
    expected = {(task_id_for(p), level) for p in people for level in ("at_risk", "overdue")}
    assert len(marks) == len(expected) and set(marks) == expected
    with world.database.transaction() as session:
        outbox = session.scalar(
            select(func.count())
            .select_from(OutboxRecord)
            .where(OutboxRecord.topic == "escalations")
        )
        history = session.scalar(
            select(func.count())
            .select_from(TaskHistory)
            .where(TaskHistory.action.in_(("at_risk", "overdue")))
        )
    assert outbox == history == len(expected)


def test_a_reopened_task_is_watched_again_in_its_new_round(world: World) -> None:
    world.push_task("p1", jurisdiction="140105001001", due_in=24 * H)
    task = task_id_for("p1")
    sweep_at(world, 25 * H)  # at risk and overdue in round 1
    world.call("tracer_a", "POST", f"/v1/tasks/{task}/claim")
    world.call("tracer_a", "POST", f"/v1/tasks/{task}/complete", json={"outcome": "cleared"})
    # A new exposure detected after the completion re-opens the task with a new deadline.
    world.push_task(
        "p1", jurisdiction="140105001001", version=2, detected_at=T0 + 26 * H, due_in=24 * H
    )

    assert sweep_at(world, 30 * H) == []
    assert [m.level for m in sweep_at(world, 26 * H + 18 * H)] == ["at_risk"]
    ids = [e["escalation_id"] for e in world.publisher.on("escalations")]
    assert ids == [f"{task}:r1:at_risk", f"{task}:r1:overdue", f"{task}:r2:at_risk"]


def test_the_watch_runs_the_same_on_sqlite(tmp_path: Path) -> None:
    # The embedded runtime's database: the 75 % threshold is computed in SQL on both.
    world = build_world(f"sqlite:///{tmp_path / 'tracking.sqlite3'}")
    try:
        world.push_task("p1", jurisdiction="140105001001", due_in=24 * H)
        levels = [
            [m.level for m in sweep_at(world, at)]
            for at in (18 * H - timedelta(seconds=1), 18 * H, 23 * H, 24 * H, 50 * H)
        ]
    finally:
        world.client.close()
        world.database.dispose()

    assert levels == [[], ["at_risk"], [], ["overdue"], []]


def test_the_serve_loop_sweeps_by_itself_relays_and_counts_the_escalations(world: World) -> None:
    from services.tracking.bootstrap import watching

    world.push_task("p1", jurisdiction="140105001001", due_in=24 * H)
    world.clock.now = T0 + 30 * H
    service = world.client.app.state.service
    arrived = threading.Event()

    def relay_and_tell() -> None:
        service.relay()
        if len(world.publisher.on("escalations")) == 2:
            arrived.set()

    with watching(
        world.database,
        interval_s=0.05,
        at_risk_fraction=0.75,
        after_sweep=relay_and_tell,
        on_marked=service.metrics.count_escalations,
        clock=world.clock,
    ):
        assert arrived.wait(timeout=60), "the watch loop published nothing"

    assert [e["level"] for e in world.publisher.on("escalations")] == ["at_risk", "overdue"]
    metrics = world.client.get("/metrics").text
    assert 'paicha_escalations_total{level="at_risk"} 1.0' in metrics
    assert 'paicha_escalations_total{level="overdue"} 1.0' in metrics
