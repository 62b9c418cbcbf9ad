"""The archive's candidate index is built once and extended per batch; the result must be exactly what a
build over archive + batch from scratch gives (template shingles, candidate chunk pairs, term weights)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from models.text import clean_text
from screening.duplication import CandidateIndex, CollectionIndex, boilerplate_shingles, term_weights
from screening.features import DocFeatures, analyse
from screening.params import Parameters
from screening.pipeline import declared_template_shingles, heading_terms
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
    ignored = heading_terms(params)
    boiler, index, weights = CollectionIndex(archive, params=dp, declared=declared, ignored_terms=ignored).extend(batch)
    everything = archive + batch
    scratch_boiler = boilerplate_shingles(everything, params=dp, declared=declared)
    assert boiler == scratch_boiler
    scratch = CandidateIndex.build(everything, params=dp, boiler=scratch_boiler)
    for d in batch:
        assert sorted(index.matches(d)) == sorted(scratch.matches(d)), d.key
    scratch_weights = term_weights(everything, ignored=ignored)
    assert dict(weights) == pytest.approx(dict(scratch_weights))
    assert weights.default == pytest.approx(max(scratch_weights.values()))
    assert weights.weight("pangku") == 0 < term_weights(everything).weight("pangku"), "the heading words weigh 0"
    return index


def test_screening_weighs_the_forms_heading_words_zero_as_the_parameters_say(params: Parameters) -> None:
    """The archive context builds its collection index with the parameters' heading words, and a batch
    screened against it (and a comparison aligned with it) weighs them 0; with the rule off they weigh as
    any word, and an index built for other parameters is refused rather than silently used."""
    from eval.benchmark import HashEmbedder
    from eval.common import with_duplication
    from screening.pipeline import align_texts, build_archive_context

    entries = read_path(REPO / "corpus" / "sample" / "archive.jsonl", params=params).proposals
    ctx = build_archive_context(entries, embedder=HashEmbedder(), params=params)
    index = ctx.collection_index(params)
    assert index.ignored_terms == heading_terms(params) and "pangku" in index.ignored_terms
    assert index.extend([])[2].weight("pangku") == 0
    off = with_duplication(params, ignore_heading_words=False)
    rebuilt = ctx.collection_index(off)
    assert rebuilt is not index and rebuilt.ignored_terms == frozenset()
    assert rebuilt.extend([])[2].weight("pangku") > 0
    with pytest.raises(ValueError, match="other form headings"):
        align_texts(entries[0].text, entries[1].text, params=params, collection=rebuilt)


def test_extending_the_sample_archive_equals_building_from_scratch(
    sample_docs: tuple[list[DocFeatures], list[DocFeatures]], params: Parameters
) -> None:
    archive, batch = sample_docs
    for part in (batch[:1], batch[5:6], batch[:7]):
        _assert_same_as_scratch(archive, part, params)
    index = _assert_same_as_scratch(archive, batch, params)
    hits = {k for d in batch for k in index.candidates(d)}
    assert any(k.startswith("a:") for k in hits)  # the sample batch copies from the archive
    assert any(k.startswith("b:") for k in hits)  # and from itself


def test_candidates_are_the_chunk_pairs_at_or_above_the_jaccard_threshold(
    sample_docs: tuple[list[DocFeatures], list[DocFeatures]], params: Parameters
) -> None:
    """Every chunk pair of the sample is checked directly: the index returns exactly those whose
    non-template shingle sets reach candidate_jaccard (and only those of other documents)."""
    archive, batch = sample_docs
    dp = params.duplication
    everything = archive + batch
    boiler = boilerplate_shingles(everything, params=dp, declared=declared_template_shingles(params))

    def sets(d: DocFeatures) -> list[set[int]]:
        out = []
        for lo, hi in d.chunk_shingles:
            out.append({int(h) for h in d.shingles[lo:hi]} - boiler)
        return out

    all_sets = {d.key: sets(d) for d in everything}
    index = CandidateIndex.build(everything, params=dp, boiler=boiler)
    n_pairs = 0
    for d in batch[:6]:
        expected = set()
        for ci, a in enumerate(all_sets[d.key]):
            if len(a) < 2:
                continue
            for other, chunks in all_sets.items():
                if other == d.key:
                    continue
                for cj, b in enumerate(chunks):
                    if len(b) >= 2 and len(a & b) / len(a | b) >= dp.candidate_jaccard:
                        expected.add((ci, (other, cj)))
        assert set(index.matches(d)) == expected, d.key
        n_pairs += len(expected)
    assert n_pairs > 0


def _with(text: str, sentence: str) -> str:
    return f"{text}\n\n{sentence}"


def test_a_sentence_becoming_template_text_is_counted_out_of_the_archive_chunks_that_hold_it(
    sources: list[str], params: Parameters
) -> None:
    """3 of 10 archive texts share a sentence (under the 4-document cut); one proposal with it makes
    it template text, so those 3 archive chunks must be counted without it."""
    shared = (
        "Aplikasi layanan terpadu ini dikembangkan bersama dinas komunikasi dan informatika kabupaten "
        "untuk memangkas waktu tunggu warga dari tujuh hari menjadi satu hari kerja."
    )
    archive = [analyse(f"a:{i}", _with(t, shared) if i < 3 else t, params) for i, t in enumerate(sources[:10])]
    batch = [analyse("b:0", _with(sources[12], shared), params)]
    index = _assert_same_as_scratch(archive, batch, params)
    collection = CollectionIndex(archive, params=params.duplication, declared=declared_template_shingles(params))
    changed = {collection.chunks.refs[i][0] for i in np.flatnonzero(index.parts[0][1] != collection.sizes)}
    assert changed == {"a:0", "a:1", "a:2"}
    # Under the archive's own template shingles the sentence would still link the proposal to them.
    before = CandidateIndex(
        [(collection.chunks, collection.sizes)], params=params.duplication, boiler=collection.boiler
    ).candidates(batch[0])
    assert {"a:0", "a:1", "a:2"} <= before
    assert not {"a:0", "a:1", "a:2"} & index.candidates(batch[0])


def test_a_growing_batch_raises_the_cut_and_template_text_becomes_evidence_again(
    sources: list[str], params: Parameters
) -> None:
    """4 of 10 archive texts share a sentence (template at cut 4); four unrelated proposals raise the
    cut to 5, so the sentence is no longer template and the archive chunks holding it count it again."""
    shared = (
        "Seluruh pegawai puskesmas dilatih menggunakan rekam medis elektronik selama dua minggu sebelum "
        "layanan dibuka untuk masyarakat di semua desa."
    )
    archive = [analyse(f"a:{i}", _with(t, shared) if i < 4 else t, params) for i, t in enumerate(sources[:10])]
    batch = [analyse(f"b:{i}", t, params) for i, t in enumerate(sources[10:14])]
    index = _assert_same_as_scratch(archive, batch, params)
    collection = CollectionIndex(archive, params=params.duplication, declared=declared_template_shingles(params))
    grown = index.parts[0][1] - collection.sizes
    assert {collection.chunks.refs[i][0] for i in np.flatnonzero(grown)} == {"a:0", "a:1", "a:2", "a:3"}
    assert (grown >= 0).all()


def test_a_batch_key_that_is_an_archive_key_is_refused(
    sample_docs: tuple[list[DocFeatures], list[DocFeatures]], params: Parameters
) -> None:
    archive, _ = sample_docs
    c = CollectionIndex(archive, params=params.duplication, declared=set())
    with pytest.raises(ValueError, match="key"):
        c.extend([archive[0]])
