"""Decoding a trajectories file in slices, in other processes: what ``paicha match --jobs`` uses.

Decoding a ping and computing its cell cost more than everything the engine then does with it,
and each line is independent of the others; so the file is cut into byte slices at line ends,
each slice decoded (and its cells computed) in a process of its own, and the engine, which keeps
the state, takes the slices in file order. Line numbers stay those of the whole file.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from paicha.errors import FeedError
from paicha.feeds import UTF8_BOM, decode_ping_row, decode_ping_rows
from paicha.matching.stays import cell_of

SLICE_BYTES = 24 * 1024 * 1024

LocatedPing = tuple[str, str, int, int]  # event_id, person_id, observed_at, cell


@dataclass(slots=True)
class DecodedSlice:
    """One slice's pings with their cells, its refusals (local line, field, reason), its size."""

    pings: list[LocatedPing]
    rejects: list[tuple[int, str, str]]
    lines: int
    size: int


def cut(path: Path, slice_bytes: int = SLICE_BYTES) -> list[tuple[int, int]]:
    """Byte ranges of about ``slice_bytes`` each, every one ending just after a newline."""
    size = path.stat().st_size
    ranges: list[tuple[int, int]] = []
    with path.open("rb") as stream:
        start = 0
        while start < size:
            stream.seek(min(start + slice_bytes, size))
            stream.readline()  # on to the end of the line the cut fell in
            end = min(stream.tell(), size)
            ranges.append((start, end))
            start = end
    return ranges


def decode_slice(path: Path, start: int, end: int, resolution: int) -> DecodedSlice:
    """Decode one slice; a refused line is kept with its reason, never dropped."""
    with path.open("rb") as stream:
        stream.seek(start)
        data = stream.read(end - start)
    if start == 0:
        data = data.removeprefix(UTF8_BOM)
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()  # the slice ended with a newline: no line after it
    rows = decode_ping_rows(data)
    if rows is not None:  # every line valid: the whole slice in one pass
        located = [(e, p, t, cell_of(lat, lon, resolution)) for e, p, lat, lon, t in rows]
        return DecodedSlice(located, [], len(lines), end - start)
    pings: list[LocatedPing] = []
    rejects: list[tuple[int, str, str]] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            event_id, person_id, lat, lon, observed_at = decode_ping_row(line)
        except FeedError as error:
            rejects.append((number, error.field, error.reason))
            continue
        pings.append((event_id, person_id, observed_at, cell_of(lat, lon, resolution)))
    return DecodedSlice(pings, rejects, len(lines), end - start)


def decoded_slices(path: Path, *, resolution: int, jobs: int) -> Iterator[DecodedSlice]:
    """The file's slices, decoded, in file order; ``jobs`` processes (1: this one)."""
    ranges = cut(path)
    if jobs <= 1 or len(ranges) == 1:
        for start, end in ranges:
            yield decode_slice(path, start, end, resolution)
        return
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        # A bounded window of slices in flight, so a slow consumer holds a few slices in memory,
        # not the whole file.
        window: deque[Future[DecodedSlice]] = deque()
        pending = iter(ranges)
        for start, end in pending:
            window.append(pool.submit(decode_slice, path, start, end, resolution))
            if len(window) > jobs:
                yield window.popleft().result()
        while window:
            yield window.popleft().result()


def default_jobs() -> int:
    """One decoding process per core this process may use."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
