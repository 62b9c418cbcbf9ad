"""Passage alignment between two documents in named stages, after the best PAN 2014 text-alignment
systems (Sanchez-Perez et al. 2014, "A winning approach to text alignment", and its 2015 adaptive
variant):

1. **seed**: aligned parts of both texts, each a `Seg` with offsets in both:
   runs of shared content-word shingles (`identical` / `edited`); sentence pairs whose tf-idf cosine and
   Dice coefficient on content lemmas both reach a threshold (reworded sentences, `paraphrase`); sentence
   pairs with a high embedding cosine and some lexical support (`paraphrase`); and sentence pairs in two
   different languages with a high multilingual embedding cosine (`translated`). Template text never seeds.
2. **extend**: seeds are clustered by their gaps, alternately in each text, until stable.
3. **filter**: a cluster is a passage when it has enough evidence (a long shingle run, or several
   sentence-level seeds over enough characters, or a long or very close paraphrase).
4. **merge**: passages close in *both* texts are merged, repeatedly, so that one copied span that was
   reordered or partly rewritten is one passage (a passage much longer in one text than in the other, a
   summary, widens that text's gap); overlapping passages are resolved so that none overlap or nest. Each
   passage keeps its parts as `segments`.

The sentence units are the embedding chunks of `models.text.chunk_spans` (sentences, short ones merged).
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from functools import cached_property
from typing import cast

import numpy as np
from scipy import sparse

from models.text import STOP_WORDS, is_inflected_indonesian
from screening.features import DocFeatures, word_hash
from screening.params import DuplicationParams
from screening.results import MatchType, Passage, Segment
from screening.weights import TermWeights, chunk_template_share, covered, support, template_mask

_WORD = re.compile(r"[^\W_]+")
_PRIORITY: dict[str, int] = {"identical": 0, "edited": 1, "paraphrase": 2, "translated": 3}


@dataclass(frozen=True, slots=True)
class Seg:
    """One aligned part: characters a0..a1 of the first text and b0..b1 of the second."""

    a0: int
    a1: int
    b0: int
    b1: int
    kind: MatchType
    score: float
    strong: bool = False
    """Evidence on its own (a shingle run of min_passage_words words, a very close paraphrase)."""
    source: str = "shingle"
    """Which seeding made it: shingle, sentence (tf-idf + Dice), embedding or translation."""

    @property
    def a_len(self) -> int:
        return self.a1 - self.a0

    @property
    def b_len(self) -> int:
        return self.b1 - self.b0


# ---------------------------------------------------------------- seed: shared shingle runs


@dataclass
class _Chain:
    i0: int
    i1: int
    j0: int
    j1: int
    jlast: int
    pairs: list[tuple[int, int]] = field(default_factory=list)
    """The seed positions (i in a, j in b) of the chain."""

    @property
    def seeds(self) -> int:
        return len(self.pairs)


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
                c.pairs.append((i, best_j))
                extended = True
        if not extended:
            for j in js[:4]:
                c = _Chain(i, i, j, j, j, [(i, j)])
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
    (reordered words of one copied sentence stay one run)."""
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
                p.pairs.extend(c.pairs)
                continue
        out.append(_Chain(c.i0, c.i1, c.j0, c.j1, c.jlast, list(c.pairs)))
    return out


def _words(text: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(text)]


def shingle_runs(
    a: DocFeatures, b: DocFeatures, a_ok: np.ndarray, b_ok: np.ndarray, params: DuplicationParams, *, min_words: int
) -> tuple[list[Seg], list[int], list[int]]:
    """Runs of shared shingles of at least `min_words` words (`strong` from min_passage_words on), and the
    positions of their matched shingles in each text (what the copied share counts)."""
    gap = params.max_gap
    out: list[Seg] = []
    pos_a: list[int] = []
    pos_b: list[int] = []
    for c in _merge_chains(_chains(a, b, a_ok, b_ok, gap), gap, other_gap=4 * gap + 10):
        s, e = a.shingle_span(c.i0, c.i1)
        os_, oe = b.shingle_span(c.j0, c.j1)
        words = a.words_between(s, e)
        if words < min_words:
            continue
        score = min(1.0, c.seeds / (c.i1 - c.i0 + 1))
        kind: MatchType = "identical" if _words(a.text[s:e]) == _words(b.text[os_:oe]) else "edited"
        out.append(Seg(s, e, os_, oe, kind, score, strong=words >= params.min_passage_words))
        pos_a.extend(i for i, _ in c.pairs)
        pos_b.extend(j for _, j in c.pairs)
    return out, pos_a, pos_b


# ---------------------------------------------------------------- seed: sentence pairs


def _chunk_terms(d: DocFeatures) -> tuple[np.ndarray, np.ndarray]:
    """Chunk number of each content token (-1 outside every chunk) and the token's lemma hash; cached."""
    cached = d.meta.get("_chunk_terms")
    if isinstance(cached, tuple):
        return cached
    starts = d.tok_start[d.content_pos] if len(d.content_pos) else np.zeros(0, dtype=np.int64)
    c_start = np.fromiter((c.start for c in d.chunks), dtype=np.int64, count=len(d.chunks))
    c_end = np.fromiter((c.end for c in d.chunks), dtype=np.int64, count=len(d.chunks))
    rows = np.searchsorted(c_start, starts, side="right") - 1
    inside = rows >= 0
    inside[inside] = starts[inside] < c_end[rows[inside]]
    rows = np.where(inside, rows, -1)
    hashes = np.fromiter(map(word_hash, d.content_norms), dtype=np.uint64, count=len(d.content_norms))
    d.meta["_chunk_terms"] = (rows, hashes)
    return rows, hashes


def _token_idf(d: DocFeatures, weights: TermWeights) -> np.ndarray:
    """The weight of each content token's lemma under `weights` (looked up once per distinct lemma)."""
    _, hashes = _chunk_terms(d)
    _, first, inv = np.unique(hashes, return_index=True, return_inverse=True)
    per_term = np.fromiter((weights.weight(d.content_norms[i]) for i in first.tolist()), dtype=np.float64)
    return per_term[inv.ravel()]


@dataclass(frozen=True)
class _Bags:
    """Each chunk's distinct lemmas (entries sorted by chunk): chunk number, lemma hash, tf-idf weight
    (L2-normalised per chunk), and the number of distinct lemmas of each chunk."""

    chunk: np.ndarray
    term: np.ndarray
    weight: np.ndarray
    sizes: np.ndarray
    ends: np.ndarray

    @cached_property
    def sentence_frequency(self) -> np.ndarray:
        """For each entry, how many of the document's chunks contain its lemma."""
        _, inverse, counts = np.unique(self.term, return_inverse=True, return_counts=True)
        return cast(np.ndarray, counts[inverse.ravel()].astype(np.float64))

    def _entries(self, ci: int) -> slice:
        end = int(self.ends[ci])
        return slice(end - int(self.sizes[ci]), end)

    def terms_of(self, ci: int) -> np.ndarray:
        """The sorted distinct lemma hashes of chunk ci."""
        return self.term[self._entries(ci)]

    def weights_of(self, ci: int) -> np.ndarray:
        """The tf-idf weights of chunk ci's lemmas (in the order of `terms_of`)."""
        return self.weight[self._entries(ci)]


def _per_chunk_unit(chunk: np.ndarray, w: np.ndarray, n_chunks: int) -> np.ndarray:
    """Weights `w` of entries in chunks `chunk`, L2-normalised per chunk (a chunk without weight stays 0)."""
    norm = np.sqrt(np.bincount(chunk, weights=w * w, minlength=n_chunks))
    norm[norm == 0] = 1.0
    return cast(np.ndarray, w / norm[chunk])


def _bags(d: DocFeatures, weights: TermWeights | None) -> _Bags:
    """The chunks' lemma bags under `weights` (unweighted when None); cached for the last weights used."""
    cached = d.meta.get("_bags")
    if isinstance(cached, tuple) and cached[0] is weights:
        return cast(_Bags, cached[1])
    rows, hashes = _chunk_terms(d)
    toks = np.flatnonzero(rows >= 0)
    order = toks[np.lexsort((hashes[toks], rows[toks]))]
    r, h = rows[order], hashes[order]
    new = np.ones(len(order), dtype=bool)
    new[1:] = (r[1:] != r[:-1]) | (h[1:] != h[:-1])
    starts = np.flatnonzero(new)
    tf = np.diff(np.append(starts, len(order))).astype(np.float64)
    chunk, term = r[starts], h[starts]
    idf = _token_idf(d, weights)[order[starts]] if weights is not None else np.ones(len(starts))
    sizes = np.bincount(chunk, minlength=len(d.chunks))
    bags = _Bags(
        chunk, term, _per_chunk_unit(chunk, tf * idf, len(d.chunks)), sizes.astype(np.float64), np.cumsum(sizes)
    )
    d.meta["_bags"] = (weights, bags)
    return bags


def warm(d: DocFeatures, *, boiler: AbstractSet[int], weights: TermWeights | None) -> None:
    """Compute the per-document caches the aligner keeps on `d` (template mask, lemma bags, chunk
    languages) for this template set and these weights. A parent process does it before forking
    workers: computed there, the caches are one copy shared by all, not one per worker."""
    template_mask(d, boiler)
    _ = _bags(d, weights).sentence_frequency
    chunk_language(d)


def _isf(bags: _Bags, pos: np.ndarray, shared: np.ndarray, other_sf: np.ndarray, n_chunks: int) -> np.ndarray:
    """The bags' weights times the pair's inverse sentence frequency log(1 + N / sf), N and sf counted over
    the chunks of both texts (the tf-isf of Sanchez-Perez et al. 2014), L2-normalised per chunk again: a
    name that recurs in hundreds of a novel's sentences, or an innovation's name in every section of a
    proposal, locates nothing. `shared` marks the entries whose lemma the other text has (at column `pos`
    of `other_sf`, its sentence frequency there)."""
    sf = bags.sentence_frequency.copy()
    sf[shared] += other_sf[pos[shared]]
    return _per_chunk_unit(bags.chunk, bags.weight * np.log1p(n_chunks / sf), len(bags.sizes))


def sentence_cosines(
    a: DocFeatures,
    b: DocFeatures,
    weights: TermWeights | None,
    *,
    a_skip: np.ndarray,
    b_skip: np.ndarray,
    isf: bool = False,
) -> sparse.csr_matrix:
    """Tf-idf cosine of every chunk pair of a and b that shares a lemma (sparse, chunks of a × chunks of
    b). Chunks marked in `*_skip` (template) are left out. `isf`: weighted by the pair's inverse sentence
    frequency too (see `_isf`)."""
    ba, bb = _bags(a, weights), _bags(b, weights)
    keep_a = ~a_skip[ba.chunk] if len(ba.chunk) else np.zeros(0, dtype=bool)
    keep_b = ~b_skip[bb.chunk] if len(bb.chunk) else np.zeros(0, dtype=bool)
    common = np.intersect1d(ba.term[keep_a], bb.term[keep_b])

    def columns(bags: _Bags, keep: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Each entry's column among the common lemmas, and which entries have one."""
        pos = np.searchsorted(common, bags.term) if len(common) else np.zeros(len(bags.term), dtype=np.int64)
        sel = keep & (pos < len(common))
        sel[sel] = common[pos[sel]] == bags.term[sel]
        return pos, sel

    def matrix(bags: _Bags, pos: np.ndarray, sel: np.ndarray, weight: np.ndarray, n: int) -> sparse.csr_matrix:
        rows = bags.chunk[sel]
        indptr = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=n))])
        return sparse.csr_matrix((weight[sel], pos[sel], indptr), shape=(n, len(common)))

    (pa, sa), (pb, sb) = columns(ba, keep_a), columns(bb, keep_b)
    wa, wb = ba.weight, bb.weight
    if isf and len(common):
        n = len(a.chunks) + len(b.chunks)
        # sentence frequency of each common lemma in each text (every common lemma has an entry in both)
        fa = np.bincount(pa[sa], minlength=len(common)).astype(np.float64)
        fb = np.bincount(pb[sb], minlength=len(common)).astype(np.float64)
        wa, wb = _isf(ba, pa, sa, fb, n), _isf(bb, pb, sb, fa, n)
    cos = (matrix(ba, pa, sa, wa, len(a.chunks)) @ matrix(bb, pb, sb, wb, len(b.chunks)).T).tocsr()
    cos.eliminate_zeros()  # pairs that share only lemmas of weight 0 (the forms' heading words) share nothing
    return cos


def sentence_seeds(
    a: DocFeatures,
    b: DocFeatures,
    weights: TermWeights | None,
    params: DuplicationParams,
    *,
    a_skip: np.ndarray,
    b_skip: np.ndarray,
    cos: sparse.csr_matrix | None = None,
) -> list[Seg]:
    """Sentence (chunk) pairs whose tf-idf cosine >= sentence_cosine and lemma Dice >= sentence_dice.
    With `sentence_isf` the pairs are chosen by the tf-isf cosine (which locates a sentence within the two
    texts), while each seed's score stays the collection tf-idf cosine (how close the two sentences are,
    compared with sentence_strong_cosine)."""
    if not len(a.chunks) or not len(b.chunks):
        return []
    if cos is None:
        cos = sentence_cosines(a, b, weights, a_skip=a_skip, b_skip=b_skip, isf=params.sentence_isf)
    rows = np.repeat(np.arange(cos.shape[0]), np.diff(cos.indptr))
    ok = cos.data >= params.sentence_cosine
    rows, cols, cvals = rows[ok], cos.indices[ok], cos.data[ok]
    if not len(rows):
        return []
    ba, bb = _bags(a, weights), _bags(b, weights)
    la, lb = chunk_language(a), chunk_language(b)
    out: list[Seg] = []
    for i, j, c in zip(rows.tolist(), cols.tolist(), cvals.tolist(), strict=True):
        size_a, size_b = int(ba.sizes[i]), int(bb.sizes[j])
        if size_a < params.sentence_min_terms or size_b < params.sentence_min_terms:
            continue
        _, ia, ib = np.intersect1d(ba.terms_of(i), bb.terms_of(j), assume_unique=True, return_indices=True)
        if 2.0 * len(ia) / (size_a + size_b) < params.sentence_dice:
            continue
        ca, cb = a.chunks[i], b.chunks[j]
        kind: MatchType = "translated" if other_language(int(la[i]), int(lb[j])) else "paraphrase"
        # tf-isf chose the pair; how close the two sentences are is the collection tf-idf cosine
        score = float(ba.weights_of(i)[ia] @ bb.weights_of(j)[ib]) if params.sentence_isf else c
        out.append(Seg(ca.start, ca.end, cb.start, cb.end, kind, score, source="sentence"))
    return out


# ---------------------------------------------------------------- seed: embeddings


_EN_STOP: frozenset[str] | None = None


def _english_stop_words() -> frozenset[str]:
    global _EN_STOP
    if _EN_STOP is None:
        from spacy.lang.en.stop_words import STOP_WORDS as EN

        # Words both languages use as function words say nothing about which language a text is in.
        _EN_STOP = frozenset(EN) - STOP_WORDS
    return _EN_STOP


def chunk_language(d: DocFeatures) -> np.ndarray:
    """Language of each chunk by its function words (spaCy's stop word lists) and, for Indonesian, its
    affixed words (`is_inflected_indonesian`): 0 Indonesian, 1 another language (English), -1 mixed or
    unclear (dialogue that mixes both, short lines); cached. A clear chunk has at least 2 such words of
    its language and at most a fifth as many of the other. Affixed words count because a line of
    dialogue can hold English function words and Indonesian prose without one Indonesian function word
    ("desisnya membalas tatapan Sharon ... 'so..., you're really my brother?'"). A text with fewer than
    two English function words has no English chunk and is read by its stop words only (a chunk without
    two of them stays unclear, which makes no translation). Regional languages are not recognised (see
    eval/RESULTS.md)."""
    cached = d.meta.get("_language")
    if isinstance(cached, np.ndarray):
        return cached
    en = _english_stop_words()
    out = np.full(len(d.chunks), -1, dtype=np.int8)
    # English function words are content tokens for the Indonesian analysis: a text with fewer than two
    # of them has no English chunk, and its chunks are Indonesian when they hold two or more stop words
    # (word tokens that are not content tokens), without reading every word again.
    if sum(1 for w in d.content_norms if w in en) < 2:
        rows, _ = _chunk_terms(d)
        content = np.bincount(rows[rows >= 0], minlength=len(d.chunks))
        words = np.fromiter((c.words for c in d.chunks), dtype=np.int64, count=len(d.chunks))
        out[words - content >= 2] = 0
    else:
        for ci in range(len(d.chunks)):
            chunk_words = _words(d.chunk_text(ci))
            n_id = sum(w in STOP_WORDS or is_inflected_indonesian(w) for w in chunk_words)
            n_en = sum(w in en for w in chunk_words)
            if n_en >= 2 and 5 * n_id <= n_en:
                out[ci] = 1
            elif n_id >= 2 and 5 * n_en <= n_id:
                out[ci] = 0
    d.meta["_language"] = out
    return out


def other_language(la: int, lb: int) -> bool:
    """Both chunks are clearly in a language, and not the same one."""
    return la >= 0 and lb >= 0 and la != lb


Nearest = tuple[np.ndarray, np.ndarray, np.ndarray]
"""(cosines of every chunk pair, each chunk of a's nearest non-template chunk of b, that cosine)."""


def nearest_chunks(a: DocFeatures, b: DocFeatures, b_skip: np.ndarray) -> Nearest:
    """Chunk cosines between a and b and each a-chunk's nearest b-chunk among those not skipped (template);
    computed once per pair and shared by the embedding and chain seeds."""
    assert a.vectors is not None and b.vectors is not None
    sims = a.vectors @ b.vectors.T
    cand = sims.copy()
    cand[:, b_skip] = -2.0
    best = np.argmax(cand, axis=1)
    return sims, best, cand[np.arange(len(best)), best]


def embedding_seeds(
    a: DocFeatures,
    b: DocFeatures,
    weights: TermWeights | None,
    params: DuplicationParams,
    *,
    a_skip: np.ndarray,
    b_skip: np.ndarray,
    nearest: Nearest | None = None,
) -> list[Seg]:
    """Paraphrase: each chunk's most similar chunk in the other text when the cosine reaches
    paraphrase_cosine and they share enough (IDF-weighted) content lemmas. Translated: a chunk and the
    most similar chunk of the other language when the cosine reaches translated_cosine."""
    if a.vectors is None or b.vectors is None or not len(a.chunks) or not len(b.chunks):
        return []
    sims, best, best_sim = nearest or nearest_chunks(a, b, b_skip)
    la, lb = chunk_language(a), chunk_language(b)
    out: list[Seg] = []
    ok_b = ~b_skip
    for ai in np.flatnonzero((best_sim >= params.paraphrase_cosine) & ~a_skip).tolist():
        ca = a.chunks[ai]
        bi = int(best[ai])
        if ca.words < params.paraphrase_min_words:
            continue
        sup = support(a.chunk_terms(ai), b.chunk_terms(bi), weights)
        if sup < params.paraphrase_min_overlap:
            continue
        cb = b.chunks[bi]
        score = float(sims[ai, bi])
        out.append(
            Seg(
                ca.start,
                ca.end,
                cb.start,
                cb.end,
                "translated" if other_language(int(la[ai]), int(lb[bi])) else "paraphrase",
                score,
                # A near-verbatim rewrite of one sentence keeps most of its words; two stock sentences of
                # one form ("Pemangku kepentingan meliputi ...") reach the cosine with other words.
                strong=score >= params.paraphrase_strong_cosine and sup >= params.paraphrase_strong_overlap,
                source="embedding",
            )
        )
    if (la == 1).any() or (lb == 1).any():
        # A chunk and its translation are each other's nearest neighbour across the language boundary.
        cross = (la[:, None] >= 0) & (lb[None, :] >= 0) & (la[:, None] != lb[None, :])
        cross &= ~a_skip[:, None] & ok_b[None, :]
        masked = np.where(cross, sims, -2.0)
        best_b = np.argmax(masked, axis=1)
        best_a = np.argmax(masked, axis=0)
        for ai in np.flatnonzero(masked[np.arange(len(best_b)), best_b] >= params.translated_cosine).tolist():
            bi = int(best_b[ai])
            if best_a[bi] != ai or a.chunks[ai].words < params.paraphrase_min_words:
                continue
            ca, cb = a.chunks[ai], b.chunks[bi]
            out.append(Seg(ca.start, ca.end, cb.start, cb.end, "translated", float(sims[ai, bi]), source="translation"))
    return out


def _sections(d: DocFeatures) -> np.ndarray:
    """Section number of each chunk. Chunks cover every sentence except headings, so text between two
    chunks is a heading that opens another section of the form."""
    out = np.zeros(len(d.chunks), dtype=np.int64)
    n = 0
    for i in range(1, len(d.chunks)):
        if d.text[d.chunks[i - 1].end : d.chunks[i].start].strip():
            n += 1
        out[i] = n
    return out


def chain_seeds(
    a: DocFeatures,
    b: DocFeatures,
    params: DuplicationParams,
    *,
    a_skip: np.ndarray,
    b_skip: np.ndarray,
    runs: Sequence[Seg] = (),
    nearest: Nearest | None = None,
    lexical: sparse.csr_matrix | None = None,
) -> list[Seg]:
    """Rewritten paragraphs: at least chain_min_chunks consecutive chunks of a whose nearest chunks in b
    follow each other too (each step forward by at most chain_max_step chunks), each with cosine >=
    chain_cosine and on average >= chain_mean_cosine; strong seeds. Heavy rewrites (synonyms, slang to
    formal) share too few lemmas for a sentence seed, but one chunk after another landing next to the
    previous one's match among hundreds is not chance. A chain stays within one section on both sides
    (proposals of one form put similar stock sentences in the same order of sections) and skips chunks
    that shingle runs already cover (a verbatim copy would otherwise carry its neighbours). A shorter chain
    of at least chain_lexical_chunks chunks counts too when its chunk pairs also share words (mean of
    `lexical`, the pair's sentence cosines as the sentence seeds compute them: tf-isf with sentence_isf,
    >= chain_lexical_cosine): three stock sentences of one form in form order reach the embedding
    cosines, rarely the lemmas as well."""
    if a.vectors is None or b.vectors is None or not len(a.chunks) or not len(b.chunks):
        return []
    _, best, best_sim = nearest or nearest_chunks(a, b, b_skip)
    ok = (best_sim >= params.chain_cosine) & ~a_skip
    for ai, ch in enumerate(a.chunks):
        if ok[ai] and sum(max(0, min(ch.end, r.a1) - max(ch.start, r.a0)) for r in runs) * 2 >= ch.end - ch.start:
            ok[ai] = False
    sec_a, sec_b = _sections(a), _sections(b)
    la, lb = chunk_language(a), chunk_language(b)
    out: list[Seg] = []

    def flush(chain: list[int]) -> None:
        short = len(chain) < params.chain_min_chunks
        if short and (lexical is None or not params.chain_lexical_chunks or len(chain) < params.chain_lexical_chunks):
            return  # checked first: most chains are one or two chunks long
        if float(np.mean(best_sim[chain])) < params.chain_mean_cosine:
            return
        if short and lexical is not None:
            shared = float(np.mean([lexical[ai, int(best[ai])] for ai in chain]))
            if shared < params.chain_lexical_cosine:
                return
        for ai in chain:
            bi = int(best[ai])
            ca, cb = a.chunks[ai], b.chunks[bi]
            kind: MatchType = "translated" if other_language(int(la[ai]), int(lb[bi])) else "paraphrase"
            out.append(Seg(ca.start, ca.end, cb.start, cb.end, kind, float(best_sim[ai]), strong=True, source="chain"))

    chain: list[int] = []
    for ai in range(len(a.chunks)):
        if not ok[ai]:
            flush(chain)
            chain = []
            continue
        if chain:
            prev, bi, bp = chain[-1], int(best[ai]), int(best[chain[-1]])
            if not (0 <= bi - bp <= params.chain_max_step and sec_a[ai] == sec_a[prev] and sec_b[bi] == sec_b[bp]):
                flush(chain)
                chain = []
        chain.append(ai)
    flush(chain)
    return out


# ---------------------------------------------------------------- extend: clustering by gaps


def _extent(segs: Sequence[Seg]) -> tuple[int, int, int, int]:
    return min(s.a0 for s in segs), max(s.a1 for s in segs), min(s.b0 for s in segs), max(s.b1 for s in segs)


def _split(group: list[Seg], side: int, gap: float) -> list[list[Seg]]:
    """Cut a group where consecutive seeds (in one text's order) lie more than `gap` characters apart."""
    key = (lambda s: (s.a0, s.a1)) if side == 0 else (lambda s: (s.b0, s.b1))
    ordered = sorted(group, key=key)
    out: list[list[Seg]] = [[ordered[0]]]
    end = key(ordered[0])[1]
    for s in ordered[1:]:
        lo, hi = key(s)
        if lo - end > gap:
            out.append([s])
            end = hi
        else:
            out[-1].append(s)
            end = max(end, hi)
    return out


def _widening(group: Sequence[Seg], params: DuplicationParams) -> tuple[float, float]:
    """How much to widen the allowed gap in each text for this passage: by its length ratio (at most
    extend_max_ratio) in the text where it is at least summary_ratio times longer than in the other (a
    summary: the adaptive variant of Sanchez-Perez et al. 2015); 1 otherwise."""
    a0, a1, b0, b1 = _extent(group)
    la, lb = max(1, a1 - a0), max(1, b1 - b0)
    wa = min(params.extend_max_ratio, la / lb) if la >= params.summary_ratio * lb else 1.0
    wb = min(params.extend_max_ratio, lb / la) if lb >= params.summary_ratio * la else 1.0
    return wa, wb


def cluster(segs: Sequence[Seg], *, gap: float) -> list[list[Seg]]:
    """Seeds clustered by gaps of at most `gap` characters, alternately in each text, until two passes
    change nothing (reordered sentences of one passage stay together, separate cases split)."""
    if not segs:
        return []
    groups = [list(segs)]
    side, quiet = 0, 0
    while quiet < 2:
        new: list[list[Seg]] = []
        for g in groups:
            new.extend(_split(g, side, gap))
        quiet = quiet + 1 if len(new) == len(groups) else 0
        groups, side = new, 1 - side
    return groups


# ---------------------------------------------------------------- filter


def _units(group: Sequence[Seg]) -> int:
    """Distinct pieces that the group's seeds cover in the text where they cover fewer (overlapping seeds
    count once): two sentences matched to one and the same sentence are one unit of evidence."""

    def count(spans: list[tuple[int, int]]) -> int:
        n, end = 0, -1
        for s, e in sorted(spans):
            if s >= end:
                n += 1
            end = max(end, e)
        return n

    return min(count([(s.a0, s.a1) for s in group]), count([(s.b0, s.b1) for s in group]))


def density(group: Sequence[Seg]) -> float:
    """Share of the group's extent that its seeds cover, in the text where they cover more: a copied
    passage (even reordered or summarised on one side) is matched sentence after sentence, while stock
    sentences of one form match one here and one there with unmatched sentences between them."""

    def share(spans: list[tuple[int, int]]) -> float:
        lo, hi = min(s for s, _ in spans), max(e for _, e in spans)
        n, end = 0, lo
        for s, e in sorted(spans):
            s = max(s, end)
            if e > s:
                n += e - s
                end = e
        return n / max(1, hi - lo)

    return max(share([(s.a0, s.a1) for s in group]), share([(s.b0, s.b1) for s in group]))


def dense_groups(groups: list[list[Seg]], params: DuplicationParams, *, gap: float) -> list[list[Seg]]:
    """Groups whose seeds cover less than cluster_min_density of their extent in both texts keep only
    their strong seeds (clustered again): the weak seeds around them are scattered stock sentences."""
    out: list[list[Seg]] = []
    for g in groups:
        if len(g) < 2 or density(g) >= params.cluster_min_density:
            out.append(g)
        else:
            out.extend(cluster([s for s in g if s.strong], gap=gap))
    return out


def is_evidence(group: Sequence[Seg], a: DocFeatures, b: DocFeatures, params: DuplicationParams) -> bool:
    """Enough to show: a strong seed; or several seeds of which some lexical (shingle runs or sentence
    pairs sharing lemmas) over enough characters in both texts; or embedding-only seeds over a long
    passage (one rephrased stock sentence is no evidence: proposals of one form share sentence patterns)."""
    if any(s.strong for s in group):
        return True
    a0, a1, b0, b1 = _extent(group)
    # Mean of both texts' lengths: a translation is shorter in one language than in the other.
    big = (a1 - a0 + b1 - b0) / 2 >= params.cluster_min_chars and min(
        a1 - a0, b1 - b0
    ) >= params.cluster_min_chars * 2 / 3
    units = _units(group)
    if all(s.kind == "translated" for s in group):
        return big and units >= params.cluster_min_units
    if any(s.source in ("shingle", "sentence") for s in group):
        # A few similar sentences of one form (budget, waiting times, stakeholders) are common between
        # unrelated proposals: a cluster of up to cluster_close_units sentences needs one that matches closely.
        close = any(s.strong or (s.source == "sentence" and s.score >= params.sentence_strong_cosine) for s in group)
        return big and units >= params.cluster_min_units and (close or units > params.cluster_close_units)
    words = min(a.words_between(a0, a1), b.words_between(b0, b1))
    # As for a lexical cluster without a close sentence: more than cluster_close_units sentences.
    return words >= params.paraphrase_min_passage_words and units > params.cluster_close_units


# ---------------------------------------------------------------- merge and resolve


def merge_close(groups: list[list[Seg]], params: DuplicationParams) -> list[list[Seg]]:
    """Merge passages that lie close in both texts (within merge_gap_chars in the first, within
    merge_other_gap_chars in the second, widened for summaries by `_widening`), until stable."""
    groups = [list(g) for g in groups]
    changed = True
    while changed and len(groups) > 1:
        changed = False
        groups.sort(key=lambda g: _extent(g)[0])
        out: list[list[Seg]] = [groups[0]]
        for g in groups[1:]:
            p = out[-1]
            _, pa1, pb0, pb1 = _extent(p)
            ga0, _, gb0, gb1 = _extent(g)
            da = max(0, ga0 - pa1)
            db = max(0, max(gb0, pb0) - min(gb1, pb1))
            # Widened in the text where either passage is itself much longer (a summary), never by the
            # union's extent, which the gap in question would inflate.
            wp, wg = _widening(p, params), _widening(g, params)
            ra, rb = max(wp[0], wg[0]), max(wp[1], wg[1])
            if da <= params.merge_gap_chars * ra and db <= params.merge_other_gap_chars * rb:
                p.extend(g)
                changed = True
            else:
                out.append(g)
        groups = out
    return groups


def _overlaps(x: tuple[int, int, int, int], y: tuple[int, int, int, int]) -> bool:
    return (x[0] < y[1] and y[0] < x[1]) or (x[2] < y[3] and y[2] < x[3])


def resolve(
    groups: list[list[Seg]], a: DocFeatures, b: DocFeatures, params: DuplicationParams, *, depth: int = 0
) -> list[list[Seg]]:
    """Passages that neither overlap nor nest in either text: the one with most aligned characters wins;
    a weaker one keeps only its seeds outside the winners, clustered again and checked again."""
    kept: list[list[Seg]] = []
    boxes: list[tuple[int, int, int, int]] = []
    for g in sorted(groups, key=lambda g: -sum(s.a_len for s in g)):
        box = _extent(g)
        if not any(_overlaps(box, k) for k in boxes):
            kept.append(g)
            boxes.append(box)
            continue
        if depth >= 3:
            continue
        rest = [s for s in g if not any(_overlaps((s.a0, s.a1, s.b0, s.b1), k) for k in boxes)]
        if not rest:
            continue
        parts = [c for c in cluster(rest, gap=params.extend_gap_chars) if is_evidence(c, a, b, params)]
        for c in resolve(parts, a, b, params, depth=depth + 1):
            cbox = _extent(c)
            if not any(_overlaps(cbox, k) for k in boxes):
                kept.append(c)
                boxes.append(cbox)
    return sorted(kept, key=lambda g: _extent(g)[0])


def _clip(lo: int, hi: int, taken: Sequence[tuple[int, int]]) -> tuple[int, int, int]:
    """A span trimmed where it starts or ends inside taken spans, and how much of it still overlaps them."""
    for t0, t1 in taken:
        if t0 <= lo < t1:
            lo = t1
        if t0 < hi <= t1:
            hi = t0
    return lo, hi, sum(max(0, min(hi, t1) - max(lo, t0)) for t0, t1 in taken)


def _segments(group: Sequence[Seg]) -> list[Seg]:
    """The group's seeds without overlaps in either text: the more exact kind wins (shingle runs over
    sentence pairs over embeddings); a seed mostly covered by better ones is dropped, else trimmed."""
    taken: list[Seg] = []

    def rank(s: Seg) -> tuple[int, int]:
        return (_PRIORITY[s.kind] if s.source == "shingle" else 10 + _PRIORITY[s.kind], s.a0)

    for s in sorted(group, key=rank):
        a0, a1, a_in = _clip(s.a0, s.a1, [(t.a0, t.a1) for t in taken])
        b0, b1, b_in = _clip(s.b0, s.b1, [(t.b0, t.b1) for t in taken])
        if a1 - a0 < 0.5 * s.a_len or b1 - b0 < 0.5 * s.b_len or a_in > 0 or b_in > 0:
            continue
        taken.append(Seg(a0, a1, b0, b1, s.kind, s.score, s.strong, s.source))
    return sorted(taken, key=lambda s: s.a0)


def to_passage(group: Sequence[Seg], a: DocFeatures) -> Passage:
    """A merged passage: its extent in both texts, the match type covering most of its characters, and
    its segments."""
    segs = _segments(group)
    a0, a1, b0, b1 = _extent(segs)
    by_kind: Counter[str] = Counter()
    for s in segs:
        by_kind[s.kind] += s.a_len
    kind: MatchType = by_kind.most_common(1)[0][0]  # type: ignore[assignment]
    total = sum(s.a_len for s in segs) or 1
    score = sum(s.score * s.a_len for s in segs) / total
    return Passage(
        start=a0,
        end=a1,
        other_start=b0,
        other_end=b1,
        match_type=kind,
        score=round(float(score), 4),
        words=a.words_between(a0, a1),
        segments=[
            Segment(start=s.a0, end=s.a1, other_start=s.b0, other_end=s.b1, match_type=s.kind, score=round(s.score, 4))
            for s in segs
        ],
    )


# ---------------------------------------------------------------- the pair


@dataclass
class PairMatch:
    """Aligned evidence between documents a and b (offsets: start/end in a, other_* in b).

    `matched_a` / `matched_b`: characters of each text that are aligned evidence and not template text
    (the words of shingle runs that matched, whole sentences for sentence-level seeds); the copied share
    counts these, so changed figures inside a resubmitted passage are not counted as copied."""

    a: DocFeatures
    b: DocFeatures
    passages: list[Passage]
    template_passages: list[Passage]
    matched_a: np.ndarray | None = None
    matched_b: np.ndarray | None = None

    def share(self, *, other: bool = False) -> float:
        text = self.b.text if other else self.a.text
        if not text or not self.passages:
            return 0.0
        matched = self.matched_b if other else self.matched_a
        if matched is not None:
            return float(matched[: len(text)].mean())
        spans = ((p.other_start, p.other_end) if other else (p.start, p.end) for p in self.passages)
        return float(covered(spans, len(text))[: len(text)].mean())

    def longest_words(self, *, max_name_share: float = 1.0) -> int:
        """Words of the longest passage that its segments cover (the gaps of a merged passage are not
        counted: they were not matched). `max_name_share`: passages with a larger share of capitalised
        words (see `name_share`) are left out."""
        return max(
            (
                self._matched_words(p)
                for p in self.passages
                if max_name_share >= 1.0 or self._name_share(p) <= max_name_share
            ),
            default=0,
        )

    def _name_share(self, p: Passage) -> float:
        """`name_share` of the passage's matched parts in the text where it is higher (the same whichever
        text is a)."""
        parts: list[Segment] | list[Passage] = p.segments or [p]
        return max(
            name_share(self.a.text, ((s.start, s.end) for s in parts)),
            name_share(self.b.text, ((s.other_start, s.other_end) for s in parts)),
        )

    def _matched_words(self, p: Passage) -> int:
        if not p.segments:
            return p.words
        return sum(self.a.words_between(s.start, s.end) for s in p.segments)

    def match_type(self) -> MatchType:
        by_type: Counter[str] = Counter()
        for p in self.passages or self.template_passages:
            parts: list[Segment] | list[Passage] = p.segments or [p]
            for s in parts:
                by_type[s.match_type] += s.end - s.start
        if not by_type:
            return "edited"
        return by_type.most_common(1)[0][0]  # type: ignore[return-value]

    def swapped(self) -> PairMatch:
        def sw_seg(s: Segment) -> Segment:
            return s.model_copy(
                update={"start": s.other_start, "end": s.other_end, "other_start": s.start, "other_end": s.end}
            )

        def sw(p: Passage) -> Passage:
            return p.model_copy(
                update={
                    "start": p.other_start,
                    "end": p.other_end,
                    "other_start": p.start,
                    "other_end": p.end,
                    "words": self.b.words_between(p.other_start, p.other_end),
                    "segments": sorted((sw_seg(s) for s in p.segments), key=lambda s: s.start),
                }
            )

        return PairMatch(
            a=self.b,
            b=self.a,
            passages=sorted((sw(p) for p in self.passages), key=lambda p: p.start),
            template_passages=sorted((sw(p) for p in self.template_passages), key=lambda p: p.start),
            matched_a=self.matched_b,
            matched_b=self.matched_a,
        )


def _shingle_chars(d: DocFeatures, positions: np.ndarray) -> np.ndarray:
    """Characters of the text covered by the shingles at these positions (a boolean mask, vectorised)."""
    out = np.zeros(len(d.text) + 1, dtype=bool)
    if len(positions) == 0 or len(d.content_pos) == 0:
        return out
    last = np.minimum(positions + d.n - 1, len(d.content_pos) - 1)
    starts = d.tok_start[d.content_pos[positions]]
    ends = d.tok_end[d.content_pos[last]]
    diff = np.zeros(len(d.text) + 2, dtype=np.int64)
    np.add.at(diff, starts, 1)
    np.add.at(diff, ends, -1)
    out[:] = np.cumsum(diff)[: len(d.text) + 1] > 0
    return out


def _matched(d: DocFeatures, runs: list[int], segs: Iterable[tuple[int, int]], tmpl: np.ndarray) -> np.ndarray:
    return (_shingle_chars(d, np.asarray(runs, dtype=np.int64)) | covered(segs, len(d.text))) & ~tmpl


def align(
    a: DocFeatures,
    b: DocFeatures,
    *,
    params: DuplicationParams,
    boiler: AbstractSet[int],
    weights: TermWeights | None = None,
) -> PairMatch:
    """All passages shared by a and b (merged, with their segments) and the template passages.
    `weights`: term weights of the collection (see term_weights); unweighted when None."""
    a_mask, b_mask = template_mask(a, boiler), template_mask(b, boiler)
    a_skip = chunk_template_share(a, a_mask) >= 0.5
    b_skip = chunk_template_share(b, b_mask) >= 0.5
    runs, run_a, run_b = shingle_runs(a, b, ~a_mask, ~b_mask, params, min_words=params.seed_min_words)
    cos = (
        sentence_cosines(a, b, weights, a_skip=a_skip, b_skip=b_skip, isf=params.sentence_isf)
        if len(a.chunks) and len(b.chunks)
        else None
    )
    seeds = [
        *runs,
        *sentence_seeds(a, b, weights, params, a_skip=a_skip, b_skip=b_skip, cos=cos),
    ]
    if a.vectors is not None and b.vectors is not None and len(a.chunks) and len(b.chunks):
        near = nearest_chunks(a, b, b_skip)
        seeds += embedding_seeds(a, b, weights, params, a_skip=a_skip, b_skip=b_skip, nearest=near)
        seeds += chain_seeds(a, b, params, a_skip=a_skip, b_skip=b_skip, runs=runs, nearest=near, lexical=cos)
    groups = cluster(seeds, gap=params.extend_gap_chars)
    groups = [g for g in groups if is_evidence(g, a, b, params)]
    groups = dense_groups(merge_close(groups, params), params, gap=params.extend_gap_chars)
    groups = resolve(groups, a, b, params)
    passages = [to_passage(g, a) for g in groups]
    template: list[Passage] = []
    if boiler:
        truns, _, _ = shingle_runs(a, b, a_mask, b_mask, params, min_words=max(4, params.shingle_size + 1))
        template = [to_passage([s], a) for s in sorted(truns, key=lambda s: s.a0)]
        for p in template:
            p.segments = []
    matched_a = matched_b = None
    if passages:
        segs = [s for p in passages for s in p.segments]
        in_a = [(s.start, s.end) for s in segs if s.match_type not in ("identical", "edited")]
        in_b = [(s.other_start, s.other_end) for s in segs if s.match_type not in ("identical", "edited")]
        kept_a = covered(((p.start, p.end) for p in passages), len(a.text))
        kept_b = covered(((p.other_start, p.other_end) for p in passages), len(b.text))
        matched_a = _matched(a, run_a, in_a, _shingle_chars(a, np.flatnonzero(a_mask))) & kept_a
        matched_b = _matched(b, run_b, in_b, _shingle_chars(b, np.flatnonzero(b_mask))) & kept_b
    return PairMatch(a=a, b=b, passages=passages, template_passages=template, matched_a=matched_a, matched_b=matched_b)


def name_share(text: str, spans: Iterable[tuple[int, int]]) -> float:
    """Share of the words in these (start, end) spans of `text` that start with a capital letter: high for
    a name or a title (an innovation's name and tagline), low for prose."""
    words = [w for s, e in spans for w in _WORD.findall(text[s:e])]
    return sum(1 for w in words if w[0].isupper()) / len(words) if words else 0.0


def is_reportable(m: PairMatch, params: DuplicationParams) -> bool:
    """Worth showing: enough non-template overlap on either side, or one long passage that is not mostly a
    name or title both texts cite."""
    if not m.passages:
        return False
    return (
        m.share() >= params.report_min_share
        or m.share(other=True) >= params.report_min_share
        or m.longest_words(max_name_share=params.report_max_name_share) >= params.report_min_passage_words
    )
