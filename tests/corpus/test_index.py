"""The FAISS archive index: sync with the store's chunk ids, search, persistence and rebuilds, with
random unit vectors standing in for embeddings (no model needed)."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pytest

import corpus.index as index_mod
from corpus.index import ArchiveIndex, make_index
from corpus.store import ChunkRow

DIM = 16
MODEL = "test-model"


class FakeStore:
    """The archive chunks of a store, with one fixed unit vector per chunk id."""

    def __init__(self, n: int, *, dim: int = DIM, seed: int = 0) -> None:
        self.rng = np.random.default_rng(seed)
        self.dim = dim
        self.rows: list[ChunkRow] = []
        self.vectors: dict[int, np.ndarray] = {}
        self.embedded: list[int] = []
        self.calls = 0
        self.add(n)

    def add(self, n: int) -> list[int]:
        start = max((r.id for r in self.rows), default=0) + 1
        new = []
        for i in range(start, start + n):
            self.rows.append(ChunkRow(i, "archive", f"arsip-{i // 3:03d}", i % 3, 0, 10, f"h{i}"))
            v = self.rng.standard_normal(self.dim).astype(np.float32)
            self.vectors[i] = v / np.linalg.norm(v)
            new.append(i)
        return new

    def remove(self, ids: set[int]) -> None:
        self.rows = [r for r in self.rows if r.id not in ids]

    def chunks_for(self, kind: str) -> list[ChunkRow]:
        assert kind == "archive"
        return list(self.rows)

    def embed(self, rows: list[ChunkRow]) -> np.ndarray:
        self.calls += 1
        self.embedded.extend(r.id for r in rows)
        return np.stack([self.vectors[r.id] for r in rows])


def _top1(idx: ArchiveIndex, v: np.ndarray) -> tuple[int, float]:
    scores, ids = idx.index.search(v.reshape(1, -1).astype(np.float32), 1)
    return int(ids[0, 0]), float(scores[0, 0])


def _no_embedding(rows: list[ChunkRow]) -> np.ndarray:
    raise AssertionError(f"nothing should be embedded, asked for {len(rows)} chunks")


def test_make_index_kinds() -> None:
    import faiss

    assert isinstance(faiss.downcast_index(make_index(8).index), faiss.IndexFlatIP)
    below = index_mod.HNSW_THRESHOLD - 1
    assert isinstance(faiss.downcast_index(make_index(8, expected_size=below).index), faiss.IndexFlatIP)
    at = index_mod.HNSW_THRESHOLD
    assert isinstance(faiss.downcast_index(make_index(8, expected_size=at).index), faiss.IndexHNSWFlat)
    assert isinstance(faiss.downcast_index(make_index(8, kind="hnsw").index), faiss.IndexHNSWFlat)
    assert isinstance(faiss.downcast_index(make_index(8, kind="flat", expected_size=60_000).index), faiss.IndexFlatIP)
    with pytest.raises(ValueError):
        make_index(8, kind="ivf")


def test_sync_adds_then_removes_and_search_finds_each_vector(tmp_path: Path) -> None:
    store = FakeStore(40)
    idx = ArchiveIndex.open(tmp_path / "m.faiss", dim=DIM, model_name=MODEL)
    assert idx.ntotal == 0
    assert idx.sync(store, store.embed) == (40, 0)
    assert idx.ntotal == 40 and idx.ids() == set(store.vectors)
    for i, v in store.vectors.items():
        got, score = _top1(idx, v)
        assert got == i
        assert score == pytest.approx(1.0, abs=1e-5)

    gone = {3, 17, 40}
    store.remove(gone)
    store.embedded.clear()
    assert idx.sync(store, store.embed) == (0, 3)
    assert store.embedded == []
    assert idx.ntotal == 37 and not gone & idx.ids()
    _, ids = idx.index.search(np.stack([store.vectors[i] for i in gone]), 37)
    assert not gone & set(ids.ravel().tolist())

    new = store.add(5)
    assert idx.sync(store, store.embed) == (5, 0)
    assert store.embedded == new
    assert idx.sync(store, _no_embedding) == (0, 0)


def test_sync_embeds_in_batches(tmp_path: Path) -> None:
    store = FakeStore(2500, dim=4)
    idx = ArchiveIndex.open(tmp_path / "m.faiss", dim=4, model_name=MODEL)
    assert idx.sync(store, store.embed) == (2500, 0)
    assert store.calls == 3  # 1024 + 1024 + 452


def test_sync_rejects_vectors_of_the_wrong_shape(tmp_path: Path) -> None:
    store = FakeStore(3)
    idx = ArchiveIndex.open(tmp_path / "m.faiss", dim=DIM, model_name=MODEL)
    with pytest.raises(ValueError, match="shape"):
        idx.sync(store, lambda rows: np.zeros((len(rows), DIM + 1), np.float32))


def test_persistence_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "m.faiss"
    store = FakeStore(30)
    ArchiveIndex.open(path, dim=DIM, model_name=MODEL).sync(store, store.embed)
    meta = json.loads(path.with_suffix(".json").read_text())
    assert meta["model_name"] == MODEL and meta["dim"] == DIM and meta["ntotal"] == 30 and meta["kind"] == "flat"
    assert not [p.name for p in path.parent.iterdir() if p.name.endswith(".tmp")]

    again = ArchiveIndex.open(path, dim=DIM, model_name=MODEL)
    assert again.ntotal == 30 and again.ids() == set(store.vectors)
    assert again.sync(store, _no_embedding) == (0, 0)
    assert _top1(again, store.vectors[12])[0] == 12


@pytest.mark.parametrize("fix_checksum", [False, True], ids=["checksum-mismatch", "faiss-cannot-read"])
def test_corrupt_file_is_rebuilt_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, fix_checksum: bool
) -> None:
    path = tmp_path / "m.faiss"
    store = FakeStore(20)
    ArchiveIndex.open(path, dim=DIM, model_name=MODEL).sync(store, store.embed)
    garbage = b"\x00garbage, bukan indeks FAISS\xff" * 50
    path.write_bytes(garbage)
    if fix_checksum:  # a consistent sidecar: only faiss itself can tell the file is garbage
        meta = json.loads(path.with_suffix(".json").read_text())
        meta["checksum"] = index_mod._checksum(garbage)
        path.with_suffix(".json").write_text(json.dumps(meta))

    with caplog.at_level(logging.WARNING, logger="saring.index"):
        idx = ArchiveIndex.open(path, dim=DIM, model_name=MODEL)
    warnings = [r for r in caplog.records if r.name == "saring.index" and r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "rebuilt" in warnings[0].getMessage()
    assert idx.ntotal == 0

    store.embedded.clear()
    assert idx.sync(store, store.embed) == (20, 0)
    assert sorted(store.embedded) == sorted(store.vectors)
    for i in (1, 10, 20):
        assert _top1(idx, store.vectors[i])[0] == i

    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="saring.index"):
        reopened = ArchiveIndex.open(path, dim=DIM, model_name=MODEL)
    assert reopened.ntotal == 20 and not caplog.records


def test_silently_altered_file_fails_the_checksum(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "m.faiss"
    store = FakeStore(20)
    ArchiveIndex.open(path, dim=DIM, model_name=MODEL).sync(store, store.embed)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x40  # one flipped bit inside the stored vectors: faiss would still load it
    path.write_bytes(bytes(data))
    with caplog.at_level(logging.WARNING, logger="saring.index"):
        assert ArchiveIndex.open(path, dim=DIM, model_name=MODEL).ntotal == 0
    assert "checksum" in caplog.text


def test_missing_sidecar_means_rebuild(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "m.faiss"
    store = FakeStore(5)
    ArchiveIndex.open(path, dim=DIM, model_name=MODEL).sync(store, store.embed)
    path.with_suffix(".json").unlink()
    with caplog.at_level(logging.WARNING, logger="saring.index"):
        assert ArchiveIndex.open(path, dim=DIM, model_name=MODEL).ntotal == 0
    assert "rebuilt" in caplog.text


def test_dimension_or_model_mismatch_is_rebuilt(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "m.faiss"
    old = FakeStore(10, dim=8)
    ArchiveIndex.open(path, dim=8, model_name=MODEL).sync(old, old.embed)

    with caplog.at_level(logging.WARNING, logger="saring.index"):
        idx = ArchiveIndex.open(path, dim=DIM, model_name=MODEL)
    assert "dimension" in caplog.text and idx.ntotal == 0
    new = FakeStore(10, dim=DIM, seed=1)
    assert idx.sync(new, new.embed) == (10, 0)
    assert idx.index.d == DIM and _top1(idx, new.vectors[4])[0] == 4

    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="saring.index"):
        other = ArchiveIndex.open(path, dim=DIM, model_name="another-model")
    assert "another-model" in caplog.text and other.ntotal == 0


def test_empty_store_after_corruption_rewrites_the_file(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "m.faiss"
    path.write_bytes(b"rusak")
    empty = FakeStore(0)
    with caplog.at_level(logging.WARNING, logger="saring.index"):
        assert ArchiveIndex.open(path, dim=DIM, model_name=MODEL).sync(empty, _no_embedding) == (0, 0)
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="saring.index"):
        ArchiveIndex.open(path, dim=DIM, model_name=MODEL)
    assert not caplog.records  # the rebuilt (empty) index was saved, so no warning on every start


def test_hnsw_removal_rebuilds_without_re_embedding(tmp_path: Path) -> None:
    store = FakeStore(60)
    idx = ArchiveIndex.open(tmp_path / "m.faiss", dim=DIM, model_name=MODEL, kind="hnsw")
    assert idx.sync(store, store.embed) == (60, 0)
    assert idx.kind == "hnsw"
    store.remove({5, 6})
    assert idx.sync(store, _no_embedding) == (0, 2)
    assert idx.kind == "hnsw" and idx.ntotal == 58 and not {5, 6} & idx.ids()
    assert _top1(idx, store.vectors[30])[0] == 30


def test_auto_switches_to_hnsw_when_the_archive_grows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(index_mod, "HNSW_THRESHOLD", 50)
    store = FakeStore(40)
    path = tmp_path / "m.faiss"
    idx = ArchiveIndex.open(path, dim=DIM, model_name=MODEL)
    idx.sync(store, store.embed)
    assert idx.kind == "flat"
    store.embedded.clear()
    new = store.add(20)
    assert idx.sync(store, store.embed) == (20, 0)
    assert store.embedded == new  # the 40 kept vectors moved over without re-embedding
    assert idx.kind == "hnsw" and idx.ntotal == 60
    assert json.loads(path.with_suffix(".json").read_text())["kind"] == "hnsw"
    reopened = ArchiveIndex.open(path, dim=DIM, model_name=MODEL)
    assert reopened.kind == "hnsw" and _top1(reopened, store.vectors[55])[0] == 55


@pytest.mark.parametrize("n_queries", [1, 19, 20, 97])
def test_flat_search_finds_the_same_neighbours_as_numpy(n_queries: int) -> None:
    """The batch's chunk search through faiss (BLAS from 20 queries) ranks like the numpy product."""
    from screening.pipeline import exact_search

    store = FakeStore(600, dim=64, seed=3)
    vecs = np.stack([store.vectors[r.id] for r in store.rows])
    refs = [(r.owner_id, r.seq) for r in store.rows]
    rng = np.random.default_rng(7)
    q = vecs[rng.choice(len(vecs), n_queries, replace=False)] + 0.3 * rng.standard_normal((n_queries, 64))
    q = (q / np.linalg.norm(q, axis=1, keepdims=True)).astype(np.float32)
    got = index_mod.flat_search(vecs, refs)(q, 6)
    want = exact_search(vecs, refs)(q, 6)
    for g, w in zip(got, want, strict=True):
        assert [r for r, _ in g] == [r for r, _ in w]
        assert [s for _, s in g] == pytest.approx([s for _, s in w], abs=1e-5)
    assert index_mod.flat_search(np.zeros((0, 64), np.float32), [])(q, 6) == [[] for _ in range(n_queries)]


def test_batch_search_is_exact_below_the_threshold_and_hnsw_finds_near_copies_above() -> None:
    """A batch's chunks: exact search for small batches; HNSW (forced here) still finds every chunk's
    near copy (cosine >= 0.95, what a dense candidate needs) among 6,000 vectors."""
    from corpus.index import batch_search, flat_search

    rng = np.random.default_rng(3)
    base = rng.normal(size=(3000, 384)).astype(np.float32)
    base /= np.linalg.norm(base, axis=1, keepdims=True)
    near = base + 0.15 * rng.normal(size=base.shape).astype(np.float32) / np.sqrt(384)
    near /= np.linalg.norm(near, axis=1, keepdims=True)
    vectors = np.concatenate([base, near])
    refs = [("a" if i < 3000 else "b", i % 3000) for i in range(len(vectors))]
    q = base[:200]
    exact = flat_search(vectors, refs)(q, 3)
    assert batch_search(vectors, refs)(q, 3) == exact  # below BATCH_HNSW_THRESHOLD: the exact search
    approx = batch_search(vectors, refs, kind="hnsw")(q, 3)
    for i, hits in enumerate(approx):
        assert ("b", i) in {r for r, s in hits if s >= 0.95}
    # the query itself and its near copy come first, as in the exact search (the rest is noise here)
    assert [[r for r, _ in h[:2]] for h in approx] == [[r for r, _ in h[:2]] for h in exact]


@pytest.mark.parametrize("make", ["flat", "hnsw"])
def test_a_search_holds_the_only_copy_of_its_vectors_and_keeps_it_valid(make: str) -> None:
    """The batch's chunk search exposes the vectors its index stores (equal to those given), as a read-only
    view that stays valid after the search object itself is gone (the documents point at it instead of
    keeping a second copy)."""
    import gc

    from corpus.index import flat_search, hnsw_search

    store = FakeStore(500, dim=64, seed=5)
    vecs = np.stack([store.vectors[r.id] for r in store.rows])
    refs = [(r.owner_id, r.seq) for r in store.rows]
    search = (flat_search if make == "flat" else hnsw_search)(vecs.copy(), refs)
    held = search.vectors
    assert np.array_equal(held, vecs) and not np.shares_memory(held, vecs)
    assert not held.flags.writeable
    part = held[100:110]
    del search, held
    gc.collect()
    # indexes of the same size over other vectors would take the memory, had it been freed
    others = [flat_search(np.full_like(vecs, 0.5), refs) for _ in range(20)]
    assert np.array_equal(part, vecs[100:110]) and len(others) == 20


def test_the_archive_index_gives_its_stored_vectors_by_id(tmp_path: Path) -> None:
    """`stored()` lists the chunk ids in storage order with the (L2-normalised) vectors stored for them,
    for a flat and an HNSW index, and after chunks were removed."""
    store = FakeStore(40)
    for kind in ("flat", "hnsw"):
        idx = ArchiveIndex(tmp_path / f"{kind}.faiss", dim=DIM, model_name=MODEL, kind=kind)
        idx.sync(store, store.embed)
        stored = idx.stored()
        assert stored is not None
        ids, held = stored
        assert sorted(ids.tolist()) == sorted(r.id for r in store.rows)
        for i, v in zip(ids.tolist(), held, strict=True):
            assert np.allclose(v, store.vectors[i], atol=1e-6)
    assert ArchiveIndex(tmp_path / "empty.faiss", dim=DIM, model_name=MODEL).stored() is None
