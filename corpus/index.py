"""The persisted FAISS index of archive chunk vectors, keyed by the store's chunk ids.

The store is the source of truth: the index file is a cache that `sync` brings in line with the
store's chunks, and that is rebuilt from the store whenever it is missing, corrupt or stale.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Literal, Protocol

import faiss
import numpy as np

from corpus.store import ChunkRow

log = logging.getLogger("saring.index")

IndexKind = Literal["auto", "flat", "hnsw"]

HNSW_THRESHOLD = 250_000
"""With kind="auto", exact (flat) search below this many vectors, HNSW at and above it. Flat answers a
top-10 query at 100,000 chunks in 17 ms p95 on two idle cores (eval/PERFORMANCE.md), so it stays under the
50 ms target up to ~250,000 chunks (a 10,000-entry archive) with exact results; HNSW is faster but its
recall must first be measured on real archive vectors."""
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 80
HNSW_EF_SEARCH = 64
ADD_BATCH = 1024
"""Chunks embedded and added per step, bounding memory on large archives."""
BLAS_MIN_QUERIES = 20
"""Flat searches with at least this many queries go through BLAS matrix products. faiss 1.15 defaults to
128,000, i.e. one SIMD scan per query: 97 queries (one proposal's chunks) against 220,000 vectors took
1.26 s that way and 0.17 s through BLAS on this 2-core machine (eval/PERFORMANCE.md)."""
faiss.cvar.distance_compute_blas_threshold = BLAS_MIN_QUERIES
FORMAT = 1
"""Sidecar format version; a sidecar of another version means a rebuild."""


class IndexCorruptError(RuntimeError):
    """The index file or its sidecar cannot be trusted (unreadable, checksum, dimension or model mismatch)."""


class ChunkSource(Protocol):
    """What `sync` needs from the store."""

    def chunks_for(self, kind: str) -> list[ChunkRow]: ...


def resolve_kind(kind: str, size: int) -> Literal["flat", "hnsw"]:
    """The concrete index structure for a requested kind and number of vectors."""
    if kind == "flat":
        return "flat"
    if kind == "hnsw":
        return "hnsw"
    if kind == "auto":
        return "hnsw" if size >= HNSW_THRESHOLD else "flat"
    raise ValueError(f"unknown index kind {kind!r}; use auto, flat or hnsw")


def make_index(dim: int, *, kind: str = "auto", expected_size: int = 0) -> Any:
    """An empty inner-product index with external ids (IndexIDMap2); vectors are L2-normalised,
    so scores are cosines. Exact search for small archives, HNSW32 for large ones."""
    if dim <= 0:
        raise ValueError(f"index dimension must be positive, got {dim}")
    base: Any
    if resolve_kind(kind, expected_size) == "hnsw":
        base = faiss.IndexHNSWFlat(dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
        base.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
        base.hnsw.efSearch = HNSW_EF_SEARCH
    else:
        base = faiss.IndexFlatIP(dim)
    return faiss.IndexIDMap2(base)


def _kind_of(index: Any) -> Literal["flat", "hnsw"]:
    inner = faiss.downcast_index(index.index)
    return "hnsw" if isinstance(inner, faiss.IndexHNSW) else "flat"


def _checksum(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=20).hexdigest()


def _write_atomic(path: Path, data: bytes) -> None:
    """Write to a temporary file beside `path`, flush to disk, then rename over it."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class ArchiveIndex:
    """A FAISS index of archive chunk vectors persisted at `path`, with a JSON sidecar describing it."""

    def __init__(self, path: Path, *, dim: int, model_name: str, kind: str = "auto", index: Any = None) -> None:
        resolve_kind(kind, 0)  # validates the name
        self.path = Path(path)
        self.dim = dim
        self.model_name = model_name
        self.requested_kind = kind
        self.index: Any = index if index is not None else make_index(dim, kind=kind)
        self._ids: set[int] = {int(i) for i in faiss.vector_to_array(self.index.id_map)}
        self._dirty = index is None  # nothing trustworthy on disk yet: the next sync writes the file
        self._lock = threading.Lock()

    @property
    def sidecar(self) -> Path:
        return self.path.with_suffix(".json")

    @property
    def kind(self) -> Literal["flat", "hnsw"]:
        return _kind_of(self.index)

    @property
    def ntotal(self) -> int:
        return int(self.index.ntotal)

    def ids(self) -> set[int]:
        """The chunk ids currently in the index."""
        with self._lock:
            return set(self._ids)

    @classmethod
    def open(cls, path: Path, *, dim: int, model_name: str, kind: str = "auto") -> ArchiveIndex:
        """Load the index at `path`; if it is missing or cannot be trusted, start empty (sync refills it)."""
        path = Path(path)
        if not path.exists():
            log.info("archive index %s does not exist yet; it will be built from the store", path)
            return cls(path, dim=dim, model_name=model_name, kind=kind)
        try:
            index = cls._load(path, dim=dim, model_name=model_name)
        except IndexCorruptError as exc:
            log.warning("archive index %s is unusable (%s); it will be rebuilt from the store", path, exc)
            return cls(path, dim=dim, model_name=model_name, kind=kind)
        return cls(path, dim=dim, model_name=model_name, kind=kind, index=index)

    @staticmethod
    def _load(path: Path, *, dim: int, model_name: str) -> Any:
        """Read and verify the index file against its sidecar; IndexCorruptError if anything is off."""
        sidecar = path.with_suffix(".json")
        try:
            meta = json.loads(sidecar.read_text(encoding="utf-8"))
            data = path.read_bytes()
        except FileNotFoundError as exc:
            raise IndexCorruptError(f"{exc.filename} is missing") from exc
        except (OSError, ValueError) as exc:
            raise IndexCorruptError(f"cannot read: {exc}") from exc
        if not isinstance(meta, dict) or meta.get("format") != FORMAT:
            raise IndexCorruptError(f"sidecar {sidecar.name} has an unknown format")
        if meta.get("checksum") != _checksum(data):
            raise IndexCorruptError("checksum mismatch (partly written or altered file)")
        if meta.get("model_name") != model_name:
            raise IndexCorruptError(f"built for model {meta.get('model_name')!r}, not {model_name!r}")
        if meta.get("dim") != dim:
            raise IndexCorruptError(f"dimension {meta.get('dim')} does not match the model's {dim}")
        try:
            index = faiss.deserialize_index(np.frombuffer(data, dtype=np.uint8))
        except RuntimeError as exc:  # faiss raises RuntimeError on garbage
            raise IndexCorruptError(f"faiss cannot read it: {str(exc).splitlines()[0][:200]}") from exc
        if not isinstance(index, faiss.IndexIDMap2):
            raise IndexCorruptError(f"unexpected index type {type(index).__name__}")
        if index.d != dim or index.ntotal != meta.get("ntotal"):
            raise IndexCorruptError(f"contents (d={index.d}, ntotal={index.ntotal}) do not match the sidecar")
        inner = faiss.downcast_index(index.index)
        if isinstance(inner, faiss.IndexHNSW):
            inner.hnsw.efSearch = HNSW_EF_SEARCH
        return index

    def save(self) -> None:
        """Persist atomically: the index file first, then the sidecar holding its checksum."""
        with self._lock:
            self._save_locked()

    def _save_locked(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        data = faiss.serialize_index(self.index).tobytes()
        meta = {
            "format": FORMAT,
            "model_name": self.model_name,
            "dim": self.dim,
            "ntotal": int(self.index.ntotal),
            "kind": self.kind,
            "checksum": _checksum(data),
        }
        _write_atomic(self.path, data)
        _write_atomic(self.sidecar, json.dumps(meta, indent=2).encode("utf-8"))
        self._dirty = False

    def stored(self) -> tuple[np.ndarray, np.ndarray] | None:
        """(chunk ids in storage order, the vectors stored for them as a read-only view that keeps the
        index alive), or None when the index is empty. Valid until the next `sync` adds to the index."""
        held = stored_vectors(self.index)
        if held is None:
            return None
        return faiss.vector_to_array(self.index.id_map).astype(np.int64), held

    def search(self, q: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Top-k (scores, chunk ids) per query row; ids are -1 where fewer than k vectors exist."""
        q = np.ascontiguousarray(np.atleast_2d(q), dtype=np.float32)
        scores, ids = self.index.search(q, k)
        return scores, ids

    def sync(self, store: ChunkSource, embed_fn: Callable[[list[ChunkRow]], np.ndarray]) -> tuple[int, int]:
        """Make the index hold exactly the store's archive chunks: drop ids gone from the store, embed
        and add the missing ones, and save if anything changed. Returns (added, removed)."""
        rows = store.chunks_for("archive")
        with self._lock:
            want = {r.id for r in rows}
            stale = self._ids - want
            missing = [r for r in rows if r.id not in self._ids]
            target = resolve_kind(self.requested_kind, len(rows))
            if not stale and not missing and target == self.kind:
                if self._dirty:
                    self._save_locked()
                return 0, 0
            if target != self.kind or (stale and self.kind == "hnsw"):
                self._rebuild_locked(target, keep=sorted(self._ids & want), expected_size=len(rows))
            elif stale:
                self.index.remove_ids(faiss.IDSelectorBatch(np.fromiter(stale, dtype=np.int64, count=len(stale))))
                self._ids -= stale
            for i in range(0, len(missing), ADD_BATCH):
                batch = missing[i : i + ADD_BATCH]
                self._add_locked(batch, embed_fn(batch))
            self._save_locked()
            n_add, n_del = len(missing), len(stale)
            log.info("archive index %s: %d added, %d removed, %d total", self.path, n_add, n_del, self.ntotal)
            return len(missing), len(stale)

    def _rebuild_locked(self, kind: str, *, keep: Sequence[int], expected_size: int) -> None:
        """A fresh index of `kind` holding the vectors of `keep` (HNSW cannot delete; kinds switch with size)."""
        vectors = self.index.reconstruct_batch(np.asarray(keep, dtype=np.int64)) if keep else None
        self.index = make_index(self.dim, kind=kind, expected_size=expected_size)
        self._ids = set()
        if vectors is not None:
            ids = np.asarray(keep, dtype=np.int64)
            self.index.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32), ids)
            self._ids.update(int(i) for i in keep)

    def _add_locked(self, rows: Sequence[ChunkRow], vectors: np.ndarray) -> None:
        x = np.array(vectors, dtype=np.float32, copy=True)
        if x.ndim != 2 or x.shape != (len(rows), self.dim):
            raise ValueError(f"embed_fn returned shape {x.shape}, expected ({len(rows)}, {self.dim})")
        faiss.normalize_L2(x)  # cosine via inner product, whatever the embedder returned
        ids = np.fromiter((r.id for r in rows), dtype=np.int64, count=len(rows))
        self.index.add_with_ids(x, ids)
        self._ids.update(int(i) for i in ids)


BATCH_HNSW_THRESHOLD = 100_000
"""A batch's own chunk vectors are searched approximately (HNSW) from this many on (about 1,000 proposals):
exhaustive search grows with the batch (0.03 s per proposal at 250 proposals, 0.35 s at 2,500)."""
BATCH_HNSW_EF_SEARCH = 128
"""Candidates explored per query; recall@10 against exact search is measured by `python -m eval.ann`."""


def batch_search(vectors: np.ndarray, refs: list[tuple[str, int]], *, kind: str = "auto") -> IndexSearch:
    """Nearest-neighbour search over a batch's chunk vectors: exact (`flat_search`) for small batches,
    HNSW from BATCH_HNSW_THRESHOLD vectors on (or always/never with kind hnsw/flat)."""
    if kind == "flat" or (kind == "auto" and len(refs) < BATCH_HNSW_THRESHOLD) or not len(refs):
        return flat_search(vectors, refs)
    return hnsw_search(vectors, refs)


class _Held:
    """Keeps a faiss index alive for as long as a numpy view of the vectors it stores exists."""

    def __init__(self, index: Any, address: int, shape: tuple[int, int]) -> None:
        self.index = index
        self.__array_interface__ = {"data": (address, True), "shape": shape, "typestr": "<f4", "version": 3}


def stored_vectors(index: Any) -> np.ndarray | None:
    """The float32 vectors a flat or HNSW-flat index (bare or under an id map) stores, in storage order,
    as a read-only view that keeps the index alive: callers then need no second copy of them (at 10,000
    archive entries each copy is 415 MiB). None for other index kinds or an empty index. The view is
    valid while nothing more is added to the index (a vector that grows may move)."""
    inner: Any = faiss.downcast_index(index)
    if hasattr(inner, "id_map"):
        inner = faiss.downcast_index(inner.index)
    if isinstance(inner, faiss.IndexHNSW):
        inner = faiss.downcast_index(inner.storage)
    if not isinstance(inner, faiss.IndexFlat) or inner.ntotal == 0:
        return None
    n, d = int(inner.ntotal), int(inner.d)
    address = int(faiss.rev_swig_ptr(inner.get_xb(), n * d).__array_interface__["data"][0])
    out = np.asarray(_Held(index, address, (n, d)))
    out.flags.writeable = False
    return out


class IndexSearch:
    """Nearest-neighbour search over an in-memory faiss index built from `vectors` (row i is refs[i]).
    `vectors` is the index's own storage, so the caller can drop its copy of them."""

    def __init__(self, index: Any, vectors: np.ndarray, refs: list[tuple[str, int]]) -> None:
        self.index = index
        self.refs = refs
        if len(refs):
            index.add(np.ascontiguousarray(vectors, dtype=np.float32))
        held = stored_vectors(index)
        self.vectors: np.ndarray = held if held is not None else vectors

    def __call__(self, q: np.ndarray, k: int) -> list[list[tuple[tuple[str, int], float]]]:
        if not self.refs or len(q) == 0:
            return [[] for _ in range(len(q))]
        scores, ids = self.index.search(np.ascontiguousarray(q, dtype=np.float32), min(k, len(self.refs)))
        return [
            [(self.refs[int(i)], float(s)) for s, i in zip(srow, irow, strict=True) if i >= 0]
            for srow, irow in zip(scores, ids, strict=True)
        ]


def hnsw_search(
    vectors: np.ndarray, refs: list[tuple[str, int]], *, ef_search: int = BATCH_HNSW_EF_SEARCH
) -> IndexSearch:
    """Approximate inner-product search (HNSW, M=32) over `vectors`."""
    index = faiss.IndexHNSWFlat(vectors.shape[1], HNSW_M, faiss.METRIC_INNER_PRODUCT)
    index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
    index.hnsw.efSearch = ef_search
    return IndexSearch(index, vectors, refs)


def flat_search(vectors: np.ndarray, refs: list[tuple[str, int]]) -> IndexSearch:
    """Exact inner-product search over a batch's chunk vectors with a faiss flat index: the same hits
    as a numpy product, about twice as fast from ~100,000 vectors (97 queries against 243,000 vectors:
    0.17 s against 0.36 s on two cores)."""
    return IndexSearch(faiss.IndexFlatIP(vectors.shape[1] if vectors.ndim == 2 else 1), vectors, refs)
