"""Similar past innovations: hybrid retrieval (dense document vectors + lexical TF-IDF over lemmas), a
readable score 0-100 with stated levels and a cut-off below which nothing is listed, the reason for each
match (shared key terms, best matching passage), and a novelty estimate against past top innovations."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer

from models.text import tokenize
from screening.features import DocFeatures
from screening.params import SimilarityParams
from screening.proposal import Proposal
from screening.results import MatchReason, Similar, SimilarityLevel

PASSAGE_CHARS = 400
"""Longest passage shown as a reason (longer ones are cut at a word boundary)."""


def _clip(text: str, limit: int = PASSAGE_CHARS) -> str:
    piece = " ".join(text.split())
    return piece if len(piece) <= limit else piece[: limit - 1].rsplit(" ", 1)[0] + " …"


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


@dataclass
class ArchiveScores:
    """One text's scores against every archive entry (excluded entries are -inf / 0)."""

    dense: np.ndarray
    """Cosine of the text's document vector to each entry's."""
    lexical: np.ndarray
    """Tf-idf cosine (content lemmas and lemma bigrams) of the text to each entry."""
    baseline: float
    """The median dense cosine of the text to the (non-excluded) archive: what "unrelated" looks like for it."""
    readable: np.ndarray
    """The readable score 0-100 (`readable_score`)."""
    rrf: np.ndarray
    """Reciprocal-rank fusion of the dense and lexical rankings (0 outside both candidate lists)."""


def readable_score(dense: np.ndarray, lexical: np.ndarray, baseline: float, params: SimilarityParams) -> np.ndarray:
    """100 * sigmoid(bias + w_dense * (cosine - baseline) + w_lexical * tf-idf cosine), rounded to 0.1.

    The dense cosine counts by how far it stands out from the text's median cosine to the archive: e5
    document cosines sit in a narrow band whose level moves with the text's length and style, while the
    distance from the median separates the same or a related innovation from the rest (eval/CALIBRATION.md)."""
    z = params.score_bias + params.score_dense_weight * (dense - baseline) + params.score_lexical_weight * lexical
    with np.errstate(over="ignore", invalid="ignore"):
        out = 100.0 / (1.0 + np.exp(-np.nan_to_num(z, nan=-50.0, neginf=-50.0, posinf=50.0)))
    return np.round(out, 1)


def level_of(score: float, params: SimilarityParams) -> SimilarityLevel | None:
    """The stated level of a readable score: sama, terkait, lemah (listed) or None (below the cut-off)."""
    if score >= params.level_same:
        return "sama"
    if score >= params.level_related:
        return "terkait"
    if score >= params.cutoff:
        return "lemah"
    return None


def _display(term: str) -> str:
    return term.replace("_", " ")


class ArchiveCatalog:
    """Past innovations ready for retrieval: their document vectors and a TF-IDF matrix (and, for the
    reasons shown with each match, their chunks and chunk vectors)."""

    def __init__(
        self,
        entries: Sequence[Proposal],
        doc_vectors: np.ndarray,
        *,
        params: SimilarityParams,
        features: Sequence[DocFeatures | None] | None = None,
    ) -> None:
        if len(entries) != len(doc_vectors):
            raise ValueError(f"{len(entries)} archive entries but {len(doc_vectors)} document vectors")
        self.entries = list(entries)
        self.params = params
        self.doc_vectors = np.asarray(doc_vectors, dtype=np.float32)
        self.top_mask = np.array([e.status in params.top_statuses for e in self.entries], dtype=bool)
        self.features: list[DocFeatures | None] = list(features) if features is not None else [None] * len(entries)
        self._tfidf: TfidfVectorizer | None = None
        self._terms: np.ndarray | None = None
        self._chunk_tfidf: dict[int, Any] = {}
        if self.entries:
            self._tfidf = TfidfVectorizer(analyzer=lexical_terms, sublinear_tf=True, min_df=1)
            self._matrix = self._tfidf.fit_transform([e.text for e in self.entries])

    def __len__(self) -> int:
        return len(self.entries)

    def _exclude(self, exclude: str | Collection[str] | None) -> np.ndarray:
        ids = {exclude} if isinstance(exclude, str) else set(exclude or ())
        return np.array([e.id in ids for e in self.entries], dtype=bool)

    def scores(
        self, *, text: str, vector: np.ndarray, exclude: str | Collection[str] | None = None, query: Any = None
    ) -> ArchiveScores:
        """Dense, lexical, readable and RRF scores of a text against every entry. `query`: the text's tf-idf
        row when already computed."""
        n = len(self.entries)
        excl = self._exclude(exclude)
        dense = self.doc_vectors @ vector if vector.size and n else np.zeros(n, dtype=np.float32)
        assert self._tfidf is not None
        q = self._tfidf.transform([text]) if query is None else query
        lex = (self._matrix @ q.T).toarray().ravel()
        live = ~excl
        baseline = float(np.median(dense[live])) if live.any() else 0.0
        readable = readable_score(dense, lex, baseline, self.params)
        dense = np.where(excl, -np.inf, dense)
        lex = np.where(excl, -np.inf, lex)
        readable = np.where(excl, 0.0, readable)
        m = self.params.candidates_per_retriever
        rrf = np.zeros(n, dtype=np.float64)
        for sc in (dense, lex):
            order = np.argsort(-sc, kind="stable")[:m]
            for rank, i in enumerate(order):
                if np.isfinite(sc[i]) and sc[i] > 0:
                    rrf[i] += 1.0 / (self.params.rrf_k + rank + 1)
        return ArchiveScores(dense=dense, lexical=lex, baseline=baseline, readable=readable, rrf=rrf)

    def ranking(self, sc: ArchiveScores) -> list[int]:
        """Entry indices in the order the product lists them (`similarity.ranking`), before the cut-off."""
        if self.params.ranking == "rrf":
            cand = [int(i) for i in np.nonzero(sc.rrf > 0)[0]]
            return sorted(cand, key=lambda i: (-sc.rrf[i], -sc.readable[i], i))
        return [int(i) for i in np.lexsort((-sc.rrf, -sc.readable))]

    def search(
        self,
        *,
        text: str,
        vector: np.ndarray,
        k: int | None = None,
        exclude_id: str | Collection[str] | None = None,
        keep: Callable[[Proposal], bool] | None = None,
        query_chunks: Sequence[str] = (),
        query_vectors: np.ndarray | None = None,
        cutoff: bool = True,
    ) -> list[Similar]:
        """The k past innovations most like a text, each with its readable score, level and reason.
        Entries under the cut-off are not listed (`cutoff=False` lists them too, for evaluation); `keep`
        filters entries (year, cluster, outcome) before k applies. `query_chunks` / `query_vectors`: the
        text's chunks and their vectors, to find the best matching passage (else the whole text)."""
        if not self.entries:
            return []
        k = k or self.params.top_k
        assert self._tfidf is not None
        q = self._tfidf.transform([text])
        sc = self.scores(text=text, vector=vector, exclude=exclude_id, query=q)
        chosen: list[int] = []
        for i in self.ranking(sc):
            if len(chosen) >= k:
                break
            if not np.isfinite(sc.dense[i]) and not np.isfinite(sc.lexical[i]):
                continue
            if cutoff and sc.readable[i] < self.params.cutoff:
                if self.params.ranking == "score":
                    break  # ordered by the score: nothing after this reaches the cut-off
                continue
            if keep is not None and not keep(self.entries[i]):
                continue
            chosen.append(i)
        if not query_chunks:
            query_chunks = [text]
            query_vectors = vector.reshape(1, -1) if vector.size else None
        qc = self._tfidf.transform(list(query_chunks))
        out: list[Similar] = []
        for i in chosen:
            e = self.entries[i]
            score = float(sc.readable[i])
            out.append(
                Similar(
                    id=e.id,
                    judul=e.judul,
                    instansi=e.instansi,
                    tahun=e.tahun,
                    status=e.status,
                    score=score,
                    level=level_of(score, self.params),
                    rrf_score=round(float(sc.rrf[i]), 5),
                    dense_score=round(float(sc.dense[i]), 4),
                    lexical_score=round(float(sc.lexical[i]), 4),
                    reason=self.reason(i, q, query_chunks, qc, query_vectors),
                )
            )
        return out

    def shared_terms(self, i: int, query: Any) -> list[str]:
        """The key terms entry i shares with a text (its tf-idf row `query`), the most weighted first; a
        lemma bigram replaces the single lemmas it holds."""
        n = self.params.reason_terms
        if n == 0:
            return []
        assert self._tfidf is not None
        if self._terms is None:
            self._terms = self._tfidf.get_feature_names_out()
        prod = self._matrix[i].multiply(query).tocoo()
        if prod.nnz == 0:
            return []
        order = np.argsort(-prod.data, kind="stable")
        picked: list[str] = []
        for j in order:
            term = str(self._terms[prod.col[j]])
            words = term.split("_")
            if len(words) > 1:
                picked = [t for t in picked if t not in words]
            elif any(term in t.split("_") for t in picked):
                continue
            picked.append(term)
            if len(picked) >= n:
                break
        return [_display(t) for t in picked]

    def _entry_chunks(self, i: int) -> tuple[list[tuple[int, int]], Any, np.ndarray | None]:
        """Entry i's chunk spans, their tf-idf rows and vectors (the whole text when it has no features)."""
        d = self.features[i]
        text = self.entries[i].text
        spans = [(c.start, c.end) for c in d.chunks] if d is not None and d.chunks else [(0, len(text))]
        vecs = d.vectors if d is not None and d.vectors is not None and len(d.vectors) == len(spans) else None
        rows = self._chunk_tfidf.get(i)
        if rows is None:
            assert self._tfidf is not None
            rows = self._chunk_tfidf[i] = self._tfidf.transform([text[a:b] for a, b in spans])
        return spans, rows, vecs

    def reason(
        self, i: int, query: Any, chunks: Sequence[str], chunk_rows: Any, chunk_vectors: np.ndarray | None
    ) -> MatchReason:
        """Shared key terms and the best matching passage pair (tf-idf cosine plus embedding cosine of
        the text's chunks against the entry's) between a text and entry i."""
        spans, rows, vecs = self._entry_chunks(i)
        pair = (chunk_rows @ rows.T).toarray()
        if vecs is not None and chunk_vectors is not None and len(chunk_vectors) == len(chunks):
            pair = pair + chunk_vectors @ vecs.T
        qi, ei = np.unravel_index(int(np.argmax(pair)), pair.shape)
        a, b = spans[int(ei)]
        text = self.entries[i].text
        return MatchReason(
            terms=self.shared_terms(i, query),
            passage=_clip(text[a:b]),
            passage_start=a,
            passage_end=b,
            query_passage=_clip(chunks[int(qi)]),
        )

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
