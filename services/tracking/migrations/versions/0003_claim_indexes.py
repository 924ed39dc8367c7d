"""Claim from an index of open tasks only, and find expired leases by their own index.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28

0002's queue index covered open and claimed rows together, so every claim walked past all the
claims taken before it (the benchmark showed claim time growing with the drained queue). Claimed
rows now leave the queue index; expired leases are found through an index on the live claims.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN = sa.text("status = 'open'")
CLAIMED = sa.text("status = 'claimed'")
QUEUE_STATUSES = sa.text("status IN ('open', 'claimed')")


def upgrade() -> None:
    op.drop_index("ix_screening_tasks_queue", table_name="screening_tasks")
    op.create_index(
        "ix_screening_tasks_open_queue",
        "screening_tasks",
        ["team", "due_at"],
        postgresql_where=OPEN,
        sqlite_where=OPEN,
    )
    op.create_index(
        "ix_screening_tasks_leases",
        "screening_tasks",
        ["lease_expires_at"],
        postgresql_where=CLAIMED,
        sqlite_where=CLAIMED,
    )


def downgrade() -> None:
    op.drop_index("ix_screening_tasks_leases", table_name="screening_tasks")
    op.drop_index("ix_screening_tasks_open_queue", table_name="screening_tasks")
    op.create_index(
        "ix_screening_tasks_queue",
        "screening_tasks",
        ["team", "due_at"],
        postgresql_where=QUEUE_STATUSES,
        sqlite_where=QUEUE_STATUSES,
    )
