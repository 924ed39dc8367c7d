"""``paicha users ...``: users, roles, tokens, and the jurisdictions they are filed under.

The operator at this command line acts with the database's authority (no token needed; the audit
log records the actor as null). The database is the tracking service's (``PAICHA_DATABASE_URL``),
migrated first so these commands work on a fresh one.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from paicha.errors import PaichaError

if TYPE_CHECKING:  # SQLAlchemy costs a quarter second to import: every command would pay it
    from sqlalchemy.orm import Session

app = typer.Typer(
    help="Tracking-service users (tracer, supervisor, admin, feed), their tokens, and the "
    "jurisdictions and teams they belong to.",
    no_args_is_help=True,
)


@contextmanager
def _session() -> Iterator[Session]:
    from paicha.settings import load_settings
    from services.tracking.db.migrate import upgrade
    from services.tracking.db.session import Database

    settings = load_settings()
    upgrade(settings.database_url)
    database = Database(url=settings.database_url)
    try:
        with database.transaction() as session:
            yield session
    except PaichaError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(2) from None
    finally:
        database.dispose()


def _now() -> datetime:
    return datetime.now(UTC)


@app.command("jurisdictions")
def load_jurisdictions(
    file: Annotated[Path, typer.Argument(help="jurisdictions.json (paicha simulate writes one)")],
) -> None:
    """Load (merge) the jurisdiction tree and its teams from a JSON file."""
    from services.tracking import jurisdictions

    document = json.loads(file.read_text(encoding="utf-8"))
    with _session() as session:
        counts = jurisdictions.load(session, document, actor=None, now=_now())
    typer.echo(", ".join(f"{count} {what}" for what, count in counts.items()))


@app.command("add")
def add(
    user_id: Annotated[str, typer.Argument(help="login name, e.g. zhang.wei")],
    role: Annotated[str, typer.Option(help="tracer, supervisor, admin or feed")],
    jurisdiction: Annotated[
        str | None, typer.Option(help="code of the jurisdiction (default: the team's)")
    ] = None,
    team: Annotated[str | None, typer.Option(help="team id; required for a tracer")] = None,
    name: Annotated[str | None, typer.Option(help="display name")] = None,
    token: Annotated[bool, typer.Option(help="also issue a token and print it")] = True,
) -> None:
    """Add a user (and print a first bearer token)."""
    from services.tracking import users

    with _session() as session:
        user = users.add_user(
            session,
            user_id=user_id,
            role=role,
            jurisdiction=jurisdiction,
            team_id=team,
            name=name,
            actor=None,
            now=_now(),
        )
        secret = users.issue_token(session, user_id, label="cli", actor=None, now=_now())
    typer.echo(f"added {user['user_id']} ({user['role']}, {user['jurisdiction']})")
    if token:
        typer.echo(secret)


@app.command("token")
def token(
    user_id: str, label: Annotated[str | None, typer.Option(help="what it is for")] = None
) -> None:
    """Issue another bearer token for a user; printed once, stored only as a hash."""
    from services.tracking import users

    with _session() as session:
        secret = users.issue_token(session, user_id, label=label, actor=None, now=_now())
    typer.echo(secret)


@app.command("revoke")
def revoke(user_id: str) -> None:
    """Revoke a user and every token they hold."""
    from services.tracking import users

    with _session() as session:
        users.revoke_user(session, user_id, actor=None, now=_now())
    typer.echo(f"revoked {user_id}")


@app.command("list")
def list_users() -> None:
    """List users with role, team, jurisdiction and whether revoked."""
    from services.tracking import users

    with _session() as session:
        rows = users.list_users(session, actor=None)
    table = Table("user", "role", "team", "jurisdiction", "revoked")
    for row in rows:
        revoked = row["revoked_at"].isoformat() if row["revoked_at"] else ""
        table.add_row(
            row["user_id"], row["role"], row["team_id"] or "", row["jurisdiction"], revoked
        )
    Console().print(table)
