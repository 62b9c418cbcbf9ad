"""Screening a batch in forked worker processes gives exactly the results of screening it in one process."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest

from models.embedder import Embedder
from screening.alignment import PairMatch
from screening.proposal import Proposal
from screening.results import Duplicate
from tests.api.conftest import embedder, make_service, sample_batch

__all__ = ["embedder"]  # the session's model fixture, shared with the API tests


def test_forked_workers_give_the_same_results_in_batch_order(tmp_path: Path, embedder: Embedder) -> None:
    service = make_service(tmp_path / "data", embedder)
    proposals = [Proposal.model_validate(row) for row in sample_batch()]
    screener = service.screener(proposals)
    alone = screener.screen_all(workers=1)
    forked = service.screener(proposals).screen_all(workers=2)
    assert [r.id for r in forked] == [p.id for p in proposals]
    assert [r.model_dump() for r in forked] == [r.model_dump() for r in alone]
    # The batch has copies to find, so the comparison covers passages, not only empty lists.
    assert sum(len(r.duplicates) for r in alone) > 0
    with pytest.raises(ValueError, match="at least 1"):
        screener.screen_all(workers=0)


def test_a_screener_keeps_no_alignment_after_a_screen(tmp_path: Path, embedder: Embedder) -> None:
    """Alignments live for one proposal's screen: kept for the whole batch (to save the second alignment of
    two batch proposals that find each other), the ~257 archive candidates per proposal at 10,000 entries made
    ~6 GiB per worker at 2,500 proposals. Results do not depend on the order of screening."""
    service = make_service(tmp_path / "data", embedder)
    proposals = [Proposal.model_validate(row) for row in sample_batch()]
    screener = service.screener(proposals)
    forward = {p.id: screener.screen(p.id).model_dump() for p in proposals}
    gc.collect()
    assert [o for o in gc.get_objects() if isinstance(o, PairMatch)] == []
    again = service.screener(proposals)
    backward = {p.id: again.screen(p.id).model_dump() for p in reversed(proposals)}
    assert backward == forward
    sources = [d["other_source"] for r in forward.values() for d in r["duplicates"]]
    assert "archive" in sources and "batch" in sources, "the sample has copies of both kinds to compare"


def test_template_only_pairs_are_counted_and_the_most_shared_listed(tmp_path: Path, embedder: Embedder) -> None:
    """Documents sharing only template text are evidence that the template was ignored, not findings: at most
    `template_pairs_listed` of them are listed (those sharing the most template text), all are counted. Against
    10,000 archive entries a proposal shares template text with ~100, which filled most of a result."""
    service = make_service(tmp_path / "data", embedder)
    proposals = [Proposal.model_validate(row) for row in sample_batch()]
    every = {r.id: r for r in service.screener(proposals).screen_all()}
    with_template = [r for r in every.values() if r.template_only_pairs >= 2]
    assert with_template, "the sample has proposals sharing template text with several documents"
    for r in every.values():
        listed = [d for d in r.duplicates if d.relation == "boilerplate"]
        assert len(listed) == min(r.template_only_pairs, service.params.duplication.template_pairs_listed)
        assert r.duplicates[: len(r.duplicates) - len(listed)] == [d for d in r.duplicates if d not in listed]

    def template_chars(d: Duplicate) -> int:
        return sum(t.end - t.start for t in d.template_passages)

    service.params = service.params.model_copy(
        update={"duplication": service.params.duplication.model_copy(update={"template_pairs_listed": 1})}
    )
    one = {r.id: r for r in service.screener(proposals).screen_all()}
    for r in with_template:
        listed = [d for d in one[r.id].duplicates if d.relation == "boilerplate"]
        assert one[r.id].template_only_pairs == r.template_only_pairs and len(listed) == 1
        everything = [d for d in r.duplicates if d.relation == "boilerplate"]
        assert template_chars(listed[0]) == max(template_chars(d) for d in everything)
        assert [d for d in one[r.id].duplicates if d.relation != "boilerplate"] == [
            d for d in r.duplicates if d.relation != "boilerplate"
        ], "findings are not affected"


def test_chunk_vectors_are_held_once(tmp_path: Path, embedder: Embedder) -> None:
    """The archive's and the batch's chunk vectors are views of what their chunk searches store (FAISS),
    not second copies (415 and 363 MiB at 2,500 proposals x 10,000 entries); screening reads them there."""
    import numpy as np

    def root(a: np.ndarray) -> np.ndarray:
        while isinstance(a.base, np.ndarray):
            a = a.base
        return a

    service = make_service(tmp_path / "data", embedder)
    proposals = [Proposal.model_validate(row) for row in sample_batch()]
    screener = service.screener(proposals)
    archive = [d.vectors for d in screener.archive.features.values() if d.vectors is not None]
    batch = [d.vectors for d in screener.docs.values() if d.vectors is not None]
    assert len(archive) == len(screener.archive.features) and len(batch) == len(proposals)
    assert len({id(root(v)) for v in archive}) == 1 and len({id(root(v)) for v in batch}) == 1
    assert root(archive[0]) is not root(batch[0])
    assert not any(v.flags.writeable for v in [*archive, *batch])  # the searches' storage, read-only
    assert sum(len(d.duplicates) for d in screener.screen_all()) > 0


def test_a_batch_embedded_in_one_go_is_searched_without_a_copy(tmp_path: Path, embedder: Embedder) -> None:
    """The batch's chunk search is built from the documents' vectors as they lie (consecutive rows of the one
    array `embed_features` fills), not from a concatenated third copy (347 MiB at 2,500 proposals); vectors that
    do not lie so (documents kept from earlier requests, another order) are copied, with the same rows."""
    import numpy as np

    from screening.features import analyse
    from screening.pipeline import NullProgress, _stacked, embed_features

    service = make_service(tmp_path / "data", embedder)
    proposals = [Proposal.model_validate(row) for row in sample_batch()]
    docs = [analyse(f"b:{p.id}", p.text, service.params) for p in proposals]
    embed_features(docs, embedder, NullProgress())
    parts = [d.vectors for d in docs if d.vectors is not None]
    together = _stacked(parts, dim=embedder.dim)
    assert np.array_equal(together, np.concatenate(parts))
    assert together.base is parts[0].base and np.shares_memory(together, parts[-1])
    shuffled = _stacked(parts[::-1], dim=embedder.dim)
    assert np.array_equal(shuffled, np.concatenate(parts[::-1])) and not np.shares_memory(shuffled, parts[0])
    assert _stacked([], dim=embedder.dim).shape == (0, embedder.dim)
