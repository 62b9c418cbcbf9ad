"""Initial schema: archive, proposals and sections, results and findings, chunks, embeddings, index versions.

Revision ID: 0001
Revises:
Create Date: 2026-11-25 09:01:14
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "archive_entries",
        sa.Column("id", sa.String(length=200), nullable=False),
        sa.Column("judul", sa.Text(), nullable=False),
        sa.Column("instansi", sa.Text(), nullable=False),
        sa.Column("klaster", sa.String(length=50), nullable=False),
        sa.Column("wilayah", sa.Text(), nullable=False),
        sa.Column("tahun", sa.Integer(), nullable=True),
        sa.Column("tahun_implementasi", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=50), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_archive_entries")),
    )
    op.create_index(op.f("ix_archive_entries_klaster"), "archive_entries", ["klaster"])

    op.create_table(
        "chunks",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("owner_id", sa.String(length=200), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("start", sa.Integer(), nullable=False),
        sa.Column("end", sa.Integer(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chunks")),
        sa.UniqueConstraint("kind", "owner_id", "seq", name=op.f("uq_chunks_kind_owner_id_seq")),
        sqlite_autoincrement=True,  # chunk ids are FAISS ids: SQLite must never reuse a deleted one
    )
    op.create_index("ix_chunks_kind_owner_id", "chunks", ["kind", "owner_id"])

    op.create_table(
        "embeddings",
        sa.Column("model", sa.String(length=200), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("vector", sa.LargeBinary(), nullable=False),
        sa.Column("dim", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("model", "key", name=op.f("pk_embeddings")),
    )

    op.create_table(
        "index_versions",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_index_versions")),
    )

    op.create_table(
        "proposals",
        sa.Column("id", sa.String(length=200), nullable=False),
        sa.Column("instansi", sa.Text(), nullable=False),
        sa.Column("klaster", sa.String(length=50), nullable=False),
        sa.Column("wilayah", sa.Text(), nullable=False),
        sa.Column("tahun", sa.Integer(), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_proposals")),
    )
    op.create_index(op.f("ix_proposals_klaster"), "proposals", ["klaster"])

    op.create_table(
        "sections",
        sa.Column("proposal_id", sa.String(length=200), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["proposal_id"], ["proposals.id"], name=op.f("fk_sections_proposal_id_proposals"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("proposal_id", "key", name=op.f("pk_sections")),
    )

    op.create_table(
        "results",
        sa.Column("proposal_id", sa.String(length=200), nullable=False),
        sa.Column("recommendation", sa.String(length=32), nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.Column("parameters_version", sa.String(length=64), nullable=False),
        sa.Column("model", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["proposal_id"], ["proposals.id"], name=op.f("fk_results_proposal_id_proposals"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("proposal_id", name=op.f("pk_results")),
    )
    op.create_index(op.f("ix_results_recommendation"), "results", ["recommendation"])

    op.create_table(
        "findings",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("proposal_id", sa.String(length=200), nullable=False),
        sa.Column("other_id", sa.String(length=200), nullable=False),
        sa.Column("relation", sa.String(length=32), nullable=False),
        sa.Column("match_type", sa.String(length=32), nullable=False),
        sa.Column("share", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["proposal_id"], ["results.proposal_id"], name=op.f("fk_findings_proposal_id_results"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_findings")),
    )
    op.create_index(op.f("ix_findings_proposal_id"), "findings", ["proposal_id"])
    op.create_index(op.f("ix_findings_relation"), "findings", ["relation"])


def downgrade() -> None:
    op.drop_index(op.f("ix_findings_relation"), table_name="findings")
    op.drop_index(op.f("ix_findings_proposal_id"), table_name="findings")
    op.drop_table("findings")
    op.drop_index(op.f("ix_results_recommendation"), table_name="results")
    op.drop_table("results")
    op.drop_table("sections")
    op.drop_index(op.f("ix_proposals_klaster"), table_name="proposals")
    op.drop_table("proposals")
    op.drop_table("index_versions")
    op.drop_table("embeddings")
    op.drop_index("ix_chunks_kind_owner_id", table_name="chunks")
    op.drop_table("chunks")
    op.drop_index(op.f("ix_archive_entries_klaster"), table_name="archive_entries")
    op.drop_table("archive_entries")
