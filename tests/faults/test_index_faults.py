"""The FAISS index file deleted or corrupt: the next start rebuilds it from the store, says so in the log,
and screening finds archive duplicates through it as before."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pytest

from corpus.index import ArchiveIndex
from models.embedder import Embedder
from saring.config import Settings
from saring.service import Saring
from screening.pipeline import archive_key
from tests.faults.conftest import archive_entries

ARCHIVE = archive_entries(5)


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Settings:
    """A data dir whose archive is imported and indexed (the index file written)."""
    settings = Settings(data_dir=tmp_path_factory.mktemp("index-faults"))
    s = Saring(settings, embedder=embedder)
    s.import_archive_proposals(ARCHIVE)
    s.store.close()
    return settings


def _damage(index: Path, how: str) -> None:
    sidecar = index.with_suffix(".json")
    if how == "deleted":
        index.unlink()
        sidecar.unlink()
    elif how == "index-deleted":
        index.unlink()
    elif how == "sidecar-deleted":
        sidecar.unlink()
    elif how == "truncated":  # a write cut short
        data = index.read_bytes()
        index.write_bytes(data[: len(data) // 3])
    elif how == "garbage":  # bytes faiss cannot parse, with a sidecar that vouches for them
        data = np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8).tobytes()
        index.write_bytes(data)
        meta = json.loads(sidecar.read_text(encoding="utf-8"))
        from corpus.index import _checksum

        sidecar.write_text(json.dumps({**meta, "checksum": _checksum(data), "ntotal": 3}), encoding="utf-8")
    else:
        raise AssertionError(how)


MESSAGES = {
    "deleted": (logging.INFO, "does not exist yet; it will be built from the store"),
    "index-deleted": (logging.INFO, "does not exist yet; it will be built from the store"),
    "sidecar-deleted": (logging.WARNING, "is missing); it will be rebuilt from the store"),
    "truncated": (
        logging.WARNING,
        "checksum mismatch (partly written or altered file)); it will be rebuilt from the store",
    ),
    "garbage": (logging.WARNING, "faiss cannot read it"),
}


@pytest.mark.parametrize("how", list(MESSAGES))
def test_damaged_index_is_rebuilt_from_the_store_at_start(
    settings: Settings, embedder: Embedder, caplog: pytest.LogCaptureFixture, how: str
) -> None:
    s = Saring(settings, embedder=embedder)
    index_path = s._index_path()
    assert index_path.exists()
    chunks = s.store.chunks_for("archive")
    _damage(index_path, how)

    with caplog.at_level(logging.INFO, logger="saring.index"):
        ctx = s.archive_context()  # what `saring serve` and the worker do at start
    level, message = MESSAGES[how]
    said = [r for r in caplog.records if r.name == "saring.index" and message in r.getMessage()]
    assert said, f"no log line containing {message!r}: {[r.getMessage() for r in caplog.records]}"
    assert said[0].levelno == level
    assert str(index_path) in said[0].getMessage()
    rebuilt = [r.getMessage() for r in caplog.records if "added, 0 removed" in r.getMessage()]
    assert rebuilt == [f"archive index {index_path}: {len(chunks)} added, 0 removed, {len(chunks)} total"]

    # the file on disk is whole again, and holds exactly the store's chunk ids
    reopened = ArchiveIndex.open(index_path, dim=embedder.dim, model_name=s.embedder.name)
    assert reopened.ids() == {c.id for c in chunks}

    # the rebuilt index answers: each archive chunk's own vector finds that chunk first
    assert ctx.neighbours is not None
    entry = ARCHIVE[2]
    first = next(c for c in chunks if c.owner_id == entry.id)
    q = s.embedder.embed([entry.text[first.start : first.end]])
    hits = ctx.neighbours(q, 3)[0]
    assert hits[0][0] == (archive_key(entry.id), first.seq)
    assert hits[0][1] > 0.99

    # and screening a copy of an archive entry reports it as a duplicate of that entry
    copy = entry.model_copy(update={"id": "usulan-salinan", "instansi": "Pemerintah Kabupaten Lain", "status": None})
    report = s.screen_proposals([copy])
    assert entry.id in {d.other_id for d in report.proposals[0].duplicates}
    s.store.close()
