"""The archive's analysed texts are kept on disk: a second process loading the same archive analyses
nothing again, a changed text is analysed again, and a stale or damaged cache is ignored."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

import screening.pipeline as pipeline
from corpus.features_cache import fingerprint, load_features, save_features
from eval.benchmark import HashEmbedder
from saring.config import Settings
from saring.service import Saring
from screening.features import DocFeatures, analyse
from screening.params import Parameters

REPO = Path(__file__).resolve().parents[2]
SAMPLE_ARCHIVE = REPO / "corpus" / "sample" / "archive.jsonl"


def _counting(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []
    real = pipeline.analyse

    def counted(key: str, text: str, params: Parameters) -> DocFeatures:
        calls.append(key)
        return real(key, text, params)

    monkeypatch.setattr(pipeline, "analyse", counted)
    return calls


def _same(a: DocFeatures, b: DocFeatures) -> None:
    assert a.text == b.text
    assert np.array_equal(a.shingles, b.shingles)
    assert a.chunks == b.chunks and a.chunk_hashes == b.chunk_hashes and a.chunk_shingles == b.chunk_shingles


def test_a_second_process_reuses_the_analysed_archive(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = Saring(Settings(data_dir=tmp_path), embedder=HashEmbedder())
    first.import_archive(SAMPLE_ARCHIVE)
    ctx1 = first.archive_context()
    assert (tmp_path / "cache" / "archive-features.pickle").is_file()

    calls = _counting(monkeypatch)
    ctx2 = Saring(Settings(data_dir=tmp_path), embedder=HashEmbedder()).archive_context()
    assert calls == []
    assert ctx2.features.keys() == ctx1.features.keys()
    for k, d in ctx1.features.items():
        _same(d, ctx2.features[k])
        assert ctx2.features[k].vectors is not None and np.allclose(ctx2.features[k].vectors, d.vectors)

    # An entry whose text changed is analysed again; the others still come from the cache.
    entry = first.store.archive_entries()[0]
    bagian = dict(entry.bagian)
    first_key = next(iter(bagian))
    bagian[first_key] += " Tambahan kalimat baru tentang layanan daring bagi warga desa."
    changed = entry.model_copy(update={"bagian": bagian})
    assert changed.text != entry.text
    first.import_archive_proposals([changed])
    ctx3 = Saring(Settings(data_dir=tmp_path), embedder=HashEmbedder()).archive_context()
    assert calls == [pipeline.archive_key(entry.id)]
    assert ctx3.features[pipeline.archive_key(entry.id)].text == changed.text


def test_a_stale_or_damaged_cache_is_ignored(
    tmp_path: Path, params: Parameters, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "f.pickle"
    feats = {"a:1": analyse("a:1", "Inovasi layanan kesehatan keliling di desa terpencil setiap minggu.", params)}
    key = fingerprint(params, code_version="1")
    save_features(path, feats, fingerprint=key)
    _same(load_features(path, fingerprint=key)["a:1"], feats["a:1"])
    assert load_features(path, fingerprint=fingerprint(params, code_version="2")) == {}
    other = params.model_copy(update={"duplication": params.duplication.model_copy(update={"shingle_size": 4})})
    assert fingerprint(other, code_version="1") != key
    path.write_bytes(b"not a pickle")
    with caplog.at_level(logging.WARNING, logger="saring"):
        assert load_features(path, fingerprint=key) == {}
    assert "unreadable" in caplog.text
    assert load_features(tmp_path / "missing.pickle", fingerprint=key) == {}
