"""Expired leases found per team: the leases index leads with the team.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28

Claim-next looks for the team's most urgent expired claim beside its open head. On an index of
``lease_expires_at`` alone, it read every expired claim of every team to keep its own team's: a
team whose tracers stopped (expired claims pile up until someone claims again) would slow every
other team's claims. Leading with the team, the range is the caller's team's expired claims only.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CLAIMED = sa.text("status = 'claimed'")


def upgrade() -> None:
    op.drop_index("ix_screening_tasks_leases", table_name="screening_tasks")
    op.create_index(
        "ix_screening_tasks_leases",
        "screening_tasks",
        ["team", "lease_expires_at"],
        postgresql_where=CLAIMED,
        sqlite_where=CLAIMED,
    )


def downgrade() -> None:
    op.drop_index("ix_screening_tasks_leases", table_name="screening_tasks")
    op.create_index(
        "ix_screening_tasks_leases",
        "screening_tasks",
        ["lease_expires_at"],
        postgresql_where=CLAIMED,
        sqlite_where=CLAIMED,
    )
