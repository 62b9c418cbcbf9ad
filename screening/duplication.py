"""Duplication and copying: candidate pairs from indexes (never all pairs), passage alignment with
offsets in both texts, template exclusion, and the relation between the two documents.

Pipeline for a set of documents:
1. `boilerplate_shingles`: shingles found in many documents (document frequency) or in declared
   template text are template, never evidence.
2. `candidate_pairs`: chunk pairs whose non-template shingle sets have Jaccard >= candidate_jaccard
   (exact, from a sparse chunk × shingle matrix) plus dense nearest neighbours of chunk embeddings.
3. `align`: seed-and-extend over shared shingles gives lexical passages (identical / edited);
   chunk pairs with high embedding cosine that no lexical passage covers give paraphrase passages.
4. `classify_relation`: declared replication, same instansi, another region, or template only.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from functools import cached_property

import numpy as np
from scipy import sparse

from screening.features import DocFeatures
from screening.params import DuplicationParams
from screening.proposal import Proposal, normalise_name
from screening.results import Duplicate, MatchType, Passage, Relation

_WORD = re.compile(r"[^\W_]+")

ChunkRef = tuple[str, int]
"""(document key, chunk number)."""

NeighbourSearch = Callable[[np.ndarray, int], list[list[tuple[ChunkRef, float]]]]
"""Given query vectors and k, the k nearest chunks of each (reference, cosine), best first."""


# ---------------------------------------------------------------- template text


class ShingleSet(frozenset[int]):
    """Shingle hashes (e.g. the template shingles of a batch) that also keep an array of themselves, made
    once, so that marking a document's template positions is one vectorised lookup per document pair."""

    @cached_property
    def array(self) -> np.ndarray:
        return np.fromiter(self, dtype=np.uint64, count=len(self))


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


def _mask(d: DocFeatures, boiler: AbstractSet[int]) -> np.ndarray:
    """True where a shingle of `d` is template text."""
    if not boiler or len(d.shingles) == 0:
        return np.zeros(len(d.shingles), dtype=bool)
    return np.isin(d.shingles, _array(boiler))


def chunk_template_share(d: DocFeatures, mask: np.ndarray) -> np.ndarray:
    """Share of each chunk's shingles that are template text (1.0 for chunks without shingles)."""
    if not d.chunk_shingles:
        return np.ones(0, dtype=np.float32)
    bounds = np.asarray(d.chunk_shingles, dtype=np.int64)
    sizes = bounds[:, 1] - bounds[:, 0]
    csum = np.concatenate([[0], np.cumsum(mask, dtype=np.int64)])
    counts = csum[bounds[:, 1]] - csum[bounds[:, 0]]
    out = np.ones(len(d.chunks), dtype=np.float32)
    has = sizes > 0
    out[has] = (counts[has] / sizes[has]).astype(np.float32)
    return out


# ---------------------------------------------------------------- candidates


def _array(shingles: AbstractSet[int]) -> np.ndarray:
    return shingles.array if isinstance(shingles, ShingleSet) else np.fromiter(shingles, np.uint64, len(shingles))


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
        return self.sizes - self.counts(_array(shingles))

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
        mask = _mask(d, self.boiler)
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

    def __init__(self, docs: Sequence[DocFeatures], *, params: DuplicationParams, declared: Iterable[int]) -> None:
        self.params = params
        self.declared = frozenset(declared)
        self.docs = {d.key: d for d in docs}
        self.n_docs = len(self.docs)
        doc_sets = [np.unique(d.shingles) for d in docs]
        shingles, df = np.unique(np.concatenate(doc_sets) if doc_sets else np.zeros(0, np.uint64), return_counts=True)
        self.shingles: np.ndarray = shingles  # sorted distinct shingles of the collection
        self.df: np.ndarray = df.astype(np.int32)  # in how many documents each one is
        self.chunks = ChunkShingles.of_docs(docs)
        self.term_df, _ = _term_df(docs)
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
            sizes = sizes - self.chunks.counts(_array(added)) + self.chunks.counts(_array(removed))
        own = ChunkShingles.of_docs(batch)
        parts = [(self.chunks, sizes), (own, own.sizes_without(boiler))]
        index = CandidateIndex(parts, params=self.params, boiler=boiler)
        return boiler, index, self.term_weights(batch)

    def term_weights(self, batch: Iterable[DocFeatures]) -> TermWeights:
        """`term_weights` over the collection plus some documents."""
        extra, n = _term_df(batch)
        return TermWeights(self.term_df, extra, self.n_docs + n)


def candidate_pairs(
    queries: Sequence[DocFeatures],
    *,
    index: CandidateIndex,
    params: DuplicationParams,
    boiler: AbstractSet[int],
    neighbours: NeighbourSearch | None = None,
) -> set[tuple[str, str]]:
    """Document pairs (query key, other key) that share a chunk by shingle Jaccard (`index`) or by a
    dense neighbour with cosine >= candidate_cosine. Template chunks never make candidates."""
    pairs: set[tuple[str, str]] = set()
    for d in queries:
        pairs.update((d.key, other_key) for other_key in index.candidates(d))
    if neighbours is not None and params.dense_candidates_k > 0:
        for d in queries:
            if d.vectors is None or len(d.chunks) == 0:
                continue
            share = chunk_template_share(d, _mask(d, boiler))
            rows = np.flatnonzero(share < 0.5)
            if len(rows) == 0:
                continue
            hits = neighbours(d.vectors[rows], params.dense_candidates_k + 1)
            for row_hits in hits:
                for (okey, _), score in row_hits:
                    if okey != d.key and score >= params.candidate_cosine:
                        pairs.add((d.key, okey))
    return pairs


# ---------------------------------------------------------------- alignment


@dataclass
class _Chain:
    i0: int
    i1: int
    j0: int
    j1: int
    jlast: int
    seeds: int


def _chains(a: DocFeatures, b: DocFeatures, a_ok: np.ndarray, b_ok: np.ndarray, gap: int) -> list[_Chain]:
    """Greedy seed chaining: shared shingles close together in both texts form one chain.
    Each open chain takes, at each position, the twin position that best continues its diagonal;
    new chains start only where no open chain continues (repeated phrases spawn few chains)."""
    # Only positions whose shingle both texts have (and may use) can seed: find them vectorised, as most
    # candidate pairs share a few dozen of a proposal's ~1,800 shingles.
    shared = np.intersect1d(a.shingles[a_ok], b.shingles[b_ok])
    if len(shared) == 0:
        return []
    pos_b: dict[int, list[int]] = defaultdict(list)
    b_sel = np.flatnonzero(b_ok & np.isin(b.shingles, shared))
    for j, h in zip(b_sel.tolist(), b.shingles[b_sel].tolist(), strict=True):
        if len(pos_b[h]) < 16:
            pos_b[h].append(j)
    chains: list[_Chain] = []
    active: list[_Chain] = []
    a_sel = np.flatnonzero(a_ok & np.isin(a.shingles, shared))
    for i, h in zip(a_sel.tolist(), a.shingles[a_sel].tolist(), strict=True):
        js = pos_b[h]
        active = [c for c in active if i - c.i1 <= gap + 1]
        extended = False
        for c in active:
            step = i - c.i1
            expected = c.jlast + step
            best_j, best_d = -1, gap + 2
            for j in js:
                d = abs(j - expected)
                if -gap <= j - c.jlast <= gap + step and d < best_d:
                    best_j, best_d = j, d
            if best_j >= 0:
                c.i1, c.jlast = i, best_j
                c.j0, c.j1 = min(c.j0, best_j), max(c.j1, best_j)
                c.seeds += 1
                extended = True
        if not extended:
            for j in js[:4]:
                c = _Chain(i, i, j, j, j, 1)
                chains.append(c)
                active.append(c)
    return _suppress(chains)


def _suppress(chains: list[_Chain]) -> list[_Chain]:
    """Keep the strongest chain where chains overlap in the first text (non-maximum suppression)."""
    kept: list[_Chain] = []
    for c in sorted(chains, key=lambda c: (-c.seeds, c.i0)):
        if all(min(c.i1, k.i1) - max(c.i0, k.i0) + 1 <= 0.5 * (c.i1 - c.i0 + 1) for k in kept):
            kept.append(c)
    return kept


def _merge_chains(chains: list[_Chain], gap: int, other_gap: int) -> list[_Chain]:
    """Merge chains adjacent in the first text whose twins lie close in the second text
    (reordered sentences of one copied passage stay one passage)."""
    chains = sorted(chains, key=lambda c: (c.i0, c.j0))
    out: list[_Chain] = []
    for c in chains:
        if out:
            p = out[-1]
            overlap = c.j0 <= p.j1 and p.j0 <= c.j1
            b_dist = 0 if overlap else max(c.j0, p.j0) - min(c.j1, p.j1)
            if c.i0 - p.i1 <= gap + 1 and b_dist <= other_gap:
                p.i1 = max(p.i1, c.i1)
                p.j0 = min(p.j0, c.j0)
                p.j1 = max(p.j1, c.j1)
                p.seeds += c.seeds
                continue
        out.append(_Chain(c.i0, c.i1, c.j0, c.j1, c.jlast, c.seeds))
    return out


def _words(text: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(text)]


def _lexical_passages(
    a: DocFeatures, b: DocFeatures, a_ok: np.ndarray, b_ok: np.ndarray, params: DuplicationParams
) -> list[Passage]:
    gap = params.max_gap
    chains = _merge_chains(_chains(a, b, a_ok, b_ok, gap), gap, other_gap=4 * gap + 10)
    out: list[Passage] = []
    for c in chains:
        s, e = a.shingle_span(c.i0, c.i1)
        os_, oe = b.shingle_span(c.j0, c.j1)
        words = a.words_between(s, e)
        if words < params.min_passage_words:
            continue
        span_len = c.i1 - c.i0 + 1
        score = min(1.0, c.seeds / span_len)
        mt: MatchType = "identical" if _words(a.text[s:e]) == _words(b.text[os_:oe]) else "edited"
        out.append(Passage(start=s, end=e, other_start=os_, other_end=oe, match_type=mt, score=score, words=words))
    return out


def _covered(spans: Iterable[tuple[int, int]], length: int) -> np.ndarray:
    cov = np.zeros(length + 1, dtype=bool)
    for s, e in spans:
        cov[s:e] = True
    return cov


class TermWeights(Mapping[str, float]):
    """Smoothed inverse document frequency of content lemmas, log(1 + N/df), over a collection counted
    once (`base`) plus a few more documents (`extra`); computed on lookup, so adding one proposal to
    a 10,000-entry archive does not rebuild a dictionary of its whole vocabulary."""

    def __init__(self, base: Mapping[str, int], extra: Mapping[str, int], n_docs: int) -> None:
        self._base = base
        self._extra = extra
        self.n_docs = n_docs
        lowest = [c + base.get(t, 0) for t, c in extra.items()]
        if base:
            low = min(base.values())
            if any(c == low and t not in extra for t, c in base.items()):
                lowest.append(low)
            else:
                lowest.extend(c + extra.get(t, 0) for t, c in base.items())
        # The weight of a term no document has: that of the rarest term (as unseen words are rare).
        self.default = math.log1p(n_docs / min(lowest)) if lowest else 1.0

    def get(self, term: str, default: float | None = None) -> float | None:  # type: ignore[override]
        c = self._base.get(term, 0) + self._extra.get(term, 0)
        return math.log1p(self.n_docs / c) if c else default

    def weight(self, term: str) -> float:
        """The term's weight, or `default` for a term no document has."""
        w = self.get(term)
        return self.default if w is None else w

    def __getitem__(self, term: str) -> float:
        w = self.get(term)
        if w is None:
            raise KeyError(term)
        return w

    def __iter__(self) -> Iterator[str]:
        yield from self._base
        yield from (t for t in self._extra if t not in self._base)

    def __len__(self) -> int:
        return len(self._base) + sum(1 for t in self._extra if t not in self._base)


def _term_df(docs: Iterable[DocFeatures]) -> tuple[Counter[str], int]:
    """In how many documents each content lemma is, and the number of documents."""
    df: Counter[str] = Counter()
    n = 0
    for d in docs:
        n += 1
        df.update(set(d.content_norms))
    return df, n


def term_weights(docs: Iterable[DocFeatures]) -> TermWeights:
    """Smoothed inverse document frequency of content lemmas, log(1 + N/df): words every proposal uses
    (inovasi, pelayanan, anggaran) count little as lexical support for a paraphrase, names and numbers much."""
    df, n = _term_df(docs)
    return TermWeights(df, {}, n)


def _support(terms_a: set[str], terms_b: set[str], weights: TermWeights | None) -> float:
    """Share of chunk a's content lemmas (weighted by `weights` when given) that chunk b also has."""
    if not terms_a:
        return 1.0
    if weights is None:
        return len(terms_a & terms_b) / len(terms_a)
    total = sum(weights.weight(t) for t in terms_a)
    return sum(weights.weight(t) for t in terms_a & terms_b) / total if total else 0.0


def _paraphrase_passages(
    a: DocFeatures,
    b: DocFeatures,
    lexical: list[Passage],
    a_tmpl: np.ndarray,
    b_tmpl: np.ndarray,
    params: DuplicationParams,
    weights: TermWeights | None = None,
) -> list[Passage]:
    """Chunk pairs with cosine >= paraphrase_cosine that no lexical passage covers and that share enough
    (IDF-weighted) content lemmas, merged when consecutive in both texts."""
    if a.vectors is None or b.vectors is None or not len(a.chunks) or not len(b.chunks):
        return []
    sims = a.vectors @ b.vectors.T
    best = np.argmax(sims, axis=1)
    # Only chunks whose nearest twin reaches the cosine can pair: most candidate documents have none.
    rows = np.flatnonzero(sims[np.arange(len(best)), best] >= params.paraphrase_cosine)
    if len(rows) == 0:
        return []
    cov_a = _covered(((p.start, p.end) for p in lexical), len(a.text))
    cov_b = _covered(((p.other_start, p.other_end) for p in lexical), len(b.text))
    pairs: list[tuple[int, int, float]] = []
    for ai in rows.tolist():
        chunk = a.chunks[ai]
        if a_tmpl[ai] >= 0.5 or chunk.words < params.paraphrase_min_words:
            continue
        if cov_a[chunk.start : chunk.end].mean() >= 0.5:
            continue
        bi = int(best[ai])
        score = float(sims[ai, bi])
        if b_tmpl[bi] >= 0.5:  # (every row left reaches paraphrase_cosine)
            continue
        bc = b.chunks[bi]
        if cov_b[bc.start : bc.end].mean() >= 0.5:
            continue
        if _support(a.chunk_terms(ai), b.chunk_terms(bi), weights) < params.paraphrase_min_overlap:
            continue
        pairs.append((ai, bi, score))
    out: list[Passage] = []
    group: list[tuple[int, int, float]] = []

    def flush() -> None:
        if not group:
            return
        s = a.chunks[group[0][0]].start
        e = a.chunks[group[-1][0]].end
        os_ = min(b.chunks[g[1]].start for g in group)
        oe = max(b.chunks[g[1]].end for g in group)
        words = sum(a.chunks[g[0]].words for g in group)
        score = float(np.mean([g[2] for g in group]))
        # The length rule holds on both sides, so the outcome does not depend on which text is `a`.
        shorter = min(words, b.words_between(os_, oe))
        if shorter < params.paraphrase_min_passage_words and score < params.paraphrase_strong_cosine:
            group.clear()
            return
        out.append(
            Passage(
                start=s,
                end=e,
                other_start=os_,
                other_end=oe,
                match_type="paraphrase",
                score=score,
                words=words,
            )
        )
        group.clear()

    for p in pairs:
        if group and (p[0] - group[-1][0] > 2 or abs(p[1] - group[-1][1]) > 3):
            flush()
        group.append(p)
    flush()
    return out


@dataclass
class PairMatch:
    """Aligned evidence between documents a and b (offsets: start/end in a, other_* in b)."""

    a: DocFeatures
    b: DocFeatures
    passages: list[Passage]
    template_passages: list[Passage]

    def share(self, *, other: bool = False) -> float:
        text = self.b.text if other else self.a.text
        if not text or not self.passages:
            return 0.0
        spans = ((p.other_start, p.other_end) if other else (p.start, p.end) for p in self.passages)
        return float(_covered(spans, len(text))[: len(text)].mean())

    def longest_words(self) -> int:
        return max((p.words for p in self.passages), default=0)

    def match_type(self) -> MatchType:
        by_type: Counter[str] = Counter()
        for p in self.passages or self.template_passages:
            by_type[p.match_type] += p.end - p.start
        if not by_type:
            return "edited"
        best = by_type.most_common(1)[0][0]
        return "identical" if best == "identical" else "paraphrase" if best == "paraphrase" else "edited"

    def swapped(self) -> PairMatch:
        def sw(p: Passage) -> Passage:
            return p.model_copy(
                update={
                    "start": p.other_start,
                    "end": p.other_end,
                    "other_start": p.start,
                    "other_end": p.end,
                    "words": self.b.words_between(p.other_start, p.other_end),
                }
            )

        return PairMatch(
            a=self.b,
            b=self.a,
            passages=sorted((sw(p) for p in self.passages), key=lambda p: p.start),
            template_passages=sorted((sw(p) for p in self.template_passages), key=lambda p: p.start),
        )


def align(
    a: DocFeatures,
    b: DocFeatures,
    *,
    params: DuplicationParams,
    boiler: AbstractSet[int],
    weights: TermWeights | None = None,
) -> PairMatch:
    """All passages shared by a and b: lexical (identical/edited), paraphrase, and template.
    `weights`: term weights of the collection (see term_weights); unweighted overlap when None."""
    a_mask, b_mask = _mask(a, boiler), _mask(b, boiler)
    lexical = _lexical_passages(a, b, ~a_mask, ~b_mask, params)
    para = _paraphrase_passages(
        a, b, lexical, chunk_template_share(a, a_mask), chunk_template_share(b, b_mask), params, weights
    )
    template: list[Passage] = []
    if boiler:
        tparams = params.model_copy(update={"min_passage_words": max(4, params.shingle_size + 1)})
        template = _lexical_passages(a, b, a_mask, b_mask, tparams)
    passages = sorted(lexical + para, key=lambda p: p.start)
    return PairMatch(a=a, b=b, passages=passages, template_passages=template)


def is_reportable(m: PairMatch, params: DuplicationParams) -> bool:
    """Worth showing: enough non-template overlap on either side, or one long passage."""
    if not m.passages:
        return False
    return (
        m.share() >= params.report_min_share
        or m.share(other=True) >= params.report_min_share
        or m.longest_words() >= params.report_min_passage_words
    )


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
        longest_passage_words=m.longest_words(),
        passages=m.passages,
        template_passages=m.template_passages,
        other_text=b.text if include_text else None,
    )
