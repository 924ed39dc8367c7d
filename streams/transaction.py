"""The worker's Kafka transactions: what a checkpoint makes durable goes out all or not at all.

Everything a worker writes between two checkpoints (the processors' output, dead letters, the
changelog records of the state that output came from) and the offsets of the records it
processed are one transaction (``agents.BatchLoop``). Readers in ``read_committed`` mode (the
workers themselves, the tracking service, the tests) see none of it until the checkpoint commits
it, and never see it if the worker dies first: the records are then processed again, from the
state the last commit saved, and only that second outcome is ever visible. Without this a dead
worker's output could outlive it: a task it opened from an exposure it never saved stayed
"open" after its replacement, taking the exposure and the case mark together, found nothing to
send (issue 4's SIGKILL failure).

Each worker has a transactional id of its own, the same across its restarts
(``Settings.worker_id``): a restarted worker's first act, ``init_transactions``, aborts what its
previous incarnation left open. A worker that does not come back has its open transaction
aborted by the broker after ``TRANSACTION_TIMEOUT_MS``; until then the partitions it wrote to
are held back from ``read_committed`` readers, so the worker that takes its partitions over
waits for that at most once.

This is Kafka Streams' exactly-once pattern with one producer per worker rather than per input
partition (KIP-98), so a worker the group wrongly thought dead (a pause longer than the session
timeout) is not fenced by the one that took its partitions: its late commit would duplicate
records, which every consumer takes as no-ops (task ids are deterministic), and could interleave
its state with the new owner's. Killed and restarted workers, the case the issue names, are
fenced.
"""

from __future__ import annotations

import asyncio
import hashlib
import socket
import time
from collections.abc import Awaitable, Iterable, Mapping
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from faust.types import TP

# Longer than any batch takes between its first send and its checkpoint (the loop checkpoints
# every second), short enough that a worker that never comes back holds readers up briefly.
TRANSACTION_TIMEOUT_MS = 15_000
# How long recovery waits for the transactions open on a changelog to end: the broker aborts a
# dead worker's after the timeout, checking every 10 s by default.
SETTLE_SECONDS = TRANSACTION_TIMEOUT_MS / 1000 + 12


def default_worker_id(datadir: Path) -> str:
    """This host and this worker's data folder: the same across restarts, distinct between two
    workers on one host (each has its own folder)."""
    folder = hashlib.sha1(str(datadir.resolve()).encode()).hexdigest()[:10]
    return f"{socket.gethostname()}-{folder}"


class WorkerTransaction:
    """One transactional producer, and the transaction open since the last checkpoint (if any)."""

    def __init__(
        self,
        *,
        bootstrap_servers: list[str],
        transactional_id: str,
        group_id: str,
        producer_options: Mapping[str, Any] | None = None,
    ) -> None:
        self.transactional_id = transactional_id
        self.group_id = group_id
        self._options = {
            "bootstrap_servers": bootstrap_servers,
            **(producer_options or {}),
            "transactional_id": transactional_id,
            "enable_idempotence": True,
            "acks": "all",
            "transaction_timeout_ms": TRANSACTION_TIMEOUT_MS,
        }
        self._producer: AIOKafkaProducer | None = None
        self._starting = asyncio.Lock()
        self.open = False

    async def start(self) -> None:
        """Connect, and abort whatever a previous incarnation with this id left open."""
        async with self._starting:
            if self._producer is None:
                producer = AIOKafkaProducer(**self._options)  # in the loop that will use it
                await producer.start()
                self._producer = producer

    @property
    def producer(self) -> AIOKafkaProducer:
        if self._producer is None:
            raise RuntimeError("the worker's transactional producer is not started")
        return self._producer

    async def _begin(self) -> None:
        if not self.open:
            await self.start()
            await self.producer.begin_transaction()
            self.open = True

    async def send(self, out: Iterable[tuple[Any, ...]]) -> list[Awaitable[Any]]:
        """Publish ``(topic, key, value[, partition])`` records in the open transaction (begun
        here if none is); what each one's delivery awaits."""
        pending = []
        for record in out:
            if not self.open:
                await self._begin()
            pending.append(
                await self.producer.send(
                    record[0],
                    record[2],
                    key=record[1],
                    partition=record[3] if len(record) > 3 else None,
                )
            )
        return pending

    async def commit(self, offsets: Mapping[TP, int]) -> None:
        """Make the open transaction's records visible, with ``offsets`` as the group's
        committed offsets, or nothing at all if this fails."""
        if offsets:
            await self._begin()
        if not self.open:
            return
        if offsets:
            await self.producer.send_offsets_to_transaction(
                {TopicPartition(tp.topic, tp.partition): offset for tp, offset in offsets.items()},
                self.group_id,
            )
        await self.producer.commit_transaction()
        self.open = False

    async def abort(self) -> None:
        """Discard the open transaction's records and offsets: no reader ever sees them."""
        if self.open:
            self.open = False
            await self.producer.abort_transaction()

    async def stop(self) -> None:
        await self.abort()
        if self._producer is not None:
            producer, self._producer = self._producer, None
            await producer.stop()


async def visible_ends(
    bootstrap_servers: list[str], tps: Iterable[TP], *, settle: float = SETTLE_SECONDS
) -> dict[TP, int]:
    """For each partition, one past the offset of the last record a ``read_committed`` reader
    gets: where table recovery is done.

    Not the end offset: a committed transaction ends with a commit marker, which takes an
    offset and is never delivered, so a recovery waiting for the record before the end would
    wait for ever. Found by reading the tail of each partition, further back while it shows no
    record (an aborted transaction can be the tail).

    First it waits (up to ``settle`` seconds) until no transaction is open on the partitions:
    the previous owner's last commit has returned to it before the new owner is assigned the
    partitions, but the broker writes the commit markers after that, and until they are written
    its records are invisible, so a recovery that ended before them would miss that owner's last
    state (seen: a person's registry record, so a resident was tasked for visiting their own
    city). A dead owner's open transaction settles when its restart or the broker aborts it.
    """
    wanted = [TopicPartition(tp.topic, tp.partition) for tp in tps]
    if not wanted:
        return {}
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap_servers,
        enable_auto_commit=False,
        isolation_level="read_committed",
    )
    everything = AIOKafkaConsumer(bootstrap_servers=bootstrap_servers, enable_auto_commit=False)
    await consumer.start()
    await everything.start()
    try:
        consumer.assign(wanted)
        deadline = time.monotonic() + settle
        while True:
            ends = await consumer.end_offsets(wanted)  # the last stable offsets, read committed
            if ends == await everything.end_offsets(wanted) or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.1)
        begins = await consumer.beginning_offsets(wanted)
        found: dict[TP, int] = {}
        for tp in wanted:
            found[TP(tp.topic, tp.partition)] = await _last_visible(
                consumer, tp, begins[tp], ends[tp]
            )
        return found
    finally:
        await everything.stop()
        await consumer.stop()


async def _last_visible(
    consumer: AIOKafkaConsumer, tp: TopicPartition, begin: int, end: int
) -> int:
    window = 64
    stop = end
    while stop > begin:
        start = max(begin, stop - window)
        consumer.seek(tp, start)
        last = None
        while await consumer.position(tp) < stop:
            batch = await consumer.getmany(tp, timeout_ms=500, max_records=10_000)
            for record in batch.get(tp, []):
                if record.offset < stop:
                    last = record.offset
        if last is not None:
            return last + 1
        stop, window = start, window * 8
    return begin
