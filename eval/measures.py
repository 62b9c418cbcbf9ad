"""Evaluation measures: PAN character-level plagiarism detection measures (Potthast et al. 2010),
case-level precision/recall/F1 and retrieval recall@k / MRR.

PAN definitions (micro-averaged, as in the PAN 2011 `perfmeasures.py`): a case or detection is a set
of characters in both the suspicious and the source document. A detection r detects a case s when
their suspicious spans overlap and their source spans overlap (same documents). Then
precision = |U (s ∩ r)| / |U r|, recall = |U (s ∩ r)| / |U s| over detecting pairs, granularity =
mean number of detections per detected case, plagdet = F1 / log2(1 + granularity).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Annotation:
    """A plagiarism case or a detection: a span in the suspicious document and its source span."""

    this_reference: str
    this_offset: int
    this_length: int
    source_reference: str
    source_offset: int
    source_length: int
    obfuscation: str = ""
    type: str = ""

    @property
    def this_end(self) -> int:
        return self.this_offset + self.this_length

    @property
    def source_end(self) -> int:
        return self.source_offset + self.source_length


def overlaps(case: Annotation, det: Annotation) -> bool:
    """PAN `is_overlapping` for external detection: both the suspicious and the source spans overlap."""
    return (
        case.this_reference == det.this_reference
        and case.source_reference == det.source_reference
        and det.this_end > case.this_offset
        and det.this_offset < case.this_end
        and det.source_end > case.source_offset
        and det.source_offset < case.source_end
    )


Interval = tuple[str, int, int]
"""(document key, start, end): characters start..end-1 of one side of one document."""


def _sides(a: Annotation) -> list[Interval]:
    return [
        ("s:" + a.this_reference, a.this_offset, a.this_end),
        ("r:" + a.source_reference, a.source_offset, a.source_end),
    ]


def count_chars(intervals: Iterable[Interval]) -> int:
    """Number of distinct characters covered by intervals (union per document side)."""
    by_doc: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for doc, s, e in intervals:
        if e > s:
            by_doc[doc].append((s, e))
    total = 0
    for spans in by_doc.values():
        spans.sort()
        cur_s, cur_e = spans[0]
        for s, e in spans[1:]:
            if s > cur_e:
                total += cur_e - cur_s
                cur_s, cur_e = s, e
            else:
                cur_e = max(cur_e, e)
        total += cur_e - cur_s
    return total


def _intersection(case: Annotation, det: Annotation) -> list[Interval]:
    return [
        ("s:" + case.this_reference, max(case.this_offset, det.this_offset), min(case.this_end, det.this_end)),
        (
            "r:" + case.source_reference,
            max(case.source_offset, det.source_offset),
            min(case.source_end, det.source_end),
        ),
    ]


@dataclass(frozen=True)
class PanScores:
    """PAN measures over a set of cases and detections."""

    precision: float
    recall: float
    granularity: float
    plagdet: float
    cases: int
    detections: int
    detected_cases: int

    @property
    def case_recall(self) -> float:
        """Share of cases detected by at least one detection (case-level detection rate)."""
        return self.detected_cases / self.cases if self.cases else float("nan")


def pan_scores(cases: Sequence[Annotation], detections: Sequence[Annotation]) -> PanScores:
    """Micro-averaged precision and recall, granularity and plagdet (PAN 2010/2011 definitions)."""
    hits: dict[int, list[int]] = defaultdict(list)
    for ci, c in enumerate(cases):
        for di, d in enumerate(detections):
            if overlaps(c, d):
                hits[ci].append(di)
    if not cases and not detections:
        prec = rec = 1.0
    elif not cases or not detections:
        prec = rec = 0.0
    else:
        inter = [iv for ci, dis in hits.items() for di in dis for iv in _intersection(cases[ci], detections[di])]
        detected = count_chars(inter)
        prec = detected / max(1, count_chars(iv for d in detections for iv in _sides(d)))
        rec = detected / max(1, count_chars(iv for c in cases for iv in _sides(c)))
    gran = sum(len(v) for v in hits.values()) / len(hits) if hits else 1.0
    f1 = 2 * prec * rec / (prec + rec) if prec + rec > 0 else 0.0
    plagdet = f1 / math.log2(1 + gran)
    return PanScores(prec, rec, gran, plagdet, len(cases), len(detections), len(hits))


def pan_scores_by(cases: Sequence[Annotation], detections: Sequence[Annotation], key: str) -> dict[str, PanScores]:
    """PAN measures per value of a case attribute (`obfuscation` or `type`); each group's precision
    is computed on the detections that overlap a case of that group (PAN convention)."""
    out: dict[str, PanScores] = {}
    for value in sorted({getattr(c, key) for c in cases}):
        group = [c for c in cases if getattr(c, key) == value]
        dets = [d for d in detections if any(overlaps(c, d) for c in group)]
        out[value] = pan_scores(group, dets)
    return out


# ---------------------------------------------------------------- case level


@dataclass(frozen=True)
class PRF:
    """Counts and precision/recall/F1 of a binary decision over cases."""

    tp: int
    fp: int
    fn: int

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else float("nan")

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else float("nan")

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        if math.isnan(p) or math.isnan(r) or p + r == 0:
            return 0.0 if self.tp == 0 and (self.fp or self.fn) else float("nan")
        return 2 * p * r / (p + r)


def prf(gold: Sequence[str | None], pred: Sequence[str | None], label: str) -> PRF:
    """One-vs-rest counts of `label` between gold and predicted labels (None = no label)."""
    tp = sum(1 for g, p in zip(gold, pred, strict=True) if g == label and p == label)
    fp = sum(1 for g, p in zip(gold, pred, strict=True) if g != label and p == label)
    fn = sum(1 for g, p in zip(gold, pred, strict=True) if g == label and p != label)
    return PRF(tp, fp, fn)


# ---------------------------------------------------------------- retrieval


@dataclass(frozen=True)
class RetrievalScores:
    """Recall@k (any relevant item in the top k) and mean reciprocal rank of the first relevant item."""

    queries: int
    recall: dict[int, float]
    mrr: float


def retrieval_scores(
    rankings: Sequence[Sequence[str]], relevant: Sequence[set[str]], ks: Sequence[int] = (1, 5, 10)
) -> RetrievalScores:
    """Recall@k and MRR of ranked id lists against each query's relevant ids."""
    n = len(rankings)
    rr: list[float] = []
    found = {k: 0 for k in ks}
    for ranking, rel in zip(rankings, relevant, strict=True):
        first = next((i for i, x in enumerate(ranking) if x in rel), None)
        rr.append(0.0 if first is None else 1.0 / (first + 1))
        for k in ks:
            if first is not None and first < k:
                found[k] += 1
    return RetrievalScores(n, {k: found[k] / n if n else float("nan") for k in ks}, sum(rr) / n if n else float("nan"))
