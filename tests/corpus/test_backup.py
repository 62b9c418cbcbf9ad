"""`saring backup` / `saring restore`: a store with real archive entries, results, a half-done batch and
API keys goes SQLite → PostgreSQL → SQLite unchanged; damaged files and non-empty targets are refused."""

from __future__ import annotations

import datetime as dt
import gzip
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from corpus.backup import BackupError, backup, read_header, restore
from corpus.store import Store
from saring.auth import authenticate, create_key
from saring.cli import app
from screening.proposal import Proposal
from screening.results import Completeness, Duplicate, FileError, ProposalResult

REPO = Path(__file__).resolve().parents[2]
ARCHIVE = REPO / "corpus" / "sample" / "archive.jsonl"
BATCH = REPO / "corpus" / "sample" / "batch" / "proposals.jsonl"
MODEL = "multilingual-e5-small-q4"


def _load(path: Path, n: int) -> list[Proposal]:
    return [Proposal.model_validate(json.loads(line)) for line in path.read_text(encoding="utf-8").splitlines()[:n]]


def _result(p: Proposal, recommendation: str, duplicates: list[Duplicate] | None = None) -> ProposalResult:
    return ProposalResult(
        id=p.id,
        judul=p.judul,
        instansi=p.instansi,
        klaster=p.klaster,
        wilayah=p.wilayah,
        tahun=p.tahun,
        text=p.text,
        recommendation=recommendation,  # type: ignore[arg-type]
        completeness=Completeness(form="inovasi", complete=True),
        duplicates=duplicates or [],
    )


def populate(store: Store) -> dict[str, str]:
    """Everything a backup must carry; returns the plaintext API keys by name."""
    archive = _load(ARCHIVE, 6)
    batch = _load(BATCH, 5)
    store.upsert_archive(archive)
    store.bump_index_version("archive")
    # a proposal screened on its own, with findings
    solo = batch[0]
    store.save_proposal(solo)
    dup = Duplicate(other_id=archive[1].id, relation="other_region", match_type="edited", share=0.61)
    store.save_result(_result(solo, "indikasi_duplikasi", [dup]), parameters_version="2025.1", model=MODEL)
    # a batch: one done, one failed, two pending, and one unreadable file
    store.create_batch(
        "b-20250601-abc",
        name="Gelombang 1 – Sulawesi Tengah",
        proposals=batch[1:],
        errors=[FileError(file="rusak.pdf", reason="Berkas PDF rusak.", reason_en="damaged PDF")],
        today=dt.date(2025, 6, 1),
        created_by=1,
    )
    assert store.claim_batch("b-20250601-abc", stale_after_s=6)
    store.save_item_result("b-20250601-abc", _result(batch[1], "lanjut"), parameters_version="2025.1", model=MODEL)
    store.fail_item("b-20250601-abc", batch[2].id, reason="Gagal disaring: ValueError")
    # a failed upload the secretariat hid from the batch list
    store.create_batch(
        "b-20250602-gagal",
        name="Unggahan rusak",
        proposals=[],
        errors=[FileError(file="../luar.pdf", reason="Jalur berkas tidak aman.", reason_en="unsafe path")],
        created_by=1,
    )
    store.finish_batch("b-20250602-gagal", state="failed", message="Tidak ada proposal yang dapat dibaca.")
    assert store.hide_batch("b-20250602-gagal", actor_key_id=1)
    keys = {
        "admin": create_key(store, name="admin-kipp", role="admin")[1],
        "portal": create_key(store, name="portal-palu", role="portal", instansi="Pemerintah Kota Palu")[1],
        "revoked": create_key(store, name="lama", role="judge")[1],
    }
    revoked = authenticate(store, keys["revoked"])
    assert revoked is not None and store.revoke_api_key(revoked.key_id)
    rng = np.random.default_rng(3)
    store.put_embeddings(MODEL, {f"passage:{i:040x}": rng.standard_normal(384).astype(np.float32) for i in range(30)})
    return keys


def snapshot(store: Store) -> dict[str, Any]:
    """What users see of a store, through the Store's own reads."""
    batches = store.list_batches(include_hidden=True)
    results = store.list_results(limit=1000)
    return {
        "archive": store.archive_entries(),
        "proposals": {r.id: store.get_proposal(r.id) for r in results},
        "results": sorted((store.get_result_with_batch(r.id) for r in results), key=lambda x: x[0].id),  # type: ignore[index]
        "versions": {r.id: store.result_versions(r.id) for r in results},
        "duplicates": [r.id for r in store.list_results(relation="other_region")],
        "batches": batches,
        "listed_batches": [b.id for b in store.list_batches()],
        "batch_results": {b.id: store.batch_results(b.id) for b in batches},
        "batch_errors": {b.id: store.batch_item_errors(b.id) for b in batches},
        "batch_pending": {
            b.id: {p.id for p in store.batch_proposals(b.id)} - store.batch_done_ids(b.id) for b in batches
        },
        "keys": store.list_api_keys(),
    }


def _rows(path: Path) -> list[str]:
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return f.read().splitlines()[1:]  # all but the header (which has the time of the backup)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> Iterator[str]:
    yield f"sqlite:///{tmp_path}/sumber.sqlite3"


def test_round_trip_sqlite_to_postgresql_and_back(tmp_path: Path, sqlite_url: str, pg_url: str) -> None:
    with Store.open(sqlite_url) as src:
        keys = populate(src)
        before = snapshot(src)
        assert before["listed_batches"] == ["b-20250601-abc"]  # the hidden failed batch is left out of the list
        vectors = src.get_embeddings(MODEL, [f"passage:{i:040x}" for i in range(30)])
        first = tmp_path / "dari-sqlite.jsonl.gz"
        counts = backup(src, first, embeddings=True)
    assert counts == {
        "archive_entries": 6,
        "proposals": 2,
        "sections": counts["sections"],
        "results": 2,
        "result_versions": 2,
        "resolutions": 0,
        "findings": 1,
        "batches": 2,
        "batch_items": 4,
        "api_keys": 3,
        "embeddings": 30,
    }
    assert counts["sections"] > 2
    assert read_header(first)["schema"] is not None

    with Store.open(pg_url) as pg:
        assert restore(pg, first) == counts
        assert snapshot(pg) == before
        hidden = pg.get_batch("b-20250602-gagal")
        assert hidden is not None and hidden.hidden_at is not None  # the flag came along
        assert pg.index_version("archive") == 1  # bumped: running processes reload the restored archive
        got = pg.get_embeddings(MODEL, list(vectors))
        assert all(np.array_equal(got[k], v) for k, v in vectors.items())
        admin = authenticate(pg, keys["admin"])
        assert admin is not None and admin.role == "admin"
        portal = authenticate(pg, keys["portal"])
        assert portal is not None and portal.instansi == "Pemerintah Kota Palu"
        assert authenticate(pg, keys["revoked"]) is None
        # restored ids kept; PostgreSQL's sequence continues after them
        new_id, _ = create_key(pg, name="baru", role="judge")
        assert new_id == max(k.id for k in before["keys"]) + 1
        pg.revoke_api_key(new_id)
        # the pending items can still be screened after the restore, exactly once
        pending = sorted(before["batch_pending"]["b-20250601-abc"])
        proposal = next(p for p in pg.batch_proposals("b-20250601-abc") if p.id == pending[0])
        assert pg.save_item_result("b-20250601-abc", _result(proposal, "lanjut")) is True
        assert pg.save_item_result("b-20250601-abc", _result(proposal, "lanjut")) is False
        after_pg = snapshot(pg)
        second = tmp_path / "dari-postgresql.jsonl.gz"
        backup(pg, second)

    with Store.open(f"sqlite:///{tmp_path}/kembali.sqlite3") as back:
        restore(back, second)
        assert snapshot(back) == after_pg
        assert back.get_embeddings(MODEL, list(vectors)) == {}  # the cache was left out this time

    # and the archive rows written from SQLite and from PostgreSQL are the same bytes
    first_rows = [r for r in _rows(first) if r.startswith('{"t": "archive_entries"')]
    second_rows = [r for r in _rows(second) if r.startswith('{"t": "archive_entries"')]
    assert len(first_rows) == 6
    assert first_rows == second_rows


def test_restore_refuses_a_store_that_holds_data(tmp_path: Path, sqlite_url: str) -> None:
    with Store.open(sqlite_url) as src:
        populate(src)
        backup(src, tmp_path / "b.jsonl.gz")
        with pytest.raises(BackupError, match=r"needs an empty store.*archive_entries"):
            restore(src, tmp_path / "b.jsonl.gz")


@pytest.mark.parametrize("damage", ["truncated", "count", "not-gzip", "unknown-column"])
def test_damaged_backup_restores_nothing(tmp_path: Path, sqlite_url: str, store_url: str, damage: str) -> None:
    good = tmp_path / "b.jsonl.gz"
    with Store.open(sqlite_url) as src:
        populate(src)
        backup(src, good)
    lines = gzip.decompress(good.read_bytes()).decode("utf-8").splitlines()
    bad = tmp_path / "rusak.jsonl.gz"
    if damage == "truncated":  # cut after some rows: no closing line
        bad.write_bytes(gzip.compress("\n".join(lines[: len(lines) // 2]).encode("utf-8")))
    elif damage == "count":  # a row removed, closing line kept
        bad.write_bytes(gzip.compress("\n".join(lines[:3] + lines[4:]).encode("utf-8")))
    elif damage == "not-gzip":
        bad.write_bytes(good.read_bytes()[: len(good.read_bytes()) // 2])
    else:
        row = json.loads(lines[1])
        row["r"]["kolom_baru"] = 1
        bad.write_bytes(gzip.compress("\n".join([lines[0], json.dumps(row), *lines[2:]]).encode("utf-8")))
    with Store.open(store_url) as target:
        with pytest.raises(BackupError):
            restore(target, bad)
        assert target.archive_count() == 0  # one transaction: nothing half restored
        assert target.list_api_keys() == []
        assert target.index_version("archive") == 0


def test_cli_backup_and_restore(tmp_path: Path, sqlite_url: str, pg_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with Store.open(sqlite_url) as src:
        populate(src)
        before = snapshot(src)
    runner = CliRunner()
    monkeypatch.setenv("SARING_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SARING_DATABASE_URL", sqlite_url)
    file = tmp_path / "cadangan" / "saring.jsonl.gz"
    res = runner.invoke(app, ["backup", str(file)])
    assert res.exit_code == 0, res.output
    assert "6 archive_entries" in res.output and "embeddings" not in res.output
    assert read_header(file)["tables"][-1] == "api_keys"

    monkeypatch.setenv("SARING_DATABASE_URL", pg_url)
    res = runner.invoke(app, ["restore", str(file)])
    assert res.exit_code == 0, res.output
    assert "3 api_keys" in res.output
    with Store.open(pg_url) as pg:
        assert snapshot(pg) == before

    res = runner.invoke(app, ["restore", str(file)])  # a second time: refused, nothing changed
    assert res.exit_code == 2
    assert "needs an empty store" in res.output
    with Store.open(pg_url) as pg:
        assert snapshot(pg) == before
