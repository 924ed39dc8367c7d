"""The one batch loop every processor runs under, and its progress figures.

Each fetch from Kafka (``consumer.BatchConsumer``) brings records of several topics and
partitions; the loop gives each processor its topics' records as one batch and sends the output
without waiting, in the worker's open transaction (``transaction.WorkerTransaction``). Once a
second, after a fetch that was not full once a tenth of a second has passed (the worker has
read all there is: what it sent is waiting for this checkpoint to be seen, maybe by its own next
stage), and whenever faust commits (on its interval, before a rebalance lets partitions go, on
stop), a checkpoint then, in this order:

1. waits until the broker has every output record sent since the last one (acks=all);
2. sends the changelog records of the state touched since, in the same transaction;
3. adds the offsets of the records processed since, and commits the transaction;
4. writes that state to the local store.

Nothing of it is visible to a ``read_committed`` reader before step 3, and all of it is after.
If the worker dies anywhere before, the transaction is aborted (by the worker's next incarnation,
or by the broker's timeout) and the records are consumed again from the committed offsets,
against the state the last commit saved: output never comes from state no recovery would find,
so a replay that batches the records otherwise cannot leave a dead worker's record standing.
Records processed twice (a rebalance, a commit the broker refused) reproduce output that
downstream takes as a no-op, since every message replaces by key and task ids are deterministic.
The local store is written only once the changelog holds the same, so a store never knows more
than a recovery would. A key's state is pickled once per checkpoint however many fetches
touched it.

A rebalance waits for a fetch in progress before faust lets its partitions go, and a fetch that
comes after the flow was stopped is not processed: it is read again from the committed offsets
once the partitions are assigned and their tables recovered.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import time
import weakref
from collections import Counter
from collections.abc import Awaitable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, NoReturn

import faust
from aiokafka.partitioner import murmur2
from faust.streams import _current_event
from faust.types import TP

from streams.processors import Batch
from streams.state import KeyedState
from streams.transaction import WorkerTransaction

EXIT_BATCH_FAILED = 70  # EX_SOFTWARE
log = logging.getLogger(__name__)


class AgentStats:
    """Records, output and dead letters of one processor since start, and the rate since last
    told."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.counts: Counter[str] = Counter()
        self._last_records = 0
        self._last_time = time.monotonic()

    def add(self, records: int, batch: Batch) -> None:
        self.counts["records"] += records
        self.counts["sent"] += len(batch.out)
        self.counts.update(batch.counts)

    def report(self, log: logging.Logger, lag: int | str) -> None:
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
            lag,
            f", {extra}" if extra else "",
        )


@dataclass(slots=True)
class Route:
    """One processor, the state it keeps (if any), and its figures."""

    processor: Any
    state: KeyedState[Any] | None
    stats: AgentStats
    topics: tuple[str, ...] = field(default=())


class BatchLoop:
    """Takes the processors' records out of each fetch, and checkpoints what they did."""

    def __init__(
        self,
        app: faust.App,
        routes: Iterable[Route],
        *,
        transaction: WorkerTransaction,
        partitions: int,
        batch: int,
        checkpoint_every: float = 1.0,
        caught_up_every: float = 0.1,
    ) -> None:
        self.app = app
        self.transaction = transaction
        self.partitions = partitions  # of every keyed topic (co-partitioned), for ``_sweep``
        self.routes = list(routes)
        self.by_topic = {topic: route for route in self.routes for topic in route.topics}
        self.topics = frozenset(self.by_topic)
        self.batch = batch  # the most records one fetch brings (faust's max_poll_records)
        self.checkpoint_every = checkpoint_every
        self.caught_up_every = caught_up_every
        self.positions: dict[TP, int] = {}  # the next offset to process, per partition
        self._busy = asyncio.Lock()
        self._sending: list[Awaitable[Any]] = []  # output of the fetches since the checkpoint
        self._touched: dict[int, tuple[KeyedState[Any], dict[str, int]]] = {}  # key: partition
        self._offsets: dict[TP, int] = {}  # processed since the checkpoint
        self._last_checkpoint = time.monotonic()
        self._consistent = True  # False while a fetch is half processed

    async def handle(self, consumer: Any, records: Mapping[TP, list[Any]], generation: int) -> None:
        """Process one fetch's records of the processors' topics, and send their output.

        Shielded: a fetch begun is finished even when faust cancels its fetcher (on stop), so
        that the checkpoint faust's last commit makes holds it.
        """
        await asyncio.shield(self._handle(consumer, records, generation))

    async def _handle(
        self, consumer: Any, records: Mapping[TP, list[Any]], generation: int
    ) -> None:
        async with self._busy:
            if not consumer.flow_active or self.app.consumer_generation_id != generation:
                # A rebalance began since the fetch: these are read again after it.
                await consumer.perform_seek()
                return
            try:
                self._consistent = False
                await self._run(records)
                self._sweep(consumer)
                self._consistent = True
                since = time.monotonic() - self._last_checkpoint
                caught_up = sum(map(len, records.values())) < self.batch
                if since >= self.checkpoint_every or (caught_up and since >= self.caught_up_every):
                    await self._checkpoint(consumer)
            except Exception:
                die()

    async def checkpoint(self, consumer: Any) -> None:
        """Deliver, save and commit what the fetches since the last checkpoint did.

        Called by faust's every commit (its commit interval, before a rebalance, on stop).
        """
        async with self._busy:
            try:
                await self._checkpoint(consumer)
            except Exception:
                die()

    async def _checkpoint(self, consumer: Any) -> None:
        self._last_checkpoint = time.monotonic()
        if not self._consistent:
            # A fetch was cut off half way (the loop is shutting down): what it changed in
            # the live state must never be saved, nor its offsets committed, nor its output seen.
            await self.transaction.abort()
            return
        sending, self._sending = self._sending, []
        if sending:
            await asyncio.gather(*sending)
        offsets, self._offsets = self._offsets, {}
        assigned = consumer.assignment()
        if any(tp not in assigned for tp in offsets):
            # A rebalance took partitions before this checkpoint could (faust checkpoints
            # before it lets them go, so this should not happen): their new owner takes the
            # records again, and everything since the last checkpoint is discarded here too.
            log.warning("partitions lost before their checkpoint; reading them again")
            await self._discard(consumer)
            return
        touched, self._touched = self._touched, {}
        written = await self._send_changelog(touched)
        await self.transaction.commit(offsets)
        self._store(written)
        consumer.note_committed(offsets)
        gc.freeze()  # live state is long-lived and acyclic: keep the collector off it

    async def _discard(self, consumer: Any) -> None:
        """Abort the transaction, drop what the live state learnt since the last checkpoint,
        and read the records since then again."""
        await self._reset()
        await consumer.perform_seek()

    async def _run(self, records: Mapping[TP, list[Any]]) -> None:
        # aiokafka's records go to the processors as they are: they have the attributes of a
        # ``processors.Record``, and a copy of each would cost more than its stay-builder step.
        taken: dict[int, tuple[Route, list[Any]]] = {}
        now = time.monotonic()
        inbound = self.app.monitor.stream_inbound_time
        for tp, batch in records.items():
            route = self.by_topic[tp.topic]
            _, into = taken.setdefault(id(route), (route, []))
            into += batch
            inbound[tp] = now  # faust's watchdog: this partition is being processed
        for route, rs in taken.values():
            batch = route.processor.process(rs)
            self._sending += await self.transaction.send(batch.out)
            self._sending += await self.transaction.send(batch.fanned_out(self.partitions))
            if route.state is not None and batch.touched:
                _, keys = self._touched.setdefault(id(route), (route.state, {}))
                partition_of = {r.key: r.partition for r in rs}
                fallback = rs[-1].partition
                for key in batch.touched:
                    keys[key] = partition_of.get(key.encode(), fallback)
            route.stats.add(len(rs), batch)
        for tp, batch in records.items():
            self._offsets[tp] = self.positions[tp] = batch[-1].offset + 1

    def _sweep(self, consumer: Any) -> None:
        """Retention for the keys no record touches: once a processor's horizon has moved a day,
        every key of this worker's partitions in its table is pruned, and the changed ones are
        saved at the checkpoint like touched ones (each to the partition its key hashes to, as
        the key's records and so its changelog records are). Keys of partitions this worker no
        longer holds (the memory store keeps them) are left to their owner."""
        for route in self.routes:
            if route.state is None or not route.processor.sweep_due():
                continue
            mine = {tp.partition for tp in consumer.assignment() if tp.topic in route.topics}
            keys: dict[str, int] = {}
            for raw in list(route.state.table.data.keys()):
                partition = key_partition(raw, self.partitions)
                if partition in mine:
                    keys[raw.decode()] = partition
            changed = route.processor.sweep(keys)
            if changed:
                _, touched = self._touched.setdefault(id(route), (route.state, {}))
                for key in changed:
                    touched[key] = keys[key]
                log.info("retention: %d %s key(s) pruned", len(changed), route.stats.name)

    async def _send_changelog(
        self, touched: dict[int, tuple[KeyedState[Any], dict[str, int]]]
    ) -> list[tuple[KeyedState[Any], bytes, bytes, int, Any]]:
        """The touched state's changelog records, sent in the transaction and acknowledged."""
        writes = [
            (state, key.encode(), state.snapshot(key), partition)
            for state, keys in touched.values()
            for key, partition in keys.items()
        ]
        changelog = [
            (state.table.changelog_topic.get_topic_name(), raw, value, partition)
            for state, raw, value, partition in writes
        ]
        pending = await self.transaction.send(changelog)
        written = await asyncio.gather(*pending) if pending else []
        return [(*write, meta) for write, meta in zip(writes, written, strict=True)]

    def _store(self, written: list[tuple[KeyedState[Any], bytes, bytes, int, Any]]) -> None:
        """The committed state to the local store, with the changelog offset it is current to."""
        newest: dict[tuple[int, TP], tuple[Any, int]] = {}
        for state, raw, value, partition, meta in written:
            with current_partition(meta.topic, partition):
                state.table.data[raw] = value
            tp = TP(meta.topic, meta.partition)
            newest[(id(state), tp)] = (state.table.data, meta.offset)
        for (_, tp), (store, offset) in newest.items():
            # What a restarted worker's recovery reads on from (RocksDB; a no-op in memory).
            store.set_persisted_offset(tp, offset)

    def lag(self, app: faust.App, topics: Iterable[str]) -> int | str:
        """Records on the assigned partitions of ``topics`` not yet processed."""
        try:
            consumer = app.consumer
            wanted = set(topics)
            lag = 0
            for tp in consumer.assignment():
                if tp.topic not in wanted:
                    continue
                highwater = consumer.highwater(tp)
                position = self.positions.get(tp)
                if position is None:
                    position = consumer._committed_offset.get(tp) or 0  # type: ignore[attr-defined]
                if highwater is not None:
                    lag += max(0, highwater - position)
            return lag
        except Exception:  # lag is a figure for people; never let it stop a worker
            return "?"

    async def close(self) -> None:
        """On stop, after faust's last commit: what is still open is aborted (its records are
        read again on the next start), and the producer disconnects."""
        async with self._busy:
            await self.transaction.stop()

    async def reset(self) -> None:
        """After a rebalance: nothing pending, live state from the tables again, and positions
        from the committed offsets."""
        async with self._busy:
            await self._reset()

    async def _reset(self) -> None:
        await self.transaction.abort()  # open only if a fetch was cut off
        for route in self.routes:
            if route.state is not None:
                route.state.forget()
        self._sending.clear()
        self._touched.clear()
        self._offsets.clear()
        self.positions.clear()
        self._consistent = True


def key_partition(key: bytes, partitions: int) -> int:
    """The partition a keyed record goes to: the Kafka clients' default partitioner (murmur2),
    which every producer of these topics uses."""
    return (murmur2(key) & 0x7FFFFFFF) % partitions


def die() -> NoReturn:
    """Stop the worker at once, before anything of the fetch is committed.

    A failure here is not one bad record (those are dead-lettered inside ``process``) but the
    broker refusing output or a bug. Exiting without a commit makes the fetch be consumed again
    when the worker is restarted (by its supervisor: systemd, Kubernetes) or by the worker that
    takes its partitions over.
    """
    log.critical("a batch failed; exiting so it is consumed again", exc_info=True)
    logging.shutdown()
    os._exit(EXIT_BATCH_FAILED)


class _Partition:
    """Stands in for faust's current event where a store asks only for its partition."""

    def __init__(self, topic: str, partition: int) -> None:
        self.topic = topic
        self.partition = partition
        self.message = self


@contextmanager
def current_partition(topic: str, partition: int) -> Iterator[None]:
    """Make faust's current event one of ``partition`` while a store is written.

    The RocksDB store files a write under the current event's partition and refuses one without
    (an assertion); the batch loop has no events, only the partition each key's records came in
    on, which is its changelog's partition (``topics.py``).
    """
    stand_in = _Partition(topic, partition)
    token = _current_event.set(weakref.ref(stand_in))  # type: ignore[arg-type]
    try:
        yield
    finally:
        _current_event.reset(token)
