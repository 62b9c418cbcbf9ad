"""Several `saring worker` processes on one batch, on a real PostgreSQL and a real Redis (throw-away servers):
the batch is split into blocks, one worker is killed with SIGKILL while it holds a block, another takes the
block over once its heartbeat is stale, and the report equals the one-process screening's apart from times.
Each worker has its own data directory: only the database and the queue are shared."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from models.embedder import Embedder
from saring.jobs import SCREEN, JobRunner
from screening.proposal import Proposal
from screening.readers import ReadResult
from tests.api.conftest import copied_sample, embedder, make_service

__all__ = ["embedder"]  # the session's model fixture, shared with the API tests

COPIES = 2
BLOCK = 3
"""Proposals per screening block: small, so a killed worker holds one while others are left."""


def _proposals() -> list[Proposal]:
    return copied_sample(COPIES)


def _worker(data_dir: Path, log: Path, *, database_url: str, redis_url: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "SARING_DATA_DIR": str(data_dir),
        "SARING_DATABASE_URL": database_url,
        "SARING_REDIS_URL": redis_url,
        "SARING_BATCH_BLOCK_SIZE": str(BLOCK),
        "HF_HUB_OFFLINE": "1",
        "SARING_LOG_LEVEL": "INFO",
        # one core each, as on a machine of its own
        "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "saring", "worker"], env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT
    )


def _wait(pred: Callable[[], object], timeout: float, what: str, logs: list[Path]) -> Any:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        got = pred()
        if got:
            return got
        time.sleep(0.05)
    tails = "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-1500:]}" for p in logs if p.exists())
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}\n{tails}")


def _without_times(report: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in report.items() if k != "generated_at"}


@pytest.mark.parametrize("n_workers", [2, 3])
def test_workers_share_a_batch_and_survive_a_kill(
    n_workers: int, tmp_path: Path, embedder: Embedder, pg_url: str, redis_url: str
) -> None:
    service = make_service(
        tmp_path / "test", embedder, database_url=pg_url, redis_url=redis_url, batch_block_size=BLOCK
    )
    store = service.store
    proposals = _proposals()
    # The one-process screening (it also caches every embedding in the store, as an earlier batch would).
    reference = service.make_report(service.screener(proposals).screen_all(), [])

    logs = [tmp_path / f"worker{i}.log" for i in range(n_workers)]
    workers = [
        _worker(tmp_path / f"data{i}", logs[i], database_url=pg_url, redis_url=redis_url) for i in range(n_workers)
    ]
    try:
        runner = JobRunner(service)
        assert runner.block_size == BLOCK
        batch_id = runner.submit(ReadResult(proposals=proposals, errors=[]), name="uji-pekerja")

        def victim_block() -> Any:
            """A screening block held by one worker while others are left: the moment to kill it."""
            blocks = store.batch_blocks(batch_id)
            left = [b for b in blocks if b.phase == SCREEN and b.state == "pending"]
            for b in blocks:
                if b.phase == SCREEN and b.state == "running" and b.worker and len(left) >= n_workers:
                    pid = int(b.worker.split(":")[1])
                    if any(w.pid == pid for w in workers):
                        return b
            return None

        held = _wait(victim_block, 240, "a worker to hold a screening block", logs)
        pid = int(held.worker.split(":")[1])
        victim = next(w for w in workers if w.pid == pid)
        victim.send_signal(signal.SIGKILL)
        victim.wait(10)
        # The victim may have finished that block and claimed the next one between the look and the kill: the
        # blocks it held when it died are those still running under its name.
        dead = [b for b in store.batch_blocks(batch_id) if b.worker == held.worker and b.state == "running"]
        _wait(lambda: store.get_batch(batch_id).state in ("done", "failed"), 300, "the batch to finish", logs)
    finally:
        for w in workers:
            if w.poll() is None:
                w.terminate()
        for w in workers:
            try:
                w.wait(15)
            except subprocess.TimeoutExpired:
                w.kill()

    batch = store.get_batch(batch_id)
    assert batch is not None and batch.state == "done", batch
    assert batch.done == len(proposals) and batch.failed_items == 0
    blocks = store.batch_blocks(batch_id)
    assert batch.blocks_total == batch.blocks_done == len(blocks)
    assert dead, "the worker was killed holding a block"
    for b in dead:
        taken = blocks[b.seq]
        assert taken.state == "done" and taken.attempts >= 2 and taken.worker != held.worker, "killed block taken over"
    survivors = {b.worker.split(":")[1] for b in blocks if b.worker} - {str(pid)}
    assert survivors, "the other workers did the rest"
    # Nothing screened twice: one stored version per proposal, every proposal once, in upload order.
    assert all(len(store.result_versions(p.id)) == 1 for p in proposals)
    got = service.batch_report(batch_id)
    assert [r.id for r in got.proposals] == [p.id for p in proposals]
    assert _without_times(json.loads(got.model_dump_json())) == _without_times(json.loads(reference.model_dump_json()))
