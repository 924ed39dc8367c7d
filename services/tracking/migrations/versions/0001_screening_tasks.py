"""Screening tasks and the consumed-records table for idempotent ingestion.

Revision ID: 0001
Revises:
Create Date: 2026-11-28

Written to run unchanged on PostgreSQL and SQLite: JSON is JSONB on PostgreSQL only, and times are
`timestamp with time zone` (SQLite stores them as text; the models read them back as UTC).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "screening_tasks",
        sa.Column("task_id", sa.Text(), nullable=False),
        sa.Column("person_id", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("detected_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("jurisdiction", sa.Text(), nullable=True),
        sa.Column("team", sa.Text(), nullable=True),
        sa.Column(
            "evidence",
            sa.JSON().with_variant(postgresql.JSONB(), "postgresql"),
            nullable=False,
        ),
        sa.Column("claimed_by", sa.Text(), nullable=True),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.Text(), nullable=True),
        sa.Column("close_reason", sa.Text(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("task_id", name=op.f("pk_screening_tasks")),
    )
    op.create_index(
        op.f("ix_screening_tasks_person_id"), "screening_tasks", ["person_id"], unique=False
    )
    op.create_index(
        op.f("ix_screening_tasks_jurisdiction_status_due_at"),
        "screening_tasks",
        ["jurisdiction", "status", "due_at"],
        unique=False,
    )
    op.create_table(
        "consumed_records",
        sa.Column("topic", sa.Text(), nullable=False),
        sa.Column("record_id", sa.Text(), nullable=False),
        sa.Column("kafka_partition", sa.Integer(), nullable=True),
        sa.Column("kafka_offset", sa.BigInteger(), nullable=True),
        sa.Column("consumed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("topic", "record_id", name=op.f("pk_consumed_records")),
    )


def downgrade() -> None:
    op.drop_table("consumed_records")
    op.drop_index(
        op.f("ix_screening_tasks_jurisdiction_status_due_at"), table_name="screening_tasks"
    )
    op.drop_index(op.f("ix_screening_tasks_person_id"), table_name="screening_tasks")
    op.drop_table("screening_tasks")
