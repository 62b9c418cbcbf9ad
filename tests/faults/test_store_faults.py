"""`saring screen` when the store or the disk cannot be written: a read-only SQLite file or PostgreSQL
database, a full disk under the store or under the report folder, a database server that is down. Each
ends with exit code 2 and a one-line reason, and no report is left that looks complete."""

from __future__ import annotations

import errno
import json
import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from typer.testing import CliRunner

from corpus.backup import backup, restore
from corpus.store import Store
from models.embedder import Embedder
from saring.cli import app
from saring.config import Settings
from saring.service import Saring
from tests.faults.conftest import archive_entries, batch_proposals
from tests.postgres import PgServer

REPORT_FILES = {"report.json", "report.xlsx", "report.csv", "report.html"}


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> tuple[Path, Path, Path]:
    """A data dir with an indexed archive, its portable backup, and a batch file of one proposal."""
    root = tmp_path_factory.mktemp("store-faults")
    s = Saring(Settings(data_dir=root / "data"), embedder=embedder)
    s.import_archive_proposals(archive_entries(3))
    backup(s.store, root / "arsip.jsonl.gz", embeddings=True)
    s.store.close()
    batch = root / "usulan.jsonl"
    batch.write_text(
        "\n".join(json.dumps(p.model_dump(mode="json"), ensure_ascii=False) for p in batch_proposals(1)),
        encoding="utf-8",
    )
    return root / "data", root / "arsip.jsonl.gz", batch


@contextmanager
def full_disk(where: Path, size: str = "2m") -> Iterator[Path]:
    """A small tmpfs at `where`, to be filled by the caller (mounting needs root: skipped otherwise)."""
    where.mkdir(parents=True, exist_ok=True)
    res = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)], capture_output=True)
    if res.returncode != 0:
        pytest.skip(f"a real full disk needs a small tmpfs, and mounting one failed: {res.stderr.decode().strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def fill(where: Path) -> None:
    with (where / "pengisi").open("wb") as f:
        try:
            while True:
                f.write(b"\0" * 65536)
                f.flush()
        except OSError as exc:
            assert exc.errno == errno.ENOSPC
    assert os.statvfs(where).f_bavail == 0


def screen(
    monkeypatch: pytest.MonkeyPatch, embedder: Embedder, batch: Path, out: Path, data_dir: Path, url: str | None
) -> tuple[int, str]:
    """`saring screen BATCH --out OUT` in this process (the already loaded model stands in for loading it)."""
    monkeypatch.setenv("SARING_DATA_DIR", str(data_dir))
    if url:
        monkeypatch.setenv("SARING_DATABASE_URL", url)
    else:
        monkeypatch.delenv("SARING_DATABASE_URL", raising=False)
    monkeypatch.setattr("saring.service.load_embedder", lambda *a, **k: embedder)
    res = CliRunner().invoke(app, ["screen", str(batch), "--out", str(out), "--today", "2025-06-01"])
    return res.exit_code, " ".join(res.output.split())


def assert_no_report(out: Path) -> None:
    shown = {p.name for p in out.iterdir()} if out.exists() else set()
    assert not shown & REPORT_FILES, f"a report was left in {out}: {sorted(shown)}"


def test_the_prepared_store_screens_fine(
    prepared: tuple[Path, Path, Path], embedder: Embedder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The control: the same data dir and batch, writable, give a complete report."""
    data, _, batch = prepared
    shutil.copytree(data, tmp_path / "data")
    code, output = screen(monkeypatch, embedder, batch, tmp_path / "out", tmp_path / "data", None)
    assert code == 0, output
    assert {p.name for p in (tmp_path / "out").iterdir()} == REPORT_FILES
    report = json.loads((tmp_path / "out" / "report.json").read_text(encoding="utf-8"))
    assert [p["id"] for p in report["proposals"]] == [p.id for p in batch_proposals(1)]


def test_read_only_sqlite_store(
    prepared: tuple[Path, Path, Path], embedder: Embedder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data, _, batch = prepared
    shutil.copytree(data, tmp_path / "data")
    db = tmp_path / "data" / "saring.sqlite3"
    # As root, file modes do not stop writes; SQLite's read-only open mode does, the same way for everyone.
    url = f"sqlite:///file:{db}?mode=ro&uri=true"
    code, output = screen(monkeypatch, embedder, batch, tmp_path / "out", tmp_path / "data", url)
    assert code == 2, output
    assert "error: the database is read-only" in output
    assert_no_report(tmp_path / "out")


def test_read_only_postgresql_database(
    prepared: tuple[Path, Path, Path],
    embedder: Embedder,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    pg_server: PgServer,
    pg_url: str,
) -> None:
    _, archive_backup, batch = prepared
    with Store.open(pg_url) as store:
        restore(store, archive_backup)
    with psycopg.connect(host=pg_server.host, port=pg_server.port, user="postgres", autocommit=True) as conn:
        conn.execute(f'ALTER DATABASE "{pg_url.rsplit("/", 1)[1]}" SET default_transaction_read_only = on')
    code, output = screen(monkeypatch, embedder, batch, tmp_path / "out", tmp_path / "data", pg_url)
    assert code == 2, output
    assert "error: the database is read-only" in output
    assert "cannot execute" in output  # the server's own words follow
    assert_no_report(tmp_path / "out")


def test_full_disk_under_the_sqlite_store(
    prepared: tuple[Path, Path, Path], embedder: Embedder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data, _, batch = prepared
    with full_disk(tmp_path / "disk") as disk:
        shutil.copytree(data, disk / "data")
        fill(disk)
        code, output = screen(monkeypatch, embedder, batch, tmp_path / "out", disk / "data", None)
    assert code == 2, output
    assert "error: the database file cannot be written (disk full" in output
    assert_no_report(tmp_path / "out")


def test_full_disk_under_the_report_folder(
    prepared: tuple[Path, Path, Path], embedder: Embedder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data, _, batch = prepared
    shutil.copytree(data, tmp_path / "data")
    with full_disk(tmp_path / "disk", size="256k") as disk:
        fill(disk)
        code, output = screen(monkeypatch, embedder, batch, disk / "out", tmp_path / "data", None)
        assert code == 2, output
        assert "No space left on device" in output
        assert_no_report(disk / "out")


def test_database_server_down(
    prepared: tuple[Path, Path, Path],
    embedder: Embedder,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    pg_server_factory: Callable[[], PgServer],
) -> None:
    _, _, batch = prepared
    server = pg_server_factory()
    url = server.url(server.new_database())
    server.stop()
    code, output = screen(monkeypatch, embedder, batch, tmp_path / "out", tmp_path / "data", url)
    assert code == 2, output
    assert "error: the database cannot be opened or reached" in output
    assert "Connection refused" in output
    assert "postgresql+psycopg://postgres@127.0.0.1" in output  # which database, password masked
    assert_no_report(tmp_path / "out")
