"""Shared evaluation plumbing: data paths, the cached embedder, parameters and text helpers."""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import re
from pathlib import Path
from typing import Any

from models.embedder import CachedEmbedder, Embedder, VectorCache, load_embedder
from screening.params import Parameters, default_parameters, load_parameters

REPO = Path(__file__).resolve().parents[1]
EVAL_DIR = Path(__file__).resolve().parent


def data_dir() -> Path:
    """Evaluation data (`../shared/data` beside the repository, or SARING_EVAL_DATA)."""
    return Path(os.environ.get("SARING_EVAL_DATA", REPO.parent / "shared" / "data"))


def pan_dir() -> Path:
    return data_dir() / "korpus-plagiarisme-indonesia"


def open_cache() -> VectorCache | None:
    """The on-disk embedding cache (corpus.store.Store at eval/.cache/embeddings.db), or None where the
    store cannot be opened (evaluation then embeds everything again)."""
    try:
        from corpus.store import Store
    except ImportError:
        return None
    try:
        return Store.open(f"sqlite:///{REPO / 'eval' / '.cache' / 'embeddings.db'}")
    except Exception:  # a broken cache must never stop an evaluation
        return None


_EMBEDDERS: dict[str, CachedEmbedder] = {}


def embedder(model: str | None = None, *, cache: bool = True) -> CachedEmbedder:
    """The configured embedding model behind an in-memory and (when available) on-disk cache."""
    key = f"{model}:{cache}"
    if key not in _EMBEDDERS:
        inner: Embedder = load_embedder(model or os.environ.get("SARING_EMBEDDING_MODEL"))
        _EMBEDDERS[key] = CachedEmbedder(inner, open_cache() if cache else None)
    return _EMBEDDERS[key]


def parameters(path: str | Path | None = None) -> Parameters:
    return load_parameters(path) if path else default_parameters()


def with_duplication(params: Parameters, **values: Any) -> Parameters:
    """A copy of params with some duplication thresholds replaced."""
    return params.model_copy(update={"duplication": params.duplication.model_copy(update=values)})


_SOFT_NL = re.compile(r"(?<!\n)\n(?!\n)")


def unwrap(text: str) -> str:
    """Join hard-wrapped lines inside paragraphs, keeping every character offset unchanged."""
    return _SOFT_NL.sub(" ", text.replace("\r", " "))


def read_text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def fmt(x: float, digits: int = 3) -> str:
    return "n/a" if x != x else f"{x:.{digits}f}"
