"""The one agent loop every processor runs under, and its progress figures.

A batch is taken, processed into output records, the output delivered and awaited, and only then
the touched state written to its table: if the worker dies in between, the batch is consumed
again (its offsets were not committed) and reproduces output that downstream takes as a no-op,
since every message replaces by key and task ids are deterministic. Faust flushes the producer,
changelog writes included, before it commits offsets.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import time
import weakref
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any, NoReturn

import faust
from faust.streams import _current_event

from streams.processors import Batch, Record
from streams.state import KeyedState

BATCH_WAIT_SECONDS = 0.2
EXIT_BATCH_FAILED = 70  # EX_SOFTWARE
log = logging.getLogger(__name__)


class AgentStats:
    """Records, output and dead letters of one agent since start, and the rate since last told."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.counts: Counter[str] = Counter()
        self._last_records = 0
        self._last_time = time.monotonic()

    def add(self, records: int, batch: Batch) -> None:
        self.counts["records"] += records
        self.counts["sent"] += len(batch.out)
        self.counts.update(batch.counts)

    def report(self, log: logging.Logger, app: faust.App) -> None:
        now = time.monotonic()
        records = self.counts["records"]
        rate = (records - self._last_records) / max(now - self._last_time, 1e-9)
        self._last_records, self._last_time = records, now
        extra = ", ".join(f"{k}={v}" for k, v in sorted(self.counts.items()) if k != "records")
        log.info(
            "%s: %d records (%.0f/s), lag %s%s",
            self.name,
            records,
            rate,
            consumer_lag(app),
            f", {extra}" if extra else "",
        )


def consumer_lag(app: faust.App) -> int | str:
    """Records on the assigned partitions not yet read (high-water mark minus position)."""
    try:
        consumer = app.consumer
        lag = 0
        for tp in consumer.assignment():
            highwater = consumer.highwater(tp)
            position = consumer._read_offset.get(tp)  # type: ignore[attr-defined]
            if highwater is not None:
                lag += max(0, highwater - (position + 1 if position is not None else 0))
        return lag
    except Exception:  # lag is a figure for people; never let it stop a worker
        return "?"


def run_batches(
    app: faust.App,
    processor: Any,
    state: KeyedState[Any] | None,
    stats: AgentStats,
    *,
    batch_size: int,
) -> Callable[[Any], Awaitable[None]]:
    """The agent function for one processor."""

    async def agent(stream: Any) -> None:
        async for events in stream.take_events(batch_size, within=BATCH_WAIT_SECONDS):
            records = [
                Record(e.message.topic, e.message.partition, e.message.offset, e.key, e.value)
                for e in events
            ]
            try:
                batch: Batch = processor.process(records)
                await deliver(app, batch.out)
                if state is not None:
                    by_key = {e.key: e for e in events}
                    for key in batch.touched:
                        with processing(by_key.get(key.encode(), events[-1])):
                            state.save(key, state.get(key))
            except Exception:
                die(processor)
            stats.add(len(records), batch)
            gc.freeze()  # live state is long-lived and acyclic: keep the collector off it

    return agent


def die(processor: Any) -> NoReturn:
    """Stop the worker at once, before faust can acknowledge the batch.

    A failure here is not one bad record (those are dead-lettered inside ``process``) but the
    broker refusing output or a bug. Faust acknowledges the events of a batch whose agent raised,
    and would commit them as done: the batch would be lost. Exiting without a commit makes it be
    consumed again when the worker is restarted (by its supervisor: systemd, Kubernetes).
    """
    log.critical("%s failed on a batch; exiting so it is consumed again", type(processor).__name__,
                 exc_info=True)  # fmt: skip
    logging.shutdown()
    os._exit(EXIT_BATCH_FAILED)


@contextmanager
def processing(event: Any) -> Iterator[None]:
    """Make ``event`` faust's current event while a table is written.

    The RocksDB store files a write under the current event's partition and refuses one without
    (an assertion); a batch agent has no current event of its own, since ``take_events`` fills
    its buffer in another task. The event whose key is the state's key is the one a per-event
    agent would have had, and its partition is the changelog's (``topics.py``).
    """
    token = _current_event.set(weakref.ref(event))
    try:
        yield
    finally:
        _current_event.reset(token)


async def deliver(app: faust.App, out: list[tuple[str, bytes, bytes]]) -> None:
    """Publish and wait until the broker has every record (acks=all)."""
    producer = app.producer
    pending = [
        await producer.send(topic, key, value, partition=None, timestamp=None, headers=None)
        for topic, key, value in out
    ]
    if pending:
        await asyncio.gather(*pending)
