"""``paicha run``: the embedded system (what ``make run`` starts)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console


def run(
    replay: Annotated[
        bool,
        typer.Option(
            "--replay",
            help="Feed the city again from its first line, though an earlier run fed it "
            "(every record is then a re-send: nothing changes).",
        ),
    ] = False,
    serve_only: Annotated[
        bool, typer.Option("--serve-only", help="Feed nothing; serve what is there.")
    ] = False,
) -> None:
    """The whole system in one process, no broker or database server (what make run starts).

    The stream processors run on an in-process bus, the tracking service on SQLite; a
    generated city is fed in with a progress bar; API and dashboard on localhost. Ctrl-C stops.

    State lives in PAICHA_DATABASE_URL (default
    var/paicha.sqlite3) and PAICHA_EMBEDDED_DIR (var/embedded), so the next run goes on from
    there. The city comes from PAICHA_DEMO_DIR (generated when missing: PAICHA_DEMO_PERSONS,
    PAICHA_DEMO_DAYS, PAICHA_DEMO_SEED), fed at PAICHA_FEED_RATE records a second.
    """
    from paicha.embedded.runner import Options, RunError
    from paicha.embedded.runner import run as run_embedded
    from paicha.settings import load_settings

    console = Console(soft_wrap=True)
    try:
        run_embedded(load_settings(), console, Options(replay=replay, feed=not serve_only))
    except RunError as error:
        console.print(f"[red]error:[/] {error}")
        raise typer.Exit(1) from None
