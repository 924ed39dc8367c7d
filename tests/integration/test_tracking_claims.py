"""Claiming on a real PostgreSQL: 64 tracers at once never share a task and leave none behind,
and a lease that runs out puts its task back in the queue."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from datetime import timedelta

import psycopg2.errors
import pytest
from sqlalchemy import func, insert, select, text

from paicha.matching.policy import task_id_for
from services.tracking.access import Caller
from services.tracking.db import repository
from services.tracking.db.models import ScreeningTask, TaskHistory
from services.tracking.db.session import AutocommitPool, Database, libpq_dsn

from .test_tracking_world import T0, World

pytestmark = pytest.mark.integration

CLAIMERS = 64
TASKS = 1_000


def fill_queue(database: Database, count: int, team: str = "T140105001") -> None:
    rows = [
        {
            "task_id": f"task-{i:05d}",
            "person_id": f"p{i:05d}",
            "kind": "co_located",
            "status": "open",
            "detected_at": T0,
            "due_at": T0 + timedelta(minutes=i % 97),
            "jurisdiction": "140105001001",
            "province_code": "140000",
            "city_code": "140100",
            "district_code": "140105",
            "street_code": "140105001",
            "team": team,
            "evidence": [],
            "version": 1,
            "round": 1,
        }
        for i in range(count)
    ]
    with database.transaction() as session:
        session.execute(insert(ScreeningTask), rows)


def drain(
    database: Database, claimers: int, *, before_dispose: Callable[[], None] | None = None
) -> tuple[list[list[str]], list[BaseException]]:
    """``claimers`` tracers of one team claiming at once until the queue is empty: what each
    claimed, and what any of them raised. Calls ``before_dispose`` (while the claim connections
    are still open), then disposes of ``database``."""
    claimed: list[list[str]] = [[] for _ in range(claimers)]
    start = threading.Barrier(claimers)
    errors: list[BaseException] = []

    def tracer(index: int) -> None:
        caller = Caller(
            user_id=f"tracer-{index}", role="tracer", jurisdiction="140105", team_id="T140105001"
        )
        try:
            start.wait()
            while True:
                task_id = repository.claim_next(
                    database, caller, now=T0, until=T0 + timedelta(minutes=30)
                )
                if task_id is None:
                    return
                claimed[index].append(task_id)
        except BaseException as error:  # surfaced by the caller; otherwise lost with the thread
            errors.append(error)

    threads = [threading.Thread(target=tracer, args=(i,)) for i in range(claimers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    try:
        if before_dispose is not None:
            before_dispose()
    finally:
        database.dispose()
    return claimed, errors


def test_64_concurrent_claimers_drain_the_queue_without_doubles(world: World) -> None:
    fill_queue(world.database, TASKS)
    # A connection each: the claim statement itself must hold up under that much concurrency.
    database = Database(url=world.database.url, claim_connections=CLAIMERS)
    claimed, errors = drain(database, CLAIMERS)

    assert errors == []
    everything = [task for mine in claimed for task in mine]
    assert len(everything) == TASKS, "every task claimed"
    assert len(set(everything)) == TASKS, "no task claimed twice"
    assert sum(1 for mine in claimed if mine) > CLAIMERS // 2, "the claimers really competed"
    with world.database.transaction() as session:
        statuses = Counter(session.scalars(select(ScreeningTask.status)))
        claims = session.scalar(
            select(func.count()).where(TaskHistory.action == "claimed").select_from(TaskHistory)
        )
    assert statuses == {"claimed": TASKS}
    assert claims == TASKS, "one history entry per claim, written by the same statement"


def test_claim_next_takes_the_most_urgent_deadline_first(world: World) -> None:
    fill_queue(world.database, 200)
    caller = Caller(user_id="t", role="tracer", jurisdiction="140105", team_id="T140105001")
    order = []
    for _ in range(5):
        task_id = repository.claim_next(
            world.database, caller, now=T0, until=T0 + timedelta(hours=1)
        )
        with world.database.transaction() as session:
            order.append(session.get_one(ScreeningTask, task_id).due_at)
    assert order == sorted(order) and order[0] == T0


def test_an_expired_lease_returns_the_task_to_the_queue(world: World) -> None:
    world.push_task("p1", jurisdiction="140105001001")
    task = task_id_for("p1")

    first = world.call("tracer_a", "POST", "/v1/tasks/claim-next")
    while_held = world.call("tracer_a2", "POST", "/v1/tasks/claim-next")
    world.clock.advance(timedelta(minutes=31))
    listed = world.call("tracer_a2", "GET", "/v1/tasks").json()
    after_expiry = world.call("tracer_a2", "POST", "/v1/tasks/claim-next")
    too_late = world.call(
        "tracer_a", "POST", f"/v1/tasks/{task}/complete", json={"outcome": "cleared"}
    )

    assert first.json()["task_id"] == task
    assert while_held.status_code == 204
    assert [item["task_id"] for item in listed["items"]] == [task]
    assert listed["items"][0]["status"] == "open"
    assert after_expiry.status_code == 200
    assert after_expiry.json()["task_id"] == task
    assert after_expiry.json()["claimed_by"] == "tracer_a2"
    assert too_late.status_code == 409 and "tracer_a2" in too_late.json()["reason"]


def test_the_claim_pool_reuses_its_connections_reconnects_after_close_and_times_out_when_full(
    empty_database_url: str,
) -> None:
    # One connection, and a short wait: the one connection is held, the next caller must not hang.
    pool = AutocommitPool(libpq_dsn(empty_database_url), 1, timeout=0.2)
    try:
        with pool.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            backend = cursor.fetchone()[0]
            with pytest.raises(TimeoutError, match="all 1 of the claim pool"), pool.cursor():
                pass
        with pool.cursor() as cursor:  # handed back, and used again
            cursor.execute("SELECT pg_backend_pid()")
            assert cursor.fetchone()[0] == backend
        with pytest.raises(psycopg2.errors.DivisionByZero), pool.cursor() as cursor:
            cursor.execute("SELECT 1/0")
        with pool.cursor() as cursor:  # a failed statement keeps its connection
            cursor.execute("SELECT pg_backend_pid()")
            assert cursor.fetchone()[0] == backend
        assert pool.fetchone("SELECT pg_backend_pid()", ()) == (backend,)
        pool.close()  # closes the idle connection; its slot connects again when next taken
        assert pool.fetchone("SELECT pg_backend_pid()", ()) != (backend,)
    finally:
        pool.close()


def test_tracers_past_the_claim_connections_wait_their_turn_and_all_are_served(
    world: World,
) -> None:
    # The service claims through a few connections (PAICHA_CLAIM_CONNECTIONS): 16 tracers on 2
    # connections all get tasks, none twice, and the database only ever saw 2 claiming backends.
    fill_queue(world.database, 200)
    backends: list[int] = []

    def count_claiming_backends() -> None:
        with world.database.engine.connect() as connection:
            backends.append(
                connection.scalar(
                    select(func.count())
                    .select_from(text("pg_stat_activity"))
                    .where(text("query LIKE 'SELECT tracking_claim_next_v1%'"))
                )
            )

    claimed, errors = drain(
        Database(url=world.database.url, claim_connections=2),
        16,
        before_dispose=count_claiming_backends,
    )

    assert errors == []
    everything = [task for mine in claimed for task in mine]
    assert sorted(everything) == sorted(set(everything)) and len(everything) == 200
    assert backends == [2]


def test_the_claim_pool_serves_waiting_callers_in_turn(empty_database_url: str) -> None:
    # Four callers on one connection, each asking again as soon as it is served: the connection
    # goes round them. A pool that let the caller who just handed it back take it again served
    # one caller nearly every time while the others waited.
    pool = AutocommitPool(libpq_dsn(empty_database_url), 1)
    served = Counter[int]()
    lock = threading.Lock()
    start = threading.Barrier(4)

    def caller(index: int) -> None:
        start.wait()
        while True:
            with lock:
                if served.total() >= 200:
                    return
                served[index] += 1
            pool.fetchone("SELECT 1", ())

    threads = [threading.Thread(target=caller, args=(i,)) for i in range(4)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    finally:
        pool.close()
    assert min(served[i] for i in range(4)) >= 25, served
