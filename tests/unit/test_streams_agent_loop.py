"""The agent loop's promise: a batch is either fully handled or consumed again, never lost."""

from __future__ import annotations

from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Any

import pytest

from streams import agents
from streams.processors import Batch


class Exited(Exception):
    def __init__(self, code: int) -> None:
        self.code = code


class FakeStream:
    def __init__(self, events: list[Any]) -> None:
        self.events = events

    async def take_events(self, size: int, within: float) -> AsyncIterator[list[Any]]:
        yield self.events


def event(offset: int) -> Any:
    message = SimpleNamespace(topic="trajectories", partition=0, offset=offset)
    return SimpleNamespace(message=message, key=b"p", value=b"{}")


class Broken:
    def process(self, records: list[Any]) -> Batch:
        raise RuntimeError("a bug")


class Echo:
    def __init__(self) -> None:
        self.seen: list[int] = []

    def process(self, records: list[Any]) -> Batch:
        self.seen.extend(r.offset for r in records)
        return Batch()


async def test_a_batch_that_fails_stops_the_worker_before_faust_can_acknowledge_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def fake_exit(code: int) -> None:
        raise Exited(code)

    monkeypatch.setattr(agents.os, "_exit", fake_exit)
    loop = agents.run_batches(None, Broken(), None, agents.AgentStats("x"), batch_size=10)  # type: ignore[arg-type]
    with pytest.raises(Exited) as exited:
        await loop(FakeStream([event(1), event(2)]))
    assert exited.value.code == agents.EXIT_BATCH_FAILED


async def test_a_batch_that_succeeds_is_counted(monkeypatch: pytest.MonkeyPatch) -> None:
    async def no_output(app: Any, out: list[Any]) -> None:
        assert out == []

    monkeypatch.setattr(agents, "deliver", no_output)
    echo = Echo()
    stats = agents.AgentStats("x")
    loop = agents.run_batches(None, echo, None, stats, batch_size=10)  # type: ignore[arg-type]
    await loop(FakeStream([event(1), event(2)]))
    assert echo.seen == [1, 2]
    assert stats.counts["records"] == 2
