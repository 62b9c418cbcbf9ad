"""Duplication on real Indonesian text (the KIPP news seeds): exact copies, edited copies, reordered
sentences, template-only overlap, unrelated texts, and the relation between two proposals."""

from __future__ import annotations

import random
import re

import pytest

from models.text import sentences
from screening.duplication import classify_relation, declares_replication_of, is_reportable
from screening.params import Parameters
from screening.pipeline import align_texts
from screening.proposal import Proposal


def _passage(text: str, n_sentences: int = 6, skip: int = 2) -> str:
    sents = sentences(text)[skip : skip + n_sentences]
    return " ".join(text[s.start : s.end] for s in sents)


def _edit(text: str, seed: int) -> str:
    """Seeded edits a copier makes: swap some words, drop some, add a few."""
    rnd = random.Random(seed)
    fillers = ["tersebut", "secara", "juga", "sangat", "yakni", "tentunya", "pihaknya"]
    out: list[str] = []
    for w in text.split(" "):
        r = rnd.random()
        if r < 0.06:
            continue
        if r < 0.12:
            out.append(rnd.choice(fillers))
            continue
        out.append(w)
        if r > 0.95:
            out.append(rnd.choice(fillers))
    return " ".join(out)


def _covered(passages: list, start: int, end: int, *, other: bool = False) -> float:
    hit = set()
    for p in passages:
        s, e = (p.other_start, p.other_end) if other else (p.start, p.end)
        hit.update(range(max(s, start), min(e, end)))
    return len(hit) / max(1, end - start)


def test_exact_copy_is_one_identical_passage_with_offsets_in_both_texts(
    seed_texts: list[str], params: Parameters
) -> None:
    copied = _passage(seed_texts[1])
    host = seed_texts[2][:900] + "\n\n" + copied + "\n\n" + seed_texts[2][900:1600]
    source = seed_texts[1]
    m = align_texts(host, source, params=params)
    start = host.index(copied)
    src_start = source.index(copied[:60])
    assert m.passages, "an exact copy of six sentences must be found"
    assert _covered(m.passages, start, start + len(copied)) > 0.95
    assert _covered(m.passages, src_start, src_start + len(copied), other=True) > 0.9
    best = max(m.passages, key=lambda p: p.words)
    assert best.match_type == "identical"
    # identical wording (line breaks may differ: the passage was re-joined with spaces)
    assert re.findall(r"\w+", host[best.start : best.end]) == re.findall(
        r"\w+", source[best.other_start : best.other_end]
    )
    # nothing outside the copied region is claimed
    assert all(p.start >= start - 5 and p.end <= start + len(copied) + 5 for p in m.passages)


def test_edited_copy_is_found_as_edited(seed_texts: list[str], params: Parameters) -> None:
    original = _passage(seed_texts[3], n_sentences=6, skip=7)
    edited = _edit(original, seed=7)
    host = seed_texts[0][:700] + "\n\n" + edited + "\n\n" + seed_texts[0][700:1200]
    m = align_texts(host, seed_texts[3], params=params)
    start = host.index(edited)
    assert _covered(m.passages, start, start + len(edited)) > 0.8
    assert {p.match_type for p in m.passages} == {"edited"}
    assert is_reportable(m, params.duplication)


def test_reordered_sentences_stay_covered(seed_texts: list[str], params: Parameters) -> None:
    sents = [seed_texts[4][s.start : s.end] for s in sentences(seed_texts[4])[1:7]]
    rnd = random.Random(3)
    shuffled = sents[:]
    rnd.shuffle(shuffled)
    block = " ".join(shuffled)
    host = seed_texts[1][:600] + "\n\n" + block
    m = align_texts(host, seed_texts[4], params=params)
    start = host.index(block)
    assert _covered(m.passages, start, start + len(block)) > 0.85


def test_unrelated_real_texts_share_no_passage(seed_texts: list[str], params: Parameters) -> None:
    # Two different news articles about KIPP: same topic, same vocabulary, independent writing.
    m = align_texts(seed_texts[0], seed_texts[3], params=params)
    assert not is_reportable(m, params.duplication)
    assert m.share() < 0.05


def test_template_text_is_excluded_but_shown(seed_texts: list[str], params: Parameters) -> None:
    templ = " ".join(params.templates[:3])
    a = seed_texts[0][:800] + "\n\n" + templ
    b = seed_texts[4][:800] + "\n\n" + templ
    m = align_texts(a, b, params=params)
    assert not m.passages, "declared template text is never evidence of copying"
    assert m.template_passages, "template overlap is still reported as template"
    assert _covered(m.template_passages, a.index(templ), len(a)) > 0.8


def _proposal(pid: str, instansi: str, judul: str, **kw: object) -> Proposal:
    return Proposal(id=pid, judul=judul, instansi=instansi, klaster="kabupaten", bagian={"ringkasan": "x"}, **kw)


def test_relation_classification(seed_texts: list[str], params: Parameters) -> None:
    copied = _passage(seed_texts[1])
    m = align_texts(seed_texts[2][:500] + " " + copied, seed_texts[1], params=params)
    src = _proposal("A-1", "Pemerintah Kabupaten Bintan", "Kampung Kerupuk Modern", status="top45")
    other = _proposal("B-1", "Kota Batam", "Sentra Kerupuk Digital")
    replica = _proposal(
        "B-2", "Kabupaten Lingga", "Kerupuk Lingga", replikasi_dari="Kampung Kerupuk Modern, Pemkab Bintan"
    )
    same = _proposal("B-3", "Pemkab  Bintan", "Kampung Kerupuk Modern 2.0")
    assert classify_relation(other, src, m) == "other_region"
    assert classify_relation(replica, src, m) == "declared_replication"
    assert classify_relation(src, replica, m) == "declared_replication", "symmetric for the source's report"
    assert classify_relation(same, src, m) == "same_instansi"
    # a replication of something else does not excuse copying from this source
    wrong = _proposal("B-4", "Kabupaten Lingga", "X", replikasi_dari="Laksa Sehat, Kota Tanjungpinang")
    assert not declares_replication_of(wrong, src)
    assert classify_relation(wrong, src, m) == "other_region"


def test_offsets_point_at_words(seed_texts: list[str], params: Parameters) -> None:
    copied = _passage(seed_texts[2], n_sentences=4)
    host = "Pengantar singkat inovasi daerah kami.\n\n" + copied
    m = align_texts(host, seed_texts[2], params=params)
    for p in m.passages:
        assert re.match(r"\w", host[p.start]) and re.match(r"\w", host[p.end - 1])
        assert re.match(r"\w", seed_texts[2][p.other_start])


@pytest.mark.parametrize("n", [2, 3, 4])
def test_shingle_size_is_a_parameter(seed_texts: list[str], params: Parameters, n: int) -> None:
    p2 = params.model_copy(update={"duplication": params.duplication.model_copy(update={"shingle_size": n})})
    copied = _passage(seed_texts[1])
    m = align_texts(seed_texts[0][:400] + " " + copied, seed_texts[1], params=p2)
    assert m.passages and max(p.words for p in m.passages) >= 40
