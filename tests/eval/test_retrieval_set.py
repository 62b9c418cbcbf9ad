"""The larger retrieval archive: at least 300 entries of several origins, queries of every kind in both
splits, and hard queries that share little vocabulary with their targets (real Indonesian text)."""

from __future__ import annotations

from pathlib import Path

from eval.retrieval_set import KINDS, build
from screening.similarity import lexical_terms


def _overlap(a: str, b: str) -> float:
    x, y = set(lexical_terms(a)), set(lexical_terms(b))
    return len(x & y) / max(1, len(x))


def test_the_larger_archive_and_its_queries(plag_corpus_dir: Path) -> None:
    rs = build()
    ids = [e.id for e in rs.entries]
    assert len(ids) >= 300 and len(set(ids)) == len(ids)
    assert {"sample", "pan", "synth"} <= set(rs.origin.values())
    for kind in KINDS:
        splits = {q.split for q in rs.queries if q.kind == kind}
        assert splits == {"dev", "test"}, kind
    known = set(ids)
    for q in rs.queries:
        assert set(q.relevant) <= known and (bool(q.relevant) == (q.kind != "none")), q.id
    by_id = {e.id: e for e in rs.entries}

    def mean_overlap(kind: str) -> float:
        qs = [q for q in rs.queries if q.kind == kind]
        return sum(max(_overlap(q.text, by_id[t].text) for t in q.relevant) for q in qs) / len(qs)

    # a human rewrite shares far fewer of its (bigram) terms with its target than a shortened copy does
    assert mean_overlap("rewritten") < mean_overlap("shortened") - 0.2
