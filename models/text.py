"""Indonesian text processing: cleaning, tokens, sentences and chunks, all with character offsets.

Every unit keeps (start, end) offsets into the text it was computed from, so evidence can always be
shown in the original. spaCy's Indonesian language data gives stop words, the rule-based sentencizer
and lookup lemmas (spacy-lookups-data, offline).
"""

from __future__ import annotations

import hashlib
import re
import sys
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache


def _import_thinc_without_torch() -> None:
    """Let thinc (spaCy's machine-learning library) load without importing torch, which it does whenever
    torch is installed (sentence-transformers brings it): saring uses only spaCy's language data and lookup
    lemmas, and torch costs ~180 MB in every process (each screening worker, the API). torch stays importable
    afterwards (the model build uses it); thinc just does not know of it."""
    if "torch" in sys.modules or "thinc" in sys.modules:
        return
    sys.modules["torch"] = None  # type: ignore[assignment]  # makes `import torch` raise ImportError
    try:
        import thinc.compat  # noqa: F401
    finally:
        if "torch" in sys.modules and sys.modules["torch"] is None:
            del sys.modules["torch"]


_import_thinc_without_torch()

import spacy  # noqa: E402
from spacy.lang.id.stop_words import STOP_WORDS as _SPACY_STOP_WORDS  # noqa: E402
from spacy.language import Language  # noqa: E402

STOP_WORDS: frozenset[str] = frozenset(_SPACY_STOP_WORDS)

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200f\ufeff]")
_HYPHEN_BREAK = re.compile(r"(\w)-\n[ \t]*(\w)")
_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200a\u202f\u205f\u3000]+")
_SPACE_NL = re.compile(r" *\n *")
_MANY_NL = re.compile(r"\n{3,}")
_PAGE_NO = re.compile(r"^\s*(halaman\s+)?\d{1,4}(\s*(/|dari)\s*\d{1,4})?\s*$", re.IGNORECASE | re.MULTILINE)
_WORD = re.compile(r"[^\W_]+(?:[-'][^\W_]+)*")


def clean_text(raw: str) -> str:
    """Normalise Unicode, whitespace, end-of-line hyphenation and PDF artefacts (page numbers,
    hard-wrapped lines) so that the same wording always gives the same text."""
    t = unicodedata.normalize("NFC", raw).replace("\r\n", "\n").replace("\r", "\n")
    t = t.replace("\u00ad", "")  # soft hyphen
    t = _CONTROL.sub("", t)
    t = t.replace("\u2018", "'").replace("\u2019", "'").replace("\u201c", '"').replace("\u201d", '"')
    t = t.replace("\u2013", "-").replace("\u2014", "-").replace("\u2022", "-")
    t = _SPACES.sub(" ", t)
    t = _SPACE_NL.sub("\n", t)
    t = _PAGE_NO.sub("", t)
    t = _HYPHEN_BREAK.sub(r"\1\2", t)
    # Hard-wrapped lines (PDF): a line that does not end a sentence continues on the next line
    # when that line starts in lower case.
    t = re.sub(r"([^\n.:;!?])\n(?=[a-z(])", r"\1 ", t)
    t = _MANY_NL.sub("\n\n", t)
    return t.strip()


@dataclass(frozen=True, slots=True)
class Token:
    norm: str
    start: int
    end: int
    stop: bool


@dataclass(frozen=True, slots=True)
class Span:
    start: int
    end: int
    words: int


class _Lemmas(dict[str, str]):
    """Memoised view of spaCy's Indonesian lemma lookup table (its keys are string hashes, so
    lookups must go through `Table.get`)."""

    def __init__(self) -> None:
        super().__init__()
        from spacy.lookups import load_lookups

        self.table = load_lookups("id", ["lemma_lookup"]).get_table("lemma_lookup")

    def __missing__(self, word: str) -> str:
        v = self.table.get(word, word)
        if len(self) < 1_000_000:
            self[word] = v
        return v

    def get(self, word: str, default: str | None = None) -> str:  # type: ignore[override]
        return self[word]


@lru_cache(maxsize=1)
def _lemma_table() -> _Lemmas:
    return _Lemmas()


@lru_cache(maxsize=1)
def nlp() -> Language:
    """The blank spaCy Indonesian pipeline with the rule-based sentencizer (no download needed)."""
    pipe = spacy.blank("id")
    pipe.add_pipe("sentencizer")
    return pipe


def lemma(word: str) -> str:
    """Lookup lemma of a lower-cased Indonesian word (the word itself when unknown)."""
    return _lemma_table().get(word, word)


def is_inflected_indonesian(word: str) -> bool:
    """The lemma table maps the lower-cased word to another form: nearly always an affixed Indonesian word
    (membalas, tatapan, pelayanannya). Evidence of Indonesian that stop words miss; 6 of the 62,455 words
    of the English STS sentences are mapped (asian -> asi, virus -> visa), about a fifth of Indonesian
    words are."""
    return lemma(word) != word


def tokenize(text: str, *, use_lemmas: bool = True) -> list[Token]:
    """Word tokens with offsets; `norm` is the lower-cased (and lemmatised) form used for matching."""
    table = _lemma_table() if use_lemmas else None
    out: list[Token] = []
    for m in _WORD.finditer(text):
        w = m.group().lower()
        norm = table.get(w, w) if table is not None else w
        out.append(Token(norm, m.start(), m.end(), w in STOP_WORDS))
    return out


def count_words(text: str) -> int:
    return sum(1 for _ in _WORD.finditer(text))


def sentences(text: str) -> list[Span]:
    """Sentence spans: paragraphs and heading lines are split on newlines, then by spaCy's sentencizer."""
    out: list[Span] = []
    pipe = nlp()
    pos = 0
    paragraphs: list[tuple[int, str]] = []
    for line in text.split("\n"):
        if line.strip():
            paragraphs.append((pos, line))
        pos += len(line) + 1
    for base, doc in zip((b for b, _ in paragraphs), pipe.pipe(p for _, p in paragraphs), strict=True):
        for sent in doc.sents:
            s = base + sent.start_char
            e = base + sent.end_char
            seg = text[s:e]
            stripped = seg.strip()
            if not stripped:
                continue
            s += len(seg) - len(seg.lstrip())
            e = s + len(stripped)
            out.append(Span(s, e, count_words(stripped)))
    return out


def is_heading_line(text: str, span: Span, *, max_words: int = 12) -> bool:
    """A title or section heading: a whole short line without final punctuation that opens a paragraph
    (at the start of the text or after a blank line). Headings are shared by every proposal of a form,
    so they are kept out of the embedding units."""
    s, e = span.start, span.end
    line_start = s == 0 or text[s - 1] == "\n"
    line_end = e >= len(text) or text[e] == "\n"
    opens = s == 0 or text.rfind("\n\n", 0, s) == s - 2 or not text[:s].strip()
    return line_start and line_end and opens and span.words <= max_words and text[e - 1] not in ".!?;:,"


def chunk_spans(text: str, *, min_words: int = 8, max_words: int = 96) -> list[Span]:
    """Embedding units: sentences, short ones merged with their neighbour, long ones split at word
    boundaries, so each fits the model's sequence length. Headings and titles start a new unit and
    belong to none."""
    out: list[Span] = []
    pending: Span | None = None

    def flush_pending() -> None:
        nonlocal pending
        if pending is None:
            return
        if out and out[-1].words + pending.words <= max_words and "\n\n" not in text[out[-1].end : pending.start]:
            last = out.pop()
            out.append(Span(last.start, pending.end, last.words + pending.words))
        else:
            out.append(pending)
        pending = None

    for sent in sentences(text):
        if is_heading_line(text, sent):
            flush_pending()
            continue
        pieces = _split_long(text, sent, max_words) if sent.words > max_words else [sent]
        for piece in pieces:
            if pending is not None:
                piece = Span(pending.start, piece.end, pending.words + piece.words)
                pending = None
            if piece.words < min_words:
                pending = piece
            else:
                out.append(piece)
    flush_pending()
    return out


def _split_long(text: str, span: Span, max_words: int) -> Iterator[Span]:
    words = list(_WORD.finditer(text, span.start, span.end))
    for i in range(0, len(words), max_words):
        group = words[i : i + max_words]
        start = span.start if i == 0 else group[0].start()
        end = span.end if i + max_words >= len(words) else group[-1].end()
        yield Span(start, end, len(group))


def content_hash(text: str) -> str:
    """Stable key of a text for caches (embeddings are never computed twice for the same text)."""
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).hexdigest()
