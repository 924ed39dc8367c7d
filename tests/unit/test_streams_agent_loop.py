"""The batch loop's promises: output, state and offsets committed together in one transaction
and the local store written after, and a fetch either fully handled or consumed again, never
lost. (That Kafka keeps a transaction's records from readers until it commits, and drops them
when it aborts, is tested on a real broker: tests/integration/test_streams_transactions.py.)"""

from __future__ import annotations

import asyncio
import pickle
from types import SimpleNamespace
from typing import Any

import pytest
from faust.types import TP

from streams import agents
from streams.processors import Batch
from streams.state import KeyedState


class Exited(Exception):
    def __init__(self, code: int) -> None:
        self.code = code


class Journal(list[tuple[str, Any]]):
    """What the loop did, in order."""


class FakeTransaction:
    """Journals what the loop sends, commits and aborts."""

    def __init__(self, journal: Journal, *, failing: str | None = None) -> None:
        self.journal = journal
        self.failing = failing
        self.offset = 0
        self.open = False

    async def send(self, out: list[tuple[Any, ...]]) -> list[asyncio.Future[Any]]:
        pending = []
        for topic, *_ in out:
            self.open = True
            future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
            self.offset += 1
            if topic == self.failing:
                future.set_exception(RuntimeError("the broker refused"))
            else:
                self.journal.append(("sent", topic))
                future.set_result(SimpleNamespace(topic=topic, partition=0, offset=self.offset))
            pending.append(future)
        return pending

    async def commit(self, offsets: dict[TP, int]) -> None:
        if self.open or offsets:
            self.open = False
            self.journal.append(("committed", dict(offsets)))

    async def abort(self) -> None:
        if self.open:
            self.open = False
            self.journal.append(("aborted", None))

    async def stop(self) -> None:
        await self.abort()


class FakeStore(dict[bytes, bytes]):
    def __init__(self, journal: Journal) -> None:
        super().__init__()
        self.journal = journal

    def __setitem__(self, key: bytes, value: bytes) -> None:
        self.journal.append(("stored", key))
        super().__setitem__(key, value)

    def set_persisted_offset(self, tp: TP, offset: int) -> None:
        self.journal.append(("persisted", offset))


class FakeTable:
    def __init__(self, journal: Journal) -> None:
        self.data = FakeStore(journal)
        self.changelog_topic = SimpleNamespace(get_topic_name=lambda: "counts-changelog")

    def get(self, key: bytes) -> bytes | None:
        return self.data.get(key)


ONE_PARTITION = frozenset({TP("in", 0)})


class FakeConsumer:
    def __init__(
        self, journal: Journal, assigned: frozenset[TP] = frozenset({TP("in", 0)})
    ) -> None:
        self.journal = journal
        self.flow_active = True
        self.assigned = assigned

    def assignment(self) -> frozenset[TP]:
        return self.assigned

    async def perform_seek(self) -> None:
        self.journal.append(("seek", None))

    def note_committed(self, offsets: dict[TP, int]) -> None:
        pass


class Counting:
    """Counts records by key; sends one output record per record."""

    def __init__(self, counts: KeyedState[list[int]]) -> None:
        self.counts = counts

    def process(self, records: list[Any]) -> Batch:
        batch = Batch()
        for record in records:
            key = record.key.decode()
            self.counts.get(key).append(record.offset)
            batch.touched.add(key)
            batch.send("out", record.key, record.value)
        return batch

    def sweep_due(self) -> bool:
        return False


class Forgetting:
    """Touches nothing; a retention sweep is due once, and every key it is handed changed."""

    def __init__(self) -> None:
        self.swept: list[str] | None = None

    def process(self, records: list[Any]) -> Batch:
        return Batch()

    def sweep_due(self) -> bool:
        return self.swept is None

    def sweep(self, keys: list[str]) -> list[str]:
        self.swept = sorted(keys)
        return list(keys)


class Broken:
    def process(self, records: list[Any]) -> Batch:
        raise RuntimeError("a bug")


def record(offset: int, key: bytes = b"p") -> Any:
    return SimpleNamespace(topic="in", partition=0, offset=offset, key=key, value=b"{}")


def loop_of(
    processor: Any, journal: Journal, state: Any = None, partitions: int = 1, **transaction: Any
) -> Any:
    app = SimpleNamespace(
        monitor=SimpleNamespace(stream_inbound_time={}),
        consumer_generation_id=1,
    )
    route = agents.Route(processor, state, agents.AgentStats("x"), ("in",))
    return agents.BatchLoop(  # type: ignore[arg-type]
        app,
        [route],
        transaction=FakeTransaction(journal, **transaction),  # type: ignore[arg-type]
        partitions=partitions,
        batch=1000,
        checkpoint_every=3600.0,
        caught_up_every=3600.0,
    )


@pytest.fixture
def exits(monkeypatch: pytest.MonkeyPatch) -> None:
    def fake_exit(code: int) -> None:
        raise Exited(code)

    monkeypatch.setattr(agents.os, "_exit", fake_exit)


async def test_output_state_and_offsets_commit_together_and_the_store_is_written_after() -> None:
    journal = Journal()
    counts: KeyedState[list[int]] = KeyedState(FakeTable(journal), lambda key: [])
    loop = loop_of(Counting(counts), journal, counts)
    consumer = FakeConsumer(journal)
    tp = TP("in", 0)

    await loop.handle(consumer, {tp: [record(7), record(8, b"q")]}, 1)
    await loop.handle(consumer, {tp: [record(9)]}, 1)
    assert journal == [("sent", "out")] * 3  # nothing saved or committed between checkpoints
    await loop.checkpoint(consumer)

    kinds = [kind for kind, _ in journal]
    assert journal[3:5] == [("sent", "counts-changelog")] * 2  # one per touched key
    assert journal[5] == ("committed", {tp: 10})  # the output, the changelog and the offsets
    assert sorted(kinds[6:8]) == ["stored", "stored"]  # the store only once committed
    assert kinds[8:] == ["persisted"]
    assert counts.get("p") == [7, 9]
    assert loop.positions[tp] == 10


async def test_a_fetch_that_is_not_full_checkpoints_once_a_tenth_of_a_second_has_passed() -> None:
    # A fetch smaller than the batch means the worker has read all there is: what it sent waits
    # for a checkpoint to be seen, maybe by its own next stage, so it does not wait a second.
    journal = Journal()
    counts: KeyedState[list[int]] = KeyedState(FakeTable(journal), lambda key: [])
    loop = loop_of(Counting(counts), journal, counts)
    loop.batch, loop.caught_up_every = 2, 0.1
    consumer = FakeConsumer(journal)
    tp = TP("in", 0)

    await loop.handle(consumer, {tp: [record(1)]}, 1)  # not full, but too soon
    loop._last_checkpoint -= 0.2
    await loop.handle(consumer, {tp: [record(2), record(3)]}, 1)  # full: more may be waiting
    committed_before = [entry for entry in journal if entry[0] == "committed"]
    await loop.handle(consumer, {tp: [record(4)]}, 1)  # not full, and 0.2 s since the last

    assert committed_before == []
    assert [entry for entry in journal if entry[0] == "committed"] == [("committed", {tp: 5})]


async def test_a_fetch_after_the_flow_stopped_is_not_processed_but_read_again() -> None:
    journal = Journal()
    loop = loop_of(Counting(KeyedState({}, lambda key: [])), journal)
    consumer = FakeConsumer(journal)
    consumer.flow_active = False

    await loop.handle(consumer, {TP("in", 0): [record(1)]}, 1)
    await loop.checkpoint(consumer)

    assert journal == [("seek", None)]


@pytest.mark.usefixtures("exits")
async def test_a_fetch_that_fails_stops_the_worker_before_anything_is_committed() -> None:
    journal = Journal()
    loop = loop_of(Broken(), journal)
    with pytest.raises(Exited) as exited:
        await loop.handle(FakeConsumer(journal), {TP("in", 0): [record(1)]}, 1)
    assert exited.value.code == agents.EXIT_BATCH_FAILED
    assert journal == []


@pytest.mark.usefixtures("exits")
async def test_output_the_broker_refuses_stops_the_worker_before_state_or_offsets() -> None:
    journal = Journal()
    counts: KeyedState[list[int]] = KeyedState(FakeTable(journal), lambda key: [])
    loop = loop_of(Counting(counts), journal, counts, failing="out")
    consumer = FakeConsumer(journal)
    await loop.handle(consumer, {TP("in", 0): [record(1)]}, 1)
    with pytest.raises(Exited):
        await loop.checkpoint(consumer)
    assert journal == []


async def test_a_fetch_cut_off_half_way_leaves_nothing_saved_or_committed() -> None:
    journal = Journal()
    counts: KeyedState[list[int]] = KeyedState(FakeTable(journal), lambda key: [])
    loop = loop_of(Counting(counts), journal, counts)
    consumer = FakeConsumer(journal)
    await loop.handle(consumer, {TP("in", 0): [record(1)]}, 1)

    class CutOff(Counting):
        def process(self, records: list[Any]) -> Batch:
            super().process(records)
            raise asyncio.CancelledError

    loop.routes[0].processor = CutOff(counts)
    with pytest.raises(asyncio.CancelledError):
        await loop.handle(consumer, {TP("in", 0): [record(2)]}, 1)
    await loop.checkpoint(consumer)

    # Both fetches' output was sent in the open transaction; none of it is ever seen.
    assert journal == [("sent", "out"), ("aborted", None)]


async def test_keys_no_record_touches_are_swept_on_this_workers_partitions_and_saved() -> None:
    """Retention reaches a person gone quiet: every key of the partitions this worker holds is
    handed to the processor's sweep, and what it changed is saved at the checkpoint; keys of
    other partitions (the memory store keeps them after a rebalance) are left to their owner."""
    journal = Journal()
    table = FakeTable(journal)
    keys = [f"P{i:03d}".encode() for i in range(12)]
    for key in keys:
        dict.__setitem__(table.data, key, pickle.dumps([1]))
    mine = sorted(key.decode() for key in keys if agents.key_partition(key, 2) == 1)
    assert 0 < len(mine) < len(keys)  # the keys fall in both partitions
    forgetting = Forgetting()
    state: KeyedState[list[int]] = KeyedState(table, lambda key: [])
    loop = loop_of(forgetting, journal, state, partitions=2)
    consumer = FakeConsumer(journal, assigned=frozenset({TP("in", 1)}))

    await loop.handle(consumer, {TP("in", 1): [record(5)]}, 1)
    await loop.checkpoint(consumer)

    assert forgetting.swept == mine
    assert sorted(key.decode() for kind, key in journal if kind == "stored") == mine
    assert ("committed", {TP("in", 1): 6}) in journal


async def test_partitions_lost_before_their_checkpoint_discard_everything_since_the_last() -> None:
    """Nothing of what the fetches since the last checkpoint did survives: the transaction is
    aborted, the live state is read from the table again, and the records are read again."""
    journal = Journal()
    counts: KeyedState[list[int]] = KeyedState(FakeTable(journal), lambda key: [])
    loop = loop_of(Counting(counts), journal, counts)
    consumer = FakeConsumer(journal)
    await loop.handle(consumer, {TP("in", 0): [record(1)]}, 1)
    consumer.assigned = frozenset()

    await loop.checkpoint(consumer)

    assert journal == [("sent", "out"), ("aborted", None), ("seek", None)]
    assert counts.get("p") == []  # the live state forgot the record
    assert loop.positions == {}


async def test_a_record_for_every_partition_goes_to_each_partition_of_its_topic() -> None:
    journal = Journal()

    class Announcing(Counting):
        def process(self, records: list[Any]) -> Batch:
            batch = Batch()
            batch.send_everywhere("time", b"{}")
            return batch

    loop = loop_of(Announcing(KeyedState({}, lambda key: [])), journal, partitions=3)
    sent: list[tuple[Any, ...]] = []
    send = loop.transaction.send

    async def recording(out: list[tuple[Any, ...]]) -> list[asyncio.Future[Any]]:
        sent.extend(out)
        return await send(out)

    loop.transaction.send = recording
    await loop.handle(FakeConsumer(journal), {TP("in", 0): [record(1)]}, 1)

    assert sent == [("time", b"", b"{}", 0), ("time", b"", b"{}", 1), ("time", b"", b"{}", 2)]
