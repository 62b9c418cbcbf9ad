"""a result version names the later wave that caused a re-screening (issue 14)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 12:00:00

When a later batch or portal proposal copies an earlier proposal, the earlier one is screened again: its new
version keeps its own batch and names the cause (`cause`: the later batch's id, or "portal").
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("result_versions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("cause", sa.String(length=100), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("result_versions", schema=None) as batch_op:
        batch_op.drop_column("cause")
