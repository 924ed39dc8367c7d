"""Bring a tracking-service database to the current schema with Alembic, from code.

Why a function and not only the `alembic` command: the service, the embedded runtime and the tests
all migrate on start, against PostgreSQL or SQLite, without an ini file or a working directory to
get right. The migrations live in `services/tracking/migrations/`.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, make_url

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(url: str | None = None, *, connection: Connection | None = None) -> Config:
    """An Alembic config for the tracking migrations, aimed at `url` or an open `connection`."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url is not None:
        # ConfigParser interpolates '%': a password with a '%' in it must survive.
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def upgrade(url: str | None = None, *, connection: Connection | None = None) -> None:
    """Apply every migration not yet applied (to `head`).

    Pass a `connection` instead of a URL to migrate inside it (the caller commits); that is how a
    SQLite in-memory database, which lives only as long as its connection, gets its tables.
    """
    if url is None and connection is None:
        raise ValueError("upgrade() needs a database url or a connection")
    if url is not None:
        _make_sqlite_folder(url)
    command.upgrade(alembic_config(url, connection=connection), "head")


def _make_sqlite_folder(url: str) -> None:
    """SQLite creates its file but not the folder (``var/`` on a fresh clone)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)


def downgrade(url: str, revision: str = "base") -> None:
    """Undo migrations down to `revision` (default: an empty database). For tests and rollbacks."""
    command.downgrade(alembic_config(url), revision)
