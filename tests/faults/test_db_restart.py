"""The PostgreSQL server goes down in the middle of a batch and comes back: the worker waits for it,
reconnects and finishes the batch, every proposal screened and stored exactly once, results equal to
an uninterrupted run's."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from models.embedder import Embedder
from saring.config import Settings
from saring.jobs import JobRunner, make_huey
from saring.service import Saring
from screening.pipeline import BatchScreener
from screening.readers import ReadResult
from screening.results import ProposalResult
from tests.faults.conftest import archive_entries, batch_proposals
from tests.postgres import PgServer

PAUSE_AT = 2
"""The worker is held before screening this proposal (0-based) while the server is stopped."""
OUTAGE_S = 3.0


def test_database_restart_during_a_batch(
    tmp_path: Path,
    embedder: Embedder,
    pg_server_factory: Callable[[], PgServer],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    server = pg_server_factory()  # a private server: this test stops it
    settings = Settings(data_dir=tmp_path / "data", database_url=server.url(server.new_database()))
    service = Saring(settings, embedder=embedder)
    service.import_archive_proposals(archive_entries(3))
    proposals = batch_proposals(4)
    reference = {r.id: r for r in service.screener(proposals).screen_all()}  # also caches every embedding

    runner = JobRunner(service, huey=make_huey(settings))  # queued only: this test runs the batch itself
    batch_id = runner.submit(ReadResult(proposals=proposals, errors=[]), name="uji-putus-sambung")
    store = service.store

    held, go = threading.Event(), threading.Event()
    screened: list[str] = []
    original = BatchScreener.screen

    def screen(self: BatchScreener, proposal_id: str) -> ProposalResult:
        if len(screened) == PAUSE_AT:
            held.set()
            assert go.wait(120)
        screened.append(proposal_id)
        return original(self, proposal_id)

    monkeypatch.setattr(BatchScreener, "screen", screen)
    outcome: dict[str, object] = {}

    def work() -> None:
        try:
            outcome["ran"] = runner.run_batch(batch_id)
        except BaseException as exc:  # reported by the main thread
            outcome["error"] = exc

    caplog.set_level(logging.INFO, logger="saring.store")
    worker = threading.Thread(target=work, name="worker")
    worker.start()
    try:
        assert held.wait(120), f"the worker never reached proposal {PAUSE_AT}: {outcome}"
        before = store.get_batch(batch_id)
        assert before is not None and before.state == "running" and before.done == PAUSE_AT

        server.stop()
        go.set()  # the worker screens the next proposal and tries to store it while the server is down
        time.sleep(OUTAGE_S)
        assert worker.is_alive(), f"the worker gave up during the outage: {outcome}"
        server.start()
    finally:
        go.set()
        worker.join(180)
    assert not worker.is_alive(), "the worker did not finish after the server came back"
    assert "error" not in outcome, outcome.get("error")
    assert outcome["ran"] is True

    batch = store.get_batch(batch_id)
    assert batch is not None
    assert (batch.state, batch.done, batch.failed_items) == ("done", len(proposals), 0)
    results = store.batch_results(batch_id)
    assert [r.id for r in results] == [p.id for p in proposals], "each proposal exactly once, in upload order"
    assert [r.model_dump() for r in results] == [reference[p.id].model_dump() for p in proposals]
    stored = store.list_results(batch_id=batch_id, limit=100)
    assert sorted(r.id for r in stored) == sorted(p.id for p in proposals)
    assert screened == [p.id for p in proposals], "nothing was screened twice"

    said = [r for r in caplog.records if r.name == "saring.store"]
    lost = [r for r in said if "database unreachable, retrying" in r.getMessage()]
    assert lost and lost[0].levelno == logging.WARNING, [r.getMessage() for r in said]
    assert any("database reachable again" in r.getMessage() for r in said)
    service.store.close()
