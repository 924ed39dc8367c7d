"""Where records leave the bus, and the publishers that put records on it.

Leaving: ``screening-tasks`` and ``persons`` go to the tracking database through the same
handler the Kafka consumer calls (``services.tracking.ingest.apply_batch``: one transaction,
consumed-records key, dead letters through the outbox); ``dead-letters`` and any other topic
nothing in the process reads go to a JSON Lines file each.
Arriving: the outbox relay (a ``tested_positive`` outcome's ``cases`` record) and HTTP ingestion
publish through the runtime and wait for its checkpoint, as a Kafka producer waits for acks.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, cast

from sqlalchemy import select

from paicha.embedded.runtime import Runtime
from paicha.ingest import KEY_FIELD
from services.tracking.db.models import OutboxRecord
from services.tracking.db.session import Database
from services.tracking.ingest import Message, apply_batch
from streams.processors import Record

PUBLISH_TIMEOUT_S = 120.0


class TrackingSink:
    """``screening-tasks`` and ``persons`` into the tracking database."""

    def __init__(
        self, *, database: Database, clock: Callable[[], datetime], tasks_topic: str
    ) -> None:
        self.database, self.clock, self.tasks_topic = database, clock, tasks_topic

    def __call__(self, records: list[Record]) -> Counter[str]:
        # A bus record has every field a Kafka record has; frozen, hence the cast.
        messages = cast("list[Message]", records)
        return apply_batch(self.database, messages, now=self.clock(), tasks_topic=self.tasks_topic)


class TopicFile:
    """A topic that nothing in the process reads (dead letters; escalations, task events for
    outside consumers), appended to a JSON Lines file, one value per line, as the topic would
    hold them."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path

    def __call__(self, records: list[Record]) -> Counter[str]:
        with self.path.open("ab") as out:
            for record in records:
                out.write(record.value.rstrip(b"\n") + b"\n")
        return Counter(written=len(records))


class BusPublisher:
    """The outbox's publisher under ``paicha run``: a record is published once checkpointed."""

    def __init__(self, runtime: Runtime, *, prefix: str = "") -> None:
        self._runtime = runtime
        self._prefix = prefix

    def publish(self, topic: str, key: str | None, value: dict[str, Any]) -> None:
        body = json.dumps(value, ensure_ascii=False).encode()
        record = (self._prefix + topic, (key or "").encode(), body)
        self._runtime.submit([record], durable=True).result(timeout=PUBLISH_TIMEOUT_S)


class BusFeedSink:
    """HTTP ingestion's sink under ``paicha run``: returns once the records are checkpointed."""

    def __init__(self, runtime: Runtime, *, prefix: str = "") -> None:
        self._runtime = runtime
        self._prefix = prefix

    def publish(self, topic: str, records: list[tuple[bytes, bytes]]) -> None:
        if topic not in KEY_FIELD:
            raise ValueError(f"not a feed topic: {topic}")
        name = self._prefix + topic
        chunk = [(name, key, value) for key, value in records]
        self._runtime.submit(chunk, durable=True).result(timeout=PUBLISH_TIMEOUT_S)


class OutboxRelay:
    """The outbox relay under ``paicha run``: rows read in one transaction, each published with
    no transaction open, then stamped in another.

    Why not ``services.tracking.outbox.relay``: it publishes inside its transaction, which on
    SQLite holds the one write lock; the bus, processing the published record (a new case closes
    the person's open task), must write to the same database, and would wait on the relay while
    the relay waits on the bus. A crash between publishing and stamping publishes a row again,
    which its event_id makes harmless; the lock keeps this process's relays from doing so
    routinely (the background loop and each request's after-commit relay).
    """

    def __init__(
        self,
        *,
        database: Database,
        publisher: BusPublisher,
        clock: Callable[[], datetime],
        batch: int = 100,
    ) -> None:
        self.database, self.publisher, self.clock, self.batch = database, publisher, clock, batch
        self._lock = threading.Lock()

    def __call__(self) -> int:
        sent = 0
        with self._lock:
            while True:
                with self.database.transaction() as session:
                    rows = [
                        (row.id, row.topic, row.key, row.payload)
                        for row in session.scalars(
                            select(OutboxRecord)
                            .where(OutboxRecord.published_at.is_(None))
                            .order_by(OutboxRecord.id)
                            .limit(self.batch)
                        )
                    ]
                for row_id, topic, key, payload in rows:
                    self.publisher.publish(topic, key, payload)
                    with self.database.transaction() as session:
                        session.get_one(OutboxRecord, row_id).published_at = self.clock()
                    sent += 1
                if len(rows) < self.batch:
                    return sent
