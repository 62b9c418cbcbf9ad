"""Alembic migrations step by step on SQLite and PostgreSQL: base → 0001 → head keeps the data written at
0001, the schema at head is the models', and downgrading goes back to 0001 and to nothing."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, inspect, text

from corpus.store import Base, Store, alembic_config, proposal_hash
from screening.proposal import Proposal

SAMPLE = Path(__file__).resolve().parents[2] / "corpus" / "sample" / "archive.jsonl"
TABLES_0001 = {"archive_entries", "proposals", "sections", "results", "findings", "chunks", "embeddings"}
TABLES_0002 = {"batches", "batch_items", "api_keys"}
TABLES_0003 = {"result_versions", "resolutions", "web_sessions"}
TABLES_0005 = {"batch_blocks", "text_features"}


@pytest.fixture
def engine(store_url: str) -> Iterator[Engine]:
    e = create_engine(store_url)
    yield e
    e.dispose()


def _migrate(engine: Engine, action: str, revision: str) -> None:
    with engine.begin() as conn:
        getattr(command, action)(alembic_config(conn), revision)


def _revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def _tables(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names()) - {"alembic_version"}


def test_revisions_form_one_line_from_0001() -> None:
    script = ScriptDirectory.from_config(alembic_config())
    revisions = [r.revision for r in script.walk_revisions("base", "heads")]
    assert revisions[-1] == "0001"
    assert len(script.get_heads()) == 1


def test_upgrade_base_to_0001_to_head_keeps_data_and_downgrades(engine: Engine, store_url: str) -> None:
    entry = Proposal.model_validate(json.loads(SAMPLE.read_text(encoding="utf-8").splitlines()[0]))
    data = entry.model_dump(mode="json")
    now = dt.datetime(2025, 3, 1, 8, 30, tzinfo=dt.UTC)

    assert _revision(engine) is None
    _migrate(engine, "upgrade", "0001")
    assert _revision(engine) == "0001"
    assert _tables(engine) == TABLES_0001 | {"index_versions"}
    with engine.begin() as conn:  # data written by a release that only knew revision 0001
        conn.execute(
            Base.metadata.tables["archive_entries"].insert(),
            {
                "id": entry.id,
                "judul": entry.judul,
                "instansi": entry.instansi,
                "klaster": entry.klaster,
                "wilayah": entry.wilayah,
                "tahun": entry.tahun,
                "tahun_implementasi": entry.tahun_implementasi,
                "status": entry.status,
                "data": data,
                "content_hash": proposal_hash(data),
                "created_at": now,
                "updated_at": now,
            },
        )
        conn.execute(
            text(
                "INSERT INTO proposals (id, instansi, klaster, wilayah, tahun, data, content_hash, created_at, "
                "updated_at) VALUES ('usulan-1', 'Pemerintah Kota Palu', 'kota', 'Kota Palu', 2025, :d, 'h', :t, :t)"
            ),
            {"d": json.dumps(data), "t": now},
        )
        conn.execute(
            text(
                "INSERT INTO results (proposal_id, recommendation, result, parameters_version, model, created_at) "
                "VALUES ('usulan-1', 'lanjut', :r, 'v1', 'm', :t)"
            ),
            {"r": json.dumps({"id": "usulan-1"}), "t": now},
        )

    _migrate(engine, "upgrade", "head")
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert _revision(engine) == head
    assert _tables(engine) == TABLES_0001 | TABLES_0002 | TABLES_0003 | TABLES_0005 | {"index_versions"}
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(ctx, Base.metadata) == []  # head is exactly the models
        assert conn.execute(text("SELECT batch_id FROM results WHERE proposal_id = 'usulan-1'")).scalar() is None

    with Store.open(store_url) as store:  # the application reads what 0001 wrote
        assert store.archive_entries() == [entry]
        # the result written at 0001 became version 1 of its proposal (0003): no finding is lost
        assert [(v.version, v.recommendation) for v in store.result_versions("usulan-1")] == [(1, "lanjut")]
        assert [k.id for k in store.list_api_keys()] == []
        store.add_api_key(name="admin", role="admin", instansi=None, key_hash="0" * 64)

    _migrate(engine, "downgrade", "0001")
    assert _revision(engine) == "0001"
    assert _tables(engine) == TABLES_0001 | {"index_versions"}
    with engine.connect() as conn:
        assert conn.execute(text("SELECT id FROM archive_entries")).scalars().all() == [entry.id]
        assert "batch_id" not in {c["name"] for c in inspect(conn).get_columns("results")}

    _migrate(engine, "downgrade", "base")
    assert _revision(engine) is None
    assert _tables(engine) == set()
