"""a batch is split into blocks that any worker can take; analysed texts cached in the store (issue 16)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04 10:00:00

`batch_blocks`: one row per block of a batch (phase 0 prepares texts, phase 1 screens proposals, phase 2
assembles the batch), claimed by a worker with a heartbeat. `batches` gains block counters for progress.
`text_features`: the analysis of a text (tokens, shingles, chunks; no pickle) by analysis fingerprint and
content hash, so the workers of one batch analyse each text once.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'batch_blocks',
        sa.Column('batch_id', sa.String(length=100), nullable=False),
        sa.Column('seq', sa.Integer(), nullable=False),
        sa.Column('phase', sa.Integer(), nullable=False),
        sa.Column('ids', sa.JSON(), nullable=False),
        sa.Column('state', sa.String(length=16), nullable=False),
        sa.Column('worker', sa.String(length=200), nullable=True),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('queued_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('heartbeat_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ['batch_id'], ['batches.id'], name=op.f('fk_batch_blocks_batch_id_batches'), ondelete='CASCADE'
        ),
        sa.PrimaryKeyConstraint('batch_id', 'seq', name=op.f('pk_batch_blocks')),
    )
    op.create_table(
        'text_features',
        sa.Column('fingerprint', sa.String(length=64), nullable=False),
        sa.Column('key', sa.String(length=64), nullable=False),
        sa.Column('data', sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint('fingerprint', 'key', name=op.f('pk_text_features')),
    )
    with op.batch_alter_table('batches', schema=None) as batch_op:
        batch_op.add_column(sa.Column('blocks_total', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('blocks_done', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('blocks_done_this_run', sa.Integer(), nullable=False, server_default='0'))


def downgrade() -> None:
    with op.batch_alter_table('batches', schema=None) as batch_op:
        batch_op.drop_column('blocks_done_this_run')
        batch_op.drop_column('blocks_done')
        batch_op.drop_column('blocks_total')
    op.drop_table('text_features')
    op.drop_table('batch_blocks')
