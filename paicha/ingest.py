"""Putting feed records on Kafka: what ``paicha ingest`` and the tests use to play a feed.

Each record is validated with the same decoder the processors use, so a feed learns of a bad
record at once (with its line, field and reason) rather than from the dead-letter topic; and it
is keyed as CONTRACTS.md says the feed keys it: by person, or by area for risk areas.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from paicha.errors import FeedError
from paicha.feeds import decode, feed_lines

if TYPE_CHECKING:  # kafka-python only where records are produced, not for the keys
    from kafka import KafkaProducer

KEY_FIELD = {
    "trajectories": "person_id",
    "itineraries": "person_id",
    "cases": "person_id",
    "persons": "person_id",
    "risk-areas": "area_id",
}


@dataclass(slots=True)
class IngestReport:
    """Accepted and rejected counts per topic, and the rejections themselves."""

    accepted: Counter[str] = field(default_factory=Counter)
    rejected: list[tuple[str, int, FeedError]] = field(default_factory=list)


def record_key(topic: str, record: object) -> bytes:
    """The Kafka key a feed sets on a record of ``topic``."""
    return str(getattr(record, KEY_FIELD[topic])).encode()


def produce_lines(
    producer: KafkaProducer,
    topic: str,
    lines: Iterable[bytes],
    *,
    topic_name: str | None = None,
    report: IngestReport,
    on_line: Callable[[int], None] | None = None,
) -> None:
    """Validate and send each line of one feed; ``topic_name`` when the topic is prefixed."""
    for line_no, line in feed_lines(lines, on_line):
        try:
            record = decode(topic, line)
        except FeedError as error:
            report.rejected.append((topic, line_no, error))
            continue
        producer.send(topic_name or topic, key=record_key(topic, record), value=line)
        report.accepted[topic] += 1


def produce_folder(
    bootstrap_servers: str, folder: Path, *, prefix: str = "", topics: Iterable[str] | None = None
) -> IngestReport:
    """Send every ``<topic>.jsonl`` in ``folder``; returns once the broker has all of them."""
    from kafka import KafkaProducer

    report = IngestReport()
    producer = KafkaProducer(bootstrap_servers=bootstrap_servers, linger_ms=20)
    try:
        for topic in topics or KEY_FIELD:
            path = folder / f"{topic}.jsonl"
            if path.is_file():
                with path.open("rb") as lines:
                    produce_lines(producer, topic, lines, topic_name=prefix + topic, report=report)
        producer.flush(timeout=120)
    finally:
        producer.close()
    return report
