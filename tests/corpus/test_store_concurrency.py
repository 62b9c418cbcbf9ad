"""Several processes on one store: two Store objects (two connection pools, as two processes have) cut
the same archive entries into chunks at the same moment, as two servers reloading one archive do."""

from __future__ import annotations

import threading

from corpus.store import Store

OWNERS = 40


def test_concurrent_chunking_of_the_same_entries_agrees(store_url: str) -> None:
    stores = [Store.open(store_url), Store.open(store_url)]
    spans = {f"arsip-{i:03d}": [(0, 90, f"h{i}a"), (70, 160, f"h{i}b")] for i in range(OWNERS)}
    changed: list[list[bool]] = [[], []]
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def work(n: int) -> None:
        try:
            for owner, want in spans.items():
                barrier.wait(10)
                changed[n].append(stores[n].replace_chunks("archive", owner, want))
        except BaseException as exc:
            errors.append(exc)
            barrier.abort()

    threads = [threading.Thread(target=work, args=(n,)) for n in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    try:
        assert errors == []
        # each entry was cut by at least one of them (the other found the chunks there, or cut them again)
        assert all(a or b for a, b in zip(*changed, strict=True))
        rows = stores[0].chunks_for("archive")
        assert len(rows) == 2 * OWNERS
        assert {(r.owner_id, r.seq, r.start, r.end, r.hash) for r in rows} == {
            (o, i, a, b, h) for o, want in spans.items() for i, (a, b, h) in enumerate(want)
        }
    finally:
        for s in stores:
            s.close()
