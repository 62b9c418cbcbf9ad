"""Approximate search for a batch's own chunk vectors: recall and speed of HNSW against exact search.

    python -m eval.ann --db STORE.sqlite3 [--model NAME] [--max 300000] [--queries 2000]

Reads the cached chunk vectors of one model from a saring SQLite store (for example the data directory a
`python -m eval.benchmark --workdir` run kept, or `eval/.cache/embeddings.db`), indexes them exactly
(faiss flat) and with `corpus.index.hnsw_search` (the search a batch of BATCH_HNSW_THRESHOLD or more chunks
gets), and reports for random queries drawn from the same vectors (as a proposal's chunks query its batch):
recall@10 (share of the exact top 10 found), the recall of the neighbours the dense candidate rule uses
(cosine >= candidate_cosine among the top dense_candidates_k), build time and query time per 100 queries
(about one proposal's chunks).
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table

from corpus.index import BATCH_HNSW_EF_SEARCH, flat_search, hnsw_search
from screening.params import default_parameters

console = Console()


def load_vectors(db: Path, model: str | None, limit: int) -> tuple[str, np.ndarray]:
    """Up to `limit` cached vectors of `model` (default: the model with most vectors) from a SQLite store."""
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        if model is None:
            row = con.execute("SELECT model FROM embeddings GROUP BY model ORDER BY count(*) DESC LIMIT 1").fetchone()
            if row is None:
                raise SystemExit(f"{db} holds no cached vectors")
            model = str(row[0])
        blobs = [
            r[0]
            for r in con.execute(
                "SELECT vector FROM embeddings WHERE model = ? AND key LIKE 'passage:%' LIMIT ?", (model, limit)
            )
        ]
    finally:
        con.close()
    if not blobs:
        raise SystemExit(f"{db} holds no passage vectors of model {model!r}")
    return model, np.stack([np.frombuffer(b, dtype="<f4") for b in blobs]).astype(np.float32)


def measure(vectors: np.ndarray, *, queries: int, k: int = 10, seed: int = 0) -> dict[str, Any]:
    dp = default_parameters().duplication
    refs = [("d", i) for i in range(len(vectors))]
    rng = np.random.default_rng(seed)
    q = vectors[rng.choice(len(vectors), size=min(queries, len(vectors)), replace=False)]
    t0 = time.perf_counter()
    exact = flat_search(vectors, refs)
    t_flat_build = time.perf_counter() - t0
    t0 = time.perf_counter()
    approx = hnsw_search(vectors, refs)
    t_hnsw_build = time.perf_counter() - t0
    t0 = time.perf_counter()
    ex = exact(q, k + 1)
    t_flat = time.perf_counter() - t0
    t0 = time.perf_counter()
    ap = approx(q, k + 1)
    t_hnsw = time.perf_counter() - t0
    found = total = close_found = close_total = 0
    for e, a in zip(ex, ap, strict=True):
        truth = {r for r, _ in e[1 : k + 1]}  # the query itself is its own first hit
        got = {r for r, _ in a}
        found += len(truth & got)
        total += len(truth)
        close = {r for r, s in e[1 : dp.dense_candidates_k + 1] if s >= dp.candidate_cosine}
        close_found += len(close & got)
        close_total += len(close)
    per100 = 100 / len(q)
    return {
        "vectors": len(vectors),
        "queries": len(q),
        "ef_search": BATCH_HNSW_EF_SEARCH,
        "recall_at_10": found / total if total else float("nan"),
        "candidate_recall": close_found / close_total if close_total else float("nan"),
        "candidate_neighbours": close_total,
        "flat_build_s": t_flat_build,
        "hnsw_build_s": t_hnsw_build,
        "flat_s_per_100_queries": t_flat * per100,
        "hnsw_s_per_100_queries": t_hnsw * per100,
    }


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m eval.ann", description=__doc__.splitlines()[0])
    ap.add_argument("--db", required=True, type=Path, help="a saring SQLite store (its embeddings table)")
    ap.add_argument("--model", help="model name (default: the one with most cached vectors)")
    ap.add_argument("--max", type=int, default=300_000, help="vectors to index")
    ap.add_argument("--queries", type=int, default=2000)
    ap.add_argument("--json", type=Path, help="write the measurements here")
    a = ap.parse_args(argv)
    model, vectors = load_vectors(a.db, a.model, a.max)
    r = {"model": model, **measure(vectors, queries=a.queries)}
    t = Table(title=f"HNSW (M=32, efSearch {r['ef_search']}) against exact search: {model}")
    t.add_column("measure")
    t.add_column("value", justify="right")
    t.add_row("vectors / queries", f"{r['vectors']:,} / {r['queries']:,}")
    t.add_row("recall@10", f"{r['recall_at_10']:.4f}")
    t.add_row(
        f"dense-candidate neighbours found ({r['candidate_neighbours']:,} with cosine >= candidate_cosine)",
        f"{r['candidate_recall']:.4f}",
    )
    t.add_row("build: flat / HNSW (s)", f"{r['flat_build_s']:.1f} / {r['hnsw_build_s']:.1f}")
    t.add_row(
        "query time per 100 queries: flat / HNSW (s)",
        f"{r['flat_s_per_100_queries']:.3f} / {r['hnsw_s_per_100_queries']:.3f}",
    )
    console.print(t)
    if a.json:
        a.json.write_text(json.dumps(r, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
