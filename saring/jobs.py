"""Batch screening jobs: queued with huey (SQLite by default, Redis with SARING_REDIS_URL), progress in the store.

The store is the truth: a batch's proposals and each proposal's result are rows there, so a worker
killed mid-batch loses nothing. On restart, unfinished batches whose heartbeat went stale are queued
again and only the proposals without a result are screened; results are written once (a result is
only accepted for a pending item), so none is screened into the report twice.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from huey import Huey, RedisHuey, SqliteHuey
from huey.consumer import Consumer

from saring.config import Settings
from saring.service import Saring
from screening.pipeline import BatchScreener, Progress
from screening.proposal import Proposal
from screening.readers import ReadResult

log = logging.getLogger("saring.jobs")

HEARTBEAT_S = 2.0
"""How often a running batch proves its worker is alive."""
STALE_S = 6.0
"""A running batch whose heartbeat is older than this is taken over by another worker."""


def make_huey(settings: Settings, *, immediate: bool = False) -> Huey:
    """The task queue: SQLite next to the store by default, Redis when SARING_REDIS_URL is set."""
    if settings.redis_url:
        return RedisHuey("saring", url=settings.redis_url, immediate=immediate)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return SqliteHuey("saring", filename=str(settings.data_dir / "jobs.sqlite3"), immediate=immediate)


class _StoreProgress:
    """Progress protocol that heartbeats the batch while the screener prepares (analysis, embedding)."""

    def __init__(self, runner: JobRunner, batch_id: str) -> None:
        self.runner, self.batch_id = runner, batch_id
        self._last = 0.0

    def stage(self, name: str, total: int) -> None:
        self.runner.saring.store.set_batch_stage(self.batch_id, name)
        self._beat()

    def advance(self, n: int = 1) -> None:
        self._beat()

    def _beat(self) -> None:
        now = time.monotonic()
        if now - self._last >= HEARTBEAT_S:
            self._last = now
            self.runner.saring.store.heartbeat_batch(self.batch_id)


class JobRunner:
    """Creates batches, queues them, screens them resumably; one per process."""

    def __init__(self, saring: Saring, *, huey: Huey | None = None) -> None:
        self.saring = saring
        self.huey = huey or make_huey(saring.settings)
        self._task = self.huey.task(retries=2, retry_delay=STALE_S, name="screen_batch")(self._run_task)
        self._recover_task = self.huey.task(name="recover_batches")(self._recover_later)

    # ------------------------------------------------------------ submit

    def submit(
        self,
        res: ReadResult,
        *,
        name: str,
        today: dt.date | None = None,
        created_by: int | None = None,
    ) -> str:
        """Store the batch's proposals and queue its screening; returns the batch id at once."""
        batch_id = f"b-{dt.datetime.now(dt.UTC):%Y%m%d%H%M%S}-{secrets.token_hex(3)}"
        self.saring.store.create_batch(
            batch_id, name=name, proposals=res.proposals, errors=res.errors, today=today, created_by=created_by
        )
        if res.proposals:
            self._task(batch_id)
        else:
            reasons = "; ".join(f"{e.file}: {e.reason}" for e in res.errors[:3])
            self.saring.store.finish_batch(
                batch_id,
                state="failed",
                message="Tidak ada proposal yang dapat dibaca" + (f": {reasons}" if reasons else "."),
            )
        return batch_id

    # ------------------------------------------------------------ work

    def _run_task(self, batch_id: str) -> None:
        self.run_batch(batch_id)

    def _update_earlier(
        self,
        screener: BatchScreener,
        linked: Sequence[str],
        earlier: dict[str, tuple[Proposal, str]],
        *,
        batch_id: str,
        ids: set[str],
    ) -> None:
        """Earlier proposals this batch overlaps are screened again with the batch beside them, so their pages
        show the later copy too; each keeps the batch (or portal) it came from."""
        for eid in linked:
            try:
                again = screener.screen(eid)
            except Exception:
                log.exception("batch %s: earlier proposal %s could not be screened again", batch_id, eid)
                continue
            for d in again.duplicates:
                if d.other_id in ids:
                    d.other_batch = batch_id
                elif d.other_id in earlier:
                    d.other_batch = earlier[d.other_id][1]
            origin = earlier[eid][1]
            self.saring.store.save_result(
                again,
                parameters_version=self.saring.params.version,
                model=self.saring.embedder.name,
                batch_id=None if origin == "portal" else origin,
            )

    def run_batch(self, batch_id: str, *, progress: Progress | None = None) -> bool:
        """Screen the batch's pending proposals; False when another live worker holds it."""
        store = self.saring.store
        if not store.claim_batch(batch_id, stale_after_s=STALE_S):
            log.info("batch %s is held by another worker or finished; skipped", batch_id)
            return False
        try:
            batch = store.get_batch(batch_id)
            assert batch is not None
            proposals = store.batch_proposals(batch_id)
            done = store.batch_done_ids(batch_id)
            log.info("batch %s: %d proposals, %d already screened", batch_id, len(proposals), len(done))
            beat = _StoreProgress(self, batch_id)
            # Earlier waves: the same competition years' proposals already screened (other batches, the portal)
            # are compared with this batch as if they were in it; only this batch's proposals are screened.
            ids = {p.id for p in proposals}
            earlier = {
                p.id: (p, b or "portal")
                for p, b in store.screened_proposals_of_years(p.tahun for p in proposals if p.tahun)
                if p.id not in ids and b != batch_id
            }
            screener = self.saring.screener(
                [*proposals, *(p for p, _ in earlier.values())], progress=progress or beat, today=batch.today
            )
            store.set_batch_stage(batch_id, "Menyaring proposal")
            linked: set[str] = set()
            for p in proposals:
                if p.id in done:
                    continue
                try:
                    result = screener.screen(p.id)
                except Exception as e:  # one proposal's failure must not sink the batch
                    log.exception("batch %s: proposal %s failed", batch_id, p.id)
                    store.fail_item(batch_id, p.id, reason=f"Gagal disaring: {type(e).__name__}")
                else:
                    for d in result.duplicates:
                        if d.other_id in earlier:
                            d.other_batch = earlier[d.other_id][1]
                            linked.add(d.other_id)
                    store.save_item_result(
                        batch_id, result, parameters_version=self.saring.params.version, model=self.saring.embedder.name
                    )
                beat.advance()
            self._update_earlier(screener, sorted(linked), earlier, batch_id=batch_id, ids=ids)
            store.finish_batch(batch_id, state="done")
            log.info("batch %s finished", batch_id)
            return True
        except Exception as e:
            log.exception("batch %s failed", batch_id)
            store.finish_batch(batch_id, state="failed", message=f"{type(e).__name__}: {e}")
            raise

    # ------------------------------------------------------------ recovery

    def recover(self) -> list[str]:
        """Queue again every unfinished batch (queued, or running with a stale heartbeat)."""
        ids = self.saring.store.unfinished_batches(stale_after_s=STALE_S)
        for batch_id in ids:
            log.info("resuming batch %s", batch_id)
            self._task(batch_id)
        fresh = self.saring.store.unfinished_batches(stale_after_s=None)
        if set(fresh) - set(ids):
            # Some batch is still marked running by a worker that may have died: look again later.
            self._recover_task.schedule(delay=STALE_S)
        return ids

    def _recover_later(self) -> None:
        self.recover()


class _EmbeddedConsumer(Consumer):
    """A huey consumer living inside another program (the web server): no signal handlers of its own."""

    def _set_signal_handlers(self) -> None:
        pass


class EmbeddedWorker:
    """Worker threads inside `saring serve`, so the embedded default needs no second process."""

    def __init__(self, runner: JobRunner, *, workers: int = 1) -> None:
        self.runner = runner
        self.consumer = _EmbeddedConsumer(runner.huey, workers=workers, worker_type="thread", max_delay=1.0)
        self._started = False

    def start(self) -> None:
        self.runner.recover()
        self.consumer.start()
        self._started = True

    def stop(self) -> None:
        if self._started:
            self.consumer.stop(graceful=False)
            self._started = False


def run_worker(saring: Saring, *, workers: int = 1) -> None:
    """`saring worker`: a standalone consumer process (several may share a Redis broker)."""
    runner = JobRunner(saring)
    runner.recover()
    consumer = Consumer(runner.huey, workers=workers, worker_type="thread", max_delay=1.0)
    consumer.run()


def batch_eta(batch: Any, now: dt.datetime | None = None) -> float | None:
    """Seconds left, from the pace of the proposals screened so far in this run."""
    if batch.state != "running" or not batch.started_at or batch.done_this_run <= 0:
        return None
    now = now or dt.datetime.now(dt.UTC)
    started = batch.started_at if batch.started_at.tzinfo else batch.started_at.replace(tzinfo=dt.UTC)
    elapsed = (now - started).total_seconds()
    left = batch.total - batch.done - batch.failed_items
    return round(elapsed / batch.done_this_run * left, 1) if left > 0 else 0.0


def report_dir(settings: Settings, batch_id: str) -> Path:
    return settings.data_dir / "reports" / batch_id
