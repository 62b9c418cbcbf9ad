"""The embedder's in-memory memo never grows past its bound, and memoised vectors equal fresh ones."""

from __future__ import annotations

import numpy as np

from eval.benchmark import HashEmbedder
from models.embedder import CachedEmbedder

TEXTS = [
    "Layanan administrasi kependudukan keliling ke desa-desa terpencil.",
    "Aplikasi pengaduan masyarakat terhubung dengan semua dinas kabupaten.",
    "Posyandu remaja untuk pencegahan stunting sejak usia sekolah.",
    "Sistem antrean daring di puskesmas memangkas waktu tunggu pasien.",
    "Bank sampah desa mengolah plastik menjadi bahan bangunan.",
]


def test_memory_is_bounded_and_memoised_vectors_are_the_same() -> None:
    inner = HashEmbedder()
    cached = CachedEmbedder(inner, memory_items=3)
    first = cached.embed(TEXTS)
    assert len(cached._memory) == 3  # one call with 5 texts fills the memo only up to its bound
    again = cached.embed(TEXTS)
    assert np.allclose(first, again) and np.allclose(first, inner.embed(TEXTS))
    assert cached.computed == 5 + 2  # the 2 texts that did not fit were embedded again
