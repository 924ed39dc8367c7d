"""The Kafka rails the stream processors ride on, proven end to end on a real broker.

kafka-python 3.x produces (as the feeds and the CLI will), a faust-streaming agent consumes raw
bytes and publishes to another topic, kafka-python reads the result back. The agent follows
INFRA-NOTES: it takes bytes, validates them itself, and turns bad input into a dead-letter record
carrying the reason and the original bytes, so nothing is lost silently.
"""

from __future__ import annotations

import asyncio
import base64
import json
from pathlib import Path
from typing import Any

import faust
import pytest
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer

from tests.integration.kafka_tools import committed_offset

pytestmark = pytest.mark.integration

GOOD_RECORDS = 20


def create_topics(bootstrap: str, *names: str) -> None:
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        admin.create_topics(
            {name: {"num_partitions": 1, "replication_factor": 1} for name in names}
        )
    finally:
        admin.close()


def produce(bootstrap: str, topic: str, records: list[tuple[bytes, bytes]]) -> None:
    producer = KafkaProducer(bootstrap_servers=bootstrap)  # 3.x: idempotent, acks=all
    try:
        for key, value in records:
            producer.send(topic, key=key, value=value)
        producer.flush(timeout=30)
    finally:
        producer.close()


def read_topic(bootstrap: str, topic: str, count: int) -> list[tuple[bytes, bytes]]:
    """Read `count` records from the start of `topic`, or what arrived within 60 s."""
    consumer = KafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        consumer_timeout_ms=60_000,
    )
    try:
        records: list[tuple[bytes, bytes]] = []
        for message in consumer:
            records.append((message.key, message.value))
            if len(records) == count:
                break
        return records
    finally:
        consumer.close()


def relay_app(
    bootstrap: str, *, app_id: str, source: str, sink: str, dead_letters: str, datadir: Path
) -> faust.App:
    """A faust app with one agent: JSON in, JSON marked as relayed out, bad bytes dead-lettered."""
    app = faust.App(
        app_id,
        broker=f"kafka://{bootstrap}",
        store="memory://",
        datadir=str(datadir),
        web_enabled=False,
        topic_partitions=1,
    )

    def raw_topic(name: str) -> faust.TopicT:
        # Bytes in, bytes out: the agent validates itself, so a bad record cannot kill it.
        return app.topic(
            name, key_type=bytes, value_type=bytes, key_serializer="raw", value_serializer="raw"
        )

    source_topic, sink_topic, dead_letter_topic = map(raw_topic, (source, sink, dead_letters))

    @app.agent(source_topic)
    async def relay(stream: faust.StreamT[bytes]) -> None:
        async for event in stream.events():
            try:
                document: dict[str, Any] = json.loads(event.value)
                if not isinstance(document, dict):
                    raise ValueError("a record must be a JSON object")
            except ValueError as error:
                letter = {
                    "reason": str(error),
                    "topic": event.message.topic,
                    "offset": event.message.offset,
                    "original": base64.b64encode(event.value).decode(),
                }
                await dead_letter_topic.send(key=event.key, value=json.dumps(letter).encode())
                continue
            document["relayed"] = True
            await sink_topic.send(key=event.key, value=json.dumps(document).encode())

    return app


async def test_faust_agent_relays_records_between_real_topics(
    kafka_bootstrap: str, topic_suffix: str, tmp_path: Path
) -> None:
    source, sink, dead = (
        f"{name}-{topic_suffix}" for name in ("rails-in", "rails-out", "rails-dlq")
    )
    await asyncio.to_thread(create_topics, kafka_bootstrap, source, sink, dead)
    records = [
        (f"person-{i % 3}".encode(), json.dumps({"seq": i, "name": "张三"}).encode())
        for i in range(GOOD_RECORDS)
    ]
    bad = (b"person-x", b"\xff not json")
    await asyncio.to_thread(produce, kafka_bootstrap, source, [*records[:10], bad, *records[10:]])

    group = f"rails-{topic_suffix}"
    app = relay_app(
        kafka_bootstrap, app_id=group, source=source, sink=sink, dead_letters=dead, datadir=tmp_path
    )
    await app.start()
    try:
        relayed = await asyncio.to_thread(read_topic, kafka_bootstrap, sink, GOOD_RECORDS)
        dead_letters = await asyncio.to_thread(read_topic, kafka_bootstrap, dead, 1)
    finally:
        await app.stop()

    assert len(relayed) == GOOD_RECORDS
    by_key: dict[bytes, list[int]] = {}
    for key, value in relayed:
        document = json.loads(value)
        assert set(document) == {"seq", "name", "relayed"}, "no __faust metadata on the wire"
        assert document["name"] == "张三"
        by_key.setdefault(key, []).append(document["seq"])
    assert by_key == {
        f"person-{k}".encode(): [i for i in range(GOOD_RECORDS) if i % 3 == k] for k in range(3)
    }, "keys kept, and order kept per key"

    assert len(dead_letters) == 1
    key, value = dead_letters[0]
    letter = json.loads(value)
    assert key == b"person-x"
    assert base64.b64decode(letter["original"]) == bad[1]
    assert letter["reason"] and letter["topic"] == source and letter["offset"] == 10

    # The group committed past every record it handled (faust commits on stop), so a restarted
    # worker would not handle them again.
    offset = await asyncio.to_thread(committed_offset, kafka_bootstrap, group, source)
    assert offset == GOOD_RECORDS + 1
