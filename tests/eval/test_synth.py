"""The synthetic benchmark data: deterministic, complete KIPP sections, planted copies that are real copies."""

from __future__ import annotations

import pytest

from eval.synth import COPY_KINDS, SECTION_KEYS, Planted, Sources, generate, load_sources, recall
from screening.params import INPUT_KEYS


@pytest.fixture(scope="module")
def sources() -> Sources:
    return load_sources()


def test_same_seed_same_documents(sources: Sources) -> None:
    a = generate(12, 8, seed=3, words=300, archive_words=150, copy_rate=0.3, sources=sources)
    b = generate(12, 8, seed=3, words=300, archive_words=150, copy_rate=0.3, sources=sources)
    c = generate(12, 8, seed=4, words=300, archive_words=150, copy_rate=0.3, sources=sources)
    assert [p.model_dump() for p in a.proposals] == [p.model_dump() for p in b.proposals]
    assert [p.model_dump() for p in a.archive] == [p.model_dump() for p in b.archive]
    assert a.planted == b.planted
    assert [p.text for p in a.proposals] != [p.text for p in c.proposals]


def test_documents_have_the_ten_sections_and_metadata(sources: Sources) -> None:
    s = generate(10, 10, seed=1, words=600, archive_words=200, sources=sources)
    assert len(SECTION_KEYS) == 10 and set(SECTION_KEYS) <= set(INPUT_KEYS)
    for p in s.proposals:
        assert set(p.bagian) == set(SECTION_KEYS)
        assert p.tahun == 2025 and p.tahun_implementasi is not None and p.tahun_implementasi < p.tahun
        assert len(p.bagian["ringkasan"].split()) <= 200
        assert p.status is None
    assert {e.status for e in s.archive} <= {"top45", "top99", "peserta"}
    mean = s.words() / len(s.proposals)
    assert 450 < mean < 800
    assert len({p.id for p in [*s.proposals, *s.archive]}) == 20


def test_planted_copies_share_text_with_their_source(sources: Sources) -> None:
    s = generate(40, 20, seed=2, words=400, archive_words=200, copy_rate=0.5, sources=sources)
    assert {c.kind for c in s.planted} == set(COPY_KINDS)
    docs = {p.id: p for p in [*s.proposals, *s.archive]}
    for c in s.planted:
        p, src = docs[c.proposal_id], docs[c.source_id]
        assert c.source == ("archive" if c.source_id.startswith("syn-arsip") else "batch")
        if c.source == "batch":
            assert c.source_id < c.proposal_id  # copied from an earlier proposal
        if c.kind in ("edited", "paraphrase"):
            assert any(p.bagian[k] != src.bagian[k] for k in c.sections)
        for k in c.sections:
            if c.kind == "verbatim":
                assert p.bagian[k] == src.bagian[k]
            elif c.kind == "reordered":
                assert sorted(p.bagian[k].split()) == sorted(src.bagian[k].split())
            else:
                words, source_words = set(p.bagian[k].lower().split()), set(src.bagian[k].lower().split())
                assert len(words & source_words) / len(source_words) > 0.4


def test_recall_counts_either_direction() -> None:
    planted = [
        Planted("b2", "a1", "archive", "verbatim", ("tujuan",)),
        Planted("b3", "b1", "batch", "paraphrase", ("tujuan",)),
        Planted("b4", "a2", "archive", "edited", ("tujuan",)),
    ]
    r = recall(planted, {"b2": {"a1"}, "b1": {"b3"}, "b4": {"a9"}})
    assert r["all"] == (2, 3)
    assert r["verbatim"] == (1, 1) and r["paraphrase"] == (1, 1) and r["edited"] == (0, 1)
    assert "reordered" not in r
