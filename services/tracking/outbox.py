"""Records the tracking service publishes, through a transactional outbox.

A handler calls ``enqueue`` inside its transaction; after the commit, ``relay`` hands pending rows
to a ``Publisher`` and stamps them. The Kafka publisher runs in production, ``MemoryPublisher`` in
tests (the public in-memory twin, as procrastinate ships one for its connector).

Why an outbox: a tracer's ``tested_positive`` and the ``cases`` record that gets the new case's
companions traced must both happen or neither; publishing inside the transaction could announce
a completion that then rolls back, and publishing after it could lose the case on a crash.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.tracking.db.models import OutboxRecord
from services.tracking.db.session import Database

log = logging.getLogger(__name__)


class Publisher(Protocol):
    """Where outbox records go: ``publish`` must not return before the record is durable."""

    def publish(self, topic: str, key: str | None, value: dict[str, Any]) -> None: ...


class MemoryPublisher:
    """Keeps what it is given, in order; for tests and the embedded runtime."""

    def __init__(self) -> None:
        self.records: list[tuple[str, str | None, dict[str, Any]]] = []
        self._lock = threading.Lock()

    def publish(self, topic: str, key: str | None, value: dict[str, Any]) -> None:
        with self._lock:
            self.records.append((topic, key, value))

    def on(self, topic: str) -> list[dict[str, Any]]:
        """The values published to ``topic``."""
        with self._lock:
            return [value for name, _, value in self.records if name == topic]


class KafkaPublisher:
    """Publishes with kafka-python (3.x: idempotent, ``acks=all``) and waits for the ack."""

    def __init__(self, *, bootstrap_servers: str, timeout_s: float = 30.0) -> None:
        from kafka import KafkaProducer

        self._timeout_s = timeout_s
        self._producer = KafkaProducer(bootstrap_servers=bootstrap_servers)

    def publish(self, topic: str, key: str | None, value: dict[str, Any]) -> None:
        future = self._producer.send(
            topic,
            key=None if key is None else key.encode(),
            value=json.dumps(value, ensure_ascii=False).encode(),
        )
        future.get(timeout=self._timeout_s)

    def close(self) -> None:
        self._producer.close()


def enqueue(
    session: Session, *, topic: str, key: str | None, value: dict[str, Any], now: datetime
) -> None:
    """Add a record to publish once the surrounding transaction commits."""
    session.add(OutboxRecord(topic=topic, key=key, payload=value, created_at=now))


def relay(
    database: Database, publisher: Publisher, *, clock: Callable[[], datetime], batch: int = 100
) -> int:
    """Publish pending outbox rows in order, stamping each; returns how many went out.

    Rows are locked with SKIP LOCKED, so several service instances relay without doubling up.
    A publish failure stops the batch: the row stays pending and the next relay retries it.
    """
    sent = 0
    while True:
        with database.transaction() as session:
            rows = list(
                session.scalars(
                    select(OutboxRecord)
                    .where(OutboxRecord.published_at.is_(None))
                    .order_by(OutboxRecord.id)
                    .limit(batch)
                    .with_for_update(skip_locked=True)
                )
            )
            for row in rows:
                publisher.publish(row.topic, row.key, row.payload)
                row.published_at = clock()
                sent += 1
        if len(rows) < batch:
            return sent
