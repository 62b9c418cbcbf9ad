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


def test_same_form_counts_a_copy_between_two_innovations_of_one_instansi() -> None:
    """In the same-form measure a reported pair of one instansi is a false claim unless it is a resubmission
    (the same title too): two different innovations of one ministry are not a resubmission."""
    from eval.common import REPO
    from eval.pairs import SameForm, same_form_reports
    from screening.features import analyse
    from screening.params import default_parameters

    params = default_parameters()
    lines = (REPO / "corpus" / "sample" / "archive.jsonl").read_text(encoding="utf-8").splitlines()
    first = Proposal.model_validate_json(lines[0])
    # the same text under the same instansi: once as a resubmission, once under another title
    again = first.model_copy(update={"id": "copy-same-title"})
    renamed = first.model_copy(update={"id": "copy-new-title", "judul": "Inovasi Lain Sama Sekali"})
    for other, expected in ((again, 0), (renamed, 1)):
        entries = [first, other]
        docs = [analyse(f"arsip:{e.id}", e.text, params) for e in entries]
        r = same_form_reports(SameForm(entries, docs), params)
        assert (r["pairs"], r["reported"]) == (1, expected), r["examples"]
