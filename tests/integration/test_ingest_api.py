"""POST /ingest/{topic} on the tracking service (SQLite, as under paicha run): accepted records
reach the sink keyed, refused ones come back by index, field and reason, limits answer 413."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from services.tracking.api.app import create_app
from services.tracking.bootstrap import build_service
from services.tracking.db.models import AuditEntry
from services.tracking.intake import FeedIntake, Limits

from .test_tracking_world import World, build_world


class MemorySink:
    def __init__(self) -> None:
        self.published: list[tuple[str, bytes, bytes]] = []
        self.fail = False

    def publish(self, topic: str, records: list[tuple[bytes, bytes]]) -> None:
        if self.fail:
            raise ConnectionError("broker unreachable")
        self.published.extend((topic, key, value) for key, value in records)


class Ingest:
    def __init__(self, world: World, sink: MemorySink, client: TestClient) -> None:
        self.world, self.sink, self.client = world, sink, client

    def post(self, topic: str, body: bytes, user: str = "feed", **headers: str) -> Any:
        return self.client.post(
            f"/ingest/{topic}", content=body, headers={**self.world.headers(user), **headers}
        )


@pytest.fixture
def ingest(tmp_path: Path) -> Iterator[Ingest]:
    world = build_world(f"sqlite:///{tmp_path / 'tracking.sqlite3'}")
    sink = MemorySink()
    service = build_service(
        database=world.database,
        clock=world.clock,
        publisher=world.publisher,
        intake=FeedIntake(sink=sink, limits=Limits(max_body_bytes=20_000, max_records=5)),
    )
    client = TestClient(create_app(service))
    try:
        yield Ingest(world, sink, client)
    finally:
        client.close()
        world.client.close()
        world.database.dispose()


def ping(event_id: str, person: str = "p1", **fields: Any) -> dict[str, Any]:
    record = {
        "event_id": event_id,
        "person_id": person,
        "lat": 37.87,
        "lon": 112.55,
        "observed_at": "2021-12-01T08:00:00+08:00",
    }
    return {**record, **fields}


def test_a_valid_batch_is_published_keyed_and_counted(ingest: Ingest) -> None:
    answer = ingest.post("trajectories", orjson.dumps([ping("a", "p1"), ping("b", "p2")]))
    assert answer.status_code == 200
    assert answer.json() == {
        "topic": "trajectories",
        "received": 2,
        "accepted": 2,
        "rejected": 0,
        "errors": [],
    }
    assert [(t, k) for t, k, _ in ingest.sink.published] == [
        ("trajectories", b"p1"),
        ("trajectories", b"p2"),
    ]
    with ingest.world.database.transaction() as session:
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "ingest")).one()
    assert entry.actor == "feed" and entry.details["accepted"] == 2


def test_a_partly_bad_batch_publishes_the_good_records_and_names_each_bad_one(
    ingest: Ingest,
) -> None:
    lines = [ping("a"), ping("b", lat="north"), ping("c"), {"event_id": "d"}]
    answer = ingest.post("trajectories", b"\n".join(orjson.dumps(x) for x in lines))
    body = answer.json()
    assert answer.status_code == 200
    assert (body["accepted"], body["rejected"]) == (2, 2)
    assert [(e["index"], e["field"]) for e in body["errors"]] == [(1, "lat"), (3, "person_id")]
    assert all(e["reason"] for e in body["errors"])
    assert [orjson.loads(v)["event_id"] for _, _, v in ingest.sink.published] == ["a", "c"]


def test_a_batch_with_no_good_record_is_a_422_listing_them_all(ingest: Ingest) -> None:
    answer = ingest.post("persons", orjson.dumps([{"person_id": "p1"}]))
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["field"] == "residence_code"
    assert ingest.sink.published == []


def test_too_many_records_is_a_413_naming_the_limit_and_nothing_is_published(
    ingest: Ingest,
) -> None:
    answer = ingest.post("trajectories", orjson.dumps([ping(str(i)) for i in range(6)]))
    assert answer.status_code == 413
    assert answer.json()["setting"] == "PAICHA_INGEST_MAX_RECORDS"
    assert answer.json()["limit"] == 5 and "smaller batches" in answer.json()["reason"]
    assert ingest.sink.published == []


def test_a_body_over_the_byte_limit_is_a_413_even_without_a_declared_length(
    ingest: Ingest,
) -> None:
    declared = ingest.post("trajectories", b"x" * 20_001)
    chunked = ingest.client.post(
        "/ingest/trajectories",
        content=iter([b" " * 15_000, b" " * 15_000]),  # a generator: sent chunked
        headers=ingest.world.headers("feed"),
    )
    assert declared.status_code == 413 and chunked.status_code == 413
    assert declared.json()["setting"] == "PAICHA_INGEST_MAX_BODY_BYTES"


def test_only_a_feed_may_post_and_only_to_a_feed_topic(ingest: Ingest) -> None:
    tracer = ingest.post("trajectories", orjson.dumps([ping("a")]), user="tracer_a")
    nobody = ingest.client.post("/ingest/trajectories", content=orjson.dumps([ping("a")]))
    elsewhere = ingest.post("screening-tasks", orjson.dumps([ping("a")]))
    assert (tracer.status_code, nobody.status_code, elsewhere.status_code) == (403, 401, 404)
    assert "persons" in elsewhere.json()["reason"]
    assert ingest.sink.published == []


def test_a_body_that_is_no_batch_is_a_422_on_the_body(ingest: Ingest) -> None:
    answer = ingest.post("trajectories", b"[{")
    assert answer.status_code == 422 and answer.json()["field"] == "body"


def test_a_sink_that_fails_is_a_503_telling_to_send_again(ingest: Ingest) -> None:
    ingest.sink.fail = True
    answer = ingest.post("trajectories", orjson.dumps([ping("a")]))
    assert answer.status_code == 503 and "send the batch again" in answer.json()["reason"]


def test_without_a_sink_the_endpoint_answers_503(ingest: Ingest) -> None:
    answer = ingest.world.client.post(
        "/ingest/trajectories",
        content=orjson.dumps([ping("a")]),
        headers=ingest.world.headers("feed"),
    )
    assert answer.status_code == 503 and "KAFKA_BOOTSTRAP_SERVERS" in answer.json()["reason"]
