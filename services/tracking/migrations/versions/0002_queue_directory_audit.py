"""The queue's claim and routing columns, persons, history, notes, the directory, audit, outbox.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28

Runs unchanged on PostgreSQL and SQLite (batch mode there, which rebuilds the altered table).
History and audit log are append-only: triggers on both databases refuse UPDATE and DELETE.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
SERIAL = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
QUEUE_STATUSES = sa.text("status IN ('open', 'claimed')")
APPEND_ONLY = ("task_history", "audit_log")


def _time(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    with op.batch_alter_table("screening_tasks") as batch:
        for level in ("province", "city", "district", "street"):
            batch.add_column(sa.Column(f"{level}_code", sa.Text(), nullable=True))
        batch.add_column(_time("lease_expires_at", nullable=True))
        batch.add_column(sa.Column("round", sa.Integer(), nullable=False, server_default="1"))
        batch.add_column(_time("created_at", nullable=True))
        batch.add_column(_time("updated_at", nullable=True))
        for level in ("province", "city", "district", "street"):
            batch.create_index(f"ix_screening_tasks_{level}_code", [f"{level}_code"])
        batch.create_index(
            "ix_screening_tasks_queue",
            ["team", "due_at"],
            postgresql_where=QUEUE_STATUSES,
            sqlite_where=QUEUE_STATUSES,
        )
    _create_task_tables()
    _create_directory_tables()
    _create_log_tables()
    for table in APPEND_ONLY:
        _forbid_changes(table)


def _create_task_tables() -> None:
    op.create_table(
        "persons",
        sa.Column("person_id", sa.Text(), nullable=False),
        sa.Column("residence_code", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("phone", sa.Text(), nullable=True),
        _time("updated_at"),
        sa.PrimaryKeyConstraint("person_id", name=op.f("pk_persons")),
    )
    op.create_table(
        "task_history",
        sa.Column("id", SERIAL, autoincrement=True, nullable=False),
        sa.Column("task_id", sa.Text(), nullable=False),
        _time("at"),
        sa.Column("actor", sa.Text(), nullable=True),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("details", JSON, nullable=False),
        sa.ForeignKeyConstraint(
            ["task_id"],
            ["screening_tasks.task_id"],
            name=op.f("fk_task_history_task_id_screening_tasks"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_task_history")),
    )
    op.create_index(op.f("ix_task_history_task_id"), "task_history", ["task_id"])
    op.create_table(
        "task_notes",
        sa.Column("id", SERIAL, autoincrement=True, nullable=False),
        sa.Column("task_id", sa.Text(), nullable=False),
        sa.Column("author", sa.Text(), nullable=False),
        _time("at"),
        sa.Column("text", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["task_id"],
            ["screening_tasks.task_id"],
            name=op.f("fk_task_notes_task_id_screening_tasks"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_task_notes")),
    )
    op.create_index(op.f("ix_task_notes_task_id"), "task_notes", ["task_id"])


def _create_directory_tables() -> None:
    op.create_table(
        "jurisdictions",
        sa.Column("code", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("level", sa.Text(), nullable=False),
        sa.Column("parent_code", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["parent_code"],
            ["jurisdictions.code"],
            name=op.f("fk_jurisdictions_parent_code_jurisdictions"),
        ),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_jurisdictions")),
    )
    op.create_index(op.f("ix_jurisdictions_parent_code"), "jurisdictions", ["parent_code"])
    op.create_table(
        "teams",
        sa.Column("team_id", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("jurisdiction", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["jurisdiction"],
            ["jurisdictions.code"],
            name=op.f("fk_teams_jurisdiction_jurisdictions"),
        ),
        sa.PrimaryKeyConstraint("team_id", name=op.f("pk_teams")),
    )
    op.create_index(op.f("ix_teams_jurisdiction"), "teams", ["jurisdiction"])
    op.create_table(
        "team_coverage",
        sa.Column("jurisdiction_code", sa.Text(), nullable=False),
        sa.Column("team_id", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["jurisdiction_code"],
            ["jurisdictions.code"],
            name=op.f("fk_team_coverage_jurisdiction_code_jurisdictions"),
        ),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.team_id"], name=op.f("fk_team_coverage_team_id_teams")
        ),
        sa.PrimaryKeyConstraint("jurisdiction_code", name=op.f("pk_team_coverage")),
    )
    op.create_index(op.f("ix_team_coverage_team_id"), "team_coverage", ["team_id"])
    op.create_table(
        "users",
        sa.Column("user_id", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("role", sa.Text(), nullable=False),
        sa.Column("team_id", sa.Text(), nullable=True),
        sa.Column("jurisdiction", sa.Text(), nullable=False),
        _time("created_at"),
        _time("revoked_at", nullable=True),
        sa.ForeignKeyConstraint(
            ["jurisdiction"],
            ["jurisdictions.code"],
            name=op.f("fk_users_jurisdiction_jurisdictions"),
        ),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.team_id"], name=op.f("fk_users_team_id_teams")
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_users")),
    )
    op.create_table(
        "api_tokens",
        sa.Column("token_hash", sa.Text(), nullable=False),
        sa.Column("user_id", sa.Text(), nullable=False),
        sa.Column("label", sa.Text(), nullable=True),
        _time("created_at"),
        _time("revoked_at", nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.user_id"], name=op.f("fk_api_tokens_user_id_users")
        ),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_api_tokens")),
    )
    op.create_index(op.f("ix_api_tokens_user_id"), "api_tokens", ["user_id"])


def _create_log_tables() -> None:
    op.create_table(
        "audit_log",
        sa.Column("id", SERIAL, autoincrement=True, nullable=False),
        _time("at"),
        sa.Column("actor", sa.Text(), nullable=True),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("target", sa.Text(), nullable=True),
        sa.Column("details", JSON, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    for column in ("at", "actor", "target"):
        op.create_index(op.f(f"ix_audit_log_{column}"), "audit_log", [column])
    op.create_table(
        "outbox",
        sa.Column("id", SERIAL, autoincrement=True, nullable=False),
        sa.Column("topic", sa.Text(), nullable=False),
        sa.Column("key", sa.Text(), nullable=True),
        sa.Column("payload", JSON, nullable=False),
        _time("created_at"),
        _time("published_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
    )
    op.create_index(op.f("ix_outbox_published_at"), "outbox", ["published_at"])


def _forbid_changes(table: str) -> None:
    """Append-only: a row once written is never updated or deleted (DROP TABLE still works)."""
    message = f"{table} is append-only"
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"CREATE FUNCTION {table}_append_only() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN RAISE EXCEPTION '{message}'; END $$"
        )
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION {table}_append_only()"
        )
        return
    for event in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER {table}_no_{event.lower()} BEFORE {event} ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{message}'); END"
        )


def downgrade() -> None:
    for table in ("outbox", "audit_log", "api_tokens", "users", "team_coverage", "teams"):
        op.drop_table(table)
    op.drop_table("jurisdictions")
    for table in ("task_notes", "task_history", "persons"):
        op.drop_table(table)
    if op.get_bind().dialect.name == "postgresql":
        for table in APPEND_ONLY:
            op.execute(f"DROP FUNCTION IF EXISTS {table}_append_only()")
    with op.batch_alter_table("screening_tasks") as batch:
        batch.drop_index("ix_screening_tasks_queue")
        for level in ("province", "city", "district", "street"):
            batch.drop_index(f"ix_screening_tasks_{level}_code")
        for column in ("updated_at", "created_at", "round", "lease_expires_at"):
            batch.drop_column(column)
        for level in ("street", "district", "city", "province"):
            batch.drop_column(f"{level}_code")
