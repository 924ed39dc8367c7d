"""The ``paicha`` command line: one Typer app, each subcommand from its module in ``commands/``.

Commands read settings (``paicha.settings.load_settings``) themselves when they need them, so
``paicha --help`` works in an empty environment and nothing is read at import time.
"""

from __future__ import annotations

import typer

from paicha.commands.ingest import ingest
from paicha.commands.match import match
from paicha.commands.replay import replay
from paicha.commands.run import run
from paicha.commands.schemas import app as schemas_app
from paicha.commands.serve import serve
from paicha.commands.simulate import simulate
from paicha.commands.users import app as users_app
from paicha.commands.worker import worker

app = typer.Typer(
    name="paicha",
    help="paicha (排查): contact-tracing backend that turns location, itinerary, case and "
    "risk-area feeds into screening tasks with deadlines.",
    no_args_is_help=True,
    add_completion=False,
)
app.command("run")(run)
app.command("simulate")(simulate)
app.command("match")(match)
app.add_typer(schemas_app, name="schemas")
app.command("serve")(serve)
app.add_typer(users_app, name="users")
app.command("worker")(worker)
app.command("ingest")(ingest)
app.command("replay")(replay)


def main() -> None:
    """The console script ``paicha`` (pyproject.toml)."""
    app()


if __name__ == "__main__":
    main()
