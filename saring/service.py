"""The application: wires settings, store, vector index, embedder and parameters to the screening core.

The CLI and the HTTP API both call this; neither talks to the store or the models directly.
Heavy objects (model, archive context) load once and are reused.
"""

from __future__ import annotations

import datetime as dt
import gc
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import numpy as np

from corpus.features_cache import dump_features, fingerprint, load_features, load_text_features, save_features
from corpus.index import ArchiveIndex, batch_search
from corpus.store import ChunkRow, Store
from models.embedder import DEFAULT_MODEL, CachedEmbedder, Embedder, load_embedder
from models.text import content_hash
from saring.config import Settings
from screening.duplication import ChunkRef, NeighbourSearch, to_duplicate
from screening.features import DocFeatures, analyse
from screening.params import Parameters, load_parameters
from screening.pipeline import (
    ArchiveContext,
    BatchScreener,
    NullProgress,
    Progress,
    archive_key,
    batch_key,
    build_archive_context,
)
from screening.proposal import Proposal
from screening.readers import ReadResult, read_bytes, read_path
from screening.replication import ReplicationMap, replication_map
from screening.results import Comparison, DocumentRef, FileError, ProposalResult, Report, Similar
from screening.similarity import doc_vector

log = logging.getLogger("saring")

MEMORY_VECTORS = 20_000
"""Vectors the service keeps in memory besides the store's persistent cache (~30 MB): the archive's own
vectors are held by the archive context, so a larger memo would only copy them."""


def saring_version() -> str:
    try:
        return version("saring")
    except PackageNotFoundError:
        return "0+unknown"


@dataclass
class ImportSummary:
    read: int
    new_or_changed: int
    total: int
    errors: list[FileError] = field(default_factory=list)


class Saring:
    """One instance per process: holds the store, the model and the archive context."""

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        params: Parameters | None = None,
        embedder: Embedder | None = None,
    ) -> None:
        """`embedder`: an already loaded model to share (tests, several app instances in one process)."""
        self.settings = settings or Settings()
        self.params = params or load_parameters(self.settings.params)
        self.settings.data_dir.mkdir(parents=True, exist_ok=True)
        self.store = Store.open(self.settings.db_url)
        self._embedder: CachedEmbedder | None = (
            CachedEmbedder(embedder, self.store, memory_items=MEMORY_VECTORS) if embedder is not None else None
        )
        self._archive: ArchiveContext | None = None
        self._archive_version = -1
        self._lock = threading.RLock()
        self._fingerprint: str | None = None
        self._features_mem: OrderedDict[tuple[str, str], DocFeatures] = OrderedDict()
        """Analysed proposals (with their vectors once embedded) by id and content hash, least recently used
        first: a portal request is compared with the same year's proposals, which the next one needs again."""

    # ------------------------------------------------------------ heavy objects

    @property
    def model_name(self) -> str:
        return self.settings.embedding_model or DEFAULT_MODEL

    @property
    def embedder(self) -> CachedEmbedder:
        """The configured embedding model (loaded once), caching vectors in the store."""
        with self._lock:
            if self._embedder is None:
                inner: Embedder = load_embedder(
                    self.model_name,
                    batch_size=self.settings.embed_batch_size,
                    model_dir=self.settings.model_dir,
                    step=lambda stage: log.info("embedding model: %s", stage),
                )
                self._embedder = CachedEmbedder(inner, self.store, memory_items=MEMORY_VECTORS)
            return self._embedder

    def _index_path(self) -> Path:
        slug = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in self.embedder.name)
        return self.settings.index_dir / f"{slug}.faiss"

    def _embed_chunks(self, rows: list[ChunkRow]) -> np.ndarray:
        """Vectors for archive chunk rows (texts re-cut from the archive entries, cached by hash)."""
        texts: list[str] = []
        cache: dict[str, str] = {}
        for r in rows:
            if r.owner_id not in cache:
                e = self.store.get_archive(r.owner_id)
                cache[r.owner_id] = e.text if e else ""
            texts.append(cache[r.owner_id][r.start : r.end])
        return self.embedder.embed(texts)

    def archive_context(self, progress: Progress | None = None) -> ArchiveContext:
        """The analysed, embedded archive; rebuilt only when the archive changed (any process)."""
        with self._lock:
            v = self.store.index_version("archive")
            if self._archive is not None and v == self._archive_version:
                return self._archive
            entries = self.store.archive_entries()
            cache = self.settings.data_dir / "cache" / "archive-features.pickle"
            key = fingerprint(self.params, code_version=saring_version())
            cached = load_features(cache, fingerprint=key)
            ctx = build_archive_context(
                entries,
                embedder=self.embedder,
                params=self.params,
                progress=progress,
                analysed=cached,
                search_factory=None,  # the persisted FAISS index below serves the chunk search
            )
            if len(cached) != len(ctx.features) or any(cached.get(k) is not d for k, d in ctx.features.items()):
                save_features(cache, ctx.features, fingerprint=key)
            ctx.neighbours = self._archive_neighbours(ctx, progress)
            self._archive, self._archive_version = ctx, v
            # The archive context lives until the archive changes, and at 10,000 entries it is ~10 million
            # objects: keep the cyclic collector from walking them again on every full collection (2 s each
            # at 2,000 entries already, a stall in whatever request triggers it). They are still freed by
            # reference counting when a newer context replaces this one.
            gc.freeze()
            return ctx

    def _archive_neighbours(self, ctx: ArchiveContext, progress: Progress | None) -> NeighbourSearch | None:
        """Nearest archive chunks via the persisted FAISS index, kept in sync with the store."""
        if not ctx.entries:
            return None
        for e in ctx.entries:
            d = ctx.features[archive_key(e.id)]
            self.store.replace_chunks(
                "archive", e.id, [(c.start, c.end, h) for c, h in zip(d.chunks, d.chunk_hashes, strict=True)]
            )
        idx = ArchiveIndex.open(self._index_path(), dim=self.embedder.dim, model_name=self.embedder.name)
        idx.sync(self.store, self._embed_chunks)
        rows = self.store.chunks_for("archive")  # ordered by id
        # id -> (archive key, chunk number) as arrays: 283,589 ChunkRow objects held for the lookup took
        # ~150 MiB at 10,000 entries, and each forked screening worker copied the pages it touched.
        row_ids = np.fromiter((r.id for r in rows), dtype=np.int64, count=len(rows))
        owners = sorted({r.owner_id for r in rows})
        owner_no = {o: i for i, o in enumerate(owners)}
        row_owner = np.fromiter((owner_no[r.owner_id] for r in rows), dtype=np.int32, count=len(rows))
        row_seq = np.fromiter((r.seq for r in rows), dtype=np.int32, count=len(rows))
        keys = [archive_key(o) for o in owners]
        del rows
        _share_archive_vectors(ctx, idx, row_ids, row_owner, row_seq, keys)

        def search(q: np.ndarray, k: int) -> list[list[tuple[ChunkRef, float]]]:
            scores, ids = idx.index.search(np.ascontiguousarray(q, dtype=np.float32), k)
            pos = np.minimum(np.searchsorted(row_ids, ids), max(0, len(row_ids) - 1))
            known = (ids >= 0) & (row_ids[pos] == ids) if len(row_ids) else np.zeros(ids.shape, dtype=bool)
            out: list[list[tuple[ChunkRef, float]]] = []
            for srow, prow, krow in zip(scores.tolist(), pos.tolist(), known.tolist(), strict=True):
                hits = zip(srow, prow, krow, strict=True)
                out.append([((keys[row_owner[p]], int(row_seq[p])), s) for s, p, ok in hits if ok])
            return out

        return search

    # ------------------------------------------------------------ archive

    def import_archive(self, path: Path, *, progress: Progress | None = None) -> ImportSummary:
        """Read past innovations (CSV/XLSX/JSONL/...) into the archive; re-importing is idempotent."""
        res = read_path(path, params=self.params)
        return self._import(res, progress)

    def import_archive_bytes(self, name: str, data: bytes, *, progress: Progress | None = None) -> ImportSummary:
        return self._import(read_bytes(name, data, params=self.params), progress)

    def import_archive_proposals(
        self, entries: Sequence[Proposal], *, progress: Progress | None = None
    ) -> ImportSummary:
        return self._import(ReadResult(proposals=list(entries), errors=[]), progress)

    def read_bytes(self, name: str, data: bytes) -> ReadResult:
        """Proposals in an uploaded file (per-file problems come back as errors, not exceptions)."""
        return read_bytes(name, data, params=self.params)

    def _import(self, res: ReadResult, progress: Progress | None) -> ImportSummary:
        changed = self.store.upsert_archive(res.proposals) if res.proposals else []
        if changed:
            self.store.bump_index_version("archive")
            self.archive_context(progress)  # analyse, embed and index now, not at the first screening
        return ImportSummary(
            read=len(res.proposals), new_or_changed=len(changed), total=self.store.archive_count(), errors=res.errors
        )

    # ------------------------------------------------------------ screening

    def screener(
        self,
        proposals: Sequence[Proposal],
        *,
        progress: Progress | None = None,
        today: dt.date | None = None,
        analysed: Mapping[str, DocFeatures] | None = None,
        index_kind: str | None = None,
    ) -> BatchScreener:
        """The batch-wide evidence for these proposals (`analysed`: their features by document key, when
        already analysed, e.g. by the workers of a batch split into blocks; `index_kind`: the search over the
        batch's own chunks, default the settings')."""
        ctx = self.archive_context(progress)
        kind = index_kind or self.settings.index_kind
        return BatchScreener.prepare(
            proposals,
            archive=ctx,
            embedder=self.embedder,
            params=self.params,
            progress=progress,
            search_factory=lambda vectors, refs: batch_search(vectors, refs, kind=kind),
            today=today,
            analysed=analysed,
        )

    def make_report(self, results: Sequence[ProposalResult], errors: Sequence[FileError]) -> Report:
        return Report(
            saring_version=saring_version(),
            generated_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            parameters=self.params.echo(),
            settings=self.settings.public(),
            model=self.embedder.name,
            archive_size=self.store.archive_count(),
            proposals=list(results),
            errors=list(errors),
        )

    def screen_proposals(
        self,
        proposals: Sequence[Proposal],
        errors: Sequence[FileError] = (),
        *,
        progress: Progress | None = None,
        today: dt.date | None = None,
    ) -> Report:
        """Screen proposals already read; results are not stored (see the job runner for that)."""
        progress = progress or NullProgress()
        if not proposals:
            return self.make_report([], errors)
        s = self.screener(proposals, progress=progress, today=today)
        # Every chunk is embedded by now: the model's ~410 MB would otherwise stay in this process (and in
        # each forked worker) for the whole screening. The next text loads it again.
        self.embedder.release()
        return self.make_report(s.screen_all(progress=progress, workers=self.settings.screen_workers), errors)

    def screen_path(self, path: Path, *, progress: Progress | None = None, today: dt.date | None = None) -> Report:
        """Read a folder, ZIP or file of proposals and screen them all."""
        progress = progress or NullProgress()
        res = read_path(path, params=self.params)
        return self.screen_proposals(res.proposals, res.errors, progress=progress, today=today)

    def analysed_features(self, proposals: Sequence[Proposal]) -> dict[str, DocFeatures]:
        """Each proposal's analysis by document key: from the store's cache (keyed by the analysis fingerprint
        and the text's content hash), else analysed here and cached; what workers and portal requests reuse."""
        if self._fingerprint is None:
            self._fingerprint = fingerprint(self.params, code_version=saring_version())
        fp, store, params = self._fingerprint, self.store, self.params
        hashes = {p.id: content_hash(p.text) for p in proposals}
        out: dict[str, DocFeatures] = {}
        with self._lock:
            for p in proposals:
                kept = self._features_mem.get((p.id, hashes[p.id]))
                if kept is not None:
                    self._features_mem.move_to_end((p.id, hashes[p.id]))
                    out[batch_key(p.id)] = kept
        todo = [p for p in proposals if batch_key(p.id) not in out]
        cached = store.get_text_features(fp, [hashes[p.id] for p in todo]) if todo else {}
        new: dict[str, bytes] = {}
        for p in todo:
            key, h = batch_key(p.id), hashes[p.id]
            blob = cached.get(h)
            if blob is not None:
                try:
                    out[key] = load_text_features(blob, key=key, text=p.text)
                    continue
                except Exception as e:  # a damaged row costs one analysis
                    log.warning("cached analysis of %s unreadable (%s); analysing again", p.id, e)
            out[key] = analyse(key, p.text, params)
            new[h] = dump_features(out[key])
        if new:
            store.put_text_features(fp, new)
        with self._lock:  # kept in memory (with the vectors the screener adds) for the next portal request
            for p in todo:
                self._features_mem[(p.id, hashes[p.id])] = out[batch_key(p.id)]
            while len(self._features_mem) > self.settings.features_in_memory:
                self._features_mem.popitem(last=False)
        return out

    def earlier_waves(
        self, proposals: Sequence[Proposal], *, batch_id: str | None = None
    ) -> dict[str, tuple[Proposal, str]]:
        """Earlier waves: the proposals of the same competition years already screened (other batches, the
        portal), which `proposals` are compared with as if they were beside them; by id, with the batch (or
        "portal") each came from. `batch_id`: the batch of `proposals`, whose own results are no earlier wave."""
        ids = {p.id for p in proposals}
        return {
            q.id: (q, b or "portal")
            for q, b in self.store.screened_proposals_of_years(p.tahun for p in proposals if p.tahun)
            if q.id not in ids and (batch_id is None or b != batch_id)
        }

    @staticmethod
    def mark_earlier(result: ProposalResult, earlier: Mapping[str, tuple[Proposal, str]]) -> list[str]:
        """Name where each earlier-wave proposal in `result`'s findings came from (`other_batch`); their ids."""
        linked: list[str] = []
        for d in result.duplicates:
            if d.other_id in earlier:
                d.other_batch = earlier[d.other_id][1]
                linked.append(d.other_id)
        return linked

    def rescreen_earlier(
        self,
        screener: BatchScreener,
        linked: Sequence[str],
        earlier: Mapping[str, tuple[Proposal, str]],
        *,
        later: str,
        later_ids: set[str],
    ) -> None:
        """Earlier proposals (other waves of the same year) that later ones overlap are screened again with the
        later ones beside them, so their pages show the later copy too. `earlier`: by id, with the batch (or
        "portal") each came from, which its new version keeps; `later`: the later batch id, or "portal"."""
        for eid in linked:
            try:
                again = screener.screen(eid)
            except Exception:
                log.exception("%s: earlier proposal %s could not be screened again", later, eid)
                continue
            self.mark_earlier(again, earlier)  # never a later one: `earlier` holds no proposal of the later wave
            for d in again.duplicates:
                if d.other_id in later_ids:
                    d.other_batch = later
            origin = earlier[eid][1]
            self.store.save_result(
                again,
                parameters_version=self.params.version,
                model=self.embedder.name,
                batch_id=None if origin == "portal" else origin,
                cause=later,
            )

    def screen_one(
        self,
        proposal: Proposal,
        *,
        today: dt.date | None = None,
        actor_key_id: int | None = None,
        defer: Callable[[Callable[[], None]], object] | None = None,
    ) -> ProposalResult:
        """Screen one submitted proposal against the archive and against every proposal of its competition year
        already screened (batches, the portal: the waves), and store it with its result (a new version;
        `actor_key_id`: the API key that sent it). An earlier proposal it overlaps is screened again, so that
        page shows the later copy too; with `defer` (e.g. a web framework's background tasks) that re-screening is
        handed to it instead of done before returning, so the submitter does not wait for it."""
        earlier = self.earlier_waves([proposal])
        everything = [proposal, *(q for q, _ in earlier.values())]
        # Exact search over the year's chunks: only this proposal's ~100 chunks (and those of the few earlier
        # proposals screened again) are queried, far cheaper than building an HNSW index of 100,000+ per request.
        screener = self.screener(
            everything, today=today, analysed=self.analysed_features(everything), index_kind="flat"
        )
        result = screener.screen(proposal.id)
        linked = self.mark_earlier(result, earlier)
        self.store.save_proposal(proposal)
        self.store.save_result(
            result, parameters_version=self.params.version, model=self.embedder.name, actor_key_id=actor_key_id
        )
        if linked:
            rescreen = partial(
                self.rescreen_earlier, screener, sorted(linked), earlier, later="portal", later_ids={proposal.id}
            )
            if defer is None:
                rescreen()
            else:
                defer(rescreen)
        return result

    def batch_report(self, batch_id: str) -> Report:
        """A stored batch's report, in upload order: the same JSON whether or not it was resumed."""
        batch = self.store.get_batch(batch_id)
        if batch is None:
            raise KeyError(f"no batch {batch_id!r}")
        return self.make_report(
            self.store.batch_results(batch_id), [*batch.errors, *self.store.batch_item_errors(batch_id)]
        )

    def _document(self, doc_id: str) -> tuple[Proposal, str]:
        p = self.store.get_proposal(doc_id)
        if p is not None:
            return p, "proposal"
        e = self.store.get_archive(doc_id)
        if e is not None:
            return e, "archive"
        raise KeyError(f"no proposal or archive entry {doc_id!r}")

    def stored_comparison(self, a: str, b: str) -> tuple[Comparison, str | None] | None:
        """The evidence saved with a's latest screening against b (what a's report and page list), and a's
        batch id; None when a has no stored result naming b with b's text."""
        found = self.store.get_result_with_batch(a)
        if found is None:
            return None
        result, batch_id = found
        dup = next((d for d in result.duplicates if d.other_id == b and d.other_text is not None), None)
        if dup is None or dup.other_text is None:
            return None
        cmp = Comparison(
            a=DocumentRef(
                id=result.id,
                source="proposal",
                judul=result.judul,
                instansi=result.instansi,
                tahun=result.tahun,
                text=result.text,
            ),
            b=DocumentRef(
                id=dup.other_id,
                source="proposal" if dup.other_source == "batch" else "archive",
                judul=dup.other_judul,
                instansi=dup.other_instansi,
                tahun=dup.other_tahun,
                text=dup.other_text,
            ),
            relation=dup.relation,
            match_type=dup.match_type,
            share_a=dup.share,
            share_b=dup.other_share,
            passages=dup.passages,
            template_passages=dup.template_passages,
        )
        return cmp, batch_id

    def compare(self, a_id: str, b_id: str, *, fresh: bool = False) -> Comparison:
        """The aligned passages between two stored documents, template text marked separately: the evidence
        stored with a's screening when it lists b (so the API, the pages and the report agree), else (or
        with `fresh`) aligned afresh with the declared template text."""
        if not fresh:
            stored = self.stored_comparison(a_id, b_id)
            if stored is not None:
                return stored[0]
        from screening.duplication import classify_relation
        from screening.pipeline import align_texts

        a, a_src = self._document(a_id)
        b, b_src = self._document(b_id)
        ctx = self.archive_context()
        m = align_texts(
            a.text, b.text, params=self.params, embedder=self.embedder, collection=list(ctx.features.values())
        )
        dup = to_duplicate(m, a, b, other_source="archive" if b_src == "archive" else "batch", include_text=False)
        reportable = bool(m.passages)

        def ref(p: Proposal, src: str) -> DocumentRef:
            return DocumentRef(id=p.id, source=src, judul=p.judul, instansi=p.instansi, tahun=p.tahun, text=p.text)

        return Comparison(
            a=ref(a, a_src),
            b=ref(b, b_src),
            relation=classify_relation(a, b, m) if reportable else None,
            match_type=dup.match_type if reportable else None,
            share_a=dup.share,
            share_b=dup.other_share,
            passages=dup.passages,
            template_passages=dup.template_passages,
        )

    # ------------------------------------------------------------ retrieval

    def similar(
        self,
        text: str,
        *,
        k: int | None = None,
        exclude_id: str | None = None,
        tahun: int | None = None,
        klaster: str | None = None,
        status: str | None = None,
    ) -> tuple[list[Similar], float | None]:
        """Similar past innovations for a free text (optionally one year, cluster or outcome), and its novelty."""
        from screening.features import analyse

        ctx = self.archive_context()
        d = analyse("q:", text, self.params)
        # A short query ("bank sampah") is one line with no sentence end, i.e. no chunk: embed it whole.
        pieces = [d.chunk_text(i) for i in range(len(d.chunks))] or ([text.strip()] if text.strip() else [])
        vecs = self.embedder.embed(pieces) if pieces else np.zeros((0, self.embedder.dim), np.float32)
        v = doc_vector(vecs) if len(vecs) else np.zeros(self.embedder.dim, np.float32)
        k = k or self.params.similarity.top_k
        want = klaster.strip().lower() if klaster is not None else None

        def keep(e: Proposal) -> bool:
            return (
                (tahun is None or e.tahun == tahun)
                and (want is None or e.klaster == want)
                and (status is None or e.status == status)
            )

        filtered = tahun is not None or klaster is not None or status is not None
        hits = ctx.catalog.search(
            text=text,
            vector=v,
            k=k,
            exclude_id=exclude_id,
            keep=keep if filtered else None,
            query_chunks=pieces,
            query_vectors=vecs if len(vecs) == len(pieces) else None,
        )
        return hits, ctx.catalog.novelty(v, words=d.n_words, exclude=exclude_id)

    def replication_map(self, *, only_linked: bool = False) -> ReplicationMap:
        """The replication map over the past top innovations (`similarity.top_statuses`) from stored findings."""
        statuses = self.params.similarity.top_statuses
        return replication_map(
            self.store.archive_entries_with_status(statuses),
            self.store.replication_links(statuses),
            statuses=statuses,
            only_linked=only_linked,
        )

    def info(self) -> dict[str, Any]:
        idx_path = self._index_path() if self._embedder is not None else None
        return {
            "saring_version": saring_version(),
            "model": self._embedder.name if self._embedder else self.model_name,
            "embedding_dim": self._embedder.dim if self._embedder else None,
            "parameters_version": self.params.version,
            "parameters_file": str(self.settings.params or "bundled"),
            "data_dir": str(self.settings.data_dir),
            "database": self.settings.public()["database_url"],
            "archive_entries": self.store.archive_count(),
            "archive_chunks": len(self.store.chunks_for("archive")),
            "index_file": str(idx_path) if idx_path else None,
        }


def _share_archive_vectors(
    ctx: ArchiveContext,
    idx: ArchiveIndex,
    row_ids: np.ndarray,
    row_owner: np.ndarray,
    row_seq: np.ndarray,
    keys: list[str],
) -> None:
    """Point each archive document's chunk vectors at the rows the FAISS index stores for them instead of
    keeping a copy (415 MiB at 10,000 entries). The index holds the embedder's vectors L2-normalised again
    (a difference of ~1e-7), so a document keeps its own vectors where they differ by more than that, or
    where its chunks are not stored consecutively in order."""
    stored = idx.stored()
    if stored is None or not len(row_ids):
        return
    ids, held = stored
    order = np.argsort(ids, kind="stable")
    at = np.minimum(np.searchsorted(ids[order], row_ids), len(ids) - 1)
    place = np.where(ids[order[at]] == row_ids, order[at], -1)
    by_doc = np.lexsort((row_seq, row_owner))
    rows_of = {
        keys[int(row_owner[rows[0]])]: rows
        for rows in np.split(by_doc, np.flatnonzero(np.diff(row_owner[by_doc])) + 1)
        if len(rows)
    }
    shared = 0
    for key, d in ctx.features.items():
        if d.vectors is None:
            continue
        rows = rows_of.get(key)
        p = place[rows] if rows is not None and len(rows) == len(d.vectors) else None
        if p is not None and p[0] >= 0 and np.array_equal(p, np.arange(p[0], p[0] + len(p))):
            view = held[p[0] : p[0] + len(p)]
            if np.allclose(view, d.vectors, rtol=0, atol=1e-5):
                d.vectors = view
                shared += 1
                continue
        d.vectors = np.array(d.vectors)  # its own copy, so that the array of the whole load can be freed
    log.info("archive vectors: %d of %d documents use the index's copy", shared, len(ctx.features))
