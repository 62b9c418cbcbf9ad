"""Per-document features shared by the checks: tokens, content-word shingles and embedding chunks.

Shingles are hashes of n consecutive content words (stop words dropped, lemmatised), so small
edits in function words or affixes do not break a match. Every shingle maps back to character
offsets in the document's text.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from models.text import Span, chunk_spans, content_hash, tokenize
from screening.params import Parameters

_P = np.uint64(0x100000001B3)  # FNV prime: mixes word hashes into an n-gram hash
_WORD_HASH: dict[str, int] = {}


def word_hash(w: str) -> int:
    """Stable 64-bit hash of a word (stable across processes, unlike `hash`)."""
    h = _WORD_HASH.get(w)
    if h is None:
        h = int.from_bytes(hashlib.blake2b(w.encode("utf-8"), digest_size=8).digest(), "little")
        if len(_WORD_HASH) < 2_000_000:
            _WORD_HASH[w] = h
    return h


def shingle_hashes(word_hashes: np.ndarray, n: int) -> np.ndarray:
    """Hashes of all n-grams of a sequence of word hashes (uint64, wrapping arithmetic)."""
    m = len(word_hashes) - n + 1
    if m <= 0:
        return np.zeros(0, dtype=np.uint64)
    out = np.zeros(m, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for k in range(n):
            out = out * _P + word_hashes[k : k + m]
    return out


@dataclass
class DocFeatures:
    """Everything the duplication check needs from one document's text."""

    key: str
    text: str
    tok_start: np.ndarray
    tok_end: np.ndarray
    content_pos: np.ndarray
    content_norms: list[str]
    shingles: np.ndarray
    n: int
    chunks: list[Span]
    chunk_hashes: list[str]
    chunk_shingles: list[tuple[int, int]]
    vectors: np.ndarray | None = None
    meta: dict[str, object] = field(default_factory=dict)

    @property
    def n_words(self) -> int:
        return len(self.tok_start)

    def shingle_span(self, i: int, j: int) -> tuple[int, int]:
        """Character span covered by shingles i..j (inclusive)."""
        first = int(self.content_pos[i])
        last = int(self.content_pos[min(j + self.n - 1, len(self.content_pos) - 1)])
        return int(self.tok_start[first]), int(self.tok_end[last])

    def words_between(self, start: int, end: int) -> int:
        """Number of word tokens inside a character span."""
        lo = int(np.searchsorted(self.tok_start, start, side="left"))
        hi = int(np.searchsorted(self.tok_end, end, side="right"))
        return max(0, hi - lo)

    def chunk_terms(self, i: int) -> set[str]:
        """Content lemmas of chunk i (lexical support for paraphrase matches)."""
        c = self.chunks[i]
        starts = self.tok_start[self.content_pos] if len(self.content_pos) else self.content_pos
        lo = int(np.searchsorted(starts, c.start, side="left"))
        hi = int(np.searchsorted(starts, c.end, side="left"))
        return set(self.content_norms[lo:hi])

    def chunk_text(self, i: int) -> str:
        c = self.chunks[i]
        return self.text[c.start : c.end]


def analyse(key: str, text: str, params: Parameters) -> DocFeatures:
    """Tokens, shingles and chunks of one text."""
    n = params.duplication.shingle_size
    toks = tokenize(text, use_lemmas=params.text.use_lemmas)
    tok_start = np.fromiter((t.start for t in toks), dtype=np.int64, count=len(toks))
    tok_end = np.fromiter((t.end for t in toks), dtype=np.int64, count=len(toks))
    content = [i for i, t in enumerate(toks) if not t.stop and len(t.norm) > 1]
    content_pos = np.asarray(content, dtype=np.int64)
    norms = [toks[i].norm for i in content]
    wh = np.fromiter((word_hash(w) for w in norms), dtype=np.uint64, count=len(norms))
    sh = shingle_hashes(wh, n)
    chunks = chunk_spans(text, min_words=params.text.min_chunk_words, max_words=params.text.max_chunk_words)
    # Shingle index range of each chunk: shingles starting at content tokens inside the chunk.
    content_starts = tok_start[content_pos] if len(content_pos) else np.zeros(0, dtype=np.int64)
    ranges: list[tuple[int, int]] = []
    for c in chunks:
        lo = int(np.searchsorted(content_starts, c.start, side="left"))
        hi = int(np.searchsorted(content_starts, c.end, side="left"))
        ranges.append((min(lo, len(sh)), min(hi, len(sh))))
    hashes = [content_hash(text[c.start : c.end]) for c in chunks]
    return DocFeatures(
        key=key,
        text=text,
        tok_start=tok_start,
        tok_end=tok_end,
        content_pos=content_pos,
        content_norms=norms,
        shingles=sh,
        n=n,
        chunks=chunks,
        chunk_hashes=hashes,
        chunk_shingles=ranges,
    )


def text_terms(texts: Iterable[str], params: Parameters) -> set[str]:
    """The content lemmas of some texts (the form's section headings), as documents' terms are counted."""
    out: set[str] = set()
    for t in texts:
        out.update(analyse("_", t, params).content_norms)
    return out


def text_shingles(texts: Iterable[str], params: Parameters) -> set[int]:
    """The set of shingle hashes of some texts (template texts, form instructions)."""
    out: set[int] = set()
    for t in texts:
        out.update(int(x) for x in analyse("_", t, params).shingles)
    return out
