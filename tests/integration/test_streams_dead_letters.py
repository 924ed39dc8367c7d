"""Bad records on a real broker: every one lands on ``dead-letters``, bytes intact, and the valid
records around them, on the same keys and partitions, still become their tasks."""

from __future__ import annotations

import asyncio
import base64
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from kafka import KafkaConsumer, KafkaProducer

from paicha.matching import stays
from paicha.settings import Settings
from streams.app import build_app
from streams.topics import TopicNames, ensure_topics

from .test_streams import expected_tasks, task_view

pytestmark = pytest.mark.integration

PARTITIONS = 4
UNLUCKY_LAT = 37.5  # a valid latitude whose processing the test makes fail


def ping(event_id: str, person_id: str, minute: int, lat: float = 37.8664) -> dict[str, Any]:
    return {
        "event_id": event_id,
        "person_id": person_id,
        "lat": lat,
        "lon": 112.5430,
        "observed_at": f"2021-12-01T10:{minute:02d}:00+08:00",
    }


def dumps(record: dict[str, Any]) -> bytes:
    return orjson.dumps(record)


# A case (C1) and a person (P1) in one cell for 15 minutes: a co_located task for P1; P2's stay
# in the case's city: a city_visit task for P2.
VALID_PERSONS = [
    {"person_id": "P1", "residence_code": "140109002001"},
    {"person_id": "P2", "residence_code": "110101001001"},
    {"person_id": "C1", "residence_code": "140109002001"},
]
VALID_CASE = {
    "event_id": "case-1",
    "case_id": "K1",
    "person_id": "C1",
    "classification": "confirmed",
    "reported_at": "2021-12-02T12:00:00+08:00",
    "city_code": "140100",
}
VALID_TRIP = {
    "event_id": "trip-1",
    "person_id": "P2",
    "city_code": "140100",
    "arrived_at": "2021-12-01T09:00:00+08:00",
    "departed_at": "2021-12-01T18:00:00+08:00",
}
CASE_PINGS = [ping(f"c-{m}", "C1", m) for m in range(0, 25, 5)]
PERSON_PINGS = [ping(f"p-{m}", "P1", m) for m in range(5, 35, 5)]

# What each bad record breaks, and the field its dead letter must name (None: the whole record).
MALFORMED: list[tuple[str, bytes | None, bytes, str | None]] = [
    ("trajectories", b"P1", b'{"event_id": "bad-1", not json', None),
    ("trajectories", b"P1", dumps({k: v for k, v in ping("bad-2", "P1", 7).items()
                                   if k != "person_id"}), "person_id"),
    ("trajectories", b"P1", dumps({**ping("bad-3", "P1", 8),
                                   "observed_at": "2021-12-01T10:08:00"}), "observed_at"),
    ("trajectories", b"P1", dumps({**ping("bad-4", "P1", 9), "lat": "37.8664"}), "lat"),
    ("trajectories", None, b"\xff\xfe not even text", None),
    ("persons", b"P1", dumps({"person_id": "P1", "name": "no residence"}), "residence_code"),
    ("cases", b"C1", dumps({**VALID_CASE, "event_id": "case-bad",
                            "classification": "suspected"}), "classification"),
    ("itineraries", b"P2", dumps({**VALID_TRIP, "event_id": "trip-bad",
                                  "departed_at": "2021-12-01T08:00:00+08:00"}), "departed_at"),
    ("risk-areas", b"A1", dumps({"event_id": "area-bad", "area_id": "A1"}), "name"),
    # Valid by the contract, but its processing raises: an unexpected failure, not bad input.
    ("trajectories", b"P1", dumps(ping("bad-5", "P1", 11, lat=UNLUCKY_LAT)), None),
]  # fmt: skip


def interleaved() -> list[tuple[str, bytes | None, bytes, str | None]]:
    """Valid and malformed records alternating on the same keys; valid ones carry no field."""
    valid: list[tuple[str, bytes | None, bytes, str | None]] = [
        *[("persons", p["person_id"].encode(), dumps(p), None) for p in VALID_PERSONS],
        ("cases", b"C1", dumps(VALID_CASE), None),
        ("itineraries", b"P2", dumps(VALID_TRIP), None),
        *[("trajectories", b"C1", dumps(p), None) for p in CASE_PINGS],
        *[("trajectories", b"P1", dumps(p), None) for p in PERSON_PINGS],
    ]
    records: list[tuple[str, bytes | None, bytes, str | None]] = []
    bad = iter(MALFORMED)
    for record in valid:
        records.append(record)
        records.extend(b for b in [next(bad, None)] if b is not None)
    records.extend(bad)
    return records


def write_valid_city(folder: Path) -> Path:
    """The valid records as feed files, for ``paicha match``."""
    feeds = {
        "persons": VALID_PERSONS,
        "cases": [VALID_CASE],
        "itineraries": [VALID_TRIP],
        "trajectories": CASE_PINGS + PERSON_PINGS,
    }
    folder.mkdir()
    for topic, records in feeds.items():
        (folder / f"{topic}.jsonl").write_bytes(b"".join(dumps(r) + b"\n" for r in records))
    return folder


@pytest.fixture
def unlucky_latitude_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the stay builder raise on one latitude: a bug's stand-in, to prove it is contained."""
    cell_of = stays.cell_of

    def failing(lat: float, lon: float, resolution: int) -> int:
        if lat == UNLUCKY_LAT:
            raise RuntimeError("a stand-in for a bug")
        return cell_of(lat, lon, resolution)

    monkeypatch.setattr(stays, "cell_of", failing)


def send_all(
    bootstrap: str, prefix: str, records: list[tuple[str, bytes | None, bytes, str | None]]
) -> list[tuple[str, int, int]]:
    """Send in order; each record's (topic, partition, offset) as the broker stored it."""
    producer = KafkaProducer(bootstrap_servers=bootstrap)
    try:
        futures = [producer.send(prefix + t, key=k, value=v) for t, k, v, _ in records]
        producer.flush(timeout=30)
        return [(m.topic, m.partition, m.offset) for m in (f.get(timeout=30) for f in futures)]
    finally:
        producer.close()


class Reader:
    """Everything on a few topics so far, from the start."""

    def __init__(self, bootstrap: str, *topics: str) -> None:
        self.consumer = KafkaConsumer(
            *topics,
            bootstrap_servers=bootstrap,
            auto_offset_reset="earliest",
            isolation_level="read_committed",
        )
        self.records: dict[str, list[Any]] = {topic: [] for topic in topics}

    def poll(self) -> dict[str, list[Any]]:
        for tp, batch in self.consumer.poll(timeout_ms=500).items():
            self.records[tp.topic].extend(batch)
        return self.records

    def close(self) -> None:
        self.consumer.close()


@pytest.fixture
def names(topic_suffix: str) -> TopicNames:
    return TopicNames(f"d{topic_suffix}-")


@pytest.fixture
def reader(kafka_bootstrap: str, names: TopicNames) -> Iterator[Reader]:
    ensure_topics(kafka_bootstrap, names, PARTITIONS)
    reader = Reader(kafka_bootstrap, names.dead_letters, names.screening_tasks)
    try:
        yield reader
    finally:
        reader.close()


@pytest.mark.usefixtures("unlucky_latitude_fails")
async def test_malformed_records_all_land_on_dead_letters_and_the_valid_ones_around_them_count(
    kafka_bootstrap: str, names: TopicNames, reader: Reader, tmp_path: Path
) -> None:
    expected = expected_tasks(write_valid_city(tmp_path / "valid"))
    assert {p: kind for p, (kind, _) in expected.items()} == {
        "P1": "co_located",
        "P2": "city_visit",
    }
    settings = Settings(
        kafka_bootstrap_servers=kafka_bootstrap,
        topic_prefix=names.prefix,
        partitions=PARTITIONS,
        state_store="memory",
        worker_batch=4,  # several batches, each mixing good and bad records
    )
    app = build_app(settings, datadir=tmp_path / "faust")
    await app.start()
    try:
        records = interleaved()
        where = await asyncio.to_thread(send_all, kafka_bootstrap, names.prefix, records)
        sent_bad = {
            place: (raw, key, field)
            for place, (_, key, raw, field) in zip(where, records, strict=True)
            if raw in {m[2] for m in MALFORMED}
        }
        assert len(sent_bad) == len(MALFORMED)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            seen = await asyncio.to_thread(reader.poll)
            letters, tasks = seen[names.dead_letters], seen[names.screening_tasks]
            latest = {r.key.decode(): orjson.loads(r.value) for r in tasks}
            got = {p: task_view(t) for p, t in latest.items() if t["status"] == "open"}
            if len(letters) >= len(sent_bad) and got == expected:
                break
    finally:
        await app.stop()

    assert got == expected
    by_place: dict[tuple[str, int, int], dict[str, Any]] = {}
    for record in letters:
        letter = orjson.loads(record.value)
        by_place[(letter["source_topic"], letter["partition"], letter["offset"])] = letter
    assert len(letters) == len(by_place) == len(sent_bad), "one letter per bad record, no more"
    assert set(by_place) == set(sent_bad)
    for place, (raw, key, field) in sent_bad.items():
        letter = by_place[place]
        assert letter["reason"], place
        assert letter["field"] == field, (place, letter)
        assert base64.b64decode(letter["original_base64"]) == raw, place
        assert base64.b64decode(letter["key_base64"] or "") == (key or b""), place
    unexpected = by_place[next(p for p, (raw, _, _) in sent_bad.items() if b"bad-5" in raw)]
    assert "processing failed: RuntimeError" in unexpected["reason"]
