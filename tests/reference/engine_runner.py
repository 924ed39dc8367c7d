"""Feeds records to the engine and reads its open tasks in the reference's terms.

Only the engine's public API is used (``Engine(params=, clock=)``, ``submit``, ``flush``,
``open_tasks``). The engine's own ``detected_at``, ``due_at``, ``task_id`` and ``version`` are left
out: the reference says nothing about them.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from typing import Any

import pytest

from paicha.matching.params import MatchParams
from tests.reference.brute_force import ExpectedTask

CLOCK = 1_700_000_000_000_000  # the wall clock the engine sees; no window may depend on it


def engine_class() -> Any:
    """The engine, or a skip while it is not written yet."""
    module = pytest.importorskip("paicha.matching.engine", reason="the engine is not written yet")
    return module.Engine


def new_engine(params: MatchParams | None = None, clock: Callable[[], int] = lambda: CLOCK) -> Any:
    return engine_class()(params=params or MatchParams(), clock=clock)


def as_expected(task: Any) -> ExpectedTask:
    """A model.Task as kind + evidence tuples, the shape the reference speaks."""
    evidence = frozenset(
        (e.kind, e.source_id, e.place, e.overlap_start, e.overlap_end) for e in task.evidence
    )
    return ExpectedTask(kind=task.kind, evidence=evidence)


def open_tasks(engine: Any) -> dict[str, ExpectedTask]:
    tasks = engine.open_tasks()
    for person_id, task in tasks.items():
        assert task.person_id == person_id, task
        assert task.status == "open", task
    return {person_id: as_expected(task) for person_id, task in tasks.items()}


def engine_tasks(
    records: Iterable[object],
    params: MatchParams | None = None,
    *,
    flush_after: Collection[int] = (),
) -> dict[str, ExpectedTask]:
    """Submit ``records`` in order, flushing after the positions in ``flush_after`` and at the
    end, and return the open tasks."""
    engine = new_engine(params)
    for position, record in enumerate(records):
        engine.submit(record)
        if position in flush_after:
            engine.flush()
    engine.flush()
    return open_tasks(engine)
