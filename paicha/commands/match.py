"""``paicha match DIR``: offline what-if matching of feed files, one JSON line per task."""

from __future__ import annotations

import dataclasses
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path
from typing import Annotated

import orjson
import typer
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn
from rich.table import Table

from paicha.batch import Rejected, feed_files, run_match
from paicha.matching.model import Task
from paicha.matching.params import MatchParams
from paicha.matching.timeutil import DAY, HOUR, MINUTE, to_micros
from paicha.ping_slices import default_jobs
from paicha.task_records import task_record

SHOWN_REJECTS = 20


def match(
    input_dir: Annotated[
        Path,
        typer.Argument(
            help="Folder with {persons,trajectories,itineraries,cases,risk-areas}.jsonl; "
            "any may be missing."
        ),
    ],
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write tasks here instead of stdout.")
    ] = None,
    include_closed: Annotated[
        bool, typer.Option("--all", help="Also write closed and withdrawn tasks.")
    ] = False,
    detected_at: Annotated[
        str | None,
        typer.Option(help="Fix the detection clock (RFC 3339) for reproducible deadlines."),
    ] = None,
    errors: Annotated[
        Path | None, typer.Option(help="Write every rejected line here as JSON Lines.")
    ] = None,
    h3_resolution: Annotated[int, typer.Option(help="H3 grid resolution.")] = 8,
    max_gap_minutes: Annotated[float, typer.Option(help="Longest gap inside one stay.")] = 30,
    min_overlap_minutes: Annotated[
        float, typer.Option(help="Shortest co-location that makes a companion (时空伴随).")
    ] = 10,
    lookback_days: Annotated[float, typer.Option(help="A case's look-back window.")] = 14,
    retention_days: Annotated[float, typer.Option(help="Person data kept this long.")] = 21,
    neighbour_rings: Annotated[
        int, typer.Option(help="Also match case stays this many cells away (0: off).")
    ] = 0,
    min_cumulative_dwell_hours: Annotated[
        float | None,
        typer.Option(help="Also require this much dwell in the cell over the look-back (off)."),
    ] = None,
    deadline_co_located_hours: Annotated[float, typer.Option()] = 24,
    deadline_area_stay_hours: Annotated[float, typer.Option()] = 48,
    deadline_city_visit_hours: Annotated[float, typer.Option()] = 48,
    jobs: Annotated[
        int | None,
        typer.Option(help="Processes decoding pings (default: one per core; 1: none)."),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Match feed files offline and write one JSON line per screening task."""
    err = Console(stderr=True)
    try:
        params = MatchParams(
            h3_resolution=h3_resolution,
            max_gap=round(max_gap_minutes * MINUTE),
            min_overlap=round(min_overlap_minutes * MINUTE),
            lookback=round(lookback_days * DAY),
            retention=round(retention_days * DAY),
            neighbour_rings=neighbour_rings,
            min_cumulative_dwell=None
            if min_cumulative_dwell_hours is None
            else round(min_cumulative_dwell_hours * HOUR),
            deadline_co_located=round(deadline_co_located_hours * HOUR),
            deadline_area_stay=round(deadline_area_stay_hours * HOUR),
            deadline_city_visit=round(deadline_city_visit_hours * HOUR),
        )
    except ValueError as error:
        raise typer.BadParameter(str(error)) from error
    clock = _clock(detected_at)
    if not input_dir.is_dir():
        raise typer.BadParameter(f"{input_dir} is not a folder", param_hint="INPUT_DIR")
    total = sum(path.stat().st_size for _, path in feed_files(input_dir))
    rejects: list[Rejected] = []
    started = time.perf_counter()
    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        DownloadColumn(),
        TimeRemainingColumn(),
        console=err,
        disable=quiet or total < 5_000_000,
        transient=True,
    ) as progress:
        bar = progress.add_task("matching", total=total)
        run = run_match(
            input_dir,
            params=params,
            clock=clock,
            on_reject=rejects.append,
            on_progress=lambda n: progress.advance(bar, n),
            include_closed=include_closed,
            jobs=default_jobs() if jobs is None else max(1, jobs),
        )
    elapsed = time.perf_counter() - started
    _write_tasks(run.tasks.values(), output)
    if errors is not None:
        errors.write_bytes(b"".join(orjson.dumps(dataclasses.asdict(r)) + b"\n" for r in rejects))
    for rejected in rejects[:SHOWN_REJECTS]:
        err.print(f"[yellow]rejected[/] {rejected}", markup=True, highlight=False)
    if len(rejects) > SHOWN_REJECTS:
        more = len(rejects) - SHOWN_REJECTS
        err.print(f"[yellow]… and {more} more rejected lines[/] (--errors FILE lists them all)")
    if not quiet:
        err.print(_summary(run.accepted, run.rejected, run.tasks.values(), elapsed))
    for key in ("duplicates", "expired"):
        if run.engine_stats[key]:
            err.print(f"{run.engine_stats[key]} {key} records changed nothing")


def _clock(detected_at: str | None) -> Callable[[], int]:
    if detected_at is None:
        return lambda: to_micros(datetime.now().astimezone())
    try:
        fixed = to_micros(datetime.fromisoformat(detected_at))
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="--detected-at") from error
    return lambda: fixed


def _write_tasks(tasks: Iterable[Task], output: Path | None) -> None:
    ordered = sorted(tasks, key=lambda t: (t.due_at, t.person_id))
    lines = b"".join(orjson.dumps(task_record(t)) + b"\n" for t in ordered)
    if output is None:
        sys.stdout.buffer.write(lines)
        sys.stdout.buffer.flush()
    else:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_bytes(lines)


def _summary(
    accepted: Counter[str], rejected: Counter[str], tasks: Iterable[Task], elapsed: float
) -> Table:
    table = Table(title=f"paicha match ({elapsed:.1f} s)")
    table.add_column("feed")
    table.add_column("accepted", justify="right")
    table.add_column("rejected", justify="right")
    for topic in sorted(set(accepted) | set(rejected)):
        table.add_row(topic, str(accepted[topic]), str(rejected[topic]))
    kinds: dict[str, int] = {}
    for task in tasks:
        kinds[task.kind] = kinds.get(task.kind, 0) + 1
    table.add_section()
    for kind in ("co_located", "area_stay", "city_visit"):
        table.add_row(f"tasks: {kind}", str(kinds.get(kind, 0)), "")
    return table
