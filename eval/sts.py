"""Indonesian STS: Spearman correlation of the configured model's cosine with the gold score
(sts-indo test.tsv, Indonesian columns); other candidates via eval/embedding_candidates.py."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from eval.common import data_dir
from eval.embedding_candidates import load_sts, spearman
from models.embedder import Embedder


@dataclass
class StsResult:
    model: str
    pairs: int
    spearman: float


def run_sts(embedder: Embedder, *, limit: int | None = None) -> StsResult:
    """Spearman(cosine, gold) on the first `limit` pairs (all 2,577 usable pairs when None)."""
    left, right, gold = load_sts(data_dir(), limit)
    a = embedder.embed(left)
    b = embedder.embed(right)
    cos = np.einsum("ij,ij->i", a, b)
    return StsResult(embedder.name, len(gold), spearman(cos, gold))
