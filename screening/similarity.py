"""Similar past innovations: hybrid retrieval (dense document vectors + lexical TF-IDF over lemmas)
fused by reciprocal rank, and a novelty estimate against past top innovations."""

from __future__ import annotations

import itertools
from collections.abc import Collection, Sequence

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer

from models.text import tokenize
from screening.params import SimilarityParams
from screening.proposal import Proposal
from screening.results import Similar


def lexical_terms(text: str) -> list[str]:
    """Content lemmas plus adjacent-lemma bigrams: the lexical retriever's vocabulary."""
    words = [t.norm for t in tokenize(text) if not t.stop and len(t.norm) > 1 and not t.norm.isdigit()]
    return words + [f"{a}_{b}" for a, b in itertools.pairwise(words)]


def doc_vector(chunk_vectors: np.ndarray) -> np.ndarray:
    """A document's vector: the normalised mean of its chunk vectors."""
    if len(chunk_vectors) == 0:
        return np.zeros(chunk_vectors.shape[1] if chunk_vectors.ndim == 2 else 0, dtype=np.float32)
    v = chunk_vectors.mean(axis=0)
    n = float(np.linalg.norm(v))
    return (v / n if n > 0 else v).astype(np.float32)


class ArchiveCatalog:
    """Past innovations ready for retrieval: their document vectors and a TF-IDF matrix."""

    def __init__(self, entries: Sequence[Proposal], doc_vectors: np.ndarray, *, params: SimilarityParams) -> None:
        if len(entries) != len(doc_vectors):
            raise ValueError(f"{len(entries)} archive entries but {len(doc_vectors)} document vectors")
        self.entries = list(entries)
        self.params = params
        self.doc_vectors = np.asarray(doc_vectors, dtype=np.float32)
        self.top_mask = np.array([e.status in params.top_statuses for e in self.entries], dtype=bool)
        self._tfidf: TfidfVectorizer | None = None
        if self.entries:
            self._tfidf = TfidfVectorizer(analyzer=lexical_terms, sublinear_tf=True, min_df=1)
            self._matrix = self._tfidf.fit_transform([e.text for e in self.entries])

    def __len__(self) -> int:
        return len(self.entries)

    def _exclude(self, exclude: str | Collection[str] | None) -> np.ndarray:
        ids = {exclude} if isinstance(exclude, str) else set(exclude or ())
        return np.array([e.id in ids for e in self.entries], dtype=bool)

    def search(
        self, *, text: str, vector: np.ndarray, k: int | None = None, exclude_id: str | None = None
    ) -> list[Similar]:
        """Top-k past innovations for a text, fused from the dense and lexical rankings."""
        if not self.entries:
            return []
        k = k or self.params.top_k
        excl = self._exclude(exclude_id)
        dense = self.doc_vectors @ vector if vector.size else np.zeros(len(self.entries), dtype=np.float32)
        assert self._tfidf is not None
        lex = (self._matrix @ self._tfidf.transform([text]).T).toarray().ravel()
        dense = np.where(excl, -np.inf, dense)
        lex = np.where(excl, -np.inf, lex)
        m = self.params.candidates_per_retriever
        fused: dict[int, float] = {}
        for scores in (dense, lex):
            order = np.argsort(-scores, kind="stable")[:m]
            for rank, i in enumerate(order):
                if np.isfinite(scores[i]) and scores[i] > 0:
                    fused[int(i)] = fused.get(int(i), 0.0) + 1.0 / (self.params.rrf_k + rank + 1)
        best = sorted(fused.items(), key=lambda kv: -kv[1])[:k]
        out: list[Similar] = []
        for i, s in best:
            e = self.entries[i]
            out.append(
                Similar(
                    id=e.id,
                    judul=e.judul,
                    instansi=e.instansi,
                    tahun=e.tahun,
                    status=e.status,
                    score=round(s, 5),
                    dense_score=round(float(dense[i]), 4),
                    lexical_score=round(float(lex[i]), 4),
                )
            )
        return out

    def novelty(self, vector: np.ndarray, *, words: int, exclude: str | Collection[str] | None = None) -> float | None:
        """1 at or below the floor cosine to the closest past top innovation, 0 at or above the ceiling.
        None for texts under `novelty_min_words` (`words` long): the band was calibrated on whole proposals.
        `exclude`: the proposal itself and a declared replication source (a replication is judged on its
        faktor pembeda, not on novelty against its own source)."""
        mask = self.top_mask & ~self._exclude(exclude)
        if not mask.any() or not vector.size or words < self.params.novelty_min_words:
            return None
        best = float((self.doc_vectors[mask] @ vector).max())
        lo, hi = self.params.novelty_floor_cosine, self.params.novelty_ceiling_cosine
        return round(float(np.clip((hi - best) / (hi - lo), 0.0, 1.0)), 3)
