"""The archive's candidate index is built once and extended per batch; the result must be exactly what a
build over archive + batch from scratch gives (template shingles, LSH hits, term weights)."""

from __future__ import annotations

from pathlib import Path

import pytest

from models.text import clean_text
from screening.duplication import CandidateIndex, CollectionIndex, boilerplate_shingles, term_weights
from screening.features import DocFeatures, analyse
from screening.params import Parameters
from screening.pipeline import declared_template_shingles
from screening.readers import read_path

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def sample_docs(params: Parameters) -> tuple[list[DocFeatures], list[DocFeatures]]:
    """The bundled sample archive and batch, analysed."""
    archive = read_path(REPO / "corpus" / "sample" / "archive.jsonl", params=params).proposals
    batch = read_path(REPO / "corpus" / "sample" / "batch" / "proposals.jsonl", params=params).proposals
    return (
        [analyse(f"a:{e.id}", e.text, params) for e in archive],
        [analyse(f"b:{p.id}", p.text, params) for p in batch],
    )


@pytest.fixture(scope="module")
def sources(plag_corpus_dir: Path) -> list[str]:
    files = sorted((plag_corpus_dir / "source-documents").glob("*.txt"))[:14]
    return [clean_text(f.read_text(encoding="utf-8", errors="replace")) for f in files]


def _assert_same_as_scratch(archive: list[DocFeatures], batch: list[DocFeatures], params: Parameters) -> CandidateIndex:
    dp = params.duplication
    declared = declared_template_shingles(params)
    boiler, index, weights = CollectionIndex(archive, params=dp, declared=declared).extend(batch)
    everything = archive + batch
    scratch_boiler = boilerplate_shingles(everything, params=dp, declared=declared)
    assert boiler == scratch_boiler
    scratch = CandidateIndex.build(everything, params=dp, boiler=scratch_boiler)
    for d in batch:
        for ci in range(len(d.chunks)):
            assert sorted(index.query((d.key, ci))) == sorted(scratch.query((d.key, ci))), (d.key, ci)
    scratch_weights = term_weights(everything)
    assert dict(weights) == pytest.approx(dict(scratch_weights))
    assert weights.default == pytest.approx(max(scratch_weights.values()))
    return index


def test_extending_the_sample_archive_equals_building_from_scratch(
    sample_docs: tuple[list[DocFeatures], list[DocFeatures]], params: Parameters
) -> None:
    archive, batch = sample_docs
    for part in (batch[:1], batch[5:6], batch[:7]):
        _assert_same_as_scratch(archive, part, params)
    index = _assert_same_as_scratch(archive, batch, params)
    hits = {r for d in batch for ci in range(len(d.chunks)) for r in index.query((d.key, ci))}
    assert any(k.startswith("a:") for k, _ in hits)  # the sample batch copies from the archive
    assert any(k.startswith("b:") for k, _ in hits)  # and from itself


def _with(text: str, sentence: str) -> str:
    return f"{text}\n\n{sentence}"


def test_a_sentence_becoming_template_text_rehashes_the_archive_chunks_that_hold_it(
    sources: list[str], params: Parameters
) -> None:
    """3 of 10 archive texts share a sentence (under the 4-document cut); one proposal with it makes
    it template text, so those 3 archive chunks must be indexed again without it."""
    shared = (
        "Aplikasi layanan terpadu ini dikembangkan bersama dinas komunikasi dan informatika kabupaten "
        "untuk memangkas waktu tunggu warga dari tujuh hari menjadi satu hari kerja."
    )
    archive = [analyse(f"a:{i}", _with(t, shared) if i < 3 else t, params) for i, t in enumerate(sources[:10])]
    batch = [analyse("b:0", _with(sources[12], shared), params)]
    index = _assert_same_as_scratch(archive, batch, params)
    assert {k for k, _ in index.stale} == {"a:0", "a:1", "a:2"}


def test_a_growing_batch_raises_the_cut_and_template_text_becomes_evidence_again(
    sources: list[str], params: Parameters
) -> None:
    """4 of 10 archive texts share a sentence (template at cut 4); four unrelated proposals raise the
    cut to 5, so the sentence is no longer template and the archive chunks holding it change."""
    shared = (
        "Seluruh pegawai puskesmas dilatih menggunakan rekam medis elektronik selama dua minggu sebelum "
        "layanan dibuka untuk masyarakat di semua desa."
    )
    archive = [analyse(f"a:{i}", _with(t, shared) if i < 4 else t, params) for i, t in enumerate(sources[:10])]
    batch = [analyse(f"b:{i}", t, params) for i, t in enumerate(sources[10:14])]
    index = _assert_same_as_scratch(archive, batch, params)
    assert {k for k, _ in index.stale} == {"a:0", "a:1", "a:2", "a:3"}


def test_a_batch_key_that_is_an_archive_key_is_refused(
    sample_docs: tuple[list[DocFeatures], list[DocFeatures]], params: Parameters
) -> None:
    archive, _ = sample_docs
    c = CollectionIndex(archive, params=params.duplication, declared=set())
    with pytest.raises(ValueError, match="key"):
        c.extend([archive[0]])
