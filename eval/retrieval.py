"""Retrieval of similar past innovations: recall@1/5/10 and MRR of the hybrid `ArchiveCatalog.search`
against dense-only and lexical-only rankings, on the sample archive and (`run_large_retrieval`) on the larger
evaluation archive of eval/retrieval_set.py, where the readable score's weights, cut-off and levels are
chosen on the dev queries and measured on the test queries.

Queries: (1) `shortened`: each archive entry's ringkasan and kebaruan sentences, about 40 % dropped,
shuffled, each word dropped with p=0.1 (seeded); (2) `related`: real related text, the sample batch
proposals written from an archive entry and the seed news articles the real entries are based on
(corpus/sample/README.md).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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
    """Ranked archive ids for one query: hybrid (the product's ranking, cut-off ignored), dense only, lexical only."""
    ids = [e.id for e in catalog.entries]
    dense = catalog.doc_vectors @ vector
    assert catalog._tfidf is not None
    lex = (catalog._matrix @ catalog._tfidf.transform([text]).T).toarray().ravel()
    hybrid = [s.id for s in catalog.search(text=text, vector=vector, k=len(ids), cutoff=False)]
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


# ---------------------------------------------------------------- the larger archive (eval/retrieval_set.py)

METHODS: tuple[str, ...] = ("score", "rrf", "dense", "lexical")
"""Rankings compared: the readable score (shipped weights), reciprocal-rank fusion, dense only, lexical only."""
PRECISION_TARGET = 0.9
"""A stated level must be right this often on dev: at `level_related` 9 in 10 listed entries are the same
or a related innovation, at `level_same` 9 in 10 are the same one."""


@dataclass
class QueryScores:
    """One query's scores against every entry of the larger archive."""

    query: Any
    dense: np.ndarray
    lexical: np.ndarray
    baseline: float
    rrf: np.ndarray
    grades: np.ndarray


@dataclass
class Fitted:
    """The readable score's weights and its levels, chosen on dev."""

    bias: float
    dense_weight: float
    lexical_weight: float
    cutoff: float
    level_related: float
    level_same: float
    cutoff_f1: float
    method: str
    method_mrr: dict[str, float]


@dataclass
class LargeRetrievalResult:
    entries: dict[str, int]
    queries: dict[str, dict[str, int]]
    """split -> kind -> queries."""
    scores: dict[str, dict[str, dict[str, RetrievalScores]]]
    """split -> kind ("all" too) -> method -> scores."""
    listing: dict[str, dict[str, dict[str, float]]]
    """split -> kind -> listing measures at the shipped cut-off and levels."""
    fitted: Fitted
    shipped: dict[str, float]


def score_queries(params: Parameters, embedder: Embedder, *, quick: bool) -> tuple[Any, list[QueryScores]]:
    """Build the larger archive, embed it and the queries, and score every query against every entry."""
    from eval.retrieval_set import build

    rs = build(quick=quick)
    ctx = build_archive_context(rs.entries, embedder=embedder, params=params)
    cat = ctx.catalog
    docs = [analyse(f"q:{q.id}", q.text, params) for q in rs.queries]
    embed_features(docs, embedder, NullProgress())
    short = [i for i, d in enumerate(docs) if not d.chunks]  # a title: no sentence, embedded whole (as the service)
    whole = embedder.embed([rs.queries[i].text for i in short]) if short else np.zeros((0, embedder.dim))
    vecs = {i: whole[j] for j, i in enumerate(short)}
    ids = [e.id for e in rs.entries]
    out = []
    for i, (q, d) in enumerate(zip(rs.queries, docs, strict=True)):
        v = vecs[i] if i in vecs else doc_vector(d.vectors) if d.vectors is not None else np.zeros(embedder.dim)
        sc = cat.scores(text=q.text, vector=np.asarray(v, dtype=np.float32))
        grades = np.array([q.relevant.get(x, 0) for x in ids])
        out.append(QueryScores(q, sc.dense, sc.lexical, sc.baseline, sc.rrf, grades))
    return rs, out


def _features(qs: QueryScores) -> np.ndarray:
    return np.stack([qs.dense - qs.baseline, qs.lexical], axis=1)


def _readable(qs: QueryScores, bias: float, wd: float, wl: float) -> np.ndarray:
    z = bias + wd * (qs.dense - qs.baseline) + wl * qs.lexical
    return np.round(100.0 / (1.0 + np.exp(-z)), 1)


def _ranked(qs: QueryScores, method: str, readable: np.ndarray) -> list[int]:
    if method == "dense":
        return [int(i) for i in np.argsort(-qs.dense, kind="stable")]
    if method == "lexical":
        return [int(i) for i in np.argsort(-qs.lexical, kind="stable")]
    if method == "rrf":
        return [int(i) for i in np.lexsort((-readable, -qs.rrf))]
    return [int(i) for i in np.lexsort((-qs.rrf, -readable))]


def _lowest_with_precision(scores: np.ndarray, positive: np.ndarray, target: float, floor: float) -> float:
    for t in np.arange(max(1.0, floor), 100.0, 1.0):
        sel = scores >= t
        if sel.sum() and positive[sel].mean() >= target:
            return float(t)
    return 99.0


def fit(dev: list[QueryScores], ids: list[str]) -> Fitted:
    """Logistic regression of "same or related" on (cosine - median cosine, tf-idf cosine) over every dev
    (query, entry) pair; the cut-off maximises F1 of the listed pairs; each level is the lowest score at
    which PRECISION_TARGET of the dev pairs above it are right; the ranking is the best dev MRR."""
    from sklearn.linear_model import LogisticRegression

    x = np.concatenate([_features(q) for q in dev])
    y = np.concatenate([q.grades for q in dev])
    model = LogisticRegression(C=1e4, max_iter=5000).fit(x, (y > 0).astype(int))
    bias, wd, wl = float(model.intercept_[0]), float(model.coef_[0][0]), float(model.coef_[0][1])
    bias, wd, wl = round(bias, 2), round(max(wd, 0.0), 1), round(max(wl, 0.0), 2)
    s = np.concatenate([_readable(q, bias, wd, wl) for q in dev])
    best = (0.0, 50.0)
    for t in np.arange(1.0, 100.0, 1.0):
        sel = s >= t
        tp = float(((y > 0) & sel).sum())
        p = tp / sel.sum() if sel.sum() else 0.0
        r = tp / (y > 0).sum()
        f1 = 2 * p * r / (p + r) if p + r else 0.0
        if f1 > best[0] + 1e-9:
            best = (f1, float(t))
    cutoff = best[1]
    related = _lowest_with_precision(s, y > 0, PRECISION_TARGET, cutoff)
    same = _lowest_with_precision(s, y == 2, PRECISION_TARGET, related)
    mrr = {}
    for m in METHODS:
        ranks = [[ids[i] for i in _ranked(q, m, _readable(q, bias, wd, wl))] for q in dev if q.query.relevant]
        mrr[m] = retrieval_scores(ranks, [set(q.query.relevant) for q in dev if q.query.relevant]).mrr
    method = max(METHODS, key=lambda m: (round(mrr[m], 4), m == "score"))
    return Fitted(bias, wd, wl, cutoff, related, same, round(best[0], 3), method, mrr)


def listing_measures(qs: list[QueryScores], params: Parameters) -> dict[str, float]:
    """What a judge would see with the shipped score, cut-off and levels (at most top_k listed)."""
    p = params.similarity
    found = listed_wrong = empty = n_rel = n_none = 0
    same_ok = same_n = 0
    for q in qs:
        r = _readable(q, p.score_bias, p.score_dense_weight, p.score_lexical_weight)
        order = _ranked(q, p.ranking, r)
        shown = [i for i in order[: p.top_k] if r[i] >= p.cutoff]
        if q.query.relevant:
            n_rel += 1
            found += any(q.grades[i] > 0 for i in shown)
            for i in shown:
                if q.grades[i] == 2:
                    same_n += 1
                    same_ok += r[i] >= p.level_same
        else:
            n_none += 1
            empty += not shown
        listed_wrong += sum(1 for i in shown if q.grades[i] == 0)
    out: dict[str, float] = {"queries": float(len(qs))}
    if n_rel:
        out["relevant listed"] = found / n_rel
    if same_n:
        out["same shown as sama"] = same_ok / same_n
    if n_none:
        out["none: nothing listed"] = empty / n_none
    out["unrelated listed per query"] = listed_wrong / len(qs) if qs else float("nan")
    return out


def run_large_retrieval(*, params: Parameters, embedder: Embedder, quick: bool = False) -> LargeRetrievalResult:
    """R@1/5/10 and MRR per split, query kind and ranking on the larger archive; the readable score's
    weights, cut-off and levels chosen on dev; the shipped ones measured on both splits."""
    from eval.retrieval_set import KINDS

    rs, scored = score_queries(params, embedder, quick=quick)
    ids = [e.id for e in rs.entries]
    fitted = fit([q for q in scored if q.query.split == "dev"], ids)
    p = params.similarity
    scores: dict[str, dict[str, dict[str, RetrievalScores]]] = {}
    listing: dict[str, dict[str, dict[str, float]]] = {}
    queries: dict[str, dict[str, int]] = {}
    for split in ("dev", "test"):
        in_split = [q for q in scored if q.query.split == split]
        queries[split] = {k: sum(1 for q in in_split if q.query.kind == k) for k in KINDS}
        scores[split], listing[split] = {}, {}
        for kind in ("all", *KINDS):
            sel = [q for q in in_split if kind == "all" or q.query.kind == kind]
            if not sel:
                continue
            listing[split][kind] = listing_measures(sel, params)
            rel = [q for q in sel if q.query.relevant]
            if not rel:
                continue
            shipped_score = [_readable(q, p.score_bias, p.score_dense_weight, p.score_lexical_weight) for q in rel]
            scores[split][kind] = {
                m: retrieval_scores(
                    [[ids[i] for i in _ranked(q, m, r)] for q, r in zip(rel, shipped_score, strict=True)],
                    [set(q.query.relevant) for q in rel],
                )
                for m in METHODS
            }
    origin: dict[str, int] = {}
    for o in rs.origin.values():
        origin[o] = origin.get(o, 0) + 1
    shipped = {
        "bias": p.score_bias,
        "dense_weight": p.score_dense_weight,
        "lexical_weight": p.score_lexical_weight,
        "cutoff": p.cutoff,
        "level_related": p.level_related,
        "level_same": p.level_same,
    }
    return LargeRetrievalResult({"all": len(ids), **origin}, queries, scores, listing, fitted, shipped)
