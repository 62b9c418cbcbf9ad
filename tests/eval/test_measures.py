"""PAN measures, case-level P/R/F1 and retrieval scores on tiny cases computed by hand."""

from __future__ import annotations

import math

import pytest

from eval.measures import Annotation, count_chars, pan_scores, pan_scores_by, prf, retrieval_scores


def ann(s0: int, s1: int, r0: int, r1: int, *, susp: str = "s", src: str = "r", obf: str = "") -> Annotation:
    return Annotation(susp, s0, s1 - s0, src, r0, r1 - r0, obf, obf)


def test_count_chars_unions_per_document() -> None:
    assert count_chars([("a", 0, 10), ("a", 5, 15), ("b", 0, 10), ("a", 20, 21)]) == 15 + 10 + 1


def test_exact_detection_scores_one() -> None:
    s = pan_scores([ann(0, 10, 0, 10)], [ann(0, 10, 0, 10)])
    assert (s.precision, s.recall, s.granularity, s.plagdet) == (1.0, 1.0, 1.0, 1.0)


def test_split_detection_costs_granularity() -> None:
    # two halves: all 20 characters found, none extra; granularity 2 -> plagdet 1 / log2(3)
    s = pan_scores([ann(0, 10, 0, 10)], [ann(0, 5, 0, 5), ann(5, 10, 5, 10)])
    assert s.precision == 1.0 and s.recall == 1.0 and s.granularity == 2.0
    assert s.plagdet == pytest.approx(1 / math.log2(3))


def test_shifted_detection_is_half_right() -> None:
    # overlap 5 + 5 of 20 case characters and of 20 detected characters
    s = pan_scores([ann(0, 10, 0, 10)], [ann(5, 15, 5, 15)])
    assert s.precision == pytest.approx(0.5) and s.recall == pytest.approx(0.5)
    assert s.plagdet == pytest.approx(0.5)


def test_detection_must_point_at_the_source() -> None:
    s = pan_scores([ann(0, 10, 0, 10)], [ann(0, 10, 0, 10, src="other")])
    assert (s.precision, s.recall, s.detected_cases) == (0.0, 0.0, 0)


def test_micro_average_over_cases_and_per_obfuscation() -> None:
    cases = [ann(0, 10, 0, 10, src="r1", obf="none"), ann(20, 30, 0, 20, src="r2", obf="simulated")]
    dets = [ann(0, 10, 0, 10, src="r1"), ann(40, 50, 50, 60, src="r1")]
    s = pan_scores(cases, dets)
    # found 20 of 10+10+10+20 = 50 case characters; 20 of 40 detected characters are right
    assert s.recall == pytest.approx(0.4) and s.precision == pytest.approx(0.5)
    assert s.plagdet == pytest.approx(2 * 0.4 * 0.5 / 0.9)
    assert s.case_recall == 0.5
    by = pan_scores_by(cases, dets, "obfuscation")
    # precision per type counts only detections overlapping cases of that type
    assert by["none"].precision == 1.0 and by["none"].recall == 1.0
    assert by["simulated"].recall == 0.0 and by["simulated"].detections == 0


def test_prf_one_vs_rest() -> None:
    gold = ["edited", "edited", None, "paraphrase"]
    pred = ["edited", None, "edited", "paraphrase"]
    x = prf(gold, pred, "edited")
    assert (x.tp, x.fp, x.fn) == (1, 1, 1)
    assert x.precision == 0.5 and x.recall == 0.5 and x.f1 == 0.5


def test_retrieval_recall_and_mrr() -> None:
    r = retrieval_scores([["a", "b"], ["c", "a"]], [{"b"}, {"x"}])
    assert r.recall == {1: 0.0, 5: 0.5, 10: 0.5}
    assert r.mrr == pytest.approx(0.25)
