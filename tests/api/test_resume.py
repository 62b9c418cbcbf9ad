"""A worker process killed with SIGKILL in the middle of a batch: a new worker resumes where it stopped,
no proposal is lost or screened twice, and the report equals an uninterrupted run's."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

from models.embedder import Embedder
from saring.jobs import JobRunner
from screening.proposal import Proposal
from screening.readers import ReadResult
from tests.api.conftest import copied_sample, make_service

COPIES = 2


def _proposals() -> list[Proposal]:
    return copied_sample(COPIES)


def _worker(data_dir: Path, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "SARING_DATA_DIR": str(data_dir), "HF_HUB_OFFLINE": "1", "SARING_LOG_LEVEL": "INFO"}
    return subprocess.Popen(
        [sys.executable, "-m", "saring", "worker"], env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT
    )


def _wait(pred: object, timeout: float, what: str) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():  # type: ignore[operator]
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")


def test_killed_worker_resumes_without_loss_or_double_work(tmp_path: Path, embedder: Embedder) -> None:
    service = make_service(tmp_path / "data", embedder)
    proposals = _proposals()
    # The uninterrupted reference, computed in this process (this also caches every embedding in the store).
    reference = service.screener(proposals).screen_all()

    runner = JobRunner(service)
    batch_id = runner.submit(ReadResult(proposals=proposals, errors=[]), name="uji-lanjut")
    store = service.store

    first = _worker(tmp_path / "data", tmp_path / "worker1.log")
    try:
        _wait(lambda: (store.get_batch(batch_id).done or 0) >= 5, 180, "the first worker to screen 5 proposals")
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    finally:
        if first.poll() is None:
            first.kill()
    killed_at = store.get_batch(batch_id).done
    assert 5 <= killed_at < len(proposals), f"killed too late to prove anything ({killed_at}/{len(proposals)})"
    assert store.get_batch(batch_id).state == "running"

    second = _worker(tmp_path / "data", tmp_path / "worker2.log")
    try:
        _wait(lambda: store.get_batch(batch_id).state == "done", 240, "the second worker to finish the batch")
    finally:
        second.terminate()
        second.wait(10)

    log = (tmp_path / "worker2.log").read_text(encoding="utf-8", errors="replace")
    m = re.search(rf"batch {batch_id}: (\d+) proposals, (\d+) already screened", log)
    assert m, f"the second worker did not resume the batch:\n{log[-2000:]}"
    assert int(m.group(1)) == len(proposals)
    assert int(m.group(2)) >= killed_at, "work done before the kill was kept"

    batch = store.get_batch(batch_id)
    assert batch.done == len(proposals) and batch.failed_items == 0
    results = store.batch_results(batch_id)
    assert [r.id for r in results] == [p.id for p in proposals], "every proposal exactly once, in upload order"
    assert [r.model_dump() for r in results] == [r.model_dump() for r in reference]
