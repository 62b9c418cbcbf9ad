"""Retrieval of similar past innovations: recall@1/5/10 and MRR of the hybrid `ArchiveCatalog.search`
against dense-only and lexical-only rankings, on the sample archive.

Queries: (1) `shortened`: each archive entry's ringkasan and kebaruan sentences, about 40 % dropped,
shuffled, each word dropped with p=0.1 (seeded); (2) `related`: real related text, the sample batch
proposals written from an archive entry and the seed news articles the real entries are based on
(corpus/sample/README.md).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from eval.common import REPO, data_dir
from eval.measures import RetrievalScores, retrieval_scores
from eval.pairs import SEED, sentence_list
from models.embedder import Embedder
from models.text import clean_text
from screening.features import analyse
from screening.params import Parameters
from screening.pipeline import NullProgress, build_archive_context, embed_features
from screening.proposal import Proposal
from screening.similarity import ArchiveCatalog, doc_vector

BATCH_RELATED = {
    "usulan-2025-07": {"arsip-009"},
    "usulan-2025-08": {"arsip-017"},
    "usulan-2025-09": {"arsip-001"},
    "usulan-2025-10": {"arsip-027"},
    "usulan-2025-17": {"arsip-008"},
}
SEED_RELATED = {
    "000": {"arsip-001"},
    "001": {"arsip-002", "arsip-003", "arsip-004", "arsip-005"},
    "002": {"arsip-007", "arsip-019"},
    "004": {"arsip-003", "arsip-006"},
}


@dataclass
class Query:
    id: str
    group: str
    text: str
    relevant: set[str]


def _read_jsonl(path: Path) -> list[Proposal]:
    return [Proposal.model_validate_json(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]


def archive_entries() -> list[Proposal]:
    return _read_jsonl(REPO / "corpus" / "sample" / "archive.jsonl")


def shortened(entry: Proposal) -> str:
    """A seeded rewrite of an entry's ringkasan + kebaruan: sentences dropped and shuffled, words dropped."""
    rng = random.Random(f"{SEED}:retrieval:{entry.id}")
    sents = sentence_list(entry.bagian.get("ringkasan", "") + " " + entry.bagian.get("kebaruan", ""))
    keep = [s for s in sents if rng.random() >= 0.4] or sents[:2]
    rng.shuffle(keep)
    return " ".join(" ".join(w for w in s.split() if rng.random() >= 0.1) for s in keep)


def queries(entries: list[Proposal]) -> list[Query]:
    out = [Query(f"short:{e.id}", "shortened", shortened(e), {e.id}) for e in entries]
    batch = {p.id: p for p in _read_jsonl(REPO / "corpus" / "sample" / "batch" / "proposals.jsonl")}
    out += [Query(pid, "related", batch[pid].text, rel) for pid, rel in BATCH_RELATED.items() if pid in batch]
    for path in sorted((data_dir() / "seeds").glob("*.txt")):
        rel = SEED_RELATED.get(path.stem[:3])
        if rel:
            out.append(Query(f"seed:{path.stem[:3]}", "related", clean_text(path.read_text(encoding="utf-8")), rel))
    return out


def rankings(catalog: ArchiveCatalog, text: str, vector: np.ndarray) -> dict[str, list[str]]:
    """Ranked archive ids for one query: hybrid (the product's search), dense only, lexical only."""
    ids = [e.id for e in catalog.entries]
    dense = catalog.doc_vectors @ vector
    assert catalog._tfidf is not None
    lex = (catalog._matrix @ catalog._tfidf.transform([text]).T).toarray().ravel()
    hybrid = [s.id for s in catalog.search(text=text, vector=vector, k=len(ids))]
    return {
        "hybrid": hybrid,
        "dense": [ids[i] for i in np.argsort(-dense, kind="stable")],
        "lexical": [ids[i] for i in np.argsort(-lex, kind="stable")],
    }


@dataclass
class RetrievalResult:
    scores: dict[str, dict[str, RetrievalScores]]
    """query set ("all", "shortened", "related") -> method -> scores."""


def run_retrieval(*, params: Parameters, embedder: Embedder) -> RetrievalResult:
    """Embed the archive and the queries, rank, score."""
    entries = archive_entries()
    ctx = build_archive_context(entries, embedder=embedder, params=params)
    qs = queries(entries)
    docs = [analyse(f"q:{q.id}", q.text, params) for q in qs]
    embed_features(docs, embedder, NullProgress())
    ranks = [
        rankings(ctx.catalog, q.text, doc_vector(d.vectors))
        for q, d in zip(qs, docs, strict=True)
        if d.vectors is not None
    ]
    out: dict[str, dict[str, RetrievalScores]] = {}
    for name in ("all", "shortened", "related"):
        idx = [i for i, q in enumerate(qs) if name == "all" or q.group == name]
        out[name] = {
            m: retrieval_scores([ranks[i][m] for i in idx], [qs[i].relevant for i in idx])
            for m in ("hybrid", "dense", "lexical")
        }
    return RetrievalResult(out)


def rewritten(entry: Proposal) -> Proposal:
    """A seeded whole-proposal rewrite (near copy): in every section about 30 % of sentences dropped,
    the rest shuffled, each word dropped with p=0.1."""
    rng = random.Random(f"{SEED}:near:{entry.id}")
    bagian = {}
    for key, body in entry.bagian.items():
        sents = sentence_list(body) or [body]
        keep = [x for x in sents if rng.random() >= 0.3] or sents[:1]
        rng.shuffle(keep)
        bagian[key] = " ".join(" ".join(w for w in x.split() if rng.random() >= 0.1) for x in keep)
    # a new model, not model_copy: the composed text is a cached property and would be copied stale
    return Proposal.model_validate({**entry.model_dump(), "id": f"near-{entry.id}", "bagian": bagian})


def archive_novelty_cosines(params: Parameters, embedder: Embedder) -> tuple[np.ndarray, np.ndarray]:
    """For novelty calibration, on the dev-split archive entries: each entry's highest document cosine to
    another past top innovation (distinct innovations), and each whole-proposal rewrite's cosine to
    its own entry (near copies)."""
    from eval.pairs import split_of

    entries = archive_entries()
    ctx = build_archive_context(entries, embedder=embedder, params=params)
    cat = ctx.catalog
    dev = [i for i, e in enumerate(entries) if split_of(f"arsip:{e.id}") == "dev"]
    distinct = []
    for i in dev:
        mask = cat.top_mask.copy()
        mask[i] = False
        distinct.append(float((cat.doc_vectors[mask] @ cat.doc_vectors[i]).max()))
    near_p = [rewritten(entries[i]) for i in dev]
    docs = [analyse(f"q:{p.id}", p.text, params) for p in near_p]
    embed_features(docs, embedder, NullProgress())
    near = [
        float(doc_vector(d.vectors) @ cat.doc_vectors[i])
        for i, d in zip(dev, docs, strict=True)
        if d.vectors is not None
    ]
    return np.array(distinct), np.array(near)
