"""batches can be hidden (a failed batch the secretariat no longer wants in the list; issue 14)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03 10:00:00

Hiding keeps the batch and its items: only `hidden_at` (when) and `hidden_by` (the key) are set.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('batches', schema=None) as batch_op:
        batch_op.add_column(sa.Column('hidden_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('hidden_by', sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('batches', schema=None) as batch_op:
        batch_op.drop_column('hidden_by')
        batch_op.drop_column('hidden_at')
