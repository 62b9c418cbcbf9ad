"""Duplication and copying: candidate pairs from indexes (never all pairs), passage alignment with
offsets in both texts, template exclusion, and the relation between the two documents.

Pipeline for a set of documents:
1. `boilerplate_shingles`: shingles found in many documents (document frequency) or in declared
   template text are template, never evidence.
2. `candidate_pairs`: chunk pairs whose non-template shingle sets have Jaccard >= candidate_jaccard
   (exact, from a sparse chunk × shingle matrix) plus dense nearest neighbours of chunk embeddings.
3. `align` (screening/alignment.py): seeds (shingle runs, sentence pairs, embeddings, translations),
   clustered by gaps in both texts, filtered and merged: one passage per copied span, with its segments.
4. `classify_relation`: declared replication, same instansi, another region, or template only.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet

import numpy as np
from scipy import sparse

from screening.alignment import PairMatch as PairMatch
from screening.alignment import align as align
from screening.alignment import chunk_language, other_language
from screening.alignment import is_reportable as is_reportable
from screening.features import DocFeatures
from screening.params import DuplicationParams
from screening.proposal import Proposal, normalise_name
from screening.results import Duplicate, Relation
from screening.weights import ShingleSet as ShingleSet
from screening.weights import TermWeights as TermWeights
from screening.weights import chunk_template_share as chunk_template_share
from screening.weights import shingle_array, template_mask, term_df
from screening.weights import term_weights as term_weights

ChunkRef = tuple[str, int]
"""(document key, chunk number)."""

NeighbourSearch = Callable[[np.ndarray, int], list[list[tuple[ChunkRef, float]]]]
"""Given query vectors and k, the k nearest chunks of each (reference, cosine), best first."""


# ---------------------------------------------------------------- template text


def boilerplate_shingles(
    docs: Sequence[DocFeatures], *, params: DuplicationParams, declared: Iterable[int] = ()
) -> ShingleSet:
    """Shingles that are template text: in declared templates, or in at least
    max(boilerplate_min_docs, boilerplate_df * len(docs)) documents."""
    df = _shingle_df(docs)
    cut = template_cut(len(docs), params)
    out = {h for h, c in df.items() if c >= cut}
    out.update(declared)
    return ShingleSet(out)


def template_cut(n_docs: int, params: DuplicationParams) -> int:
    """How many documents a shingle must be in to count as template text."""
    return max(params.boilerplate_min_docs, int(np.ceil(params.boilerplate_df * n_docs)))


def _shingle_df(docs: Iterable[DocFeatures]) -> Counter[int]:
    df: Counter[int] = Counter()
    for d in docs:
        df.update(set(d.shingles.tolist()))
    return df


# ---------------------------------------------------------------- candidates


class ChunkShingles:
    """Which chunks hold which shingles, for a fixed list of chunks: a sparse shingle × chunk incidence
    matrix (scipy.sparse CSR). A few bytes per distinct chunk shingle, where a MinHash-LSH kept a Python
    object per band and chunk (about half of 7.5 GiB at 10,000 archive entries), and many chunks are
    looked up at once with one sparse product."""

    def __init__(self, chunks: Sequence[tuple[DocFeatures, int]]) -> None:
        self.refs: list[ChunkRef] = [(d.key, ci) for d, ci in chunks]
        sh_parts: list[np.ndarray] = []
        ch_parts: list[np.ndarray] = []
        for n, (d, ci) in enumerate(chunks):
            lo, hi = d.chunk_shingles[ci]
            if hi > lo:
                u = np.unique(d.shingles[lo:hi])
                sh_parts.append(u)
                ch_parts.append(np.full(len(u), n, dtype=np.int32))
        sh = np.concatenate(sh_parts) if sh_parts else np.zeros(0, np.uint64)
        ch = np.concatenate(ch_parts) if ch_parts else np.zeros(0, np.int32)
        self.vocab, rows = np.unique(sh, return_inverse=True)
        self.matrix = sparse.csr_matrix(
            (np.ones(len(sh), dtype=np.int32), (rows, ch)), shape=(len(self.vocab), len(self.refs))
        )
        self.sizes: np.ndarray = np.bincount(ch, minlength=len(self.refs)).astype(np.int32)
        """Distinct shingles of each chunk."""

    @classmethod
    def of_docs(cls, docs: Iterable[DocFeatures]) -> ChunkShingles:
        """Every chunk of the documents, in order."""
        return cls([(d, ci) for d in docs for ci in range(len(d.chunks))])

    def _rows(self, shingles: np.ndarray) -> np.ndarray:
        """Matrix rows of those of the shingles that some chunk holds."""
        if len(self.vocab) == 0 or len(shingles) == 0:
            return np.zeros(0, dtype=np.int64)
        pos = np.minimum(np.searchsorted(self.vocab, shingles), len(self.vocab) - 1)
        return pos[self.vocab[pos] == shingles]

    def counts(self, shingles: np.ndarray) -> np.ndarray:
        """How many of these distinct shingles each chunk holds."""
        rows = self._rows(shingles)
        if len(rows) == 0:
            return np.zeros(len(self.refs), dtype=np.int32)
        return np.asarray(self.matrix[rows].sum(axis=0), dtype=np.int32).ravel()

    def sizes_without(self, shingles: AbstractSet[int]) -> np.ndarray:
        """Distinct shingles of each chunk that are not among these (e.g. not template text)."""
        return self.sizes - self.counts(shingle_array(shingles))

    def shared(self, queries: Sequence[np.ndarray]) -> sparse.coo_matrix:
        """Shared-shingle counts of each query (an array of distinct shingles) with every chunk: a
        sparse queries × chunks matrix."""
        rows = [self._rows(q) for q in queries]
        indptr = np.concatenate([[0], np.cumsum([len(r) for r in rows])]).astype(np.int64)
        q = sparse.csr_matrix(
            (np.ones(int(indptr[-1]), dtype=np.int32), np.concatenate(rows) if rows else np.zeros(0, np.int64), indptr),
            shape=(len(queries), len(self.vocab)),
        )
        return (q @ self.matrix).tocoo()


class CandidateIndex:
    """Candidate chunk pairs: chunks whose non-template shingle sets have a Jaccard similarity of at least
    `candidate_jaccard`, found exactly (no MinHash approximation) from the shared-shingle counts of
    `ChunkShingles`. Chunks with fewer than 2 non-template shingles neither match nor are matched."""

    def __init__(
        self,
        parts: Sequence[tuple[ChunkShingles, np.ndarray]],
        *,
        params: DuplicationParams,
        boiler: AbstractSet[int],
    ) -> None:
        """`parts`: indexed chunks, each with the number of non-template shingles of every chunk under
        `boiler` (the template shingles the queries are masked with)."""
        self.parts = list(parts)
        self.params = params
        self.boiler = boiler

    @classmethod
    def build(
        cls, docs: Iterable[DocFeatures], *, params: DuplicationParams, boiler: AbstractSet[int]
    ) -> CandidateIndex:
        chunks = ChunkShingles.of_docs(docs)
        return cls([(chunks, chunks.sizes_without(boiler))], params=params, boiler=boiler)

    def matches(self, d: DocFeatures) -> list[tuple[int, ChunkRef]]:
        """(chunk number of d, matching chunk of another document) for every candidate chunk pair."""
        mask = template_mask(d, self.boiler)
        numbers: list[int] = []
        queries: list[np.ndarray] = []
        for ci, (lo, hi) in enumerate(d.chunk_shingles):
            vals = np.unique(d.shingles[lo:hi][~mask[lo:hi]])
            if len(vals) >= 2:
                numbers.append(ci)
                queries.append(vals)
        out: list[tuple[int, ChunkRef]] = []
        if not queries:
            return out
        qsize = np.array([len(q) for q in queries], dtype=np.float64)
        for chunks, sizes in self.parts:
            m = chunks.shared(queries)
            inter = m.data.astype(np.float64)
            union = qsize[m.row] + sizes[m.col] - inter
            ok = (sizes[m.col] >= 2) & (inter >= self.params.candidate_jaccard * union)
            for r, c in zip(m.row[ok].tolist(), m.col[ok].tolist(), strict=True):
                ref = chunks.refs[c]
                if ref[0] != d.key:
                    out.append((numbers[r], ref))
        return out

    def candidates(self, d: DocFeatures) -> set[str]:
        """Keys of the other documents with a candidate chunk pair."""
        return {ref[0] for _, ref in self.matches(d)}


class CollectionIndex:
    """A fixed collection (the archive) prepared once: document frequencies of its shingles and
    content terms, its template shingles, and its chunks' shingles. `extend(batch)` gives exactly what
    building over collection + batch from scratch gives, adjusting the collection chunks whose
    template status changes, so that screening one proposal does not recount 10,000 archive entries."""

    def __init__(
        self,
        docs: Sequence[DocFeatures],
        *,
        params: DuplicationParams,
        declared: Iterable[int],
        ignored_terms: Iterable[str] = (),
    ) -> None:
        self.params = params
        self.declared = frozenset(declared)
        self.ignored_terms = frozenset(ignored_terms)
        """Terms that weigh 0 in the term weights (the forms' heading words, `TermWeights`)."""
        self.docs = {d.key: d for d in docs}
        self.n_docs = len(self.docs)
        doc_sets = [np.unique(d.shingles) for d in docs]
        shingles, df = np.unique(np.concatenate(doc_sets) if doc_sets else np.zeros(0, np.uint64), return_counts=True)
        self.shingles: np.ndarray = shingles  # sorted distinct shingles of the collection
        self.df: np.ndarray = df.astype(np.int32)  # in how many documents each one is
        self.chunks = ChunkShingles.of_docs(docs)
        self.term_df, _ = term_df(docs)
        self.boiler = self._template(template_cut(self.n_docs, params), Counter())
        self.sizes = self.chunks.sizes_without(self.boiler)
        """Non-template shingles of each collection chunk under the collection's own template shingles."""

    def _df_of(self, hashes: np.ndarray) -> np.ndarray:
        """Collection document frequency of each hash (0 where the collection lacks it)."""
        if len(self.shingles) == 0:
            return np.zeros(len(hashes), dtype=np.int64)
        pos = np.minimum(np.searchsorted(self.shingles, hashes), len(self.shingles) - 1)
        return np.where(self.shingles[pos] == hashes, self.df[pos], 0).astype(np.int64)

    def _template(self, cut: int, extra: Counter[int]) -> ShingleSet:
        """Template shingles when `extra` (batch document frequencies) joins the collection."""
        out = set(self.shingles[self.df >= cut].tolist())
        if extra:
            hs = np.fromiter(extra.keys(), dtype=np.uint64, count=len(extra))
            cs = np.fromiter(extra.values(), dtype=np.int64, count=len(extra))
            out.update(hs[cs + self._df_of(hs) >= cut].tolist())
        out.update(self.declared)
        return ShingleSet(out)

    def extend(self, batch: Sequence[DocFeatures]) -> tuple[ShingleSet, CandidateIndex, TermWeights]:
        """Template shingles, candidate index and term weights of collection + batch."""
        if any(d.key in self.docs for d in batch):
            raise ValueError("a batch document has the key of a collection document")
        cut = template_cut(self.n_docs + len(batch), self.params)
        boiler = self._template(cut, _shingle_df(batch))
        sizes = self.sizes
        # A batch can make collection shingles template text (it adds documents that hold them) or
        # evidence again (a larger batch raises the cut): count them out of, or back into, the sizes.
        added, removed = boiler - self.boiler, self.boiler - boiler
        if added or removed:
            sizes = sizes - self.chunks.counts(shingle_array(added)) + self.chunks.counts(shingle_array(removed))
        own = ChunkShingles.of_docs(batch)
        parts = [(self.chunks, sizes), (own, own.sizes_without(boiler))]
        index = CandidateIndex(parts, params=self.params, boiler=boiler)
        return boiler, index, self.term_weights(batch)

    def term_weights(self, batch: Iterable[DocFeatures]) -> TermWeights:
        """`term_weights` over the collection plus some documents."""
        extra, n = term_df(batch)
        return TermWeights(self.term_df, extra, self.n_docs + n, ignored=self.ignored_terms)


def _shares_shingle(a: DocFeatures, ai: int, b: DocFeatures, bi: int, boiler: AbstractSet[int]) -> bool:
    """Chunk ai of a and chunk bi of b have a shingle in common that is not template text."""
    s, e = a.chunk_shingles[ai]
    t, f = b.chunk_shingles[bi]
    return any(h not in boiler for h in np.intersect1d(a.shingles[s:e], b.shingles[t:f]).tolist())


def candidate_pairs(
    queries: Sequence[DocFeatures],
    *,
    index: CandidateIndex,
    params: DuplicationParams,
    boiler: AbstractSet[int],
    neighbours: NeighbourSearch | None = None,
    docs: Mapping[str, DocFeatures] | None = None,
) -> set[tuple[str, str]]:
    """Document pairs (query key, other key) that share a chunk by shingle Jaccard (`index`) or by a
    dense neighbour with cosine >= candidate_cosine, or (when `docs` can look the neighbour up) by
    cluster_min_units chunks each of whose neighbours in that document, at cosine >= candidate_shared_cosine,
    shares a non-template shingle with it (a reworded paragraph keeps a phrase here and there: in a rewrite
    of the PAN dev corpus three sentences' nearest source sentences sit at 0.86-0.91 and share one shingle
    each; one sentence alone is no evidence for the aligner either), or by a neighbour in another language
    with cosine >= translated_cosine. Template chunks never make candidates."""
    pairs: set[tuple[str, str]] = set()
    for d in queries:
        pairs.update((d.key, other_key) for other_key in index.candidates(d))
    if neighbours is not None and params.dense_candidates_k > 0:
        # Below this cosine neither the shared-phrase rule nor the translation rule can make a pair.
        floor = min(params.candidate_shared_cosine, params.translated_cosine)
        for d in queries:
            if d.vectors is None or len(d.chunks) == 0:
                continue
            share = chunk_template_share(d, template_mask(d, boiler))
            rows = np.flatnonzero(share < 0.5)
            if len(rows) == 0:
                continue
            lang = chunk_language(d)
            hits = neighbours(d.vectors[rows], params.dense_candidates_k + 1)
            # Sentences of d whose neighbour in each other document shares a phrase with them.
            keeping: dict[str, set[int]] = {}
            for row, row_hits in zip(rows.tolist(), hits, strict=True):
                for (okey, oci), score in row_hits:
                    if okey == d.key or (d.key, okey) in pairs:
                        continue
                    if score >= params.candidate_cosine:
                        pairs.add((d.key, okey))
                        continue
                    other = docs.get(okey) if docs is not None and score >= floor else None
                    if other is None:
                        continue
                    if score >= params.candidate_shared_cosine and _shares_shingle(d, row, other, oci, boiler):
                        keeping.setdefault(okey, set()).add(row)
                        if len(keeping[okey]) >= params.cluster_min_units:
                            pairs.add((d.key, okey))
                            continue
                    if score >= params.translated_cosine and other_language(
                        int(lang[row]), int(chunk_language(other)[oci])
                    ):
                        pairs.add((d.key, okey))
    return pairs


# ---------------------------------------------------------------- relation


def _mentions(declaration: str, title: str) -> bool:
    """True when a replication declaration names a title (most of its words, in any order)."""
    t = set(normalise_name(title).split())
    if not t:
        return False
    d = set(normalise_name(declaration).split())
    return len(t & d) / len(t) >= 0.8


def declares_replication_of(p: Proposal, source: Proposal) -> bool:
    """`p` names `source` as the innovation it replicates (replikasi_dari or its inspirasi section)."""
    decl = " ".join(x for x in (p.replikasi_dari, p.bagian.get("inspirasi")) if x)
    if not decl:
        return False
    if source.id and source.id.lower() in decl.lower().split():
        return True
    return _mentions(decl, source.judul)


def same_instansi(a: Proposal, b: Proposal) -> bool:
    na, nb = normalise_name(a.instansi), normalise_name(b.instansi)
    return bool(na) and na == nb


def classify_relation(a: Proposal, b: Proposal, m: PairMatch) -> Relation:
    """How two documents with overlap relate; a declared replication is never copying."""
    if not m.passages:
        return "boilerplate"
    if declares_replication_of(a, b) or declares_replication_of(b, a):
        return "declared_replication"
    if same_instansi(a, b):
        return "same_instansi"
    return "other_region"


def to_duplicate(m: PairMatch, a: Proposal, b: Proposal, *, other_source: str, include_text: bool = True) -> Duplicate:
    """The evidence record for a's report about b."""
    return Duplicate(
        other_id=b.id,
        other_source="archive" if other_source == "archive" else "batch",
        other_judul=b.judul,
        other_instansi=b.instansi,
        other_tahun=b.tahun,
        other_tahun_implementasi=b.tahun_implementasi,
        relation=classify_relation(a, b, m),
        match_type=m.match_type(),
        share=round(m.share(), 4),
        other_share=round(m.share(other=True), 4),
        # every passage counts here (also one that is mostly a cited name: see is_reportable)
        longest_passage_words=m.longest_words(),
        passages=m.passages,
        template_passages=m.template_passages,
        other_text=b.text if include_text else None,
    )
