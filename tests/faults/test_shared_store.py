"""Two `saring serve` processes on one PostgreSQL store, each with its own data dir and FAISS index file:
an archive entry imported through one is found by the other's search within a bounded time (the archive
version lives in the store; each process reloads its archive context when it changes)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import port_for

from corpus.index import ArchiveIndex
from corpus.store import Store
from models.embedder import DEFAULT_MODEL
from saring.auth import create_key
from screening.proposal import Proposal
from tests.faults.conftest import archive_entries

START_S = 240.0
"""Loading the model and starting up, on a busy machine."""
VISIBLE_S = 10.0
"""The bound: an entry imported through one process is in the other's search results by then."""


@contextmanager
def server(name: str, url: str, data_dir: Path, logs: Path) -> Iterator[str]:
    port = port_for.select_random()
    env = {
        **os.environ,
        "SARING_DATA_DIR": str(data_dir),
        "SARING_DATABASE_URL": url,
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
    }
    log = logs / f"{name}.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "saring", "serve", "--port", str(port), "--no-embedded-worker"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_S
        while True:
            assert proc.poll() is None, f"server {name} exited:\n{log.read_text(errors='replace')[-3000:]}"
            try:
                if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, f"server {name} not ready:\n{log.read_text(errors='replace')[-3000:]}"
            time.sleep(0.3)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


def _entry(p: Proposal) -> dict[str, Any]:
    fields = ("id", "judul", "instansi", "klaster", "wilayah", "tahun", "tahun_implementasi", "status", "bagian")
    return {k: v for k, v in p.model_dump(mode="json").items() if k in fields and v is not None}


def _found_within(client: httpx.Client, base: str, entry: Proposal, bound: float) -> float:
    """Seconds until `entry` is among the hits of a search for its own words on `base`."""
    q = f"{entry.judul}. {entry.bagian['ringkasan']}"
    start = time.monotonic()
    while True:
        r = client.get(f"{base}/api/v1/archive/search", params={"q": q, "k": 5})
        assert r.status_code == 200, r.text
        if entry.id in [h["id"] for h in r.json()["items"]]:
            return time.monotonic() - start
        elapsed = time.monotonic() - start
        assert elapsed < bound, f"{entry.id} not found on {base} after {elapsed:.1f}s: {r.json()}"
        time.sleep(0.2)


def test_archive_import_on_one_process_is_searchable_on_the_other(tmp_path: Path, pg_url: str) -> None:
    first, second, third = archive_entries(3)
    with Store.open(pg_url) as store:
        store.upsert_archive([first])
        store.bump_index_version("archive")
        _, key = create_key(store, name="uji-admin", role="admin")
    headers = {"Authorization": f"Bearer {key}"}

    with (
        server("a", pg_url, tmp_path / "a", tmp_path) as a,
        server("b", pg_url, tmp_path / "b", tmp_path) as b,
        httpx.Client(headers=headers, timeout=60) as client,
    ):
        assert _found_within(client, b, first, VISIBLE_S) >= 0  # both start from the shared archive
        assert second.id not in [h["id"] for h in client.get(f"{b}/api/v1/archive/search?q=inovasi").json()["items"]]

        r = client.post(f"{a}/api/v1/archive", json={"entries": [_entry(second)]})
        assert r.status_code == 200, r.text
        assert r.json()["new_or_changed"] == 1 and r.json()["total"] == 2
        took = _found_within(client, b, second, VISIBLE_S)
        assert took < VISIBLE_S

        r = client.post(f"{b}/api/v1/archive", json={"entries": [_entry(third)]})  # and the other way round
        assert r.status_code == 200, r.text
        assert _found_within(client, a, third, VISIBLE_S) < VISIBLE_S
        assert _found_within(client, a, second, VISIBLE_S) < VISIBLE_S

        for base in (a, b):
            ready = client.get(f"{base}/readyz").json()
            assert ready["detail"]["archive_entries"] == 3

    # each process kept its own index file, both holding exactly the store's (shared) archive chunk ids
    with Store.open(pg_url) as store:
        chunk_ids = {c.id for c in store.chunks_for("archive")}
        assert {c.owner_id for c in store.chunks_for("archive")} == {first.id, second.id, third.id}
    for d in ("a", "b"):
        index = ArchiveIndex.open(next((tmp_path / d / "index").glob("*.faiss")), dim=384, model_name=DEFAULT_MODEL)
        assert index.ids() == chunk_ids
