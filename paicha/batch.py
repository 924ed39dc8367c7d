"""Offline matching of a directory of JSON Lines feed files: the engine behind ``paicha match``.

Reads ``{persons,risk-areas,cases,itineraries,trajectories}.jsonl`` (any may be missing) in that
order, so that hazards are in place before the bulk of the pings; the result does not depend on
the order (rule 9), only the work does. A bad line is reported with its file, line number, field
and reason, counted, and skipped: never silently.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

from paicha.feeds import FeedError, decode, feed_lines
from paicha.matching.engine import Engine
from paicha.matching.model import Task
from paicha.matching.params import MatchParams
from paicha.ping_slices import DecodedSlice, cyclic_gc_paused, decoded_slices

FILE_ORDER = ("persons", "risk-areas", "cases", "itineraries", "trajectories")
NO_RETENTION = 2**61


@dataclass(frozen=True, slots=True)
class Rejected:
    """One bad input line and why."""

    file: str
    line: int
    field: str
    reason: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.field}: {self.reason}"


@dataclass(slots=True)
class MatchRun:
    """What a batch run produced and counted."""

    tasks: dict[str, Task]
    accepted: Counter[str] = field(default_factory=Counter)
    rejected: Counter[str] = field(default_factory=Counter)
    engine_stats: Counter[str] = field(default_factory=Counter)


def feed_files(input_dir: Path) -> Iterator[tuple[str, Path]]:
    """The feed files present in ``input_dir``, in reading order."""
    for topic in FILE_ORDER:
        path = input_dir / f"{topic}.jsonl"
        if path.is_file():
            yield topic, path


def run_match(
    input_dir: Path,
    *,
    params: MatchParams,
    clock: Callable[[], int],
    on_reject: Callable[[Rejected], None],
    on_progress: Callable[[int], None] | None = None,
    include_closed: bool = False,
    jobs: int = 1,
) -> MatchRun:
    """Match every feed file in ``input_dir``; ``on_progress`` gets bytes read as they go."""
    if not input_dir.is_dir():
        raise FileNotFoundError(f"not a directory: {input_dir}")
    # Retention is for live state: in a stream, data arrives roughly in time order, and since the
    # look-back is shorter than the retention, forgetting old data never loses a match. A batch
    # reads whole files, one feed after another, so "the newest event time seen" could run far
    # ahead of the pings still to come and drop them. Here nothing is dropped on arrival.
    engine = Engine(params=dataclasses.replace(params, retention=NO_RETENTION), clock=clock)
    run = MatchRun(tasks={})
    with ExitStack() as started:
        slices: Iterator[DecodedSlice] = iter(())
        pings = input_dir / "trajectories.jsonl"
        if pings.is_file():  # the decoding processes start now, on the first slices
            slices = started.enter_context(
                decoded_slices(
                    pings, resolution=params.h3_resolution, max_gap=params.max_gap, jobs=jobs
                )
            )
        for topic, path in feed_files(input_dir):
            if topic == "trajectories":
                _match_pings(engine, run, path, slices, on_reject, on_progress)
                continue
            for line_no, line in _lines(path, on_progress):
                try:
                    record = decode(topic, line)
                except FeedError as error:
                    run.rejected[topic] += 1
                    on_reject(Rejected(path.name, line_no, error.field, error.reason))
                    continue
                engine.submit(record)
                run.accepted[topic] += 1
            engine.flush()
    run.tasks = engine.all_tasks() if include_closed else engine.open_tasks()
    run.engine_stats = engine.stats
    return run


def _match_pings(
    engine: Engine,
    run: MatchRun,
    path: Path,
    slices: Iterator[DecodedSlice],
    on_reject: Callable[[Rejected], None],
    on_progress: Callable[[int], None] | None,
) -> None:
    """The bulk of the input: pings decoded and grouped into stays by person in slices (in other
    processes, ``ping_slices``), then through ``Engine.submit_person_pings`` slice by slice, in
    file order. The engine freezes what it keeps after each flush (``gc.freeze``), and the rest
    is freed by reference counts, so the cyclic collector has nothing to find here."""
    first_line = 0
    with cyclic_gc_paused():
        for piece in slices:
            for number, where, reason in piece.rejects:
                run.rejected["trajectories"] += 1
                on_reject(Rejected(path.name, first_line + number, where, reason))
            first_line += piece.lines
            run.accepted["trajectories"] += piece.pings
            engine.submit_person_pings(piece.grouped.people(), piece.resent)
            engine.flush()
            if on_progress is not None:
                on_progress(piece.size)


def _lines(path: Path, on_progress: Callable[[int], None] | None) -> Iterator[tuple[int, bytes]]:
    """Non-blank lines with their 1-based numbers, reporting bytes read every so often."""
    read = seen = 0

    def count(size: int) -> None:
        nonlocal read, seen
        read += size
        seen += 1
        if on_progress is not None and seen % 10_000 == 0:
            on_progress(read)
            read = 0

    with path.open("rb") as stream:
        yield from feed_lines(stream, count)
    if on_progress is not None:
        on_progress(read)
