"""``paicha schemas ...``: the JSON Schema files of every topic, generated from the models."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from schemas.export import JSON_DIR, stale, write

app = typer.Typer(
    help="The topic contracts: JSON Schema files generated from the pydantic models in schemas/.",
    no_args_is_help=True,
)


@app.command("export")
def export(
    out: Annotated[
        Path, typer.Option("--out", help="Folder to write <topic>.schema.json files into.")
    ] = JSON_DIR,
    check: Annotated[
        bool,
        typer.Option(
            "--check", help="Write nothing; exit 1 if any file is missing or out of date (for CI)."
        ),
    ] = False,
) -> None:
    """Write the JSON Schema of every topic (the files schemas/asyncapi.yaml refers to)."""
    if check:
        out_of_date = stale(out)
        for name in out_of_date:
            typer.echo(f"out of date: {out / name}", err=True)
        if out_of_date:
            typer.echo("run: paicha schemas export", err=True)
            raise typer.Exit(1)
        typer.echo(f"{out}: up to date")
        return
    changed = write(out)
    for path in changed:
        typer.echo(f"wrote {path}")
    if not changed:
        typer.echo(f"{out}: up to date")
