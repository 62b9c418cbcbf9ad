"""Indonesian text processing keeps offsets into the original text and normalises PDF artefacts."""

from __future__ import annotations

import itertools

from models.text import (
    chunk_spans,
    clean_text,
    content_hash,
    count_words,
    is_heading_line,
    lemma,
    sentences,
    tokenize,
)


def test_clean_text_repairs_pdf_artefacts() -> None:
    raw = (
        "Inovasi ini meningkatkan pela-\nyanan publik di Kabupaten\nBintan secara nyata.\n\n12\n\n"
        "Masyarakat\u00a0dapat   mengurus dokumen\u00ad kependudukan.\r\n"
    )
    t = clean_text(raw)
    assert "pelayanan publik di Kabupaten\nBintan" in t, "a capitalised next line is kept as a line"
    assert "\n12\n" not in t, "page numbers are dropped"
    assert "Masyarakat dapat mengurus dokumen kependudukan." in t
    assert "pela-" not in t and "\u00ad" not in t and "\r" not in t
    # a hard-wrapped line continuing in lower case is joined
    assert clean_text("pelayanan yang\ncepat dan mudah") == "pelayanan yang cepat dan mudah"


def test_tokens_keep_offsets_and_lemmas(seed_texts: list[str]) -> None:
    text = seed_texts[0]
    toks = tokenize(text)
    assert len(toks) > 200
    for t in toks[:300]:
        assert text[t.start : t.end].lower() == t.norm or lemma(text[t.start : t.end].lower()) == t.norm
    assert lemma("meluncurkan") == "luncur"
    assert any(t.stop for t in toks) and not all(t.stop for t in toks)


def test_sentences_and_chunks_cover_the_text_with_offsets(seed_texts: list[str]) -> None:
    for text in seed_texts:
        sents = sentences(text)
        assert sents and all(text[s.start : s.end].strip() == text[s.start : s.end] for s in sents)
        assert all(a.end <= b.start for a, b in itertools.pairwise(sents)), "in order, not overlapping"
        chunks = chunk_spans(text, min_words=8, max_words=40)
        assert all(c.words <= 40 + 8 for c in chunks)
        body = [s for s in sents if not is_heading_line(text, s)]
        assert sum(c.words for c in chunks) == sum(s.words for s in body), "every word outside headings, once"
        assert count_words(text) >= sum(c.words for c in chunks)


def test_headings_and_titles_belong_to_no_chunk() -> None:
    text = (
        "Ambulans Air Perbatasan\n\nRingkasan\nAmbulans air menjemput pasien dari desa di tepi sungai ke puskesmas.\n\n"
        "Sumber Daya\nPelaksana terdiri dari 11 perawat dan 4 motoris.\n- perahu cepat\n- radio"
    )
    chunks = [text[c.start : c.end] for c in chunk_spans(text, min_words=8, max_words=96)]
    assert chunks == [
        "Ambulans air menjemput pasien dari desa di tepi sungai ke puskesmas.",
        "Pelaksana terdiri dari 11 perawat dan 4 motoris.\n- perahu cepat\n- radio",
    ]


def test_long_sentence_is_split_under_the_limit() -> None:
    text = " ".join(f"kata{i}" for i in range(250)) + "."
    chunks = chunk_spans(text, min_words=8, max_words=96)
    assert [c.words for c in chunks] == [96, 96, 58]
    assert text[chunks[1].start : chunks[1].end].startswith("kata96")


def test_content_hash_is_stable() -> None:
    assert content_hash("Pelayanan publik") == content_hash("Pelayanan publik")
    assert content_hash("Pelayanan publik") != content_hash("Pelayanan  publik")


def test_the_text_layer_does_not_load_torch_but_leaves_it_importable() -> None:
    """spaCy's thinc imports torch whenever it is installed (~180 MB in every screening process); the text
    layer keeps it out, and torch still imports afterwards for the model build."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "import saring.service\n"
        "from models.text import tokenize\n"
        "assert [t.norm for t in tokenize('Inovasi pelayanan publik')][:1] == ['inovasi']\n"
        "print('torch' in sys.modules)\n"
        "import torch\n"
        "print(torch.ones(2).sum().item())\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert out.stdout.split() == ["False", "2.0"]
