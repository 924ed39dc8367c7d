"""The stream processors on a real broker give the tasks ``paicha match`` gives."""

from __future__ import annotations

import asyncio
import pickle
import time
from pathlib import Path
from typing import Any

import orjson
import pytest
from kafka import KafkaConsumer, KafkaProducer

from bench.streams_runs import expected_tasks, task_view
from paicha.ingest import produce_folder
from paicha.matching import stays
from paicha.settings import Settings
from paicha.simulate.scenario import SimulationConfig, simulate_city
from streams.app import build_app
from streams.topics import TopicNames, ensure_topics
from tests.integration.kafka_tools import group_behind

pytestmark = pytest.mark.integration

PARTITIONS = 4


def open_tasks_on_topic(
    consumer: KafkaConsumer, latest: dict[str, dict[str, Any]]
) -> dict[str, tuple[str, frozenset[str]]]:
    for records in consumer.poll(timeout_ms=500).values():
        for record in records:
            latest[record.key.decode()] = orjson.loads(record.value)
    return {pid: task_view(t) for pid, t in latest.items() if t["status"] == "open"}


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("city")
    simulate_city(SimulationConfig(out_dir=folder, persons=150, days=1, seed=11))
    return folder


async def test_a_city_through_kafka_gives_the_tasks_of_paicha_match_and_commits_every_offset(
    kafka_bootstrap: str, topic_suffix: str, city: Path, tmp_path: Path
) -> None:
    expected = expected_tasks(city)
    assert expected, "the generated city must produce tasks"
    settings = Settings(
        kafka_bootstrap_servers=kafka_bootstrap,
        topic_prefix=f"t{topic_suffix}-",
        partitions=PARTITIONS,
        state_store="memory",
        worker_batch=500,
    )
    names = TopicNames(settings.topic_prefix)
    await asyncio.to_thread(ensure_topics, kafka_bootstrap, names, PARTITIONS)
    app = build_app(settings, datadir=tmp_path / "faust")
    await app.start()
    consumer = KafkaConsumer(
        names.screening_tasks,
        bootstrap_servers=kafka_bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        isolation_level="read_committed",
    )
    try:
        report = await asyncio.to_thread(
            produce_folder, kafka_bootstrap, city, prefix=settings.topic_prefix
        )
        assert not report.rejected
        latest: dict[str, dict[str, Any]] = {}
        got: dict[str, tuple[str, frozenset[str]]] = {}
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            got = await asyncio.to_thread(open_tasks_on_topic, consumer, latest)
            if got == expected:
                break
        # The workers commit their own offsets (a checkpoint about once a second): every
        # record of every topic they read is committed past, none left to read again.
        inputs = [names.trajectories, names.cases, names.itineraries, names.risk_areas,
                  names.persons, names.cell_events, names.city_events, names.exposures]  # fmt: skip
        group = f"{settings.topic_prefix}paicha-streams"
        behind: dict[str, int] = {}
        while time.monotonic() < deadline:
            behind = await asyncio.to_thread(group_behind, kafka_bootstrap, group, inputs)
            if not any(behind.values()):
                break
            await asyncio.sleep(0.5)
    finally:
        consumer.close()
        await app.stop()
    missing = set(expected) - set(got)
    extra = set(got) - set(expected)
    differ = {p for p in set(got) & set(expected) if got[p] != expected[p]}
    assert (missing, extra, differ) == (set(), set(), set())
    assert behind == dict.fromkeys(inputs, 0)


def latest_on(bootstrap: str, topic: str) -> dict[bytes, bytes]:
    """The newest value of each key on a topic, read from the start."""
    consumer = KafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        isolation_level="read_committed",
        consumer_timeout_ms=1500,
    )
    try:
        return {record.key: record.value for record in consumer}
    finally:
        consumer.close()


@pytest.mark.parametrize("store", ["memory", "rocksdb"])
async def test_a_person_gone_quiet_is_forgotten_in_the_changelog_after_retention(
    kafka_bootstrap: str, topic_suffix: str, tmp_path: Path, store: str
) -> None:
    """No record of p arrives after its first day; once the event time is 30 days on (q's ping),
    the worker's retention sweep writes p's track without its stays, so a recovering worker
    does not bring them back either (ARCHITECTURE: retention is bounded state, and privacy)."""
    settings = Settings(
        kafka_bootstrap_servers=kafka_bootstrap,
        topic_prefix=f"q{store}{topic_suffix}-",
        partitions=PARTITIONS,
        state_store=store,
    )
    names = TopicNames(settings.topic_prefix)
    await asyncio.to_thread(ensure_topics, kafka_bootstrap, names, PARTITIONS)
    app = build_app(settings, datadir=tmp_path / "faust")
    await app.start()
    changelog = app.tables["tracks"].changelog_topic.get_topic_name()
    producer = KafkaProducer(bootstrap_servers=kafka_bootstrap)

    def ping(event_id: str, person: str, at: str) -> None:
        body = {"event_id": event_id, "person_id": person, "lat": 37.87, "lon": 112.55}
        value = orjson.dumps(body | {"observed_at": at})
        producer.send(names.trajectories, key=person.encode(), value=value).get(timeout=30)

    async def track_of_p() -> stays.PersonTrack | None:
        saved = (await asyncio.to_thread(latest_on, kafka_bootstrap, changelog)).get(b"p")
        return None if saved is None else pickle.loads(saved)

    try:
        ping("p1", "p", "2021-12-01T08:00:00+08:00")
        ping("p2", "p", "2021-12-01T08:20:00+08:00")
        deadline = time.monotonic() + 120
        track = None
        while time.monotonic() < deadline and not (track and track.stays):
            track = await track_of_p()
        assert track is not None and track.stays, "p's track must reach the changelog first"

        ping("q1", "q", "2021-12-31T08:00:00+08:00")
        while time.monotonic() < deadline and track is not None and track.stays:
            track = await track_of_p()
    finally:
        producer.close()
        await app.stop()
    assert track is not None and track.stays == []
