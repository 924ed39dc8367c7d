"""Decoding a trajectories file in slices, in other processes: what ``paicha match --jobs`` uses.

Decoding a ping and computing its cell cost more than everything the engine then does with it,
and each line is independent of the others; so the file is cut into byte slices at line ends,
and each slice is decoded, its cells computed, and its pings grouped by person and cut into
stays (``person_pings.by_person``, on whole columns: ``person_columns``) in a process of its own.
The engine, which keeps the state, takes the slices in file order, at the cost of their stays
more than of their pings. Line numbers stay those of the whole file.
"""

from __future__ import annotations

import gc
import os
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import islice
from pathlib import Path

import numpy as np

from paicha.errors import FeedError
from paicha.feeds import UTF8_BOM, PingRow, decode_ping_columns, decode_ping_row
from paicha.matching.person_columns import Ints, PeopleColumns, cells_of, people_columns

SLICE_BYTES = 24 * 1024 * 1024
PIECE_BYTES = 128 * 1024  # parsed at a time within a slice: see _decode_in_pieces

_Columns = tuple[list[str], list[str], Ints, Ints]  # event ids, person ids, times, cells


@dataclass(slots=True)
class DecodedSlice:
    """One slice's pings by person (``person_pings.by_person``'s result as columns), how many of
    them it dropped as re-sent, its refusals (local line, field, reason), its line count and its
    size in bytes."""

    grouped: PeopleColumns
    resent: int
    rejects: list[tuple[int, str, str]]
    lines: int
    size: int

    @property
    def pings(self) -> int:
        return self.grouped.pings + self.resent


def cut(path: Path, slice_bytes: int = SLICE_BYTES) -> list[tuple[int, int]]:
    """Byte ranges of about ``slice_bytes`` each, every one ending just after a newline; the last
    few taper off, each half of what is left, down to a sixteenth of ``slice_bytes``.

    The engine takes a slice after the decoding processes are done with it, so when they finish
    the file it still has the slices in flight to take, on one core while the other waits: small
    last slices make that tail short.
    """
    size = path.stat().st_size
    smallest = max(slice_bytes // 16, 1)
    ranges: list[tuple[int, int]] = []
    with path.open("rb") as stream:
        start = 0
        while start < size:
            left = size - start
            step = slice_bytes if left >= 2 * slice_bytes else max(left // 2, smallest)
            stream.seek(min(start + step, size))
            stream.readline()  # on to the end of the line the cut fell in
            end = min(stream.tell(), size)
            ranges.append((start, end))
            start = end
    return ranges


@contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    """Without the cyclic garbage collector: a slice makes hundreds of thousands of objects (in
    the process that decodes it, and in the engine's that takes its pings) and no reference
    cycle, and the collector's passes over them cost a third of the time."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


def decode_slice(path: Path, start: int, end: int, resolution: int, max_gap: int) -> DecodedSlice:
    """Decode one slice; a refused line is kept with its reason, never dropped."""
    with cyclic_gc_paused():
        return _decode_slice(path, start, end, resolution, max_gap)


def _decode_slice(path: Path, start: int, end: int, resolution: int, max_gap: int) -> DecodedSlice:
    with path.open("rb") as stream:
        stream.seek(start)
        data = stream.read(end - start)
    if start == 0:
        data = data.removeprefix(UTF8_BOM)
    line_count = data.count(b"\n") + (bool(data) and not data.endswith(b"\n"))
    rejects: list[tuple[int, str, str]] = []
    columns = _decode_in_pieces(data, resolution)
    if columns is None:  # a line is refused: line by line, to name it and keep the others
        rows: list[PingRow] = []
        for number, line in enumerate(data.split(b"\n"), start=1):
            if not line.strip():
                continue
            try:
                rows.append(decode_ping_row(line))
            except FeedError as error:
                rejects.append((number, error.field, error.reason))
        ids, persons, lats, lons, times = (
            (list(c) for c in zip(*rows, strict=True)) if rows else ([], [], [], [], [])
        )
        columns = ids, persons, np.array(times, np.int64), cells_of(lats, lons, resolution)
    grouped, resent = people_columns(*columns, max_gap)
    return DecodedSlice(grouped, resent, rejects, line_count, end - start)


def _decode_in_pieces(data: bytes, resolution: int) -> _Columns | None:
    """Event ids, person ids, times and cells of every ping in ``data`` when each line is
    plainly valid (``feeds.decode_ping_columns``), else None.

    Parsed ``PIECE_BYTES`` at a time, the cells computed while the piece's coordinates are in the
    cache: the records of one piece are freed before the next is parsed, which reuses that memory.
    Whole 24 MB slices had the allocator hand it back to the system and fault it in again, slice
    after slice (a third more CPU in the decoding processes, most of it in the kernel).
    """
    event_ids: list[str] = []
    person_ids: list[str] = []
    times: list[Ints] = []
    cells: list[Ints] = []
    view = memoryview(data)
    start = 0
    while start < len(data):
        end = data.find(b"\n", start + PIECE_BYTES)
        end = len(data) if end < 0 else end + 1
        piece = decode_ping_columns(view[start:end])
        if piece is None:
            return None
        event_ids += piece.event_ids
        person_ids += piece.person_ids
        times.append(piece.times)
        cells.append(cells_of(piece.lats, piece.lons, resolution))
        start = end
    if not times:
        return event_ids, person_ids, np.empty(0, np.int64), np.empty(0, np.int64)
    return event_ids, person_ids, np.concatenate(times), np.concatenate(cells)


@contextmanager
def decoded_slices(
    path: Path, *, resolution: int, max_gap: int, jobs: int
) -> Iterator[Iterator[DecodedSlice]]:
    """The file's slices, decoded, in file order; ``jobs`` processes (1: this one, each slice as
    it is taken). The processes start on the first slices on entry, so the caller's work before
    it takes them (the small feed files) overlaps theirs."""
    ranges = cut(path, SLICE_BYTES)  # read now, not when cut was defined: tests make it small
    if jobs <= 1 or len(ranges) == 1:
        yield (decode_slice(path, start, end, resolution, max_gap) for start, end in ranges)
        return
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        pending = iter(ranges)

        def submit(count: int) -> Iterator[Future[DecodedSlice]]:
            for start, end in islice(pending, count):
                yield pool.submit(decode_slice, path, start, end, resolution, max_gap)

        # A bounded window of slices in flight, so a slow consumer holds a few slices in memory,
        # not the whole file.
        window: deque[Future[DecodedSlice]] = deque(submit(jobs + 1))

        def in_order() -> Iterator[DecodedSlice]:
            while window:
                piece = window.popleft().result()
                window.extend(submit(1))
                yield piece

        yield in_order()


def default_jobs() -> int:
    """One decoding process per core this process may use."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
