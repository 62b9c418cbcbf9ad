"""The labelled pair set: deterministic generation, a fixed split by source document, gold offsets."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from eval.pairs import PAIRS_DIR, generate, load_sources, split_of
from screening.proposal import Proposal


@pytest.fixture(scope="module")
def cases(plag_corpus_dir: Path) -> list[dict]:
    return generate(load_sources(plag_corpus_dir.parent))


def test_generation_is_deterministic_and_matches_committed_files(cases: list[dict]) -> None:
    # the committed files were written by another process: equality shows the generator is deterministic
    for split in ("dev", "test"):
        committed = [
            json.loads(x) for x in (PAIRS_DIR / f"pairs-{split}.jsonl").read_text(encoding="utf-8").splitlines()
        ]
        assert committed == [c for c in cases if c["split"] == split], "run `python -m eval pairs --generate`"


def test_split_is_by_source_document(cases: list[dict]) -> None:
    splits: dict[str, set[str]] = {}
    for c in cases:
        splits.setdefault(c["source_id"], set()).add(c["split"])
        assert c["split"] == split_of(c["source_id"])
    assert all(len(s) == 1 for s in splits.values())
    assert {c["split"] for c in cases} == {"dev", "test"}


def test_gold_offsets_point_at_the_copied_passage(cases: list[dict]) -> None:
    for c in cases:
        a, b = Proposal.model_validate(c["a"]), Proposal.model_validate(c["b"])
        for a0, a1, b0, b1 in c["gold"]:
            assert 0 <= a0 < a1 <= len(a.text) and 0 <= b0 < b1 <= len(b.text)
            if c["kind"] == "verbatim":
                assert a.text[a0:a1] == b.text[b0:b1]
        if c["kind"].startswith("negative"):
            assert not c["gold"]


def test_pair_classes_are_realised_in_metadata(cases: list[dict]) -> None:
    for c in cases:
        a, b = Proposal.model_validate(c["a"]), Proposal.model_validate(c["b"])
        if c["pair_class"] == "same_instansi":
            assert a.instansi == b.instansi
        elif c["pair_class"] == "declared_replication":
            assert a.replikasi_dari and b.judul in a.replikasi_dari
        elif c["pair_class"] == "other_region":
            assert a.instansi != b.instansi
