"""The store on SQLite: migrations, archive upserts, chunk ids, embedding cache, versions and results,
with real Indonesian archive entries from the bundled sample."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from corpus.store import Base, ChunkRow, Store, StoreError, alembic_config
from screening.proposal import Proposal
from screening.results import Completeness, Duplicate, ProposalResult

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "corpus" / "sample" / "archive.jsonl"
TABLES = {"archive_entries", "proposals", "sections", "results", "findings", "chunks", "embeddings", "index_versions"}


@pytest.fixture(scope="module")
def archive() -> list[Proposal]:
    """The first five real entries of the sample archive."""
    lines = SAMPLE.read_text(encoding="utf-8").splitlines()[:5]
    return [Proposal.model_validate(json.loads(line)) for line in lines]


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    """A fresh store, once on SQLite and once on PostgreSQL (tests/postgres.py)."""
    s = Store.open(store_url)
    yield s
    s.close()


def _result(p: Proposal, recommendation: str, duplicates: Sequence[Duplicate] = ()) -> ProposalResult:
    return ProposalResult(
        id=p.id,
        judul=p.judul,
        instansi=p.instansi,
        klaster=p.klaster,
        wilayah=p.wilayah,
        tahun=p.tahun,
        text=p.text,
        recommendation=recommendation,  # type: ignore[arg-type]
        completeness=Completeness(form="inovasi", complete=recommendation != "tidak_lengkap"),
        duplicates=list(duplicates),
    )


def _dup(other: str, relation: str, share: float = 0.5) -> Duplicate:
    return Duplicate(other_id=other, relation=relation, match_type="edited", share=share)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------- schema


def test_fresh_database_is_migrated_to_head(tmp_path: Path) -> None:
    db = tmp_path / "nested" / "dir" / "s.db"
    s = Store.open(f"sqlite:///{db}")
    try:
        assert db.exists()
        assert set(inspect(s.engine).get_table_names()) >= TABLES
        heads = ScriptDirectory.from_config(alembic_config()).get_heads()
        with s.engine.connect() as conn:
            assert MigrationContext.configure(conn).get_current_heads() == tuple(heads)
            assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
            assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 30000
    finally:
        s.close()
    again = Store.open(f"sqlite:///{db}")  # re-opening a migrated database is a no-op
    assert again.archive_count() == 0
    again.close()


def test_models_and_migration_agree(store: Store) -> None:
    with store.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(ctx, Base.metadata) == []


def test_downgrade_to_base_and_upgrade_again(store: Store, archive: list[Proposal]) -> None:
    store.upsert_archive(archive[:1])
    with store.engine.begin() as conn:
        command.downgrade(alembic_config(conn), "base")
    assert not TABLES & set(inspect(store.engine).get_table_names())
    with store.engine.begin() as conn:
        command.upgrade(alembic_config(conn), "head")
    assert set(inspect(store.engine).get_table_names()) >= TABLES
    assert store.archive_count() == 0
    assert store.upsert_archive(archive[:1]) == [archive[0].id]


def test_read_only_database_raises_store_error(tmp_path: Path, archive: list[Proposal]) -> None:
    Store.open(f"sqlite:///{tmp_path}/s.db").close()
    ro = Store.open(f"sqlite:///file:{tmp_path}/s.db?mode=ro&uri=true")
    try:
        assert ro.archive_count() == 0
        with pytest.raises(StoreError, match="read-only"):
            ro.upsert_archive(archive[:1])
    finally:
        ro.close()


def test_invalid_url_raises_store_error() -> None:
    with pytest.raises(StoreError, match="invalid database URL"):
        Store.open("not a url")


# ---------------------------------------------------------------------------------------------- archive


def test_upsert_archive_is_idempotent_and_detects_changes(store: Store, archive: list[Proposal]) -> None:
    assert store.upsert_archive(archive) == [p.id for p in archive]
    assert store.upsert_archive(archive) == []
    assert store.archive_count() == len(archive)

    edited = archive[2].model_copy(
        update={"bagian": {**archive[2].bagian, "tujuan": archive[2].bagian["tujuan"] + " Target tahun 2026 tercapai."}}
    )
    assert store.upsert_archive([archive[0], edited]) == [edited.id]
    got = store.get_archive(edited.id)
    assert got == edited
    assert got is not None and got.bagian["tujuan"].endswith("Target tahun 2026 tercapai.")
    assert store.upsert_archive([archive[0], edited]) == []


def test_archive_entries_round_trip_in_id_order(store: Store, archive: list[Proposal]) -> None:
    store.upsert_archive(list(reversed(archive)))
    entries = store.archive_entries()
    assert [p.id for p in entries] == sorted(p.id for p in archive)
    assert {p.id: p for p in entries} == {p.id: p for p in archive}
    assert entries[0].text == min(archive, key=lambda p: p.id).text  # offsets into text stay valid
    assert store.get_archive("tidak-ada") is None


def test_duplicate_ids_in_one_upsert_last_wins(store: Store, archive: list[Proposal]) -> None:
    later = archive[0].model_copy(update={"judul": archive[0].judul + " (revisi)"})
    assert store.upsert_archive([archive[0], later]) == [archive[0].id]
    assert store.get_archive(archive[0].id) == later


def test_delete_archive_removes_entry_and_its_chunks(store: Store, archive: list[Proposal]) -> None:
    store.upsert_archive(archive[:2])
    store.replace_chunks("archive", archive[0].id, [(0, 10, "a"), (10, 20, "b")])
    store.replace_chunks("archive", archive[1].id, [(0, 10, "c")])
    store.replace_chunks("proposal", archive[0].id, [(0, 10, "a")])
    assert store.delete_archive(archive[0].id) is True
    assert store.delete_archive(archive[0].id) is False
    assert store.get_archive(archive[0].id) is None
    assert [c.owner_id for c in store.chunks_for("archive")] == [archive[1].id]
    assert len(store.chunks_for("proposal")) == 1  # a proposal with the same id is untouched


# ---------------------------------------------------------------------------------------------- chunks


def test_unchanged_chunks_keep_their_ids(store: Store) -> None:
    spans = [(0, 100, "h0"), (80, 180, "h1"), (160, 240, "h2")]
    assert store.replace_chunks("archive", "arsip-001", spans) is True
    first = store.chunks_for("archive")
    assert [(c.seq, c.start, c.end, c.hash) for c in first] == [(i, *s) for i, s in enumerate(spans)]
    assert all(isinstance(c, ChunkRow) and c.kind == "archive" and c.owner_id == "arsip-001" for c in first)

    assert store.replace_chunks("archive", "arsip-001", list(spans)) is False
    assert store.chunks_for("archive") == first


def test_changed_chunks_get_fresh_ids_never_reused(store: Store) -> None:
    store.replace_chunks("archive", "a", [(0, 10, "x"), (10, 20, "y")])
    store.replace_chunks("archive", "b", [(0, 10, "z")])
    before = store.chunks_for("archive")
    top = max(c.id for c in before)

    store.delete_archive("b")  # frees the highest id: SQLite must not hand it out again
    assert store.replace_chunks("archive", "a", [(0, 10, "x"), (10, 25, "y2")]) is True
    after = store.chunks_for("archive")
    assert [c.owner_id for c in after] == ["a", "a"]
    assert min(c.id for c in after) > top
    assert [c.id for c in after] == sorted(c.id for c in after)


def test_chunks_are_separated_by_kind(store: Store) -> None:
    store.replace_chunks("archive", "x", [(0, 5, "h")])
    store.replace_chunks("proposal", "x", [(0, 5, "h"), (5, 9, "k")])
    assert len(store.chunks_for("archive")) == 1
    assert [c.seq for c in store.chunks_for("proposal")] == [0, 1]
    assert store.replace_chunks("archive", "x", []) is True
    assert store.chunks_for("archive") == []


# ---------------------------------------------------------------------------------------------- embeddings


def test_embeddings_round_trip_exactly(store: Store) -> None:
    rng = np.random.default_rng(7)
    vecs = {f"passage:{i:032x}": rng.standard_normal(384).astype(np.float32) for i in range(1200)}
    store.put_embeddings("multilingual-e5-small-q4", vecs)

    keys = [*vecs, "passage:missing"]
    got = store.get_embeddings("multilingual-e5-small-q4", keys)  # more keys than one IN batch
    assert set(got) == set(vecs)
    for k, v in vecs.items():
        assert got[k].dtype == np.float32
        assert np.array_equal(got[k], v)
    assert store.get_embeddings("all-minilm-l6-v2", keys) == {}


def test_put_embeddings_keeps_existing_vectors(store: Store) -> None:
    a = np.arange(4, dtype=np.float32)
    store.put_embeddings("m", {"k1": a})
    store.put_embeddings("m", {"k1": a + 1, "k2": a * 2})  # k1 is already cached: left as it is
    got = store.get_embeddings("m", ["k1", "k2", "k1"])
    assert np.array_equal(got["k1"], a)
    assert np.array_equal(got["k2"], a * 2)
    store.put_embeddings("m", {})


# ---------------------------------------------------------------------------------------------- versions


def test_index_version_bumps(store: Store) -> None:
    assert store.index_version("archive") == 0
    assert store.bump_index_version("archive") == 1
    assert store.bump_index_version("archive") == 2
    assert store.index_version("archive") == 2
    assert store.index_version("lain") == 0


def test_concurrent_bumps_are_not_lost(store: Store) -> None:
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(10):
                store.bump_index_version("archive")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert store.index_version("archive") == 60


# ---------------------------------------------------------------------------------------------- proposals and results


def test_save_and_get_proposal_with_sections(store: Store, archive: list[Proposal]) -> None:
    p = archive[1]
    store.save_proposal(p)
    store.save_proposal(p)
    assert store.get_proposal(p.id) == p
    assert store.get_proposal("tidak-ada") is None
    with store.engine.connect() as conn:
        rows = dict(conn.execute(text("SELECT key, text FROM sections WHERE proposal_id = :i"), {"i": p.id}).all())
    assert rows == {k: v for k, v in p.bagian.items() if v}

    shorter = p.model_copy(update={"bagian": {"ringkasan": p.bagian["ringkasan"]}})
    store.save_proposal(shorter)
    assert store.get_proposal(p.id) == shorter
    with store.engine.connect() as conn:
        keys = conn.execute(text("SELECT key FROM sections WHERE proposal_id = :i"), {"i": p.id}).scalars().all()
    assert keys == ["ringkasan"]


def test_result_needs_its_proposal(store: Store, archive: list[Proposal]) -> None:
    with pytest.raises(StoreError, match="save_proposal"):
        store.save_result(_result(archive[0], "lanjut"))


def test_results_round_trip_and_filters(store: Store, archive: list[Proposal]) -> None:
    a, b, c, d = archive[:4]
    for p in (a, b, c, d):
        store.save_proposal(p)
    ra = _result(a, "indikasi_duplikasi", [_dup(b.id, "other_region", 0.8), _dup(c.id, "boilerplate", 0.1)])
    store.save_result(ra, parameters_version="2025.1", model="multilingual-e5-small-q4")
    store.save_result(_result(b, "lanjut"))
    store.save_result(_result(c, "perlu_klarifikasi", [_dup(a.id, "same_instansi")]))
    store.save_result(_result(d, "tidak_lengkap"))

    assert store.get_result(a.id) == ra
    assert store.get_result("tidak-ada") is None
    assert {r.id for r in store.list_results()} == {a.id, b.id, c.id, d.id}
    assert [r.id for r in store.list_results(recommendation="lanjut")] == [b.id]
    assert [r.id for r in store.list_results(relation="other_region")] == [a.id]
    assert [r.id for r in store.list_results(relation="same_instansi")] == [c.id]
    assert store.list_results(relation="declared_replication") == []
    assert {r.id for r in store.list_results(klaster=a.klaster.upper())} == {
        p.id for p in (a, b, c, d) if p.klaster == a.klaster
    }
    word = a.instansi.split()[-1].lower()  # case-insensitive substring
    assert a.id in {r.id for r in store.list_results(instansi=word)}
    assert {r.id for r in store.list_results(wilayah=a.wilayah.upper())} == {
        p.id for p in (a, b, c, d) if a.wilayah.lower() in p.wilayah.lower()
    }
    assert store.list_results(instansi="%") == []  # LIKE wildcards are escaped

    page1 = store.list_results(limit=2)
    page2 = store.list_results(limit=2, offset=2)
    assert len(page1) == 2 and len(page2) == 2
    assert {r.id for r in page1 + page2} == {a.id, b.id, c.id, d.id}


def test_saving_a_result_again_replaces_its_findings(store: Store, archive: list[Proposal]) -> None:
    a, b = archive[:2]
    store.save_proposal(a)
    store.save_result(_result(a, "indikasi_duplikasi", [_dup(b.id, "other_region")]))
    store.save_result(_result(a, "lanjut"))
    assert store.list_results(relation="other_region") == []
    assert [r.recommendation for r in store.list_results()] == ["lanjut"]
    with store.engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM findings")).scalar() == 0
