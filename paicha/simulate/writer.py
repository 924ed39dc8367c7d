"""JSON Lines output, with the two ways a real feed misbehaves: records out of order
(``shuffle``) and records sent twice with the same ``event_id`` (``resend``).

Both are drawn from their own random streams, so a shuffled or re-sending run holds exactly the
records of a plain run with the same seed. Shuffling a file of millions of lines must not hold
them all in memory: past ``memory_lines`` the lines are dealt at random into bucket files, each
bucket is shuffled on its own and the buckets are concatenated, which is still a uniformly random
order. A file with ``ordered_by`` (risk-areas, by ``area_id``) is shuffled except that the records
of one key keep their order, because a later record for an area replaces the earlier one.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from random import Random
from typing import IO, Any

import orjson

_NEWLINE = orjson.OPT_APPEND_NEWLINE
_BUCKETS = 32


@dataclass(frozen=True, slots=True)
class FileSummary:
    """What was written to one file: lines (re-sends included), of which re-sends, and bytes."""

    name: str
    records: int
    resent: int
    size_bytes: int


class JsonlWriter:
    """Writes records to ``path`` as JSON Lines; call ``close`` to finish the file."""

    def __init__(
        self,
        path: Path,
        *,
        shuffle: Random | None = None,
        resend: float = 0.0,
        resend_rng: Random | None = None,
        ordered_by: str | None = None,
        memory_lines: int = 200_000,
    ) -> None:
        self.path = path
        self._shuffle = shuffle
        self._resend = resend
        self._resend_rng = resend_rng or Random(0)
        self._ordered_by = ordered_by
        self._memory_lines = memory_lines
        self._records = self._resent = 0
        self._file: IO[bytes] = path.open("wb")
        self._memory: list[bytes] = []
        self._buckets: list[IO[bytes]] = []
        self._late: IO[bytes] | None = None  # re-sends of an unshuffled file go last

    def write(self, record: dict[str, Any]) -> None:
        self.write_all((record,))

    def write_all(self, records: Iterable[dict[str, Any]]) -> None:
        lines = [orjson.dumps(record, option=_NEWLINE) for record in records]
        resent: list[bytes] = []
        if self._resend > 0:
            draw, fraction = self._resend_rng.random, self._resend
            if self._ordered_by is None:
                resent = [line for line in lines if draw() < fraction]
            else:  # a re-send right behind its original, so that key order still holds
                doubled: list[bytes] = []
                for line in lines:
                    doubled.append(line)
                    if draw() < fraction:
                        doubled.append(line)
                        self._resent += 1
                lines = doubled
        self._records += len(lines) + len(resent)
        self._resent += len(resent)
        if self._shuffle is None and self._ordered_by is None:
            self._file.write(b"".join(lines))
            if resent:
                self._late_file().write(b"".join(resent))
        else:
            self._keep(lines + resent)

    def close(self) -> FileSummary:
        """Shuffle what is held back, append late re-sends, and close every file."""
        if self._shuffle is not None and self._ordered_by is not None:
            self._memory = self._shuffle_keeping_key_order(self._memory, self._shuffle)
        elif self._shuffle is not None:
            self._shuffle.shuffle(self._memory)
        self._file.write(b"".join(self._memory))
        self._memory = []
        for bucket in self._buckets:
            assert self._shuffle is not None
            bucket.seek(0)
            lines = bucket.read().splitlines(keepends=True)
            self._shuffle.shuffle(lines)
            self._file.write(b"".join(lines))
            self._drop(bucket)
        if self._late is not None:
            self._late.seek(0)
            shutil.copyfileobj(self._late, self._file)
            self._drop(self._late)
        self._file.close()
        return FileSummary(self.path.name, self._records, self._resent, self.path.stat().st_size)

    def _keep(self, lines: list[bytes]) -> None:
        if self._buckets:
            self._deal(lines)
            return
        self._memory.extend(lines)
        if self._ordered_by is None and len(self._memory) > self._memory_lines:
            self._buckets = [self._temp(f"bucket{i}") for i in range(_BUCKETS)]
            self._deal(self._memory)
            self._memory = []

    def _deal(self, lines: list[bytes]) -> None:
        assert self._shuffle is not None
        randrange, buckets = self._shuffle.randrange, self._buckets
        for line in lines:
            buckets[randrange(_BUCKETS)].write(line)

    def _shuffle_keeping_key_order(self, lines: list[bytes], rng: Random) -> list[bytes]:
        """A random order in which the lines of each key still come in their original order."""
        assert self._ordered_by is not None
        keys = [orjson.loads(line)[self._ordered_by] for line in lines]
        by_key: dict[Any, list[bytes]] = {}
        for key, line in zip(keys, lines, strict=True):
            by_key.setdefault(key, []).append(line)
        rng.shuffle(keys)  # which key gets each position; its lines fill them in order
        queues = {key: iter(group) for key, group in by_key.items()}
        return [next(queues[key]) for key in keys]

    def _late_file(self) -> IO[bytes]:
        if self._late is None:
            self._late = self._temp("resend")
        return self._late

    def _temp(self, suffix: str) -> IO[bytes]:
        return self.path.with_name(f".{self.path.name}.{suffix}").open("w+b")

    @staticmethod
    def _drop(handle: IO[bytes]) -> None:
        handle.close()
        os.unlink(handle.name)


def write_json(path: Path, document: dict[str, Any]) -> FileSummary:
    """One JSON document (``jurisdictions.json``), indented for people to read."""
    path.write_bytes(orjson.dumps(document, option=orjson.OPT_INDENT_2 | _NEWLINE))
    return FileSummary(path.name, 1, 0, path.stat().st_size)
