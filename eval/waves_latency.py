"""Portal latency as a year fills up: one batch of N synthetic proposals of one competition year is screened,
then single proposals of the same year are sent as the portal sends them (`Saring.screen_one`), each compared
with the archive and with those N proposals (issue 14's waves).

    python -m eval.waves_latency [--same-year 300] [--archive 300] [--requests 6] [--embedder hash|model]

Prints the time of each portal screening until its result, and then the re-screening of the earlier proposals it
overlaps (the API runs that after its response); the first request after start loads the year's analysed
proposals from the store's caches, the next ones find them in memory (`SARING_FEATURES_IN_MEMORY`).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from eval.benchmark import make_embedder


def main(argv: Sequence[str] | None = None) -> None:
    from eval.synth import generate
    from saring.config import Settings
    from saring.jobs import JobRunner, make_huey
    from saring.service import Saring
    from screening.readers import ReadResult

    ap = argparse.ArgumentParser(prog="python -m eval.waves_latency", description=__doc__.splitlines()[0])
    ap.add_argument("--same-year", type=int, default=300, help="proposals of the year screened before")
    ap.add_argument("--archive", type=int, default=300)
    ap.add_argument("--requests", type=int, default=6)
    ap.add_argument("--embedder", choices=("hash", "model"), default="hash")
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args(argv)
    svc = Saring(Settings(data_dir=Path(tempfile.mkdtemp(prefix="saring-waves-"))), embedder=make_embedder(a.embedder))
    synth = generate(a.same_year + a.requests, a.archive, seed=a.seed)
    svc.import_archive_proposals(synth.archive)
    svc.archive_context()
    runner = JobRunner(svc, huey=make_huey(svc.settings, immediate=True), block_size=0)
    t = time.perf_counter()
    runner.submit(ReadResult(proposals=synth.proposals[: a.same_year], errors=[]), name="gelombang")
    print(f"{a.same_year} proposals of one year screened as a batch in {time.perf_counter() - t:.1f} s")
    for p in synth.proposals[a.same_year :]:
        later: list[Callable[[], object]] = []
        t = time.perf_counter()
        r = svc.screen_one(p, defer=later.append)  # as the API does: earlier proposals re-screened afterwards
        took = time.perf_counter() - t
        t = time.perf_counter()
        for work in later:
            work()
        linked = sum(1 for d in r.duplicates if d.other_batch)
        print(
            f"portal screening against {a.same_year} of its year: {took:.2f} s until its result, then "
            f"{time.perf_counter() - t:.2f} s re-screening the {linked} earlier proposals it overlaps"
        )


if __name__ == "__main__":
    main()
