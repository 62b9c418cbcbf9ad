"""Batch screening jobs: queued with huey (SQLite by default, Redis with SARING_REDIS_URL), progress in the store.

The store is the truth: a batch's proposals and each proposal's result are rows there, so a worker
killed mid-batch loses nothing. On restart, unfinished batches whose heartbeat went stale are queued
again and only the proposals without a result are screened; results are written once (a result is
only accepted for a pending item), so none is screened into the report twice.

A batch is one job on the embedded default. With a block size (`Settings.block_size`: automatic with
SARING_REDIS_URL) it is split into blocks that any worker on any machine may take, one huey task each:
phase 0 prepares texts (analysis and embeddings, cached in the store by content hash, so no text is
analysed or embedded twice), phase 1 screens proposals once every text is prepared (each worker builds
the same batch context from the store, so results equal a one-worker run), phase 2 screens earlier
overlapping proposals again and closes the batch. A block is claimed in the store with a heartbeat: a
worker killed mid-block loses only that block, which another worker takes once the heartbeat is stale
(a `watch_batch` task looks every few seconds until the batch is finished).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import secrets
import socket
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from huey import Huey, RedisHuey, SqliteHuey
from huey.consumer import Consumer

from corpus.store import BlockInfo, Store
from saring.config import Settings
from saring.service import Saring
from screening.pipeline import BatchScreener, NullProgress, Progress
from screening.proposal import Proposal
from screening.readers import ReadResult

log = logging.getLogger("saring.jobs")

HEARTBEAT_S = 2.0
"""How often a running batch proves its worker is alive."""
STALE_S = 6.0
"""A running batch (or block) whose heartbeat is older than this is taken over by another worker."""
PREPARE, SCREEN, FINISH = 0, 1, 2
"""The phases of a batch split into blocks, in order; a phase opens when every earlier block is done."""
PHASE_NAMES = {PREPARE: "Menyiapkan teks dan embedding", SCREEN: "Menyaring proposal", FINISH: "Menyelesaikan batch"}
"""The stage shown on the dashboard for each phase (Bahasa Indonesia)."""
REQUEUE_S = 120.0
"""A pending block of the open phase whose task was queued longer ago than this is queued again: its task may
have been lost with a worker killed between taking it from the queue and claiming the block."""
MAX_BLOCK_ATTEMPTS = 5
"""A block claimed this many times without finishing (its workers died or it kept failing) fails the batch."""
EMBED_STEP = 256
"""Chunk texts embedded at a time while preparing a block (the heartbeat's loss is checked between steps)."""


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

    def __init__(self, saring: Saring, *, huey: Huey | None = None, block_size: int | None = None) -> None:
        """`block_size`: proposals per screening block (default: the settings'; 0: one job per batch)."""
        self.saring = saring
        self.huey = huey or make_huey(saring.settings)
        self.block_size = saring.settings.block_size if block_size is None else block_size
        self._task = self.huey.task(retries=2, retry_delay=STALE_S, name="screen_batch")(self._run_task)
        self._recover_task = self.huey.task(name="recover_batches")(self._recover_later)
        self._block_task = self.huey.task(name="screen_block")(self._run_block)
        self._watch_task = self.huey.task(name="watch_batch")(self._watch)
        self._context: _BatchContext | None = None
        self._context_lock = threading.Lock()

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
        if self.block_size > 0 or self.saring.store.batch_blocks(batch_id):
            self.run_blocks(batch_id)
        else:
            self.run_batch(batch_id)

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
            earlier = self.saring.earlier_waves(proposals, batch_id=batch_id)
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
                    linked.update(self.saring.mark_earlier(result, earlier))
                    store.save_item_result(
                        batch_id, result, parameters_version=self.saring.params.version, model=self.saring.embedder.name
                    )
                beat.advance()
            self.saring.rescreen_earlier(screener, sorted(linked), earlier, later=batch_id, later_ids=ids)
            store.finish_batch(batch_id, state="done")
            log.info("batch %s finished", batch_id)
            return True
        except Exception as e:
            log.exception("batch %s failed", batch_id)
            store.finish_batch(batch_id, state="failed", message=f"{type(e).__name__}: {e}")
            raise

    # ------------------------------------------------------------ blocks (several workers)

    def run_blocks(self, batch_id: str) -> bool:
        """Split the batch into blocks (once) and queue those any worker may take now; False when the batch
        is finished or another live worker is on it."""
        store = self.saring.store
        batch = store.get_batch(batch_id)
        if batch is None or batch.state in ("done", "failed"):
            return False
        if not store.claim_batch(batch_id, stale_after_s=STALE_S):
            log.info("batch %s is held by live workers; skipped", batch_id)
            return False
        blocks = store.batch_blocks(batch_id)
        if not blocks:
            proposals = store.batch_proposals(batch_id)
            ids = [p.id for p in proposals]
            earlier = sorted(self.saring.earlier_waves(proposals, batch_id=batch_id))
            size = max(1, self.block_size)
            texts = ids + earlier
            plan: list[tuple[int, Sequence[str]]] = [
                (PREPARE, texts[i : i + 2 * size]) for i in range(0, len(texts), 2 * size)
            ]
            plan += [(SCREEN, ids[i : i + size]) for i in range(0, len(ids), size)]
            plan.append((FINISH, earlier))  # the earlier waves compared with this batch, fixed once for all
            if store.create_blocks(batch_id, plan):
                log.info("batch %s: %d proposals in %d blocks", batch_id, len(ids), len(plan))
            blocks = store.batch_blocks(batch_id)
        else:
            log.info("batch %s: resuming its blocks (%d of %d done)", batch_id, batch.blocks_done, len(blocks))
        self._show_progress(batch_id, blocks)
        self._queue_open(batch_id, blocks)
        self._watch_task.schedule((batch_id,), delay=STALE_S)
        return True

    def _queue_open(self, batch_id: str, blocks: Sequence[BlockInfo]) -> list[int]:
        """Queue the blocks of the open phase that no live worker holds and whose task is not known to be
        waiting: never queued, queued long ago, or running with a stale heartbeat. Returns their numbers."""
        todo = [b for b in blocks if b.state != "done"]
        if not todo:
            return []
        phase = min(b.phase for b in todo)
        now = dt.datetime.now(dt.UTC)
        due = [
            b.seq
            for b in todo
            if b.phase == phase
            and (
                (b.state == "pending" and (b.queued_at is None or (now - b.queued_at).total_seconds() > REQUEUE_S))
                or (
                    b.state == "running"
                    and (b.heartbeat_at is None or (now - b.heartbeat_at).total_seconds() > STALE_S)
                )
            )
        ]
        if due:
            self.saring.store.mark_blocks_queued(batch_id, due)  # before queueing: immediate mode runs them now
            for seq in due:
                self._block_task(batch_id, seq)
        return due

    def _watch(self, batch_id: str) -> None:
        """Every few seconds until the batch is finished: queue again the blocks whose worker died."""
        store = self.saring.store
        batch = store.get_batch(batch_id)
        if batch is None or batch.state in ("done", "failed"):
            return
        again = self._queue_open(batch_id, store.batch_blocks(batch_id))
        if again:
            log.info("batch %s: blocks %s queued again (worker gone or task lost)", batch_id, again)
        self._watch_task.schedule((batch_id,), delay=STALE_S)

    def _show_progress(self, batch_id: str, blocks: Sequence[BlockInfo]) -> None:
        """The dashboard's stage: the open phase, its blocks done, and the workers holding blocks now."""
        todo = [b for b in blocks if b.state != "done"]
        if not todo:
            return
        phase = min(b.phase for b in todo)
        mine = [b for b in blocks if b.phase == phase]
        done = sum(b.state == "done" for b in mine)
        workers = {b.worker.rsplit(":", 1)[0] for b in mine if b.state == "running" and b.worker}
        stage = f"{PHASE_NAMES[phase]}: blok {done} dari {len(mine)}"
        if workers:
            stage += f", {len(workers)} pekerja"
        self.saring.store.set_batch_stage(batch_id, stage)

    def _run_block(self, batch_id: str, seq: int) -> None:
        """Take one block (if no live worker holds it and its phase is open), do it, and open the next phase."""
        store = self.saring.store
        worker = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
        block = store.claim_block(batch_id, seq, worker=worker, stale_after_s=STALE_S)
        if block is None:
            return
        if block.attempts > MAX_BLOCK_ATTEMPTS:
            log.error("batch %s: block %d claimed %d times without finishing", batch_id, seq, block.attempts)
            store.finish_batch(
                batch_id, state="failed", message=f"Blok {seq} gagal dikerjakan {MAX_BLOCK_ATTEMPTS} kali."
            )
            return
        log.info(
            "batch %s: block %d (phase %d, %d ids) taken by %s", batch_id, seq, block.phase, len(block.ids), worker
        )
        with _Heartbeat(store, batch_id, seq, worker) as beat:
            try:
                if block.phase == PREPARE:
                    finished = self._prepare_block(batch_id, block, beat)
                elif block.phase == SCREEN:
                    finished = self._screen_block(batch_id, block, beat)
                else:
                    finished = self._finish_block(batch_id, block, beat)
            except Exception:
                # The block stays claimed and its heartbeat stops: the watch queues it again once it is stale.
                log.exception("batch %s: block %d failed (attempt %d)", batch_id, seq, block.attempts)
                return
        if not finished:
            log.info("batch %s: block %d was taken over by another worker", batch_id, seq)
            return
        if block.phase != FINISH:
            store.finish_block(batch_id, seq)
        blocks = store.batch_blocks(batch_id)
        if block.phase == SCREEN and all(b.state == "done" for b in blocks if b.phase == SCREEN):
            self._drop_context(batch_id)  # the finishing worker builds it again if needed; memory back now
        self._show_progress(batch_id, blocks)
        self._queue_open(batch_id, blocks)

    def _drop_context(self, batch_id: str) -> None:
        """Forget the batch's screener (gigabytes for a national batch) once this worker needs it no more."""
        with self._context_lock:
            if self._context is not None and self._context.batch_id == batch_id:
                self._context = None

    def _load(self, batch_id: str, ids: Sequence[str]) -> list[Proposal]:
        """Proposals by id: the batch's own, then earlier proposals from the store (upload order kept)."""
        found = {p.id: p for p in self.saring.store.batch_proposals(batch_id, ids)}
        for pid in ids:
            if pid not in found:
                p = self.saring.store.get_proposal(pid)
                if p is not None:
                    found[pid] = p
        return [found[pid] for pid in ids if pid in found]

    def _prepare_block(self, batch_id: str, block: BlockInfo, beat: _Heartbeat) -> bool:
        """Analyse and embed the block's texts into the store's caches (what every screening worker reads)."""
        docs = list(self.saring.analysed_features(self._load(batch_id, block.ids)).values())
        texts = [d.chunk_text(i) for d in docs for i in range(len(d.chunks))]
        for s in range(0, len(texts), EMBED_STEP):
            if beat.lost.is_set():
                return False
            self.saring.embedder.embed(texts[s : s + EMBED_STEP])
        return not beat.lost.is_set()

    def _batch_context(self, batch_id: str) -> _BatchContext:
        """The batch's screener, built from the store the same way by every worker (one per process, kept
        for the batch's next blocks)."""
        with self._context_lock:
            c = self._context
            if c is not None and c.batch_id == batch_id:
                return c
            self._context = None
            t0 = time.perf_counter()
            store = self.saring.store
            batch = store.get_batch(batch_id)
            assert batch is not None
            proposals = store.batch_proposals(batch_id)
            finish = [b for b in store.batch_blocks(batch_id) if b.phase == FINISH]
            wanted = set(finish[0].ids) if finish else set()
            earlier = {k: v for k, v in self.saring.earlier_waves(proposals, batch_id=batch_id).items() if k in wanted}
            everything = [*proposals, *(p for p, _ in earlier.values())]
            screener = self.saring.screener(
                everything,
                progress=NullProgress(),
                today=batch.today,
                analysed=self.saring.analysed_features(everything),
            )
            c = self._context = _BatchContext(batch_id, screener, earlier, {p.id for p in proposals})
            log.info("batch %s: context built in %.1f s", batch_id, time.perf_counter() - t0)
            return c

    def _screen_block(self, batch_id: str, block: BlockInfo, beat: _Heartbeat) -> bool:
        """Screen the block's proposals still pending; each result is stored once, as it is made."""
        c = self._batch_context(batch_id)
        store = self.saring.store
        done = store.batch_done_ids(batch_id)
        for pid in block.ids:
            if beat.lost.is_set():
                return False
            if pid in done:
                continue
            try:
                result = c.screener.screen(pid)
            except Exception as e:  # one proposal's failure must not sink the batch
                log.exception("batch %s: proposal %s failed", batch_id, pid)
                store.fail_item(batch_id, pid, reason=f"Gagal disaring: {type(e).__name__}")
                continue
            self.saring.mark_earlier(result, c.earlier)
            store.save_item_result(
                batch_id, result, parameters_version=self.saring.params.version, model=self.saring.embedder.name
            )
        return not beat.lost.is_set()

    def _finish_block(self, batch_id: str, block: BlockInfo, beat: _Heartbeat) -> bool:
        """Screen again the earlier proposals the batch overlaps, then close the batch (done)."""
        c = self._batch_context(batch_id)
        store = self.saring.store
        linked = sorted(
            {d.other_id for r in store.batch_results(batch_id) for d in r.duplicates if d.other_id in c.earlier}
        )
        self.saring.rescreen_earlier(c.screener, linked, c.earlier, later=batch_id, later_ids=c.ids)
        if beat.lost.is_set():
            return False
        store.finish_batch(batch_id, state="done")  # first: a worker killed in between leaves a finished batch
        store.finish_block(batch_id, block.seq)
        self._drop_context(batch_id)
        log.info("batch %s finished", batch_id)
        return True

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


@dataclass
class _BatchContext:
    """What a worker keeps between the blocks of one batch: its screener and the earlier waves."""

    batch_id: str
    screener: BatchScreener
    earlier: dict[str, tuple[Proposal, str]]
    ids: set[str]


class _Heartbeat:
    """Beats a claimed block from a background thread while the worker does it (long steps such as building
    the batch context included); `lost` is set when another worker took the block over."""

    def __init__(self, store: Store, batch_id: str, seq: int, worker: str) -> None:
        self.store, self.batch_id, self.seq, self.worker = store, batch_id, seq, worker
        self.lost = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"heartbeat-{batch_id}-{seq}", daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(HEARTBEAT_S):
            try:
                if not self.store.heartbeat_block(self.batch_id, self.seq, worker=self.worker):
                    self.lost.set()
                    return
            except Exception:  # the store unreachable for a moment: the next beat tries again
                log.warning("batch %s: heartbeat of block %d failed", self.batch_id, self.seq, exc_info=True)

    def __enter__(self) -> _Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, typ: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self._stop.set()
        self._thread.join()


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
    """Seconds left, from the pace of the proposals screened so far in this run (of the blocks finished, by
    all workers together, for a batch split into blocks)."""
    blocks = getattr(batch, "blocks_total", 0)
    run = getattr(batch, "blocks_done_this_run", 0) if blocks else batch.done_this_run
    if batch.state != "running" or not batch.started_at or run <= 0:
        return None
    now = now or dt.datetime.now(dt.UTC)
    started = batch.started_at if batch.started_at.tzinfo else batch.started_at.replace(tzinfo=dt.UTC)
    elapsed = (now - started).total_seconds()
    if blocks:
        left = blocks - batch.blocks_done
        return round(elapsed / run * left, 1) if left > 0 else 0.0
    left = batch.total - batch.done - batch.failed_items
    return round(elapsed / batch.done_this_run * left, 1) if left > 0 else 0.0


def report_dir(settings: Settings, batch_id: str) -> Path:
    return settings.data_dir / "reports" / batch_id
