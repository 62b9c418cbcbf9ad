"""The readable similarity score, its cut-off and levels, and the reason of each match, on the sample archive
(real Indonesian prose) with the real embedding model."""

from __future__ import annotations

import numpy as np
import pytest

from models.embedder import CachedEmbedder, Embedder, load_embedder
from screening.features import analyse
from screening.params import Parameters, SimilarityParams
from screening.pipeline import ArchiveContext, build_archive_context
from screening.proposal import Proposal
from screening.results import Similar
from screening.similarity import doc_vector, level_of
from tests.conftest import REPO


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    return CachedEmbedder(load_embedder(None))


@pytest.fixture(scope="module")
def ctx(params: Parameters, embedder: Embedder) -> ArchiveContext:
    lines = (REPO / "corpus" / "sample" / "archive.jsonl").read_text(encoding="utf-8").splitlines()
    entries = [Proposal.model_validate_json(x) for x in lines if x.strip()]
    return build_archive_context(entries, embedder=embedder, params=params)


def search(ctx: ArchiveContext, params: Parameters, embedder: Embedder, text: str, **kw: object) -> list[Similar]:
    """As the service searches: the text's chunks (or, for a title, the whole text) embedded."""
    d = analyse("q:", text, params)
    pieces = [d.chunk_text(i) for i in range(len(d.chunks))] or [text]
    vecs = embedder.embed(pieces)
    return ctx.catalog.search(text=text, vector=doc_vector(vecs), query_chunks=pieces, query_vectors=vecs, **kw)  # type: ignore[arg-type]


def test_bank_sampah_lists_the_relevant_entry_and_nothing_unrelated(
    ctx: ArchiveContext, params: Parameters, embedder: Embedder
) -> None:
    everything = search(ctx, params, embedder, "bank sampah", k=100, cutoff=False)
    top, rest = everything[0], everything[1:]
    assert top.id == "arsip-017" and 0 <= top.score <= 100
    assert top.score >= params.similarity.level_related and top.level in ("sama", "terkait")
    assert all(s.score < top.score for s in rest)
    assert all(s.score < params.similarity.cutoff for s in rest), [(s.id, s.score) for s in rest[:3]]
    listed = search(ctx, params, embedder, "bank sampah", k=10)
    assert [s.id for s in listed] == ["arsip-017"], "unrelated entries below the cut-off are not listed"


def test_the_reason_names_shared_terms_and_the_best_passage(
    ctx: ArchiveContext, params: Parameters, embedder: Embedder
) -> None:
    query = "Warga menabung sampah plastik di bank sampah desa, saldonya dipakai membayar iuran BPJS Kesehatan."
    hit = search(ctx, params, embedder, query, k=3)[0]
    assert hit.id == "arsip-017" and hit.reason is not None
    assert "bank sampah" in hit.reason.terms
    entry = next(e for e in ctx.entries if e.id == "arsip-017")
    r = hit.reason
    assert r.passage_start is not None and r.passage_end is not None
    assert " ".join(entry.text[r.passage_start : r.passage_end].split()).startswith(r.passage.rstrip(" …"))
    assert "sampah" in r.passage.lower() and r.query_passage


def test_a_query_with_nothing_similar_lists_nothing(
    ctx: ArchiveContext, params: Parameters, embedder: Embedder
) -> None:
    for q in ("resep kue lapis legit dengan mentega dan kayu manis", "jadwal pertandingan sepak bola liga Inggris"):
        assert search(ctx, params, embedder, q, k=10) == [], q


def test_a_filter_with_no_match_above_the_cut_off_lists_nothing(
    ctx: ArchiveContext, params: Parameters, embedder: Embedder
) -> None:
    """`status=top45` for "bank sampah": the one relevant entry is Top 99, the Top 45 ones are unrelated."""
    only45 = search(ctx, params, embedder, "bank sampah", k=10, keep=lambda e: e.status == "top45")
    assert only45 == []


def test_a_near_copy_of_a_whole_entry_is_the_same_innovation(
    ctx: ArchiveContext, params: Parameters, embedder: Embedder
) -> None:
    entry = next(e for e in ctx.entries if e.id == "arsip-009")
    hits = search(ctx, params, embedder, entry.text, k=5, exclude_id="arsip-uji")
    assert hits[0].id == "arsip-009" and hits[0].level == "sama" and hits[0].score >= params.similarity.level_same


def test_levels_and_their_validation(params: Parameters) -> None:
    p = params.similarity
    assert level_of(p.level_same, p) == "sama"
    assert level_of(max(p.cutoff - 0.1, 0), p) is None or p.cutoff == 0
    with pytest.raises(ValueError, match="cutoff <= level_related <= level_same"):
        SimilarityParams(cutoff=60, level_related=50, level_same=80)
    assert np.isfinite(p.score_bias)
