"""``paicha ingest`` and ``paicha replay`` against a real broker: a feed file lands keyed as the
contract says with bad lines refused by number, and a replay republishes exactly the records from
the moment asked for."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from typer.testing import CliRunner

from paicha.cli import app
from paicha.replay import HEADER

runner = CliRunner()


def read_all(bootstrap: str, topic: str, count: int) -> list[tuple[bytes, bytes, list]]:
    consumer = KafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        consumer_timeout_ms=20_000,
    )
    try:
        records = []
        for message in consumer:
            records.append((message.key, message.value, list(message.headers or [])))
            if len(records) >= count:
                break
        return records
    finally:
        consumer.close()


def test_paicha_ingest_puts_valid_lines_on_kafka_keyed_and_reports_the_bad_ones(
    kafka_bootstrap: str, topic_suffix: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    prefix = f"t{topic_suffix}-"
    monkeypatch.setenv("PAICHA_KAFKA_BOOTSTRAP_SERVERS", kafka_bootstrap)
    monkeypatch.setenv("PAICHA_TOPIC_PREFIX", prefix)
    monkeypatch.chdir(tmp_path)
    lines = [
        {"person_id": "p1", "residence_code": "140105001001", "name": "张三"},
        {"person_id": "p2"},
        {"person_id": "p3", "residence_code": "140106001001"},
    ]
    feed = tmp_path / "persons.jsonl"
    feed.write_text("".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines))

    result = runner.invoke(app, ["ingest", str(feed), "--topic", "persons"])

    assert result.exit_code == 1, result.output
    assert "persons.jsonl:2: residence_code" in result.output
    assert "2 accepted, 1 rejected" in result.output
    landed = read_all(kafka_bootstrap, prefix + "persons", 2)
    assert [key for key, _, _ in landed] == [b"p1", b"p3"]
    assert json.loads(landed[0][1])["name"] == "张三"


def test_paicha_replay_republishes_the_records_from_the_moment_given(
    kafka_bootstrap: str, topic_suffix: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source, target = f"replay-src-{topic_suffix}", f"replay-dst-{topic_suffix}"
    admin = KafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    try:
        admin.create_topics({source: {"num_partitions": 2, "replication_factor": 1}})
    finally:
        admin.close()
    t0 = datetime(2021, 12, 1, tzinfo=UTC)
    producer = KafkaProducer(bootstrap_servers=kafka_bootstrap)
    for minute in range(6):
        at = int((t0 + timedelta(minutes=minute)).timestamp() * 1000)
        producer.send(source, key=f"k{minute}".encode(), value=b"%d" % minute, timestamp_ms=at)
    producer.flush(timeout=30)
    producer.close()
    monkeypatch.setenv("PAICHA_KAFKA_BOOTSTRAP_SERVERS", kafka_bootstrap)
    monkeypatch.chdir(tmp_path)

    since = (t0 + timedelta(minutes=3)).isoformat()
    result = runner.invoke(app, ["replay", source, "--from", since, "--to", target])

    assert result.exit_code == 0, result.output
    assert "replayed 3 records" in result.output
    copied = read_all(kafka_bootstrap, target, 3)
    assert sorted((key, value) for key, value, _ in copied) == [
        (b"k3", b"3"),
        (b"k4", b"4"),
        (b"k5", b"5"),
    ]
    for _, _, headers in copied:
        assert [name for name, _ in headers] == [HEADER], "each copy names where it came from"


def test_paicha_replay_of_a_missing_topic_says_so(
    kafka_bootstrap: str, topic_suffix: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PAICHA_KAFKA_BOOTSTRAP_SERVERS", kafka_bootstrap)
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(
        app, ["replay", f"missing-{topic_suffix}", "--from", "2021-12-01T00:00:00+08:00"]
    )
    assert result.exit_code == 2 and "no topic" in result.output


def test_http_ingestion_in_production_publishes_to_the_prefixed_kafka_topic(
    kafka_bootstrap: str, topic_suffix: str
) -> None:
    from services.tracking.intake import KafkaFeedSink

    prefix = f"h{topic_suffix}-"
    sink = KafkaFeedSink(bootstrap_servers=kafka_bootstrap, topic_prefix=prefix)
    try:
        sink.publish("persons", [(b"p1", b'{"person_id":"p1","residence_code":"140105001001"}')])
    finally:
        sink.close()
    assert [key for key, _, _ in read_all(kafka_bootstrap, prefix + "persons", 1)] == [b"p1"]
