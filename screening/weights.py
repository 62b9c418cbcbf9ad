"""Collection statistics that candidates and the aligner share: template shingle sets (and where a
document holds them) and term weights of content lemmas."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from collections.abc import Set as AbstractSet
from functools import cached_property
from typing import cast

import numpy as np

from screening.features import DocFeatures


class ShingleSet(frozenset[int]):
    """Shingle hashes (e.g. the template shingles of a batch) that also keep an array of themselves, made
    once, so that marking a document's template positions is one vectorised lookup per document pair."""

    @cached_property
    def array(self) -> np.ndarray:
        return np.fromiter(self, dtype=np.uint64, count=len(self))


def template_mask(d: DocFeatures, boiler: AbstractSet[int]) -> np.ndarray:
    """True where a shingle of `d` is template text (cached on the document for the last template set)."""
    if not boiler or len(d.shingles) == 0:
        return np.zeros(len(d.shingles), dtype=bool)
    cached = d.meta.get("_template_mask")
    if isinstance(cached, tuple) and cached[0] is boiler:
        return cast(np.ndarray, cached[1])
    mask = np.isin(d.shingles, shingle_array(boiler))
    d.meta["_template_mask"] = (boiler, mask)
    return mask


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


def shingle_array(shingles: AbstractSet[int]) -> np.ndarray:
    return shingles.array if isinstance(shingles, ShingleSet) else np.fromiter(shingles, np.uint64, len(shingles))


def covered(spans: Iterable[tuple[int, int]], length: int) -> np.ndarray:
    cov = np.zeros(length + 1, dtype=bool)
    for s, e in spans:
        cov[s:e] = True
    return cov


class TermWeights(Mapping[str, float]):
    """Smoothed inverse document frequency of content lemmas, log(1 + N/df), over a collection counted
    once (`base`) plus a few more documents (`extra`); computed on lookup, so adding one proposal to
    a 10,000-entry archive does not rebuild a dictionary of its whole vocabulary. Terms in `ignored`
    (the words of the form's section headings) weigh 0: like template text, they are the form's words."""

    def __init__(
        self, base: Mapping[str, int], extra: Mapping[str, int], n_docs: int, *, ignored: AbstractSet[str] = frozenset()
    ) -> None:
        self._base = base
        self._extra = extra
        self.n_docs = n_docs
        self.ignored = frozenset(ignored)
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
        if term in self.ignored:
            return 0.0
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


def term_df(docs: Iterable[DocFeatures]) -> tuple[Counter[str], int]:
    """In how many documents each content lemma is, and the number of documents."""
    df: Counter[str] = Counter()
    n = 0
    for d in docs:
        n += 1
        df.update(set(d.content_norms))
    return df, n


def term_weights(docs: Iterable[DocFeatures], *, ignored: AbstractSet[str] = frozenset()) -> TermWeights:
    """Smoothed inverse document frequency of content lemmas, log(1 + N/df): words every proposal uses
    (inovasi, pelayanan, anggaran) count little as lexical support for a paraphrase, names and numbers much.
    `ignored`: terms that weigh 0 (see `TermWeights`)."""
    df, n = term_df(docs)
    return TermWeights(df, {}, n, ignored=ignored)


def support(terms_a: set[str], terms_b: set[str], weights: TermWeights | None) -> float:
    """Share of chunk a's content lemmas (weighted by `weights` when given) that chunk b also has."""
    if not terms_a:
        return 1.0
    if weights is None:
        return len(terms_a & terms_b) / len(terms_a)
    total = sum(weights.weight(t) for t in terms_a)
    return sum(weights.weight(t) for t in terms_a & terms_b) / total if total else 0.0
