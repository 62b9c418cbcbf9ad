"""The aligner's stages on real Indonesian text: one passage per copied span (reordered, rewritten,
summarised), translations, passages that never overlap, and a copied share that counts only what matched."""

from __future__ import annotations

import csv
import itertools
import re
from pathlib import Path

import pytest

from models.embedder import CachedEmbedder, Embedder, load_embedder
from models.text import sentences
from screening.alignment import (
    PairMatch,
    Seg,
    chunk_language,
    cluster,
    dense_groups,
    density,
    is_reportable,
    merge_close,
)
from screening.params import Parameters
from screening.pipeline import align_texts
from screening.results import Passage
from tests.conftest import shared_dir


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    return CachedEmbedder(load_embedder())


def _sents(text: str) -> list[str]:
    return [text[s.start : s.end] for s in sentences(text)]


def _check_layout(m: PairMatch) -> None:
    """Passages neither overlap nor nest in either text; each passage's segments lie inside it, in order,
    without overlapping each other."""
    for side in ("a", "b"):
        spans = sorted((p.start, p.end) if side == "a" else (p.other_start, p.other_end) for p in m.passages)
        for (_, e1), (s2, _) in itertools.pairwise(spans):
            assert e1 <= s2, f"passages overlap in text {side}: {spans}"
    for p in m.passages:
        assert p.segments, "a merged passage lists its parts"
        assert p.start == p.segments[0].start and p.end == max(s.end for s in p.segments)
        assert p.other_start == min(s.other_start for s in p.segments)
        assert p.other_end == max(s.other_end for s in p.segments)
        for s1, s2 in zip(p.segments, p.segments[1:], strict=False):
            assert s1.end <= s2.start


def test_reordered_and_edited_paragraph_is_one_passage(seed_texts: list[str], params: Parameters) -> None:
    src = seed_texts[3]
    sents = _sents(src)[4:10]
    # the copier shuffles the six sentences and drops a word from two of them
    shuffled = [sents[i] for i in (3, 0, 5, 1, 4, 2)]
    shuffled[1] = re.sub(r"^\S+\s", "", shuffled[1])
    shuffled[4] = re.sub(r"\s\S+([.!?])$", r"\1", shuffled[4])
    host = seed_texts[1]
    a = host[:600] + "\n\n" + " ".join(shuffled) + "\n\n" + host[600:1200]
    m = align_texts(a, src, params=params)
    _check_layout(m)
    start = a.index(shuffled[0])
    end = a.index(shuffled[-1]) + len(shuffled[-1])
    inside = [p for p in m.passages if p.end > start and p.start < end]
    assert len(inside) == 1, [(p.start, p.end) for p in m.passages]
    p = inside[0]
    assert p.start <= start + 40 and p.end >= end - 40
    # its twin is the source paragraph, whatever order the sentences came in
    src_start = src.index(sents[0])
    src_end = src.index(sents[-1]) + len(sents[-1])
    assert p.other_start <= src_start + 40 and p.other_end >= src_end - 40


@pytest.mark.parametrize(
    ("suspicious", "source"),
    [
        ("suspicious-document00001", "source-document00029"),
        ("suspicious-document00007", "source-document00027"),
        # rewritten word for word (few shared lemmas): found by a chain of nearest sentences
        ("suspicious-document00007", "source-document00009"),
    ],
)
def test_human_rewrite_is_one_passage(
    plag_corpus_dir: Path, params: Parameters, embedder: Embedder, suspicious: str, source: str
) -> None:
    xml = (plag_corpus_dir / "suspicious-documents" / f"{suspicious}.xml").read_text(encoding="utf-8")
    a = next(
        dict(re.findall(r'(\w+)="([^"]*)"', m.group()))
        for m in re.finditer(r"<feature[^>]*>", xml)
        if 'type="simulated"' in m.group() and f'source_reference="{source}.txt"' in m.group()
    )
    susp = (plag_corpus_dir / "suspicious-documents" / f"{suspicious}.txt").read_text(encoding="utf-8")
    src = (plag_corpus_dir / "source-documents" / f"{source}.txt").read_text(encoding="utf-8")
    o, n, so, sn = (int(a[k]) for k in ("this_offset", "this_length", "source_offset", "source_length"))
    a0, b0 = max(0, o - 1500), max(0, so - 1500)
    m = align_texts(susp[a0 : o + n + 1500], src[b0 : so + sn + 1500], params=params, embedder=embedder)
    _check_layout(m)
    inside = [p for p in m.passages if p.end > o - a0 and p.start < o - a0 + n]
    assert len(inside) == 1, "the rewritten paragraph is one passage, not fragments"
    p = inside[0]
    covered = min(p.end, o - a0 + n) - max(p.start, o - a0)
    assert covered >= 0.6 * n
    assert p.other_end > so - b0 and p.other_start < so - b0 + sn
    assert p.match_type == "paraphrase"


def test_heavy_rewrite_is_found_by_a_chain_of_nearest_sentences(
    plag_corpus_dir: Path, params: Parameters, embedder: Embedder
) -> None:
    """A paragraph rewritten word for word ("Disiplin mereka terlalu ketat" -> "Hukum yang dianut terlalu
    mempersulit") shares too few lemmas for sentence seeds; its sentences' nearest neighbours follow each
    other in the source, which is what a chain seed detects. Without chains nothing is found."""
    susp = (plag_corpus_dir / "suspicious-documents" / "suspicious-document00007.txt").read_text(encoding="utf-8")
    src = (plag_corpus_dir / "source-documents" / "source-document00009.txt").read_text(encoding="utf-8")
    o, n, so, sn = 461, 384, 1262, 381  # the simulated case of suspicious-document00007.xml
    a, b = susp[: o + n + 1500], src[: so + sn + 1500]
    no_chain = params.model_copy(
        update={"duplication": params.duplication.model_copy(update={"chain_min_chunks": 1000})}
    )
    assert not [p for p in align_texts(a, b, params=no_chain, embedder=embedder).passages if p.end > o]
    m = align_texts(a, b, params=params, embedder=embedder)
    hits = [p for p in m.passages if p.end > o and p.start < o + n]
    assert len(hits) == 1 and hits[0].match_type == "paraphrase"
    assert min(hits[0].end, o + n) - max(hits[0].start, o) >= 0.8 * n
    assert hits[0].other_start < so + sn and hits[0].other_end > so


def test_three_rewritten_sentences_that_share_words_are_a_chain(
    plag_corpus_dir: Path, params: Parameters, embedder: Embedder
) -> None:
    """Three sentences of a novel rewritten ("Kau cari mati, Anak Baru" -> "Kau benar-benar cari mati") are
    too few for a chain of nearest sentences alone (same-form proposals have such threes), and only one of
    them shares enough lemmas for a sentence seed. Their nearest sentences follow each other and share
    words too (mean tf-isf cosine above chain_lexical_cosine): a chain of three. Without it, nothing."""
    from eval.common import unwrap
    from screening.features import analyse

    susp = unwrap((plag_corpus_dir / "suspicious-documents" / "suspicious-document00014.txt").read_text("utf-8"))
    src = unwrap((plag_corpus_dir / "source-documents" / "source-document00026.txt").read_text("utf-8"))
    collection = [
        analyse(f"c:{p.name}", unwrap(p.read_text(encoding="utf-8")), params)
        for p in sorted((plag_corpus_dir / "source-documents").glob("*.txt"))
    ]
    o, n, so, sn = 3153, 347, 100621, 365  # the simulated case of suspicious-document00014.xml
    a, b = susp[: o + n + 1500], src[so - 3000 : so + sn + 3000]

    def hits(lexical_chunks: int, lexical_cosine: float = params.duplication.chain_lexical_cosine) -> list[Passage]:
        update = {"chain_lexical_chunks": lexical_chunks, "chain_lexical_cosine": lexical_cosine}
        p = params.model_copy(update={"duplication": params.duplication.model_copy(update=update)})
        m = align_texts(a, b, params=p, embedder=embedder, collection=collection)
        _check_layout(m)
        return [x for x in m.passages if x.end > o and x.start < o + n]

    assert params.duplication.chain_lexical_chunks == 3
    assert not hits(0), "without the lexical chain of three the rewrite is missed"
    assert not hits(3, 0.5), "its sentence pairs share words at a mean tf-isf cosine of 0.38, not 0.5"
    found = hits(3)
    assert len(found) == 1 and found[0].match_type == "paraphrase"
    assert min(found[0].end, o + n) - max(found[0].start, o) >= 0.8 * n
    assert found[0].other_start < 3000 + sn and found[0].other_end > 3000


def test_summary_of_a_novel_is_placed_in_its_own_chapter(
    plag_corpus_dir: Path, params: Parameters, embedder: Embedder
) -> None:
    """suspicious-document00014 summarises a chapter of the novel source-document00022 ("Kugy", "Keenan" and
    "Noni" in hundreds of its sentences). With collection IDF alone those names made a stretch of another
    chapter the best match of three summary sentences; weighted by the pair's inverse sentence frequency
    (tf-isf) the summary is one passage in its own chapter."""
    from eval.common import unwrap
    from screening.features import analyse

    susp = unwrap((plag_corpus_dir / "suspicious-documents" / "suspicious-document00014.txt").read_text("utf-8"))
    src = unwrap((plag_corpus_dir / "source-documents" / "source-document00022.txt").read_text("utf-8"))
    collection = [
        analyse(f"c:{p.name}", unwrap(p.read_text(encoding="utf-8")), params)
        for p in sorted((plag_corpus_dir / "source-documents").glob("*.txt"))
    ]
    # the simulated case of suspicious-document00014.xml against this source
    o, n, so, sn = 1331, 1117, 58120, 2237
    a, b = susp[:3000], src  # the whole novel: how often a name recurs is counted over all its sentences

    def passages(isf: bool) -> list[tuple[int, int, int, int]]:
        p = params.model_copy(update={"duplication": params.duplication.model_copy(update={"sentence_isf": isf})})
        m = align_texts(a, b, params=p, embedder=embedder, collection=collection)
        _check_layout(m)
        return [(x.start, x.end, x.other_start, x.other_end) for x in m.passages if x.end > o and x.start < o + n]

    assert any(b0 >= so + sn for _, _, b0, _ in passages(False)), "plain idf placed a part in another chapter"
    found = passages(True)
    assert len(found) == 1, found
    a0, a1, b0, b1 = found[0]
    assert so <= b0 and b1 <= so + sn, "the twin lies inside the summarised chapter"
    assert min(a1, o + n) - max(a0, o) >= 0.4 * n


def test_scattered_weak_seeds_keep_only_the_strong_ones(params: Parameters) -> None:
    """A merged group whose seeds cover little of its extent in both texts is reduced to its strong seeds."""
    weak = [Seg(i * 400, i * 400 + 100, i * 500, i * 500 + 100, "paraphrase", 0.5, source="sentence") for i in range(4)]
    strong = Seg(1700, 1800, 2100, 2200, "edited", 0.3, strong=True, source="shingle")
    dense = [Seg(i * 100, i * 100 + 95, i * 110, i * 110 + 100, "paraphrase", 0.5, source="sentence") for i in range(4)]
    out = dense_groups([[*weak, strong], dense], params.duplication, gap=params.duplication.extend_gap_chars)
    assert out == [[strong], dense]
    assert density(dense) >= params.duplication.cluster_min_density > density([*weak, strong])


def _archive_texts() -> dict[str, str]:
    from screening.proposal import Proposal

    path = Path(__file__).resolve().parents[2] / "corpus" / "sample" / "archive.jsonl"
    entries = [Proposal.model_validate_json(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]
    return {e.id: e.text for e in entries}


@pytest.mark.parametrize(
    ("first", "second"),
    [
        # "Pemangku kepentingan meliputi Dinas ..." in both: cosine 0.96 with other agencies named
        ("arsip-007", "arsip-022"),
        ("arsip-007", "arsip-040"),
        # two rephrased stock sentences (start of the service, APBD budget) and nothing else
        ("arsip-022", "arsip-027"),
        # stock sentences of consecutive sections (adaptability, sustainability, stakeholders) in form order
        ("arsip-007", "arsip-021"),
        ("arsip-012", "arsip-021"),
        # six rephrased stock sentences, one or two per section (upload, same-day verification, staff,
        # APBD budget, adaptability, stakeholders) with unmatched sentences between: not dense enough
        ("arsip-007", "arsip-027"),
        # two innovations of one ministry: three consecutive sentences whose nearest sentences follow each
        # other and share a few words (mean tf-isf cosine 0.31, below chain_lexical_cosine)
        ("arsip-003", "arsip-004"),
    ],
)
def test_stock_sentences_of_one_form_are_not_a_copy(
    params: Parameters, embedder: Embedder, first: str, second: str
) -> None:
    """Distinct innovations of the sample archive (civil registry, sign language, complaints): the form's
    stock sentences, rephrased, are not reported as copying."""
    texts = _archive_texts()
    m = align_texts(texts[first], texts[second], params=params, embedder=embedder, collection=())
    assert not is_reportable(m, params.duplication), [
        (p.match_type, texts[first][p.start : p.end][:80]) for p in m.passages
    ]


def test_the_forms_heading_words_are_no_evidence_whatever_the_collection(
    seed_texts: list[str], plag_corpus_dir: Path, params: Parameters, embedder: Embedder
) -> None:
    """A packaging clinic for UMKM (arsip-014) and a safe house (arsip-023), two innovations of one form,
    both open their stakeholder section "Pemangku kepentingan meliputi Dinas ..." (cosine 0.93) and made
    their service a UPT "melalui Peraturan Gubernur". Aligned with news articles as the collection (as the
    evaluation does), the section's heading words (pemangku, kepentingan) counted as rare, the two
    stakeholder sentences shared a fifth of their weight, and the pair was reported. The words of the
    form's headings, which every entry of the archive has, weigh 0, as template text is no evidence."""
    from eval.common import unwrap, with_duplication
    from screening.features import analyse
    from screening.pipeline import heading_terms
    from screening.weights import term_weights

    texts = _archive_texts()
    a, b = texts["arsip-014"], texts["arsip-023"]
    archive = [analyse(k, t, params) for k, t in texts.items()]
    assert all("pangku" in d.content_norms for d in archive), "every archive entry has the heading's words"
    # the evaluation's mix: a third of its documents are proposals, the rest essays, stories and news
    essays = sorted((plag_corpus_dir / "source-documents").glob("*.txt"))
    others = [analyse(p.stem, unwrap(p.read_text("utf-8")), params) for p in essays]
    collection = [*archive, *(analyse(f"n{i}", t, params) for i, t in enumerate(seed_texts)), *others]
    assert len(archive) / len(collection) < 0.5
    common = heading_terms(params)
    assert {"pangku", "penting", "keberlanjutan"} <= common
    assert term_weights(collection, ignored=common).weight("pangku") == 0
    assert term_weights(collection).weight("pangku") > 1.0

    off = with_duplication(params, ignore_heading_words=False)
    assert heading_terms(off) == frozenset()
    before = align_texts(a, b, params=off, embedder=embedder, collection=collection)
    assert is_reportable(before, off.duplication), "without the rule the stock sentences are reported"
    m = align_texts(a, b, params=params, embedder=embedder, collection=collection)
    assert not is_reportable(m, params.duplication), [(p.match_type, a[p.start : p.end][:80]) for p in m.passages]


def test_a_cited_name_and_tagline_is_not_reported_by_its_length(params: Parameters, embedder: Embedder) -> None:
    """Two news-based texts (dev negative of the labelled pairs) both quote one innovation's name and tagline,
    "Ceisa Barang Kiriman ... Pekerja Migran Indonesia": 23 matched words, three quarters of them capitalised.
    It stays a passage (the judge can see it), but a passage that is mostly a name or a title does not make
    the pair reportable by its length, in either direction; prose (the PAN case 00004/00017) is not."""
    import json

    from screening.alignment import name_share
    from screening.proposal import Proposal

    path = Path(__file__).resolve().parents[2] / "eval" / "data" / "pairs-dev.jsonl"
    case = next(c for c in map(json.loads, path.read_text("utf-8").splitlines()) if c["id"].endswith("seed001-seed004"))
    a, b = Proposal.model_validate(case["a"]), Proposal.model_validate(case["b"])
    m = align_texts(a.text, b.text, params=params, embedder=embedder)
    assert [p.words for p in m.passages] == [23]
    p = m.passages[0]
    assert "Ceisa Barang Kiriman" in a.text[p.start : p.end]
    assert name_share(a.text, [(s.start, s.end) for s in p.segments]) > params.duplication.report_max_name_share
    assert m.share() < params.duplication.report_min_share  # only the passage's length could report it
    assert not is_reportable(m, params.duplication)
    assert not is_reportable(m.swapped(), params.duplication), "the same whichever text is screened"
    without = params.duplication.model_copy(update={"report_max_name_share": 1.0})
    assert is_reportable(m, without), "without the rule the 23 words alone report the pair"
    prose = "Eropa dikirim 200 tahun kemudian setelah membuka diri dari isolasi selama dua abad. Jepang mengirim"
    assert name_share(prose, [(0, len(prose))]) < 0.3


def _sts_rows(limit: int) -> list[tuple[str, str]]:
    path = shared_dir() / "data" / "sts-indo" / "test.tsv"
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    out = [
        (r["text1"], r["text1_id"])
        for r in rows
        if "MSRpar" in (r.get("source") or "") and len((r.get("text1") or "").split()) >= 12 and r.get("text1_id")
    ]
    return out[:limit]


def test_translation_is_found_as_translated(seed_texts: list[str], params: Parameters, embedder: Embedder) -> None:
    rows = _sts_rows(12)
    english = " ".join(en for en, _ in rows[:8])
    indonesian = " ".join(ind for _, ind in rows[2:6])
    host = seed_texts[2]
    a = host[:700] + "\n\n" + indonesian + "\n\n" + host[700:1400]
    m = align_texts(a, english, params=params, embedder=embedder)
    _check_layout(m)
    start = a.index(indonesian)
    inside = [p for p in m.passages if p.end > start and p.start < start + len(indonesian)]
    assert inside and inside[0].match_type == "translated"
    assert sum(min(p.end, start + len(indonesian)) - max(p.start, start) for p in inside) >= 0.6 * len(indonesian)
    assert all(p.match_type != "translated" for p in m.passages if p not in inside)


def test_language_of_chunks(seed_texts: list[str], params: Parameters) -> None:
    from screening.features import analyse

    rows = _sts_rows(6)
    d = analyse("x", seed_texts[0] + "\n\n" + " ".join(en for en, _ in rows), params)
    lang = chunk_language(d)
    english_start = len(seed_texts[0]) + 2
    article = [code for c, code in zip(d.chunks, lang.tolist(), strict=True) if c.start < english_start]
    added = [code for c, code in zip(d.chunks, lang.tolist(), strict=True) if c.start >= english_start]
    assert added and all(code == 1 for code in added)
    # the news page's own English footer line ("Discussion about this post") is the only foreign chunk
    assert article.count(1) <= 1
    assert article.count(0) >= 0.8 * len(article)


def test_dialogue_mixing_english_lines_into_indonesian_prose_is_not_english(
    plag_corpus_dir: Path, params: Parameters, embedder: Embedder
) -> None:
    """A novel's dialogue that mixes English lines into Indonesian prose ("desisnya membalas tatapan Sharon.
    Sharon memutar posisi duduknya, 'so..., you're really my brother?'") has English function words and no
    Indonesian one: counted by function words alone it was English, and its nearest sentences of an
    unrelated Indonesian story (cosine 0.87-0.88) became a `translated` passage. Its affixed words
    (membalas, tatapan, memutar) are Indonesian."""
    from eval.common import unwrap
    from screening.features import analyse

    susp = unwrap((plag_corpus_dir / "suspicious-documents" / "suspicious-document00016.txt").read_text("utf-8"))
    src = unwrap((plag_corpus_dir / "source-documents" / "source-document00008.txt").read_text("utf-8"))
    mixed = susp.index("desisnya membalas tatapan Sharon")
    d = analyse("x", susp, params)
    lang = chunk_language(d)
    (ci,) = [i for i, c in enumerate(d.chunks) if c.start <= mixed < c.end]
    assert lang[ci] != 1, d.chunk_text(ci)
    # Lines that are English only stay English (the novel has some).
    assert any(code == 1 for code in lang.tolist()), "the novel's English-only lines are English"
    a = susp[mixed - 3000 : mixed + 2000]
    m = align_texts(a, src[:6000], params=params, embedder=embedder)
    assert not any(p.match_type == "translated" for p in m.passages)
    assert not (m.passages and is_reportable(m, params.duplication)), "a 39-word 'translation' was reported"


def test_same_form_indonesian_text_is_never_translated(
    seed_texts: list[str], params: Parameters, embedder: Embedder
) -> None:
    for i, j in ((0, 2), (1, 3), (2, 4)):
        m = align_texts(seed_texts[i], seed_texts[j], params=params, embedder=embedder)
        assert all(p.match_type != "translated" for p in m.passages)


def test_resubmission_with_changed_figures_is_not_all_copied(seed_texts: list[str], params: Parameters) -> None:
    text = seed_texts[3]
    numbers = list(re.finditer(r"\d[\d.,]*", text))
    assert len(numbers) >= 5
    changed = re.sub(r"\d[\d.,]*", lambda x: str(int(re.sub(r"\D", "", x.group()) or 0) + 7), text)
    m = align_texts(changed, text, params=params)
    assert len(m.passages) == 1
    assert 0.6 < m.share() < 0.995, m.share()
    assert m.passages[0].end - m.passages[0].start >= 0.9 * len(changed)


def test_summary_widens_the_gap_in_the_longer_text(params: Parameters) -> None:
    dp = params.duplication
    # two parts of one summary: short in the first text, spread out in the second (ratio 4)
    p1 = [Seg(0, 200, 0, 800, "paraphrase", 0.7, source="sentence"), Seg(210, 400, 900, 1600, "paraphrase", 0.7)]
    far = 1600 + dp.merge_other_gap_chars + 1000
    p2 = [Seg(600, 800, far, far + 800, "paraphrase", 0.7, source="sentence")]
    merged = merge_close([p1, p2], dp)
    assert len(merged) == 1
    # without the summary shape (same lengths in both texts) the same distance keeps them apart
    q1 = [Seg(0, 200, 0, 200, "paraphrase", 0.7), Seg(210, 400, 210, 400, "paraphrase", 0.7)]
    q2 = [Seg(600, 800, 400 + dp.merge_other_gap_chars + 1000, 600 + dp.merge_other_gap_chars + 1000, "edited", 1)]
    assert len(merge_close([q1, q2], dp)) == 2


def test_tf_isf_chooses_sentence_pairs_but_their_score_stays_plain(seed_texts: list[str], params: Parameters) -> None:
    """Under sentence_isf the tf-isf cosine decides which sentence pairs seed; each seed's score (what the
    close-pair rule compares with sentence_strong_cosine) is the collection tf-idf cosine of the pair."""
    import numpy as np

    from screening.alignment import sentence_cosines, sentence_seeds
    from screening.features import analyse
    from screening.weights import term_weights

    src = seed_texts[3]
    sents = _sents(src)[4:10]
    copy = " ".join(re.sub(r"\s\S+([.!?])$", r"\1", s) for s in sents)  # each sentence loses its last word
    a = analyse("a", seed_texts[1][:800] + "\n\n" + copy, params)
    b = analyse("b", src, params)
    weights = term_weights([a, b, *(analyse(f"c{i}", t, params) for i, t in enumerate(seed_texts))])
    ka, kb = np.zeros(len(a.chunks), dtype=bool), np.zeros(len(b.chunks), dtype=bool)
    plain = sentence_cosines(a, b, weights, a_skip=ka, b_skip=kb).toarray()
    isf = sentence_cosines(a, b, weights, a_skip=ka, b_skip=kb, isf=True).toarray()
    assert np.abs(isf - plain).max() > 0.05, "the sentence frequency changes the weights"
    dp = params.duplication
    assert dp.sentence_isf
    seeds = sentence_seeds(a, b, weights, dp, a_skip=ka, b_skip=kb)
    assert len(seeds) >= 4
    starts_a = [c.start for c in a.chunks]
    starts_b = [c.start for c in b.chunks]
    for s in seeds:
        i, j = starts_a.index(s.a0), starts_b.index(s.b0)
        assert isf[i, j] >= dp.sentence_cosine
        assert s.score == pytest.approx(plain[i, j], abs=1e-9)


def test_clusters_split_by_gaps_in_both_texts() -> None:
    near = [Seg(0, 100, 5000, 5100, "edited", 1.0), Seg(150, 250, 4800, 4900, "edited", 1.0)]
    far = [Seg(300, 400, 20000, 20100, "edited", 1.0)]
    groups = cluster([*near, *far], gap=600)
    assert sorted(len(g) for g in groups) == [1, 2]
