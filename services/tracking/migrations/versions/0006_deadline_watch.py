"""The deadline watch's marks on a task: when it was found at risk, and when overdue.

Revision ID: 0006
Revises: 0004
Create Date: 2026-11-28

Each mark is set once, by a conditional UPDATE that only touches rows not yet marked, in the
transaction that also writes the history entry and the ``escalations`` outbox row: that is what
makes the watch safe across restarts and with several service instances. A partial index holds
the tasks still being worked and not yet overdue, which is all a sweep has to look at.

Portable operations only (add_column, create_index), so the same revision runs on PostgreSQL and
SQLite (batch mode there).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WATCHED = sa.text("status IN ('open', 'claimed') AND overdue_at IS NULL")


def upgrade() -> None:
    with op.batch_alter_table("screening_tasks") as batch:
        batch.add_column(sa.Column("at_risk_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("overdue_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index(
        "ix_screening_tasks_watched",
        "screening_tasks",
        ["due_at"],
        postgresql_where=WATCHED,
        sqlite_where=WATCHED,
    )


def downgrade() -> None:
    op.drop_index("ix_screening_tasks_watched", table_name="screening_tasks")
    with op.batch_alter_table("screening_tasks") as batch:
        batch.drop_column("overdue_at")
        batch.drop_column("at_risk_at")
