"""How much of a synthetic batch + archive is template-only text, i.e. what issue 13's "template-only chunks
need no vector" lever could save at most.

    python -m eval.template_share [--proposals 300] [--archive 1000] [--seed 0]

A chunk is template-only when at least half of its shingles are template text (the aligner's own rule,
`chunk_template_share >= 0.5`): the declared templates and form instructions, and shingles frequent enough
in the collection to be template text (`boilerplate_shingles`).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from eval.synth import generate
from screening.duplication import boilerplate_shingles
from screening.features import analyse
from screening.params import default_parameters
from screening.pipeline import declared_template_shingles
from screening.weights import chunk_template_share, template_mask


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m eval.template_share", description=__doc__.splitlines()[0])
    ap.add_argument("--proposals", type=int, default=300)
    ap.add_argument("--archive", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args(argv)
    params = default_parameters()
    synth = generate(a.proposals, a.archive, seed=a.seed)
    docs = [analyse(p.id, p.text, params) for p in [*synth.proposals, *synth.archive]]
    boiler = boilerplate_shingles(docs, params=params.duplication, declared=declared_template_shingles(params))
    chunks = words = skip_chunks = skip_words = 0
    for d in docs:
        share = chunk_template_share(d, template_mask(d, boiler))
        for ci, ch in enumerate(d.chunks):
            chunks += 1
            words += ch.words
            if share[ci] >= 0.5:
                skip_chunks += 1
                skip_words += ch.words
    print(
        f"{len(docs)} documents: template-only chunks {skip_chunks}/{chunks} ({skip_chunks / max(1, chunks):.2%}), "
        f"their words {skip_words}/{words} ({skip_words / max(1, words):.2%})"
    )


if __name__ == "__main__":
    main()
