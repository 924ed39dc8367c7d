"""Re-reading a Kafka topic from a moment: what ``paicha replay`` does.

For every partition of the source topic, the first offset whose record timestamp is at or after
``since`` (Kafka's ``offsets_for_times``) up to the end as it stood when the replay began; each
record is published again, same key, value and headers, plus a ``paicha-replayed-from`` header
naming where it came from. The target defaults to the source topic itself: the records go to the
end of the log, and every consumer group (the stream workers, the tracking service) processes
them again. Replaying is safe because every effect is idempotent: a re-sent event_id changes
nothing, and a task version the tracking service has recorded is skipped. Uses: a tracking
database restored from a backup (replay ``screening-tasks`` from before the backup), a worker
state lost, or copying a window of a feed to another system's prefix (``--to``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from paicha.errors import PaichaError

HEADER = "paicha-replayed-from"


class ReplayError(PaichaError):
    """The replay cannot run: the reason says why."""


@dataclass(slots=True)
class ReplayReport:
    """Records republished, by source partition."""

    copied: dict[int, int] = field(default_factory=dict)
    planned: int = 0

    @property
    def total(self) -> int:
        return sum(self.copied.values())


def replay(
    bootstrap_servers: str,
    source: str,
    since: datetime,
    *,
    target: str | None = None,
    on_plan: Callable[[int], None] = lambda total: None,
    on_record: Callable[[], None] = lambda: None,
    poll_timeout_ms: int = 1000,
) -> ReplayReport:
    """Republish ``source`` from ``since`` (aware) to ``target`` (default: ``source``)."""
    from kafka import KafkaConsumer, KafkaProducer, TopicPartition

    if since.tzinfo is None:
        raise ReplayError("the start time needs a UTC offset, e.g. 2021-12-03T08:00:00+08:00")
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap_servers,
        enable_auto_commit=False,
        group_id=None,
        allow_auto_create_topics=False,  # a mistyped topic is an error, not a new topic
        isolation_level="read_committed",  # dead letters: only what a worker's checkpoint kept
    )
    producer = KafkaProducer(bootstrap_servers=bootstrap_servers, linger_ms=20)
    report = ReplayReport()
    try:
        numbers = consumer.partitions_for_topic(source)
        if not numbers:
            raise ReplayError(f"no topic {source!r} on {bootstrap_servers}")
        partitions = [TopicPartition(source, number) for number in sorted(numbers)]
        consumer.assign(partitions)
        ends = consumer.end_offsets(partitions)
        moment = int(since.timestamp() * 1000)
        found = consumer.offsets_for_times(dict.fromkeys(partitions, moment))
        starts = {tp: ends[tp] if found[tp] is None else found[tp].offset for tp in partitions}
        report.planned = sum(ends[tp] - starts[tp] for tp in partitions)
        on_plan(report.planned)
        for tp in partitions:
            consumer.seek(tp, starts[tp])
            report.copied[tp.partition] = 0
        pending = {tp for tp in partitions if starts[tp] < ends[tp]}
        while pending:
            polled = consumer.poll(timeout_ms=poll_timeout_ms)
            for tp, records in polled.items():
                for record in records:
                    if tp not in pending or record.offset >= ends[tp]:
                        pending.discard(tp)
                        break
                    origin = f"{source}:{tp.partition}:{record.offset}".encode()
                    producer.send(
                        target or source,
                        key=record.key,
                        value=record.value,
                        headers=[*(record.headers or []), (HEADER, origin)],
                    )
                    report.copied[tp.partition] += 1
                    on_record()
                    if record.offset + 1 >= ends[tp]:
                        pending.discard(tp)
        producer.flush(timeout=120)
    finally:
        producer.close()
        consumer.close()
    return report
