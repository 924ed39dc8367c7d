"""What the benchmark prints (Rich tables) and writes (JSON): every figure beside its baseline,
with the ratio and the target, and how it was measured."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from rich.table import Table

from bench.companions import Comparison


@dataclass(frozen=True, slots=True, kw_only=True)
class Row:
    """One line of the summary: a paicha figure, its baseline, and the target it is held to.

    ``ratio`` is always "how many times better paicha is": paicha / baseline for a rate,
    baseline / paicha for a duration (``higher_is_better=False``).
    """

    measure: str
    how: str
    paicha: float | None
    baseline: float | None
    unit: str
    target: str
    met: bool | None
    higher_is_better: bool = True

    @property
    def ratio(self) -> float | None:
        if not self.paicha or not self.baseline:
            return None
        return self.paicha / self.baseline if self.higher_is_better else self.baseline / self.paicha

    def as_json(self) -> dict[str, Any]:
        return {
            "measure": self.measure,
            "how": self.how,
            "paicha": self.paicha,
            "baseline": self.baseline,
            "unit": self.unit,
            "ratio": self.ratio,
            "target": self.target,
            "met": self.met,
        }


def figure(value: float | None, unit: str) -> str:
    """A number as the tables show it: rates with thousands separators, durations in ms."""
    if value is None:
        return "—"
    if unit == "ms":
        return f"{value:,.1f} ms" if value < 1000 else f"{value / 1000:,.2f} s"
    if unit == "s":
        return f"{value:,.2f} s"
    if unit == "":
        return f"{value:,.0f}"
    return f"{value:,.0f} {unit}"


def verdict(met: bool | None) -> str:
    if met is None:
        return "n/a"
    return "[green]yes[/]" if met else "[bold red]no[/]"


def summary_table(
    rows: Iterable[Row],
    checks: Iterable[Comparison] = (),
    *,
    title: str = "paicha bench: summary",
) -> Table:
    table = Table(title=title, title_justify="left", show_lines=True)
    for name, justify in (
        ("measure", "left"),
        ("paicha", "right"),
        ("baseline", "right"),
        ("ratio", "right"),
        ("target", "left"),
        ("met?", "center"),
    ):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for row in rows:
        ratio = "—" if row.ratio is None else f"{row.ratio:,.2f}×"
        table.add_row(
            f"{row.measure}\n[dim]{row.how}[/]",
            figure(row.paicha, row.unit),
            figure(row.baseline, row.unit),
            ratio,
            row.target,
            verdict(row.met),
        )
    for check in checks:
        table.add_row(
            f"{check.name}\n[dim]{check.left} vs {check.right}, exact set equality[/]",
            f"{check.left_count:,}",
            f"{check.right_count:,}",
            "—",
            "identical",
            verdict(check.identical),
        )
    return table


def facts_table(title: str, facts: Iterable[tuple[str, str]]) -> Table:
    """Two columns, name and value: the machine, the city."""
    table = Table(title=title, title_justify="left", show_header=False)
    table.add_column(style="bold")
    table.add_column()
    for name, value in facts:
        table.add_row(name, value)
    return table


def side_by_side(title: str, rows: Iterable[tuple[str, str, str]], note: str = "") -> Table:
    """A detail table: what | paicha | baseline, in the same run."""
    table = Table(title=title, title_justify="left", caption=note or None, caption_justify="left")
    table.add_column("")
    table.add_column("paicha", justify="right")
    table.add_column("baseline", justify="right")
    for row in rows:
        table.add_row(*row)
    return table


def write_json(path: Path, document: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(orjson.dumps(document, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE))
