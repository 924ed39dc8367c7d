"""The stream processors on a real broker give the tasks ``paicha match`` gives."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import orjson
import pytest
from kafka import KafkaConsumer

from paicha.batch import run_match
from paicha.ingest import produce_folder
from paicha.matching.params import MatchParams
from paicha.settings import Settings
from paicha.simulate.scenario import SimulationConfig, simulate_city
from streams.app import build_app
from streams.topics import TopicNames, ensure_topics
from tests.integration.kafka_tools import group_behind

pytestmark = pytest.mark.integration

PARTITIONS = 4


def task_view(task: dict[str, Any]) -> tuple[str, frozenset[str]]:
    """What must agree: the kind and the evidence, without the clock's stamps."""
    evidence = frozenset(
        orjson.dumps(
            {k: v for k, v in e.items() if k != "detected_at"}, option=orjson.OPT_SORT_KEYS
        ).decode()
        for e in task["evidence"]
    )
    return task["kind"], evidence


def expected_tasks(folder: Path) -> dict[str, tuple[str, frozenset[str]]]:
    from paicha.task_records import task_record

    run = run_match(folder, params=MatchParams(), clock=lambda: 0, on_reject=lambda r: None)
    return {pid: task_view(task_record(t)) for pid, t in run.tasks.items()}


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
