"""co_located exposures (时空伴随) as plain comparable tuples, from every side that finds them.

paicha writes them as evidence items of tasks (``paicha.task_records``), the engine keeps them as
``Evidence``, and SQL returns rows; all three become ``(person_id, case_id, cell, overlap_start,
overlap_end)`` with the cell in hex and times in integer microseconds, so that "identical" means
equal sets and nothing looser.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import h3.api.basic_int as h3int
import orjson

from paicha.matching.model import Task
from paicha.matching.timeutil import to_micros

Companion = tuple[str, str, str, int, int]
"""``(person_id, case_id, cell hex, overlap_start, overlap_end)``, times in microseconds."""


def from_tasks(tasks: Iterable[Task], case_id: str | None = None) -> set[Companion]:
    """The co_located evidence of open tasks (of one case only, when ``case_id`` is given)."""
    return {
        (t.person_id, e.source_id, e.place, e.overlap_start, e.overlap_end)
        for t in tasks
        if t.status == "open"
        for e in t.evidence
        if e.kind == "co_located" and (case_id is None or e.source_id == case_id)
    }


def from_task_lines(path: Path) -> set[Companion]:
    """The co_located evidence in ``paicha match`` output (one task record per line)."""
    found: set[Companion] = set()
    with path.open("rb") as lines:
        for line in lines:
            if not line.strip():
                continue
            task: dict[str, Any] = orjson.loads(line)
            if task["status"] != "open":
                continue
            for item in task["evidence"]:
                if item["kind"] == "co_located":
                    found.add(
                        (
                            task["person_id"],
                            item["case_id"],
                            item["cell"],
                            _micros(item["overlap_start"]),
                            _micros(item["overlap_end"]),
                        )
                    )
    return found


def from_rows(rows: Iterable[tuple[str, str, int, int, int]]) -> set[Companion]:
    """SQL rows ``(person_id, case_id, cell as bigint, start, end)``."""
    return {(p, c, h3int.int_to_str(cell), lo, hi) for p, c, cell, lo, hi in rows}


def _micros(text: str) -> int:
    return to_micros(datetime.fromisoformat(text))


@dataclass(frozen=True, slots=True)
class Comparison:
    """Two sets that should be equal, and how they differ when they are not."""

    name: str
    left: str
    right: str
    left_count: int
    right_count: int
    only_left: tuple[Companion, ...]
    only_right: tuple[Companion, ...]

    @property
    def identical(self) -> bool:
        return not self.only_left and not self.only_right

    def summary(self) -> str:
        verdict = "yes" if self.identical else "NO"
        text = f"identical: {verdict} ({self.left} {self.left_count:,}, {self.right} "
        text += f"{self.right_count:,})"
        if not self.identical:
            text += f"; only {self.left}: {len(self.only_left):,}, "
            text += f"only {self.right}: {len(self.only_right):,}"
        return text

    def as_json(self, shown: int = 20) -> dict[str, Any]:
        return {
            "name": self.name,
            "identical": self.identical,
            self.left: self.left_count,
            self.right: self.right_count,
            f"only_{self.left}": [list(c) for c in sorted(self.only_left)[:shown]],
            f"only_{self.right}": [list(c) for c in sorted(self.only_right)[:shown]],
        }


def compare(name: str, left: str, a: set[Companion], right: str, b: set[Companion]) -> Comparison:
    """Compare two companion sets named ``left`` and ``right``."""
    return Comparison(name, left, right, len(a), len(b), tuple(sorted(a - b)), tuple(sorted(b - a)))
