"""The tracking service's Kafka consumer on the real broker and PostgreSQL: records land once,
offsets follow the database, a bad record is dead-lettered, and replaying the whole topic through
a new consumer group changes nothing."""

from __future__ import annotations

import json
import time
from collections import Counter
from typing import Any

import pytest
from kafka import KafkaAdminClient, KafkaProducer
from sqlalchemy import func, select

from paicha.matching.policy import task_id_for
from services.tracking.db.models import (
    ConsumedRecord,
    OutboxRecord,
    Person,
    ScreeningTask,
    TaskHistory,
)
from services.tracking.ingest import TrackingConsumer
from tests.integration.kafka_tools import committed_offset

from .test_tracking_world import World, task_record

pytestmark = pytest.mark.integration


def produce(bootstrap: str, topic: str, records: list[tuple[str, bytes]]) -> None:
    producer = KafkaProducer(bootstrap_servers=bootstrap)
    try:
        for key, value in records:
            producer.send(topic, key=key.encode(), value=value)
        producer.flush(timeout=30)
    finally:
        producer.close()


def consume_all(
    world: World, bootstrap: str, group: str, topics: tuple[str, str], expected: int
) -> Counter[str]:
    consumer = TrackingConsumer(
        database=world.database,
        bootstrap_servers=bootstrap,
        clock=world.clock,
        group_id=group,
        tasks_topic=topics[0],
        persons_topic=topics[1],
    )
    try:
        deadline = time.monotonic() + 60
        while sum(consumer.totals.values()) < expected and time.monotonic() < deadline:
            consumer.poll_once(timeout_ms=500)
        return consumer.totals
    finally:
        consumer.close()


def snapshot(world: World) -> dict[str, Any]:
    with world.database.transaction() as session:
        tasks = {
            t.task_id: (t.status, t.version, t.kind, t.team, t.jurisdiction, t.round)
            for t in session.scalars(select(ScreeningTask))
        }
        counts = {
            model.__tablename__: session.scalar(select(func.count()).select_from(model))
            for model in (TaskHistory, Person, ConsumedRecord, OutboxRecord)
        }
    return {"tasks": tasks, **counts}


def test_consumer_applies_once_and_a_replayed_topic_changes_nothing(
    world: World, kafka_bootstrap: str, topic_suffix: str
) -> None:
    tasks_topic, persons_topic = f"screening-tasks-{topic_suffix}", f"persons-{topic_suffix}"
    admin = KafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    admin.create_topics(
        {
            name: {"num_partitions": 1, "replication_factor": 1}
            for name in (tasks_topic, persons_topic)
        }
    )
    admin.close()

    def task(person: str, **fields: Any) -> tuple[str, bytes]:
        return person, json.dumps(task_record(person, **fields)).encode()

    persons = [
        (
            "p1",
            json.dumps(
                {
                    "person_id": "p1",
                    "residence_code": "140105001001",
                    "name": "王五",
                    "phone": "13900000000",
                }
            ).encode(),
        ),
        ("p2", json.dumps({"person_id": "p2", "residence_code": "140106001001"}).encode()),
    ]
    tasks = [
        task("p1", jurisdiction="140105001001"),
        task("p1", jurisdiction="140105001001", version=2, kind="area_stay"),
        task("p1", jurisdiction="140105001001", version=2, kind="area_stay"),  # re-sent
        task("p1", jurisdiction="140105001001", version=1),  # old, re-sent after v2
        task("p2", jurisdiction=None, exposure_city="140100"),
        task("p3", jurisdiction="110105001001"),  # a visitor from another province
        task("p4", jurisdiction="140106001001"),
        task(
            "p4",
            jurisdiction="140106001001",
            status="withdrawn",
            version=2,
            close_reason="exposures_withdrawn",
        ),
        ("bad", b"{not json"),
    ]
    produce(kafka_bootstrap, persons_topic, persons)
    produce(kafka_bootstrap, tasks_topic, tasks)
    topics = (tasks_topic, persons_topic)

    first = consume_all(
        world, kafka_bootstrap, f"tracking-{topic_suffix}", topics, len(tasks) + len(persons)
    )
    after_first = snapshot(world)
    replay = consume_all(
        world, kafka_bootstrap, f"replay-{topic_suffix}", topics, len(tasks) + len(persons)
    )

    assert first == {
        "create": 4,
        "update": 1,
        "close": 1,
        "duplicate": 2,
        "person": 2,
        "dead_letter": 1,
    }
    assert replay == {"duplicate": len(tasks) + len(persons)}
    assert snapshot(world) == after_first, "replaying the whole topic changes nothing"
    assert committed_offset(kafka_bootstrap, f"tracking-{topic_suffix}", tasks_topic) == len(tasks)
    assert committed_offset(kafka_bootstrap, f"tracking-{topic_suffix}", persons_topic) == len(
        persons
    )

    rows = after_first["tasks"]
    assert rows[task_id_for("p1")] == ("open", 2, "area_stay", "T140105001", "140105001001", 1)
    assert rows[task_id_for("p2")][3:5] == ("T140106001", "140106001001"), "routed by residence"
    assert rows[task_id_for("p3")][3:5] == ("T140100", "140100"), "visitor: the exposure city"
    assert rows[task_id_for("p4")][0] == "withdrawn"
    [(topic, _, letter)] = world.publisher.records or [("dead-letters", None, _outbox(world))]
    assert topic == "dead-letters"
    assert letter["source_topic"] == tasks_topic and letter["offset"] == len(tasks) - 1
    assert "not JSON" in letter["reason"]


def _outbox(world: World) -> dict[str, Any]:
    with world.database.transaction() as session:
        row = session.scalars(select(OutboxRecord)).one()
        return row.payload
