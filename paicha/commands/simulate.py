"""``paicha simulate OUT_DIR``: write a synthetic city's feed files for tests, demos, benchmarks."""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from paicha.simulate import SimulationConfig, SimulationError, simulate_city
from paicha.simulate.geography import CITIES, DEFAULT_HOME_CITY
from paicha.simulate.timefmt import DEFAULT_START


def simulate(
    out_dir: Annotated[
        Path,
        typer.Argument(
            help="Folder to write {persons,trajectories,itineraries,cases,risk-areas}.jsonl "
            "and jurisdictions.json into (created if missing; files are replaced)."
        ),
    ],
    persons: Annotated[
        int, typer.Option(help="People moving about the city (visitors included).")
    ] = 2000,
    days: Annotated[int, typer.Option(help="Days of pings to simulate.")] = 2,
    seed: Annotated[int, typer.Option(help="The same seed writes the same files.")] = 1,
    start: Annotated[
        str, typer.Option(help="First moment simulated, RFC 3339 with an offset.")
    ] = DEFAULT_START.isoformat(),
    ping_interval_minutes: Annotated[
        float, typer.Option(help="Typical time between two pings of a phone (jittered).")
    ] = 5.0,
    cases: Annotated[
        int, typer.Option(help="Cases; two thirds among the simulated people, the rest elsewhere.")
    ] = 6,
    areas: Annotated[
        int, typer.Option(help="Risk areas; half in the home city, half elsewhere (one lifted).")
    ] = 4,
    shuffle: Annotated[
        bool,
        typer.Option(
            "--shuffle",
            help="Write each file's records in random order (risk-areas keep their order per "
            "area_id).",
        ),
    ] = False,
    resend: Annotated[
        float,
        typer.Option(
            metavar="FRACTION", help="Send this fraction of records twice, same event_id."
        ),
    ] = 0.0,
    city: Annotated[
        str, typer.Option(help=f"Home city, one of {', '.join(CITIES)}.")
    ] = DEFAULT_HOME_CITY,
) -> None:
    """Write a synthetic city's feeds: pings, itineraries, cases, risk areas and persons."""
    err = Console(stderr=True)
    try:
        config = SimulationConfig(
            out_dir=out_dir,
            persons=persons,
            days=days,
            seed=seed,
            start=_parse_start(start),
            ping_interval_minutes=ping_interval_minutes,
            cases=cases,
            areas=areas,
            shuffle=shuffle,
            resend=resend,
            city_code=city,
        )
    except SimulationError as error:
        raise typer.BadParameter(error.reason, param_hint=f"--{error.field}") from error
    began = time.perf_counter()
    summaries = simulate_city(config)
    elapsed = time.perf_counter() - began

    table = Table(title=f"paicha simulate → {out_dir}")
    table.add_column("file")
    table.add_column("records", justify="right")
    table.add_column("re-sent", justify="right")
    table.add_column("size", justify="right")
    for summary in summaries:
        size = (
            f"{summary.size_bytes / 1e6:.1f} MB"
            if summary.size_bytes > 1e5
            else (f"{summary.size_bytes / 1e3:.1f} kB")
        )
        table.add_row(summary.name, f"{summary.records:,}", f"{summary.resent:,}", size)
    err.print(table)
    err.print(f"{persons:,} persons × {days} days, seed {seed}, in {elapsed:.1f} s")


def _parse_start(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as error:
        raise typer.BadParameter(f"not RFC 3339: {text!r}", param_hint="--start") from error
    if moment.tzinfo is None:
        raise typer.BadParameter("needs a UTC offset, e.g. +08:00", param_hint="--start")
    return moment
