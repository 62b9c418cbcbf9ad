"""Paraphrase detection with the default Indonesian-capable model on real human rewrites
(the 'simulated' cases of the Indonesian plagiarism corpus, dev part)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from models.embedder import CachedEmbedder, Embedder, load_embedder
from screening.alignment import is_reportable
from screening.params import Parameters
from screening.pipeline import align_texts


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    return CachedEmbedder(load_embedder())


def _case(corpus: Path, suspicious: str, source: str) -> tuple[str, str, int, int, int, int]:
    xml = (corpus / "suspicious-documents" / f"{suspicious}.xml").read_text(encoding="utf-8")
    for m in re.finditer(r"<feature[^>]*>", xml):
        a = dict(re.findall(r'(\w+)="([^"]*)"', m.group()))
        if a.get("type") == "simulated" and a["source_reference"] == f"{source}.txt":
            susp = (corpus / "suspicious-documents" / f"{suspicious}.txt").read_text(encoding="utf-8")
            src = (corpus / "source-documents" / a["source_reference"]).read_text(encoding="utf-8")
            return (
                susp,
                src,
                int(a["this_offset"]),
                int(a["this_length"]),
                int(a["source_offset"]),
                int(a["source_length"]),
            )
    raise LookupError(f"no simulated case {suspicious} <- {source}")


@pytest.mark.parametrize(
    ("suspicious", "source"),
    [
        ("suspicious-document00001", "source-document00029"),
        # a miss until 2026.12.1 (only one sentence reached the paraphrase cosine): the aligner's sentence-level
        # seeds and clustering find it
        ("suspicious-document00007", "source-document00027"),
    ],
)
def test_human_paraphrase_is_found_in_context(
    plag_corpus_dir: Path, params: Parameters, embedder: Embedder, suspicious: str, source: str
) -> None:
    susp, src, o, n, so, sn = _case(plag_corpus_dir, suspicious, source)
    # the rewritten passage inside 600 characters of its own document, against the source's neighbourhood
    a0, b0 = max(0, o - 600), max(0, so - 600)
    a, b = susp[a0 : o + n + 600], src[b0 : so + sn + 600]
    m = align_texts(a, b, params=params, embedder=embedder)
    inside = [p for p in m.passages if p.end > o - a0 and p.start < o - a0 + n]
    assert inside, "the rewritten passage is found"
    assert any(p.match_type == "paraphrase" for p in inside)
    # and mostly points at the source passage, not elsewhere
    on_target = [p for p in inside if p.other_end > so - b0 and p.other_start < so - b0 + sn]
    assert sum(p.end - p.start for p in on_target) >= 0.6 * sum(p.end - p.start for p in inside)
    outside = [p for p in m.passages if p.end <= o - a0 or p.start >= o - a0 + n]
    assert sum(p.end - p.start for p in outside) < 0.5 * n, "little is claimed outside the case"


def test_unrelated_same_topic_articles_are_not_paraphrases(
    seed_texts: list[str], params: Parameters, embedder: Embedder
) -> None:
    # Two independent news articles about KIPP (same topic and vocabulary): no paraphrase claims.
    m = align_texts(seed_texts[0], seed_texts[2], params=params, embedder=embedder)
    para = [p for p in m.passages if p.match_type == "paraphrase"]
    assert sum(p.end - p.start for p in para) < 0.1 * len(seed_texts[0])


def test_reworded_paragraph_whose_sentences_keep_a_phrase_becomes_a_candidate_pair(
    plag_corpus_dir: Path, params: Parameters, embedder: Embedder
) -> None:
    """suspicious-document00015 rewrites a paragraph of source-document00004 ("Senin pagi kami memulai
    perjalanan ke rumah dengan kereta" -> "... melakukan perjalanan dengan kereta menuju ke rumah"). No
    sentence pair reaches the shingle Jaccard or candidate_cosine, so the pair was never aligned; three
    rewritten sentences' nearest source sentences (cosine 0.86-0.91) share a phrase (a non-template
    shingle) with them, which makes a candidate from candidate_shared_cosine on, with at least
    cluster_min_units (2) such sentences: one alone is not enough. Once aligned, the aligner finds the
    rewrite (the last part; the candidate stage is the first)."""
    from screening.duplication import CandidateIndex, candidate_pairs
    from screening.features import DocFeatures, analyse
    from screening.pipeline import NullProgress, declared_template_shingles, embed_features, exact_search

    susp, src, o, n, so, sn = _case(plag_corpus_dir, "suspicious-document00015", "source-document00004")
    a0, b0 = max(0, o - 1500), max(0, so - 1500)
    a, b = analyse("a", susp[a0 : o + n + 1500], params), analyse("b", src[b0 : so + sn + 1500], params)
    embed_features([a, b], embedder, NullProgress())
    assert b.vectors is not None
    neighbours = exact_search(b.vectors, [(b.key, i) for i in range(len(b.chunks))])
    declared = declared_template_shingles(params)
    shared = set(a.shingles.tolist()) & set(b.shingles.tolist())

    def candidate(*, shared_cosine: float, boiler: frozenset[int], query: DocFeatures = a, units: int = 2) -> bool:
        # the plain rules switched off, so that only the shared-phrase rule can make the pair
        update = {
            "candidate_jaccard": 1.0,
            "candidate_cosine": 1.0,
            "candidate_shared_cosine": shared_cosine,
            "cluster_min_units": units,
        }
        dp = params.duplication.model_copy(update=update)
        index = CandidateIndex.build([query, b], params=dp, boiler=boiler)
        pairs = candidate_pairs([query], index=index, params=dp, boiler=boiler, neighbours=neighbours, docs={"b": b})
        return (query.key, "b") in pairs

    shipped = params.duplication.candidate_shared_cosine
    assert params.duplication.cluster_min_units == 2
    assert candidate(shared_cosine=shipped, boiler=frozenset(declared))
    assert not candidate(shared_cosine=1.0, boiler=frozenset(declared)), "the rule is what makes the pair"
    assert not candidate(shared_cosine=shipped, boiler=frozenset(declared | shared)), "template phrases: no candidate"
    # the rewrite's first sentence alone keeps a phrase too, but one sentence makes no candidate
    start = susp.index("Senin pagi kami melakukan perjalanan", o)
    one = analyse("a1", susp[start : susp.index(".", start) + 1], params)
    embed_features([one], embedder, NullProgress())
    assert len(one.chunks) == 1
    assert candidate(shared_cosine=shipped, boiler=frozenset(declared), query=one, units=1)
    assert not candidate(shared_cosine=shipped, boiler=frozenset(declared), query=one)
    m = align_texts(susp[a0 : o + n + 1500], src[b0 : so + sn + 1500], params=params, embedder=embedder)
    inside = [p for p in m.passages if p.end > o - a0 and p.start < o - a0 + n]
    assert inside and is_reportable(m, params.duplication)
    assert any(p.other_end > so - b0 and p.other_start < so - b0 + sn for p in inside)
