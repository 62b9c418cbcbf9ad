"""PAN-format evaluation: saring's own candidate retrieval and alignment on a PAN plagiarism corpus
(source-documents/*.txt, suspicious-documents/*.txt + *.xml), scored with the PAN character-level
measures overall, per obfuscation and per case type."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from eval.common import unwrap
from eval.measures import Annotation, PanScores, pan_scores, pan_scores_by
from models.embedder import Embedder
from screening.duplication import (
    CandidateIndex,
    align,
    boilerplate_shingles,
    candidate_pairs,
    is_reportable,
    term_weights,
)
from screening.features import DocFeatures, analyse
from screening.params import Parameters
from screening.pipeline import (
    NullProgress,
    declared_template_shingles,
    embed_features,
    exact_search,
    heading_terms,
)

_FEATURE = re.compile(r"<feature\b[^>]*>")
_ATTR = re.compile(r'(\w+)="([^"]*)"')


def read_cases(xml_path: Path) -> list[Annotation]:
    """Plagiarism cases of one suspicious document; simulated cases get obfuscation `simulated`."""
    ref = xml_path.with_suffix(".txt").name
    out: list[Annotation] = []
    for m in _FEATURE.finditer(xml_path.read_text(encoding="utf-8")):
        a = dict(_ATTR.findall(m.group()))
        if a.get("name") != "plagiarism":
            continue
        kind = a.get("type", "")
        obf = a.get("obfuscation") or ("simulated" if kind == "simulated" else "none")
        out.append(
            Annotation(
                this_reference=ref,
                this_offset=int(a["this_offset"]),
                this_length=int(a["this_length"]),
                source_reference=a["source_reference"],
                source_offset=int(a["source_offset"]),
                source_length=int(a["source_length"]),
                obfuscation=obf,
                type=kind,
            )
        )
    return out


@dataclass
class PanResult:
    """Cases, saring's detections and the PAN measures."""

    cases: list[Annotation]
    detections: list[Annotation]
    overall: PanScores
    by_obfuscation: dict[str, PanScores]
    by_type: dict[str, PanScores]
    by_half: dict[str, PanScores] = field(default_factory=dict)
    documents: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        def scores(s: PanScores) -> dict[str, Any]:
            return {**asdict(s), "case_recall": s.case_recall}

        return {
            "documents": self.documents,
            "seconds": round(self.seconds, 1),
            "overall": scores(self.overall),
            "by_obfuscation": {k: scores(v) for k, v in self.by_obfuscation.items()},
            "by_type": {k: scores(v) for k, v in self.by_type.items()},
            "by_half": {k: scores(v) for k, v in self.by_half.items()},
            "detections": [asdict(d) for d in self.detections],
        }

    def write_json(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_json(), indent=1, ensure_ascii=False), encoding="utf-8")


def quick_subset(sources_dir: Path, suspicious_dir: Path, params: Parameters) -> tuple[list[str], list[str]]:
    """A small, fixed part of the corpus for CI: short source documents (<= 120 chunks) and the
    suspicious documents of <= 500 chunks; cases whose source is left out are not scored."""
    srcs = [
        p.name
        for p in sorted(sources_dir.glob("*.txt"))
        if len(analyse("_", unwrap(p.read_text(encoding="utf-8")), params).chunks) <= 120
    ]
    susp = [
        p.name
        for p in sorted(suspicious_dir.glob("*.txt"))
        if len(analyse("_", unwrap(p.read_text(encoding="utf-8")), params).chunks) <= 500
    ]
    return srcs, susp


def detect(
    sources: dict[str, str], suspicious: dict[str, str], *, params: Parameters, embedder: Embedder
) -> tuple[list[Annotation], int]:
    """saring's detections for each suspicious document against the sources; texts are already
    read, documents features are computed here. Returns detections and the number of candidate pairs."""
    src_docs = {name: analyse("src:" + name, unwrap(t), params) for name, t in sources.items()}
    sus_docs = {name: analyse("sus:" + name, unwrap(t), params) for name, t in suspicious.items()}
    return detect_features(src_docs, sus_docs, params=params, embedder=embedder)


def detect_features(
    src_docs: dict[str, DocFeatures],
    sus_docs: dict[str, DocFeatures],
    *,
    params: Parameters,
    embedder: Embedder | None,
) -> tuple[list[Annotation], int]:
    """Detections from prepared features (embedded here when an embedder is given and vectors are missing)."""
    all_docs = [*src_docs.values(), *sus_docs.values()]
    if embedder is not None:
        todo = [d for d in all_docs if d.vectors is None]
        if todo:
            embed_features(todo, embedder, NullProgress())
    dp = params.duplication
    boiler = boilerplate_shingles(all_docs, params=dp, declared=declared_template_shingles(params))
    index = CandidateIndex.build(all_docs, params=dp, boiler=boiler)
    weights = term_weights(all_docs, ignored=heading_terms(params))
    neighbours = None
    srcs = list(src_docs.values())
    if all(d.vectors is not None for d in srcs) and srcs:
        refs = [(d.key, ci) for d in srcs for ci in range(len(d.chunks))]
        vecs = np.concatenate([d.vectors for d in srcs if d.vectors is not None])
        neighbours = exact_search(vecs, refs)
    by_key = {d.key: (name, d) for name, d in src_docs.items()}
    by_doc = {d.key: d for d in srcs}
    detections: list[Annotation] = []
    n_pairs = 0
    for name, doc in sus_docs.items():
        pairs = candidate_pairs([doc], index=index, params=dp, boiler=boiler, neighbours=neighbours, docs=by_doc)
        for _, other in sorted(pairs):
            if other not in by_key:
                continue
            n_pairs += 1
            src_name, src = by_key[other]
            m = align(doc, src, params=dp, boiler=boiler, weights=weights)
            if not is_reportable(m, dp):
                continue
            for p in m.passages:
                detections.append(
                    Annotation(
                        this_reference=name,
                        this_offset=p.start,
                        this_length=p.end - p.start,
                        source_reference=src_name,
                        source_offset=p.other_start,
                        source_length=p.other_end - p.other_start,
                        obfuscation=p.match_type,
                        type="detection",
                    )
                )
    return detections, n_pairs


def halves(suspicious_names: Sequence[str]) -> dict[str, set[str]]:
    """Two fixed halves of the suspicious documents (alternate documents in name order), for choosing a
    threshold on one half and reporting it on the other."""
    names = sorted(suspicious_names)
    return {"A": set(names[0::2]), "B": set(names[1::2])}


def score_halves(
    cases: list[Annotation], detections: list[Annotation], suspicious_names: Sequence[str]
) -> dict[str, PanScores]:
    """PAN measures on each half of the suspicious documents."""
    return {
        k: pan_scores([c for c in cases if c.this_reference in h], [d for d in detections if d.this_reference in h])
        for k, h in halves(suspicious_names).items()
    }


def score(
    cases: list[Annotation], detections: list[Annotation]
) -> tuple[PanScores, dict[str, PanScores], dict[str, PanScores]]:
    return (
        pan_scores(cases, detections),
        pan_scores_by(cases, detections, "obfuscation"),
        pan_scores_by(cases, detections, "type"),
    )


def run_pan(
    sources_dir: Path,
    suspicious_dir: Path,
    *,
    params: Parameters,
    embedder: Embedder,
    source_names: list[str] | None = None,
    suspicious_names: list[str] | None = None,
) -> PanResult:
    """Detect and score on a PAN-format corpus (optionally a subset of its documents)."""
    t0 = time.time()
    src_paths = [p for p in sorted(sources_dir.glob("*.txt")) if source_names is None or p.name in source_names]
    sus_paths = [
        p for p in sorted(suspicious_dir.glob("*.txt")) if suspicious_names is None or p.name in suspicious_names
    ]
    sources = {p.name: p.read_text(encoding="utf-8") for p in src_paths}
    suspicious = {p.name: p.read_text(encoding="utf-8") for p in sus_paths}
    cases = [
        c
        for p in sus_paths
        if p.with_suffix(".xml").is_file()
        for c in read_cases(p.with_suffix(".xml"))
        if c.source_reference in sources
    ]
    detections, n_pairs = detect(sources, suspicious, params=params, embedder=embedder)
    overall, by_obf, by_type = score(cases, detections)
    return PanResult(
        cases=cases,
        detections=detections,
        overall=overall,
        by_obfuscation=by_obf,
        by_type=by_type,
        by_half=score_halves(cases, detections, list(suspicious)),
        documents={"sources": len(sources), "suspicious": len(suspicious), "candidate_pairs": n_pairs},
        seconds=time.time() - t0,
    )
