"""The Kafka consumer of ``screening-tasks`` and ``persons``: decode, apply, commit, in that order.

At-least-once with idempotent effects (INFRA-NOTES.md): each polled batch is applied in one
database transaction that also records every consumed record; Kafka offsets are committed only
after that transaction commits. A crash in between re-delivers the batch, and the consumed-records
key makes the second delivery change nothing. A record that cannot be decoded or validated goes to
``dead-letters`` (through the outbox, in the same transaction) with the reason and its original
bytes; it never stops the partition.
"""

from __future__ import annotations

import base64
import logging
import threading
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any, Protocol

import orjson
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from schemas.feeds import PersonRecord
from schemas.tasks import ScreeningTask as TaskRecord
from services.tracking.db.models import TeamCoverage
from services.tracking.db.session import Database
from services.tracking.outbox import enqueue
from services.tracking.upstream import (
    Source,
    already_consumed,
    apply_person,
    apply_task,
    mark_consumed,
)

log = logging.getLogger(__name__)

TASKS_TOPIC = "screening-tasks"
PERSONS_TOPIC = "persons"
DEAD_LETTERS_TOPIC = "dead-letters"


class Message(Protocol):
    """What the consumer needs of a Kafka record (kafka-python's ConsumerRecord has it)."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None


def coverage_map(session: Session) -> dict[str, str]:
    """Jurisdiction code → the team covering it, for routing."""
    rows = session.execute(select(TeamCoverage.jurisdiction_code, TeamCoverage.team_id))
    return {code: team for code, team in rows}


def apply_batch(
    database: Database,
    messages: Iterable[Message],
    *,
    now: datetime,
    tasks_topic: str = TASKS_TOPIC,
) -> Counter[str]:
    """Apply a batch in one transaction; what happened to each record, counted."""
    counts: Counter[str] = Counter()
    with database.transaction() as session:
        coverage = coverage_map(session)
        for message in messages:
            with session.begin_nested():
                outcome = _apply_one(session, message, coverage, now, tasks_topic)
            counts[outcome] += 1
    return counts


def _apply_one(
    session: Session,
    message: Message,
    coverage: dict[str, str],
    now: datetime,
    tasks_topic: str,
) -> str:
    source = Source(message.topic, message.partition, message.offset)
    position = f"{message.partition}:{message.offset}"
    try:
        document = orjson.loads(message.value or b"")
        if message.topic == tasks_topic:
            action = apply_task(
                session,
                TaskRecord.model_validate(document),
                source=source,
                coverage=coverage,
                now=now,
            )
            return "duplicate" if action is None else action
        applied = apply_person(
            session,
            PersonRecord.model_validate(document),
            source=source,
            record_id=position,
            coverage=coverage,
            now=now,
        )
        return "person" if applied else "duplicate"
    except (orjson.JSONDecodeError, ValidationError) as error:
        problems = _problems(error)
    # Outside the except block: the nested transaction is still usable for the dead letter.
    if already_consumed(session, message.topic, position):
        return "duplicate"
    mark_consumed(session, source, position, now)
    enqueue(
        session,
        topic=DEAD_LETTERS_TOPIC,
        key=None,
        now=now,
        value=_dead_letter(message, problems, now),
    )
    return "dead_letter"


def _problems(error: Exception) -> list[dict[str, Any]]:
    if isinstance(error, ValidationError):
        return [
            {"field": ".".join(str(part) for part in item["loc"]) or None, "reason": item["msg"]}
            for item in error.errors()
        ]
    return [{"field": None, "reason": f"not JSON: {error}"}]


def _dead_letter(message: Message, problems: list[dict[str, Any]], now: datetime) -> dict[str, Any]:
    return {
        "reason": problems[0]["reason"],
        "field": problems[0]["field"],
        "problems": problems,
        "source_topic": message.topic,
        "partition": message.partition,
        "offset": message.offset,
        "key_base64": None if message.key is None else base64.b64encode(message.key).decode(),
        "original_base64": base64.b64encode(message.value or b"").decode(),
        "dead_lettered_at": now.isoformat(),
    }


class TrackingConsumer:
    """kafka-python 3.x consumer of the tracking service's input topics, manual commits."""

    def __init__(
        self,
        *,
        database: Database,
        bootstrap_servers: str,
        clock: Callable[[], datetime],
        group_id: str = "paicha-tracking",
        tasks_topic: str = TASKS_TOPIC,
        persons_topic: str = PERSONS_TOPIC,
        max_records: int = 500,
        after_commit: Callable[[], object] | None = None,
    ) -> None:
        from kafka import KafkaConsumer

        self._database, self._clock, self._after_commit = database, clock, after_commit
        self._tasks_topic = tasks_topic
        self._max_records = max_records
        self._consumer = KafkaConsumer(
            tasks_topic,
            persons_topic,
            bootstrap_servers=bootstrap_servers,
            group_id=group_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            # The stream workers write in transactions: a record is a task only once the
            # checkpoint that made it commits (streams/transaction.py).
            isolation_level="read_committed",
        )
        self.totals: Counter[str] = Counter()
        # Records behind the end of each assigned partition, as of the last poll (metrics read
        # it from another thread; the consumer itself is not thread-safe, a dict swap is).
        self.lag: dict[tuple[str, int], int] = {}

    def poll_once(self, timeout_ms: int = 1000) -> Counter[str]:
        """Poll, apply, commit the database, then commit the offsets. Raises on failure,
        after rewinding, so the same records come again."""
        polled = self._consumer.poll(timeout_ms=timeout_ms, max_records=self._max_records)
        messages = [message for batch in polled.values() for message in batch]
        self.lag = self._lag()
        if not messages:
            return Counter()
        try:
            counts = apply_batch(
                self._database, messages, now=self._clock(), tasks_topic=self._tasks_topic
            )
        except Exception:
            for partition, batch in polled.items():
                self._consumer.seek(partition, batch[0].offset)
            raise
        self._consumer.commit()
        self.totals.update(counts)
        if self._after_commit is not None:
            self._after_commit()
        return counts

    def _lag(self) -> dict[tuple[str, int], int]:
        """End offset minus position, for the partitions whose end the consumer has seen."""
        lag = {}
        for partition in self._consumer.assignment():
            end = self._consumer.highwater(partition)
            if end is not None:
                position = self._consumer.position(partition)
                lag[(partition.topic, partition.partition)] = max(0, end - position)
        return lag

    def run(self, stop: threading.Event, *, retry_s: float = 2.0) -> None:
        """Consume until ``stop`` is set; a failed batch is retried after ``retry_s``."""
        while not stop.is_set():
            try:
                self.poll_once()
            except Exception:
                log.exception("tracking ingestion: batch failed; retrying in %.0f s", retry_s)
                stop.wait(retry_s)

    def close(self) -> None:
        self._consumer.close()
