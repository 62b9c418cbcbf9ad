"""A batch split into blocks (huey immediate mode, one process): the same results as one job, blocks
counted in the store, a block whose worker died taken over after its heartbeat goes stale, and nothing
screened twice."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import update

from corpus.features_cache import dump_features, load_text_features
from corpus.store import BatchBlockRow
from models.embedder import Embedder
from saring.jobs import FINISH, PREPARE, REQUEUE_S, SCREEN, STALE_S, JobRunner, batch_eta, make_huey
from screening.features import analyse
from screening.params import Parameters
from screening.proposal import Proposal
from screening.readers import ReadResult
from tests.api.conftest import embedder, make_service, sample_batch

__all__ = ["embedder"]  # the session's model fixture, shared with the API tests


def test_text_features_round_trip_without_pickle(params: Parameters) -> None:
    text = Proposal.model_validate(sample_batch()[0]).text
    d = analyse("b:x", text, params)
    back = load_text_features(dump_features(d), key="b:y", text=text)
    assert back.key == "b:y" and back.text == text
    assert back.chunks == d.chunks and back.chunk_hashes == d.chunk_hashes
    assert back.chunk_shingles == d.chunk_shingles and back.content_norms == d.content_norms
    for name in ("tok_start", "tok_end", "content_pos", "shingles"):
        assert (getattr(back, name) == getattr(d, name)).all() and getattr(back, name).dtype == getattr(d, name).dtype


def test_blocks_give_the_one_job_results_and_count_blocks(tmp_path: Path, embedder: Embedder) -> None:
    service = make_service(tmp_path / "data", embedder)
    proposals = [Proposal.model_validate(row) for row in sample_batch()]
    reference = service.screener(proposals).screen_all()

    runner = JobRunner(service, huey=make_huey(service.settings, immediate=True), block_size=5)
    batch_id = runner.submit(ReadResult(proposals=proposals, errors=[]), name="uji-blok")
    store = service.store
    batch = store.get_batch(batch_id)
    assert batch is not None and batch.state == "done", batch
    blocks = store.batch_blocks(batch_id)
    phases = [b.phase for b in blocks]
    assert phases == sorted(phases) and set(phases) == {PREPARE, SCREEN, FINISH}
    assert [pid for b in blocks if b.phase == SCREEN for pid in b.ids] == [p.id for p in proposals]
    assert all(b.state == "done" for b in blocks)
    assert batch.blocks_total == batch.blocks_done == len(blocks) and batch.done == len(proposals)
    results = store.batch_results(batch_id)
    assert [r.model_dump() for r in results] == [r.model_dump() for r in reference]
    assert sum(len(r.duplicates) for r in results) > 0


def test_a_dead_workers_block_is_taken_over_once_stale(tmp_path: Path, embedder: Embedder) -> None:
    service = make_service(tmp_path / "data", embedder)
    proposals = [Proposal.model_validate(row) for row in sample_batch()]
    store = service.store
    runner = JobRunner(service, huey=make_huey(service.settings, immediate=True), block_size=6)
    batch_id = "b-uji-mati"
    store.create_batch(batch_id, name="uji", proposals=proposals, errors=[])
    # Plan the blocks without running them: a runner with a queue that is never consumed.
    planner = JobRunner(service, huey=make_huey(service.settings.model_copy(update={"data_dir": tmp_path / "q"})))
    planner.block_size = 6
    assert planner.run_blocks(batch_id)
    blocks = store.batch_blocks(batch_id)
    prepare = [b for b in blocks if b.phase == PREPARE]
    screen = [b for b in blocks if b.phase == SCREEN]
    assert store.claim_block(batch_id, screen[0].seq, worker="x", stale_after_s=STALE_S) is None, "phase not open"
    for b in prepare:
        planner._run_block(batch_id, b.seq)  # the next phase's tasks go to the queue nobody consumes
    # A worker takes the first screening block, screens one proposal, then dies (no more heartbeats).
    held = store.claim_block(batch_id, screen[0].seq, worker="mati:1:aa", stale_after_s=STALE_S)
    assert held is not None
    first = planner._batch_context(batch_id).screener.screen(held.ids[0])
    assert store.save_item_result(batch_id, first)
    runner._run_block(batch_id, screen[0].seq)  # held by a live worker: left alone
    runner._watch(batch_id)  # the heartbeat is fresh: not queued again
    assert store.batch_blocks(batch_id)[screen[0].seq].state == "running"
    batch = store.get_batch(batch_id)
    assert batch is not None and batch.blocks_done == len(prepare) and batch.state == "running"
    assert batch.stage and batch.stage.startswith("Menyaring proposal: blok 0 dari")
    assert batch_eta(batch) is not None
    # The dead worker's heartbeat goes stale; the other blocks' tasks sit in a queue nobody consumes, as if
    # lost, until REQUEUE_S has passed.
    now = dt.datetime.now(dt.UTC)
    with store.session() as s:
        s.execute(
            update(BatchBlockRow)
            .where(BatchBlockRow.batch_id == batch_id, BatchBlockRow.seq == screen[0].seq)
            .values(heartbeat_at=now - dt.timedelta(seconds=STALE_S + 1))
        )
        s.execute(
            update(BatchBlockRow)
            .where(BatchBlockRow.batch_id == batch_id)
            .values(queued_at=now - dt.timedelta(seconds=REQUEUE_S + 1))
        )
    runner._watch(batch_id)  # queues those blocks again (and runs them and the rest at once: immediate mode)
    batch = store.get_batch(batch_id)
    assert batch is not None and batch.state == "done", batch
    taken = store.batch_blocks(batch_id)[screen[0].seq]
    assert taken.state == "done" and taken.attempts == 2 and taken.worker != "mati:1:aa"
    results = store.batch_results(batch_id)
    assert [r.id for r in results] == [p.id for p in proposals], "every proposal once, in upload order"
    assert results[0].model_dump() == first.model_dump()


def test_block_size_is_automatic_with_redis_only(tmp_path: Path) -> None:
    from saring.config import AUTO_BLOCK_SIZE, Settings

    assert Settings(data_dir=tmp_path).block_size == 0, "the embedded default: one job per batch"
    assert Settings(data_dir=tmp_path, redis_url="redis://127.0.0.1:1/0").block_size == AUTO_BLOCK_SIZE
    assert Settings(data_dir=tmp_path, batch_block_size=7).block_size == 7
