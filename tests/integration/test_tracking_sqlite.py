"""The tracking service on SQLite, as the embedded runtime runs it: the same migrations and
handlers, and claim-next safe without SKIP LOCKED (BEGIN IMMEDIATE serialises the writers)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from services.tracking import work
from services.tracking.access import Caller
from services.tracking.db.models import ScreeningTask, TaskHistory
from services.tracking.db.session import Database
from services.tracking.errors import Conflict

from .test_tracking_claims import drain, fill_queue
from .test_tracking_world import T0, World, build_world

CLAIMERS = 16
TASKS = 300


@pytest.fixture
def sqlite_world(tmp_path: Path) -> Iterator[World]:
    world = build_world(f"sqlite:///{tmp_path / 'tracking.sqlite3'}")
    try:
        yield world
    finally:
        world.client.close()
        world.database.dispose()


def test_concurrent_claimers_on_sqlite_never_share_a_task_and_never_fail(
    sqlite_world: World,
) -> None:
    fill_queue(sqlite_world.database, TASKS)
    database = Database(url=sqlite_world.database.url)
    claimed, errors = drain(database, CLAIMERS)

    assert errors == [], "no 'database is locked' or any other failure"
    everything = [task for mine in claimed for task in mine]
    assert len(everything) == TASKS
    assert len(set(everything)) == TASKS, "no task claimed twice"
    with sqlite_world.database.transaction() as session:
        claims = session.scalar(
            select(func.count()).where(TaskHistory.action == "claimed").select_from(TaskHistory)
        )
        open_left = session.scalar(
            select(func.count()).where(ScreeningTask.status == "open").select_from(ScreeningTask)
        )
    assert claims == TASKS and open_left == 0


def test_racing_claims_of_one_chosen_task_on_sqlite_have_one_winner(sqlite_world: World) -> None:
    """A read-check-write handler (claim a chosen task) must not let two tracers both win: under
    the driver's deferred transactions both would read the task as open before either wrote."""
    fill_queue(sqlite_world.database, 40)
    database = Database(url=sqlite_world.database.url)
    racers = 8
    winners: dict[str, list[str]] = {f"task-{i:05d}": [] for i in range(40)}
    errors: list[BaseException] = []
    lock = threading.Lock()

    def tracer(index: int, task_id: str, start: threading.Barrier) -> None:
        caller = Caller(
            user_id=f"tracer-{index}", role="tracer", jurisdiction="140105", team_id="T140105001"
        )
        start.wait()
        try:
            with database.transaction() as session:
                work.claim(session, caller, task_id, now=T0, lease=timedelta(minutes=30))
            with lock:
                winners[task_id].append(caller.user_id)
        except Conflict:
            pass
        except BaseException as error:
            errors.append(error)

    for task_id in winners:
        start = threading.Barrier(racers)
        threads = [threading.Thread(target=tracer, args=(i, task_id, start)) for i in range(racers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    database.dispose()

    assert errors == []
    assert {task: len(users) for task, users in winners.items()} == dict.fromkeys(winners, 1)


def test_the_api_claims_and_completes_on_sqlite(sqlite_world: World) -> None:
    sqlite_world.push_person("p1", "140105001001")
    sqlite_world.push_task("p1", jurisdiction="140105001001")

    claimed = sqlite_world.call("tracer_a", "POST", "/v1/tasks/claim-next")
    task_id = claimed.json()["task_id"]
    done = sqlite_world.call(
        "tracer_a", "POST", f"/v1/tasks/{task_id}/complete", json={"outcome": "tested_positive"}
    )

    assert claimed.status_code == 200 and claimed.json()["contact"]["name"] == "张三"
    assert done.status_code == 200
    assert [case["person_id"] for case in sqlite_world.publisher.on("cases")] == ["p1"]
