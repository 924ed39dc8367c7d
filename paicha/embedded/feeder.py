"""A city's feed files onto the bus at a visible pace, resumable where it stopped.

The files are read in the order a new system would be filled (the person registry and the
hazards first, then movements; the result does not depend on it, rule 9) and validated at the
edge as ``paicha ingest`` does: a bad line is reported with its line number, field and reason,
and not sent. Chunks are cut at fixed record counts, and the position after each chunk is
checkpointed with the state it produced, so a restarted run goes on from there and feeds the
same chunks it would have fed.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path

from paicha.batch import FILE_ORDER
from paicha.embedded.runtime import Runtime
from paicha.errors import FeedError
from paicha.feeds import decode, feed_lines
from paicha.ingest import record_key
from streams.topics import TopicNames

CHUNK_RECORDS = 5_000
POSITION = "feed"
IN_FLIGHT = 2  # chunks queued ahead of the bus: enough to keep it busy, little to replay


@dataclass(slots=True)
class FeedReport:
    """What the feeder did: records sent and lines refused, per file."""

    sent: Counter[str] = field(default_factory=Counter)
    rejected: list[tuple[str, int, FeedError]] = field(default_factory=list)
    skipped_bytes: int = 0


def feed_files(folder: Path) -> list[tuple[str, Path]]:
    return [(t, folder / f"{t}.jsonl") for t in FILE_ORDER if (folder / f"{t}.jsonl").is_file()]


def total_bytes(folder: Path) -> int:
    return sum(path.stat().st_size for _, path in feed_files(folder))


def feed_city(
    runtime: Runtime,
    folder: Path,
    *,
    names: TopicNames,
    rate: float,
    on_progress: Callable[[str, int], None] = lambda topic, size: None,
    chunk_records: int = CHUNK_RECORDS,
) -> FeedReport:
    """Feed every file of ``folder`` not fed yet; ``rate`` records per second (0: no limit).

    ``on_progress(topic, bytes)`` is called as lines are read, skipped ones included."""
    report = FeedReport()
    done: dict[str, int] = dict(runtime.position(POSITION, {}).get(str(folder.resolve()), {}))
    started = time.monotonic()
    in_flight: list[Future[Counter[str]]] = []
    sent_total = 0

    def submit(topic: str, chunk: list[tuple[str, bytes, bytes]], line_no: int) -> None:
        nonlocal sent_total
        done[topic] = line_no
        position = {str(folder.resolve()): dict(done)}
        in_flight.append(runtime.submit(chunk, position=(POSITION, position)))
        while len(in_flight) > IN_FLIGHT:
            in_flight.pop(0).result()
        sent_total += len(chunk)
        if rate > 0:
            ahead = sent_total / rate - (time.monotonic() - started)
            if ahead > 0:
                time.sleep(ahead)

    for topic, path in feed_files(folder):
        already = done.get(topic, 0)
        chunk: list[tuple[str, bytes, bytes]] = []
        read = 0  # lines read, blank ones too: the position a resumed run goes on from

        def heard(size: int, topic: str = topic, already: int = already) -> None:
            nonlocal read
            read += 1
            on_progress(topic, size)
            if read <= already:
                report.skipped_bytes += size

        with path.open("rb") as lines:
            for line_no, line in feed_lines(lines, heard):
                if line_no <= already:
                    continue
                try:
                    record = decode(topic, line)
                except FeedError as error:
                    report.rejected.append((topic, line_no, error))
                    continue
                chunk.append((names.name(topic), record_key(topic, record), line))
                report.sent[topic] += 1
                if len(chunk) >= chunk_records:
                    submit(topic, chunk, line_no)
                    chunk = []
        if read > already:
            submit(topic, chunk, read)
    for future in in_flight:
        future.result()
    return report


def fed_completely(runtime: Runtime, folder: Path) -> bool:
    """Whether an earlier run fed every line of every file in ``folder``."""
    done = runtime.position(POSITION, {}).get(str(folder.resolve()), {})
    for topic, path in feed_files(folder):
        with path.open("rb") as lines:
            if sum(1 for _ in lines) > done.get(topic, 0):
                return False
    return True
