"""On a real broker: what a worker sends before its checkpoint is seen only if the checkpoint
commits, so a dead worker's output cannot outlive it (issue 4's SIGKILL failure), and table
recovery knows where a changelog that ends in a transaction marker ends."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import orjson
import pytest
from aiokafka import AIOKafkaProducer
from faust.types import TP
from kafka import KafkaAdminClient, KafkaConsumer
from kafka.admin import NewTopic

from paicha.matching import policy
from paicha.matching.model import ExposureChange, ExposureKey
from paicha.matching.params import MatchParams
from streams import agents, messages
from streams.processors import PolicyProcessor, Record
from streams.state import KeyedState
from streams.topics import TopicNames, ensure_topics
from streams.transaction import WorkerTransaction, visible_ends

pytestmark = pytest.mark.integration


class Table:
    """What the loop needs of a faust table: its changelog topic's name and a store."""

    class Store(dict[bytes, bytes]):
        def set_persisted_offset(self, tp: TP, offset: int) -> None:
            pass

    def __init__(self, changelog: str) -> None:
        self.data = Table.Store()
        self.changelog_topic = SimpleNamespace(get_topic_name=lambda: changelog)

    def get(self, key: bytes) -> bytes | None:
        return self.data.get(key)


class Consumer:
    """What the loop needs of faust's consumer: the assignment, and its bookkeeping."""

    flow_active = True

    def __init__(self, assigned: set[TP]) -> None:
        self.assigned = assigned

    def assignment(self) -> set[TP]:
        return self.assigned

    def note_committed(self, offsets: dict[TP, int]) -> None:
        pass


def writer(bootstrap: str, transactional_id: str) -> WorkerTransaction:
    """A transactional producer of the tests' own, as a worker has one."""
    return WorkerTransaction(
        bootstrap_servers=[bootstrap], transactional_id=transactional_id, group_id="tests"
    )


def create_topic(bootstrap: str, name: str, partitions: int) -> None:
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        admin.create_topics([NewTopic(name, partitions, 1)])
    finally:
        admin.close()


def read(bootstrap: str, topic: str, isolation_level: str) -> list[Any]:
    consumer = KafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        consumer_timeout_ms=3000,
        isolation_level=isolation_level,
    )
    try:
        return list(consumer)
    finally:
        consumer.close()


async def test_a_task_a_dead_worker_sent_before_its_checkpoint_is_never_seen(
    kafka_bootstrap: str, topic_suffix: str
) -> None:
    """The CI failure, replayed on the broker. The first incarnation takes the exposure alone
    and sends an open task, then dies before its checkpoint. Its replacement, from the same
    uncommitted offsets, takes the exposure and the case mark in one batch and sends nothing,
    since the person was a case before any task existed. A reader of committed records sees no
    open task for the case; the open task was on the log all the same."""
    names = TopicNames(f"x{topic_suffix}-")
    await asyncio.to_thread(ensure_topics, kafka_bootstrap, names, 1)
    await asyncio.to_thread(create_topic, kafka_bootstrap, f"{names.prefix}policies-changelog", 1)
    key = ExposureKey("area_stay", "A1", "88319085cbfffff")
    exposure = Record(
        names.exposures, 0, 0, b"p", messages.encode(ExposureChange("p", key, ((0, 1),), "1"))
    )
    mark = Record(names.exposures, 0, 1, b"p", messages.encode(messages.CaseMark("p", "K1")))
    tp = TP(names.exposures, 0)

    def incarnation() -> tuple[agents.BatchLoop, WorkerTransaction]:
        transaction = WorkerTransaction(
            bootstrap_servers=[kafka_bootstrap],
            transactional_id=f"worker-{topic_suffix}",
            group_id=f"group-{topic_suffix}",
        )
        state = KeyedState(Table(f"{names.prefix}policies-changelog"), policy.PersonPolicy)
        processor = PolicyProcessor(
            policies=state, clock=lambda: 0, topics=names, params=MatchParams()
        )
        route = agents.Route(processor, state, agents.AgentStats("policy"), (names.exposures,))
        app = SimpleNamespace(monitor=SimpleNamespace(stream_inbound_time={}))
        app.consumer_generation_id = 1
        loop = agents.BatchLoop(
            app,  # type: ignore[arg-type]
            [route],
            transaction=transaction,
            partitions=1,
            batch=1000,
            checkpoint_every=3600.0,
            caught_up_every=3600.0,
        )
        return loop, transaction

    consumer = Consumer({tp})
    first, first_transaction = incarnation()
    await first.handle(consumer, {tp: [exposure]}, 1)
    await asyncio.gather(*first._sending)  # on the broker, in the open transaction
    # SIGKILL: no checkpoint, no abort; the first producer is simply never heard from again.

    second, second_transaction = incarnation()
    try:
        await second.handle(consumer, {tp: [exposure, mark]}, 1)
        await second.checkpoint(consumer)
    finally:
        await second_transaction.stop()
        await first_transaction.producer.stop()  # its sockets; fenced long before

    committed = await asyncio.to_thread(
        read, kafka_bootstrap, names.screening_tasks, "read_committed"
    )
    written = await asyncio.to_thread(
        read, kafka_bootstrap, names.screening_tasks, "read_uncommitted"
    )
    assert [orjson.loads(r.value)["status"] for r in written] == ["open"]
    assert committed == []


async def test_recovery_ends_at_the_last_committed_record_not_at_the_marker_after_it(
    kafka_bootstrap: str, topic_suffix: str
) -> None:
    """A committed transaction ends in a commit marker, an aborted one in records no reader
    gets and an abort marker: neither is a record recovery could wait for."""
    topic = f"changelog-{topic_suffix}"
    await asyncio.to_thread(create_topic, kafka_bootstrap, topic, 3)
    transaction = writer(kafka_bootstrap, f"writer-{topic_suffix}")
    try:
        pending = await transaction.send([(topic, b"a", b"1", 0), (topic, b"b", b"2", 0)])
        written = await asyncio.gather(*pending)
        await transaction.commit({})
        await transaction.send([(topic, b"c", b"3", 0), (topic, b"d", b"4", 1)])
        await transaction.abort()
        await transaction.send([(topic, b"e", b"5", 2)])
        await transaction.commit({})
    finally:
        await transaction.stop()
    plain = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
    await plain.start()
    try:
        untransacted = await plain.send_and_wait(topic, b"f", key=b"f", partition=2)
    finally:
        await plain.stop()

    ends = await visible_ends([kafka_bootstrap], [TP(topic, 0), TP(topic, 1), TP(topic, 2)])

    assert ends[TP(topic, 0)] == written[-1].offset + 1  # before the two markers and "c"
    assert ends[TP(topic, 1)] == 0  # only an aborted record and its marker: nothing to read
    assert ends[TP(topic, 2)] == untransacted.offset + 1


async def test_recovery_waits_for_a_transaction_still_open_on_the_changelog(
    kafka_bootstrap: str, topic_suffix: str
) -> None:
    """The previous owner's last checkpoint may still be open (its commit markers not yet
    written, or a dead owner not yet aborted) when the new owner recovers: its records must not
    be left out of the recovery just because they were not visible yet."""
    topic = f"open-{topic_suffix}"
    await asyncio.to_thread(create_topic, kafka_bootstrap, topic, 1)
    transaction = writer(kafka_bootstrap, f"owner-{topic_suffix}")
    try:
        written = await asyncio.gather(*await transaction.send([(topic, b"p", b"1", 0)]))

        async def commit_later() -> None:
            await asyncio.sleep(1.0)
            await transaction.commit({})

        ends, _ = await asyncio.gather(
            visible_ends([kafka_bootstrap], [TP(topic, 0)]), commit_later()
        )
    finally:
        await transaction.stop()

    assert ends[TP(topic, 0)] == written[0].offset + 1
