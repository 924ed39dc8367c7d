"""HTTP ingestion for feeds that cannot speak Kafka: a batch body in, keyed records out.

``parse_batch`` is pure: it splits a body (a JSON array, or JSON Lines) into records, validates
each with the same edge decoder every other door uses (``paicha.feeds``), and returns the valid
ones keyed as CONTRACTS.md says the feed keys them, with an error for each invalid one naming its
index, field and reason. Nothing is dropped without a word. A ``FeedSink`` then publishes the
valid ones: to Kafka in production (``KafkaFeedSink``), to the in-process bus under ``paicha run``.

    IntakeError          (a PaichaError)
    └── BatchTooLarge    over a limit: the route answers 413 naming the limit and its setting
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import orjson

from paicha.errors import FeedError, InvalidInput, PaichaError, Problem
from paicha.feeds import UTF8_BOM, decode
from paicha.ingest import KEY_FIELD, record_key

FEED_TOPICS: tuple[str, ...] = tuple(KEY_FIELD)


class IntakeError(PaichaError):
    """A batch the intake refuses as a whole."""


class BatchTooLarge(IntakeError):
    """The body or its record count is over its limit."""

    def __init__(self, what: str, size: int, limit: int, setting: str) -> None:
        self.limit, self.setting = limit, setting
        self.reason = (
            f"{what} is {size:,}, over the limit of {limit:,} ({setting}); "
            "send it in smaller batches"
        )
        super().__init__(self.reason)


@dataclass(frozen=True, slots=True)
class Limits:
    max_body_bytes: int
    max_records: int


@dataclass(frozen=True, slots=True)
class RecordError:
    """Why one record of a batch was refused. ``index``: its position in the array, or its line
    number minus one for JSON Lines."""

    index: int
    field: str | None
    reason: str
    problems: tuple[Problem, ...] = ()

    def as_json(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "field": self.field,
            "reason": self.reason,
            "problems": [{"field": p.field or None, "reason": p.reason} for p in self.problems],
        }


@dataclass(slots=True)
class Batch:
    """A parsed batch: the valid records as (key, value) and an error for each other one."""

    received: int = 0
    records: list[tuple[bytes, bytes]] = field(default_factory=list)
    errors: list[RecordError] = field(default_factory=list)


class FeedSink(Protocol):
    """Where accepted records go; ``publish`` returns only once they are durable there."""

    def publish(self, topic: str, records: list[tuple[bytes, bytes]]) -> None: ...


def body_too_large(size: int, limits: Limits) -> BatchTooLarge:
    return BatchTooLarge(
        "the body, in bytes,", size, limits.max_body_bytes, "PAICHA_INGEST_MAX_BODY_BYTES"
    )


def parse_batch(topic: str, body: bytes, limits: Limits) -> Batch:
    """Split and validate one body. ``InvalidInput`` when the body is no batch at all (not a
    JSON array nor JSON Lines, or empty), ``BatchTooLarge`` when over a limit."""
    if topic not in KEY_FIELD:
        raise InvalidInput([Problem("topic", f"must be one of {', '.join(FEED_TOPICS)}")])
    if len(body) > limits.max_body_bytes:
        raise body_too_large(len(body), limits)
    body = body.removeprefix(UTF8_BOM)
    items: list[tuple[int, Any]]
    if body.lstrip()[:1] == b"[":
        try:
            array = orjson.loads(body)
        except orjson.JSONDecodeError as error:
            raise InvalidInput([Problem("body", f"not a JSON array: {error}")]) from None
        items = list(enumerate(array))
    else:
        items = [(i, line.strip()) for i, line in enumerate(body.split(b"\n")) if line.strip()]
    if not items:
        raise InvalidInput([Problem("body", "no records: send a JSON array or JSON Lines")])
    if len(items) > limits.max_records:
        raise BatchTooLarge(
            "the number of records", len(items), limits.max_records, "PAICHA_INGEST_MAX_RECORDS"
        )
    batch = Batch(received=len(items))
    for index, raw in items:
        if isinstance(raw, bytes):
            value = raw
        elif isinstance(raw, dict):
            value = orjson.dumps(raw)
        else:
            batch.errors.append(RecordError(index, None, "a record is a JSON object"))
            continue
        try:
            record = decode(topic, raw)
        except FeedError as error:
            batch.errors.append(
                RecordError(index, error.field or None, error.reason, error.problems)
            )
            continue
        batch.records.append((record_key(topic, record), value))
    return batch


class KafkaFeedSink:
    """Publishes with kafka-python (``acks=all``) and returns once the broker has everything."""

    def __init__(self, *, bootstrap_servers: str, topic_prefix: str = "", timeout_s: float = 30):
        from kafka import KafkaProducer

        self._prefix = topic_prefix
        self._timeout_s = timeout_s
        self._producer = KafkaProducer(bootstrap_servers=bootstrap_servers, linger_ms=5)

    def publish(self, topic: str, records: list[tuple[bytes, bytes]]) -> None:
        futures = [
            self._producer.send(self._prefix + topic, key=key, value=value)
            for key, value in records
        ]
        self._producer.flush(timeout=self._timeout_s)
        for future in futures:
            future.get(timeout=self._timeout_s)

    def close(self) -> None:
        self._producer.close()


@dataclass(frozen=True, slots=True)
class FeedIntake:
    """What ``POST /ingest/{topic}`` needs: where accepted records go, and the limits."""

    sink: FeedSink
    limits: Limits
