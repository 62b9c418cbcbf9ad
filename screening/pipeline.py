"""Screening a batch: prepare the batch-wide evidence once, then screen proposals one by one.

Preparation (features, embeddings, template shingles, candidate index) is deterministic, so a job
that stops half-way can prepare again and screen only the proposals still pending, with results
identical to an uninterrupted run.
"""

from __future__ import annotations

import datetime as dt
import gc
import multiprocessing as mp
import pickle
import zlib
from collections import ChainMap
from collections.abc import Callable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
from threadpoolctl import threadpool_limits

from models.embedder import Embedder
from screening.alignment import warm
from screening.completeness import BatchContext, check_completeness, past_by_name
from screening.duplication import (
    CandidateIndex,
    ChunkRef,
    CollectionIndex,
    NeighbourSearch,
    PairMatch,
    ShingleSet,
    TermWeights,
    align,
    candidate_pairs,
    declares_replication_of,
    is_reportable,
    term_weights,
    to_duplicate,
)
from screening.features import DocFeatures, analyse, text_shingles, text_terms
from screening.params import Parameters
from screening.proposal import Proposal
from screening.recommend import recommend
from screening.results import Duplicate, ProposalResult
from screening.similarity import ArchiveCatalog, doc_vector


class Progress(Protocol):
    """Receives progress of long work: a named stage with a total, then advances."""

    def stage(self, name: str, total: int) -> None: ...

    def advance(self, n: int = 1) -> None: ...


class NullProgress:
    def stage(self, name: str, total: int) -> None:
        pass

    def advance(self, n: int = 1) -> None:
        pass


SearchFactory = Callable[[np.ndarray, list[ChunkRef]], NeighbourSearch]
"""Builds a nearest-neighbour search over some chunk vectors (the index backend is the caller's)."""


def exact_search(vectors: np.ndarray, refs: list[ChunkRef]) -> NeighbourSearch:
    """Exact inner-product search with numpy, in blocks (the default for small batches)."""

    def search(q: np.ndarray, k: int) -> list[list[tuple[ChunkRef, float]]]:
        if len(vectors) == 0 or len(q) == 0:
            return [[] for _ in range(len(q))]
        out: list[list[tuple[ChunkRef, float]]] = []
        kk = min(k, len(vectors))
        for s in range(0, len(q), 1024):
            sims = q[s : s + 1024] @ vectors.T
            top = np.argpartition(-sims, kk - 1, axis=1)[:, :kk]
            for row, idx in zip(sims, top, strict=True):
                idx = idx[np.argsort(-row[idx])]
                out.append([(refs[int(i)], float(row[int(i)])) for i in idx])
        return out

    return search


@dataclass
class ArchiveContext:
    """The archive as the screening needs it; built and cached by the application layer."""

    entries: list[Proposal]
    features: dict[str, DocFeatures]
    catalog: ArchiveCatalog
    neighbours: NeighbourSearch | None = None
    collection: CollectionIndex | None = None
    by_key: dict[str, Proposal] = field(init=False)
    past: dict[tuple[str, str], list[Proposal]] = field(init=False)
    _collection_for: Parameters | None = field(default=None, init=False, repr=False)
    """The parameters object `collection` was last checked against (checking means shingling templates)."""

    def __post_init__(self) -> None:
        self.by_key = {archive_key(e.id): e for e in self.entries}
        self.past = past_by_name(self.entries)

    def collection_index(self, params: Parameters) -> CollectionIndex:
        """Template counts, term counts and chunk shingles of the archive, built once for these parameters."""
        c = self.collection
        if c is not None and self._collection_for is params:
            return c
        declared = declared_template_shingles(params)
        ignored = heading_terms(params)
        if c is None or c.params != params.duplication or c.declared != declared or c.ignored_terms != ignored:
            c = self.collection = CollectionIndex(
                list(self.features.values()), params=params.duplication, declared=declared, ignored_terms=ignored
            )
        self._collection_for = params
        return c


def archive_key(entry_id: str) -> str:
    return f"a:{entry_id}"


def batch_key(proposal_id: str) -> str:
    return f"b:{proposal_id}"


def embed_features(docs: Sequence[DocFeatures], embedder: Embedder, progress: Progress, *, step: int = 256) -> None:
    """Fill the chunk vectors of each document that has none yet (texts are embedded in slices to report
    progress); a document kept from an earlier request already has them."""
    docs = [d for d in docs if d.vectors is None]
    texts: list[str] = []
    owners: list[tuple[int, int]] = []
    for di, d in enumerate(docs):
        for ci in range(len(d.chunks)):
            texts.append(d.chunk_text(ci))
            owners.append((di, ci))
    progress.stage("Membuat embedding", len(texts))
    vecs = np.zeros((len(texts), embedder.dim), dtype=np.float32)
    for s in range(0, len(texts), step):
        vecs[s : s + step] = embedder.embed(texts[s : s + step])
        progress.advance(len(texts[s : s + step]))
    pos = 0
    for d in docs:
        d.vectors = vecs[pos : pos + len(d.chunks)]
        pos += len(d.chunks)


def declared_template_shingles(params: Parameters) -> set[int]:
    """Shingles of the declared template texts and of every form's own instructions."""
    texts = list(params.templates)
    for form in params.forms.values():
        texts.extend(s.instructions for s in form.sections if s.instructions)
    return text_shingles(texts, params)


def heading_terms(params: Parameters) -> frozenset[str]:
    """Content lemmas of every form's section headings and their synonyms, which weigh 0 in the term
    weights when `duplication.ignore_heading_words`: every proposal answers those sections in their words
    ("Pemangku kepentingan meliputi ..."), so, like template text, they are no evidence of copying."""
    if not params.duplication.ignore_heading_words:
        return frozenset()
    texts: list[str] = []
    for form in params.forms.values():
        for s in form.sections:
            texts.extend([s.heading, *s.synonyms])
    return frozenset(text_terms(texts, params))


@dataclass
class BatchScreener:
    """Batch-wide evidence, prepared once; `screen(id)` gives one proposal's result."""

    proposals: list[Proposal]
    archive: ArchiveContext
    params: Parameters
    docs: dict[str, DocFeatures]
    boiler: AbstractSet[int]
    index: CandidateIndex
    neighbours: NeighbourSearch | None
    context: BatchContext
    weights: TermWeights | None = None
    today: dt.date | None = None
    include_other_text: bool = True
    _by_id: dict[str, Proposal] = field(init=False)
    _declares: dict[str, list[str]] = field(init=False)
    """Batch proposal id -> the ids of the batch proposals it declares as its replication source."""
    _declared_by: dict[str, list[str]] = field(init=False)
    """Batch proposal id -> the ids of the batch proposals that declare it as their replication source."""

    def __post_init__(self) -> None:
        self._by_id = {p.id: p for p in self.proposals}
        self._declares, self._declared_by = {}, {}
        for q in self.proposals:
            if not _declares_any(q):
                continue
            for s in self.proposals:
                if s.id != q.id and declares_replication_of(q, s):
                    self._declares.setdefault(q.id, []).append(s.id)
                    self._declared_by.setdefault(s.id, []).append(q.id)

    @classmethod
    def prepare(
        cls,
        proposals: Sequence[Proposal],
        *,
        archive: ArchiveContext,
        embedder: Embedder,
        params: Parameters,
        progress: Progress | None = None,
        search_factory: SearchFactory = exact_search,
        today: dt.date | None = None,
        analysed: Mapping[str, DocFeatures] | None = None,
    ) -> BatchScreener:
        """Analyse, embed and index the batch. `analysed`: features analysed earlier with the same parameters
        by document key (e.g. by other workers of the batch), used where the text is unchanged."""
        progress = progress or NullProgress()
        ids = [p.id for p in proposals]
        if len(set(ids)) != len(ids):
            raise ValueError("proposal ids in a batch must be unique")
        progress.stage("Menganalisis teks", len(proposals))
        docs: dict[str, DocFeatures] = {}
        for p in proposals:
            key = batch_key(p.id)
            d = analysed.get(key) if analysed else None
            docs[key] = d if d is not None and d.text == p.text else analyse(key, p.text, params)
            progress.advance()
        batch_docs = list(docs.values())
        embed_features(batch_docs, embedder, progress)
        progress.stage("Mengenali teks templat dan kandidat", 1)
        boiler, index, weights = archive.collection_index(params).extend(batch_docs)
        progress.advance()
        refs = [(d.key, ci) for d in batch_docs for ci in range(len(d.chunks))]
        vecs = _stacked([d.vectors for d in batch_docs if d.vectors is not None], dim=embedder.dim)
        local = search_factory(vecs, refs)
        _hold_once(batch_docs, getattr(local, "vectors", vecs))
        del vecs
        neighbours = _combine(local, archive.neighbours)
        return cls(
            proposals=list(proposals),
            archive=archive,
            params=params,
            docs=docs,
            boiler=boiler,
            index=index,
            neighbours=neighbours,
            context=BatchContext.of(proposals, past=archive.past),
            weights=weights,
            today=today,
        )

    def _proposal(self, key: str) -> tuple[Proposal, str]:
        if key.startswith("b:"):
            pid = key[2:]
            return self._by_id[pid], "batch"
        return self.archive.by_key[key], "archive"

    def other_text(self, other_id: str, source: str) -> str:
        """The text of a duplicate's other document (a batch proposal or an archive entry)."""
        return self._proposal(batch_key(other_id) if source == "batch" else archive_key(other_id))[0].text

    def _doc(self, key: str) -> DocFeatures:
        return self.docs[key] if key in self.docs else self.archive.features[key]

    def _match(self, a: str, b: str, memo: dict[tuple[str, str], PairMatch]) -> PairMatch:
        """The alignment of a with b, always computed in one canonical order (alignment is not exactly
        symmetric), so a proposal's result does not depend on which proposals were screened before it.
        `memo` holds one screen's alignments only. Kept for the whole batch (to save the second alignment of
        two batch proposals that find each other: 2 % of the 250-proposal benchmark's time), they made each of
        the two workers grow to 7.0 GiB RSS at 2,500 proposals x 10,000 entries (4.2 GiB without; about 257
        archive candidates per proposal, ~20 KB each, never asked for again)."""
        if a > b:
            return self._match(b, a, memo).swapped()
        m = memo.get((a, b))
        if m is None:
            m = memo[(a, b)] = align(
                self._doc(a), self._doc(b), params=self.params.duplication, boiler=self.boiler, weights=self.weights
            )
        return m

    def _duplicate(self, m: PairMatch, p: Proposal, other: str) -> Duplicate:
        other_p, source = self._proposal(other)
        return to_duplicate(m, p, other_p, other_source=source, include_text=self.include_other_text)

    def screen(self, proposal_id: str) -> ProposalResult:
        """One proposal's result: completeness, duplicates with evidence, similar, recommendation.

        Duplicates are the candidate pairs with reportable overlap, plus every declared replication
        (this proposal names the other as its source, or a batch proposal names this one), listed with
        relation `declared_replication` even when the two share no text: the judge sees the pair.

        BLAS runs on one thread here: the alignment multiplies hundreds of small matrices, for which
        OpenBLAS's threads only contend (with each other and with the embedder's spinning ONNX Runtime
        threads); a portal request against 10,000 archive entries took twice as long with them."""
        with threadpool_limits(limits=1, user_api="blas"):
            return self._screen(proposal_id)

    def _screen(self, proposal_id: str) -> ProposalResult:
        p = self._by_id.get(proposal_id)
        if p is None:
            raise KeyError(f"proposal {proposal_id!r} is not in this batch")
        key = batch_key(p.id)
        doc = self.docs[key]
        pairs = candidate_pairs(
            [doc],
            index=self.index,
            params=self.params.duplication,
            boiler=self.boiler,
            neighbours=self.neighbours,
            docs=ChainMap(self.docs, self.archive.features),
        )
        found: dict[str, Duplicate] = {}
        template_only: dict[str, PairMatch] = {}
        memo: dict[tuple[str, str], PairMatch] = {}
        for _, other in sorted(pairs):
            if other == archive_key(p.id):
                continue  # the same proposal already stored in the archive
            m = self._match(key, other, memo)
            if is_reportable(m, self.params.duplication):
                found[other] = self._duplicate(m, p, other)
            elif m.template_passages and not m.passages:
                template_only[other] = m
        sources = [e.id for e in self.archive.entries if _declares_any(p) and declares_replication_of(p, e)]
        declared = [archive_key(s) for s in sources if s != p.id] + [batch_key(s) for s in self._declares.get(p.id, [])]
        for other in declared + [batch_key(q) for q in self._declared_by.get(p.id, [])]:
            if other not in found:
                # A declared replication is shown even without shared text, so the judge sees the pair;
                # overlap below the reporting thresholds is left out, as for every other pair.
                m = self._match(key, other, memo)
                if not is_reportable(m, self.params.duplication):
                    m = PairMatch(a=m.a, b=m.b, passages=[], template_passages=m.template_passages)
                d = self._duplicate(m, p, other)
                d.relation = "declared_replication"
                found[other] = d
        duplicates = sorted(found.values(), key=lambda d: (-d.share, d.other_id))
        # Template-only pairs come last, only when nothing else links the two documents, and only the
        # template_pairs_listed sharing the most template text are made into findings (a proposal shares template
        # text with ~100 of 10,000 archive entries: 73 of a result's 93 KB pickled, most of what 2,500 results
        # held in memory); all are counted.
        template_only = {o: m for o, m in template_only.items() if o not in found}
        most = sorted(
            template_only, key=lambda o: (-sum(t.end - t.start for t in template_only[o].template_passages), o[2:])
        )
        duplicates += [
            self._duplicate(template_only[o], p, o) for o in most[: self.params.duplication.template_pairs_listed]
        ]
        completeness = check_completeness(p, self.params, self.context, today=self.today)
        vec = doc_vector(doc.vectors) if doc.vectors is not None else np.zeros(0, dtype=np.float32)
        similar = self.archive.catalog.search(
            text=p.text,
            vector=vec,
            exclude_id=p.id,
            query_chunks=[doc.chunk_text(i) for i in range(len(doc.chunks))],
            query_vectors=doc.vectors,
        )
        novelty = self.archive.catalog.novelty(vec, words=doc.n_words, exclude={p.id, *sources})
        rec, reasons = recommend(
            completeness=completeness,
            duplicates=duplicates,
            similar=similar,
            novelty=novelty,
            params=self.params.recommendation,
            tahun_implementasi=p.tahun_implementasi,
            tahun=p.tahun,
            declared_sources={("archive" if k.startswith("a:") else "batch", k[2:]) for k in declared},
        )
        return ProposalResult(
            id=p.id,
            judul=p.judul,
            instansi=p.instansi,
            klaster=p.klaster,
            wilayah=p.wilayah,
            tahun=p.tahun,
            tahun_implementasi=p.tahun_implementasi,
            replikasi_dari=p.replikasi_dari,
            source=p.source,
            text=p.text,
            recommendation=rec,
            reasons=reasons,
            completeness=completeness,
            duplicates=duplicates,
            template_only_pairs=len(template_only),
            similar=similar,
            novelty=novelty,
        )

    def screen_all(
        self, *, progress: Progress | None = None, skip: set[str] | None = None, workers: int = 1
    ) -> list[ProposalResult]:
        """Every proposal's result, in batch order. `workers` > 1 screens them in that many forked
        processes, which share the prepared evidence copy-on-write (each proposal's screen is
        independent, and alignments are computed in one canonical order, so results are identical)."""
        if workers < 1:
            raise ValueError(f"workers must be at least 1, not {workers}")
        progress = progress or NullProgress()
        todo = [p.id for p in self.proposals if not skip or p.id not in skip]
        progress.stage("Menyaring proposal", len(todo))
        if workers == 1 or len(todo) < 2 * workers or "fork" not in mp.get_all_start_methods():
            out = []
            for pid in todo:
                out.append(self.screen(pid))
                progress.advance()
            return out
        return _screen_forked(self, todo, workers=workers, progress=progress)


def _declares_any(p: Proposal) -> bool:
    """The proposal names some replication source (`replikasi_dari` or an `inspirasi` section); only
    these are matched against every batch proposal and archive entry."""
    return bool(p.replikasi_dari or p.bagian.get("inspirasi"))


_FORKED: BatchScreener | None = None
"""The screener that forked workers inherit (set just before the pool starts them)."""


def _forked_start() -> None:
    # One thread per worker: the workers already use the cores, and OpenMP (faiss) does not survive a
    # fork with its thread pool.
    threadpool_limits(limits=1)
    # The other documents' texts are attached again by the parent, which holds them already: sent back,
    # each listed pair would bring its own copy of a whole text.
    if _FORKED is not None:
        _FORKED.include_other_text = False


def _forked_screen(ids: list[str]) -> bytes:
    """A block's results, pickled and compressed: the parent keeps them so until the pool is done (as
    objects, 2,500 results took ~0.5 GiB of the parent while both workers were still running)."""
    assert _FORKED is not None, "forked worker without a screener"
    return zlib.compress(pickle.dumps([_FORKED.screen(pid) for pid in ids], protocol=pickle.HIGHEST_PROTOCOL), 1)


def _screen_forked(
    screener: BatchScreener, ids: list[str], *, workers: int, progress: Progress, block: int = 4
) -> list[ProposalResult]:
    global _FORKED
    blocks = [ids[i : i + block] for i in range(0, len(ids), block)]
    for doc in [*screener.docs.values(), *screener.archive.features.values()]:
        warm(doc, boiler=screener.boiler, weights=screener.weights)
    # Everything the workers inherit leaves the cyclic collector (as the archive context already did): a full
    # collection writes to every object it walks, so each process would copy the pages of the batch's shared
    # objects as its collector ran. Freed by reference counting, as before.
    gc.freeze()
    packed: list[bytes] = []
    _FORKED = screener
    try:
        with ProcessPoolExecutor(workers, mp_context=mp.get_context("fork"), initializer=_forked_start) as pool:
            for done, data in zip(blocks, pool.map(_forked_screen, blocks), strict=True):
                packed.append(data)
                progress.advance(len(done))
    finally:
        _FORKED = None
    out: list[ProposalResult] = []
    for data in packed:
        results: list[ProposalResult] = pickle.loads(zlib.decompress(data))  # our own workers' bytes
        if screener.include_other_text:
            for r in results:
                for d in r.duplicates:
                    d.other_text = screener.other_text(d.other_id, d.other_source)
        out.extend(results)
    return out


def _stacked(parts: Sequence[np.ndarray], *, dim: int) -> np.ndarray:
    """The parts one after the other as one array: a view when they already are consecutive rows of one
    array (as `embed_features` leaves a batch embedded in one go), else a copy. The view spares a third copy
    of the batch's vectors while its chunk search is built (347 MiB at 2,500 proposals)."""
    if not parts:
        return np.zeros((0, dim), dtype=np.float32)
    base = parts[0].base
    if isinstance(base, np.ndarray) and base.ndim == 2 and base.flags.c_contiguous and base.dtype == np.float32:
        row = base.strides[0]
        origin = base.__array_interface__["data"][0]
        first = (parts[0].__array_interface__["data"][0] - origin) // row
        at = first
        for p in parts:
            if p.base is not base or p.__array_interface__["data"][0] != origin + at * row or not p.flags.c_contiguous:
                break
            at += len(p)
        else:
            return base[first:at]
    return np.concatenate(parts)


def _hold_once(docs: Sequence[DocFeatures], stacked: np.ndarray) -> None:
    """Point each document's chunk vectors at its rows of `stacked` (the documents' vectors in order, as
    the chunk search holds them), so that the batch's vectors are in memory once, not once in the
    features and once in the search (363 MiB each at 2,500 proposals)."""
    pos = 0
    for d in docs:
        if d.vectors is None:
            continue
        n = len(d.vectors)
        rows = stacked[pos : pos + n]
        if rows.shape != d.vectors.shape or not np.array_equal(rows, d.vectors):
            return  # not the same vectors (a search that changed them): keep the documents' own
        d.vectors = rows
        pos += n


def _combine(local: NeighbourSearch, archive: NeighbourSearch | None) -> NeighbourSearch:
    if archive is None:
        return local

    def search(q: np.ndarray, k: int) -> list[list[tuple[ChunkRef, float]]]:
        a, b = local(q, k), archive(q, k)
        return [sorted(x + y, key=lambda h: -h[1])[:k] for x, y in zip(a, b, strict=True)]

    return search


def build_archive_context(
    entries: Sequence[Proposal],
    *,
    embedder: Embedder,
    params: Parameters,
    progress: Progress | None = None,
    search_factory: SearchFactory | None = exact_search,
    analysed: Mapping[str, DocFeatures] | None = None,
) -> ArchiveContext:
    """Analyse and embed the archive (embeddings come from the cache when already computed).
    `analysed`: features analysed earlier with the same parameters (a cache), reused where the text is
    unchanged."""
    progress = progress or NullProgress()
    progress.stage("Memuat arsip", len(entries))
    feats: dict[str, DocFeatures] = {}
    for e in entries:
        key = archive_key(e.id)
        d = analysed.get(key) if analysed else None
        if d is not None and d.text == e.text:
            d.text = e.text  # one copy of the text, not one in the entry and one from the cache (39 MB at 10,000)
            feats[key] = d
        else:
            feats[key] = analyse(key, e.text, params)
        progress.advance()
    docs = list(feats.values())
    embed_features(docs, embedder, progress)
    dim = embedder.dim
    doc_vecs = (
        np.stack([doc_vector(d.vectors) if d.vectors is not None else np.zeros(dim, np.float32) for d in docs])
        if docs
        else np.zeros((0, dim), dtype=np.float32)
    )
    neighbours = None
    refs = [(d.key, ci) for d in docs for ci in range(len(d.chunks))]
    if refs and search_factory is not None:  # None: the caller provides the chunk search (one copy less)
        neighbours = search_factory(np.concatenate([d.vectors for d in docs if d.vectors is not None]), refs)
    ctx = ArchiveContext(
        entries=list(entries),
        features=feats,
        catalog=ArchiveCatalog(entries, doc_vecs, params=params.similarity, features=docs),
        neighbours=neighbours,
    )
    progress.stage("Mengindeks arsip", 1)
    ctx.collection_index(params)
    progress.advance()
    return ctx


def align_texts(
    text_a: str,
    text_b: str,
    *,
    params: Parameters,
    embedder: Embedder | None = None,
    boiler: AbstractSet[int] | None = None,
    collection: Sequence[DocFeatures] | CollectionIndex = (),
) -> PairMatch:
    """Align two free texts (evaluation, the compare view): passages with offsets in both.
    Without an embedder only lexical (identical/edited) passages are found. `collection`: other
    documents (e.g. the archive, or its prepared index) whose word frequencies weight the lexical
    support of paraphrases."""
    a = analyse("x:a", text_a, params)
    b = analyse("x:b", text_b, params)
    if embedder is not None:
        embed_features([a, b], embedder, NullProgress())
    declared = ShingleSet(declared_template_shingles(params)) if boiler is None else boiler
    ignored = heading_terms(params)
    if not isinstance(collection, CollectionIndex):
        weights = term_weights([a, b, *collection], ignored=ignored)
    elif collection.ignored_terms == ignored:
        weights = collection.term_weights([a, b])
    else:
        raise ValueError(
            "the collection index was built with other form headings than these parameters have; "
            "build it with ArchiveContext.collection_index(params)"
        )
    return align(a, b, params=params.duplication, boiler=declared, weights=weights)
