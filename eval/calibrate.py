"""Threshold sweeps on the DEV split of the pair set (never the test split): each duplication threshold
is varied alone around the values chosen so far, and case-level F1, passage plagdet and the plagdet
on the PAN dev corpus (its CI subset) are recorded; see `_pick` for the choice.
The novelty band and recommendation.duplicate_share are set from score distributions (see below)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from eval.common import EVAL_DIR, pan_dir, unwrap, with_duplication
from eval.measures import Annotation, pan_scores
from eval.pairs import Prepared, SameForm, evaluate
from eval.pan import detect_features
from models.embedder import Embedder
from screening.features import DocFeatures, analyse
from screening.params import DuplicationParams, Parameters
from screening.pipeline import NullProgress, embed_features

SWEEPS: dict[str, list[Any]] = {
    "paraphrase_cosine": [0.88, 0.89, 0.9, 0.91, 0.92, 0.93, 0.94, 0.95, 0.96, 0.97],
    "paraphrase_min_overlap": [0.0, 0.1, 0.2, 0.25, 0.3, 0.35, 0.4, 0.5],
    "candidate_cosine": [0.85, 0.88, 0.9, 0.92, 0.94, 0.96, 0.98],
    "candidate_jaccard": [0.1, 0.2, 0.3, 0.4, 0.5, 0.6],
    "min_passage_words": [6, 8, 10, 12, 15, 20, 25],
    "paraphrase_min_passage_words": [8, 20, 30, 40, 60, 80],
    "paraphrase_strong_cosine": [0.94, 0.95, 0.96, 0.97, 0.98, 1.0],
    "report_min_share": [0.01, 0.02, 0.05, 0.1, 0.15, 0.2],
    "boilerplate_df": [0.05, 0.1, 0.2, 0.3, 0.5, 0.8],
}
BATCH_SWEEPS = {"boilerplate_df"}
"""Swept with template shingles taken over all dev documents as one batch (document frequency)."""


@dataclass
class Sweep:
    name: str
    current: Any
    rows: list[dict[str, Any]] = field(default_factory=list)
    chosen: Any = None


def _pick(rows: Sequence[dict[str, Any]], current: Any) -> Any:
    """Best case F1, then best mean plagdet (pairs and PAN). The current value stays unless the best
    reports no more negatives than it and beats it by more than one dev case of F1 (0.008) or, at equal
    F1, by 0.015 plagdet (smaller differences are noise on ~100 dev positives)."""

    def f1(r: dict[str, Any]) -> float:
        return r["f1"] if not math.isnan(r["f1"]) else -1.0

    def pd(r: dict[str, Any]) -> float:
        return (r["plagdet"] + r["pan_plagdet"]) / 2 if not math.isnan(r["pan_plagdet"]) else r["plagdet"]

    cur = next((r for r in rows if r["value"] == current), None)
    allowed = [r for r in rows if cur is None or r["false_reports"] <= cur["false_reports"]]
    best = max(allowed, key=lambda r: (round(f1(r), 4), round(pd(r), 4), -abs(float(r["value"]) - float(current))))
    if cur is None:
        return best["value"]
    if f1(best) >= f1(cur) + 0.008 or (f1(best) >= f1(cur) and pd(best) >= pd(cur) + 0.015):
        return best["value"]
    return current


@dataclass
class PanDev:
    """The PAN dev corpus (its CI subset) with features and vectors, for sweeps."""

    sources: dict[str, DocFeatures]
    suspicious: dict[str, DocFeatures]
    cases: list[Annotation]


def prepare_pan(params: Parameters, embedder: Embedder) -> PanDev:
    from eval.pan import quick_subset, read_cases

    root = pan_dir()
    srcs, susp = quick_subset(root / "source-documents", root / "suspicious-documents", params)

    def feats(folder: str, names: list[str], prefix: str) -> dict[str, DocFeatures]:
        return {n: analyse(prefix + n, unwrap((root / folder / n).read_text(encoding="utf-8")), params) for n in names}

    src = feats("source-documents", srcs, "src:")
    sus = feats("suspicious-documents", susp, "sus:")
    embed_features([*src.values(), *sus.values()], embedder, NullProgress())
    xmls = [(root / "suspicious-documents" / n).with_suffix(".xml") for n in susp]
    cases = [c for x in xmls if x.is_file() for c in read_cases(x) if c.source_reference in src]
    return PanDev(src, sus, cases)


def _row(
    value: Any, prepared: Sequence[Prepared], params: Parameters, *, batch: bool, pan: PanDev | None = None
) -> dict[str, Any]:
    r = evaluate(prepared, params, batch=batch)
    para = r.by_match["paraphrase"]
    pan_plagdet = pan_recall = float("nan")
    if pan is not None:
        dets, _ = detect_features(pan.sources, pan.suspicious, params=params, embedder=None)
        ps = pan_scores(pan.cases, dets)
        pan_plagdet, pan_recall = ps.plagdet, ps.recall
    return {
        "pan_plagdet": pan_plagdet,
        "pan_recall": pan_recall,
        "value": value,
        "precision": r.detection.precision,
        "recall": r.detection.recall,
        "f1": r.detection.f1,
        "plagdet": r.passages.plagdet,
        "paraphrase_f1": para.f1,
        "false_reports": r.by_kind.get("negative_topic", (0, 0))[0] + r.by_kind.get("negative_template", (0, 0))[0],
    }


def sweep(
    prepared: Sequence[Prepared], params: Parameters, names: Sequence[str] | None = None, pan: PanDev | None = None
) -> list[Sweep]:
    """One-at-a-time sweeps, each around the parameters chosen so far (coordinate ascent, one pass)."""
    out: list[Sweep] = []
    current = params
    for name in names or [n for n in SWEEPS if n in DuplicationParams.model_fields]:
        now = getattr(current.duplication, name)
        s = Sweep(name, now)
        for v in SWEEPS[name]:
            row_params = with_duplication(current, **{name: v})
            s.rows.append(_row(v, prepared, row_params, batch=name in BATCH_SWEEPS, pan=pan))
        s.chosen = _pick(s.rows, now)
        current = with_duplication(current, **{name: s.chosen})
        out.append(s)
    return out


def grid(prepared: Sequence[Prepared], params: Parameters) -> list[dict[str, Any]]:
    """paraphrase_cosine x paraphrase_min_overlap (they act together on paraphrase claims)."""
    rows = []
    for c in SWEEPS["paraphrase_cosine"]:
        for o in SWEEPS["paraphrase_min_overlap"]:
            r = _row(c, prepared, with_duplication(params, paraphrase_cosine=c, paraphrase_min_overlap=o), batch=False)
            rows.append({**r, "paraphrase_cosine": c, "paraphrase_min_overlap": o})
    return rows


@dataclass
class NoveltyBand:
    floor: float
    ceiling: float
    distinct: np.ndarray
    near: np.ndarray


def novelty_band(distinct: np.ndarray, near: np.ndarray) -> NoveltyBand:
    """floor = 90th percentile of the highest cosine between distinct innovations (nine in ten genuinely
    different entries keep full novelty); ceiling = the lowest near-copy cosine, rounded down to 0.001
    (every near copy gets novelty 0)."""
    floor = round(float(np.percentile(distinct, 90)), 3)
    ceiling = math.floor(float(near.min()) * 1000) / 1000
    if ceiling <= floor:
        mid = (floor + ceiling) / 2
        floor, ceiling = round(mid - 0.002, 3), round(mid + 0.002, 3)
    return NoveltyBand(floor, ceiling, distinct, near)


def duplicate_share_curve(prepared: Sequence[Prepared], params: Parameters) -> list[dict[str, Any]]:
    """Share of a's text in reported passages for true other-region copies vs reported negatives, and
    the rate at which each would raise indikasi_duplikasi at a given recommendation.duplicate_share."""
    r = evaluate(prepared, params)
    pos = [o.match_obj.share() for o in r.outcomes if o.on_target and o.case["pair_class"] == "other_region"]
    neg = [o.match_obj.share() for o in r.outcomes if o.reported and o.case["kind"].startswith("negative")]
    rows = []
    for t in (0.02, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4):
        rows.append(
            {
                "value": t,
                "copies_flagged": float(np.mean([s >= t for s in pos])) if pos else float("nan"),
                "negatives_flagged": float(np.mean([s >= t for s in neg])) if neg else 0.0,
                "copies": len(pos),
                "negatives": len(neg),
            }
        )
    return rows


def plot_sweeps(sweeps: Sequence[Sweep], band: NoveltyBand | None, out_dir: Path = EVAL_DIR / "plots") -> list[Path]:
    """PNG curves (only when matplotlib is installed)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return []
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for s in sweeps:
        fig, ax = plt.subplots(figsize=(4.5, 3))
        xs = [r["value"] for r in s.rows]
        for k in ("precision", "recall", "f1", "plagdet", "pan_plagdet"):
            ax.plot(xs, [r[k] for r in s.rows], marker="o", label=k)
        ax.axvline(float(s.chosen), color="grey", ls="--", lw=1)
        ax.set_title(f"duplication.{s.name} (dev)")
        ax.set_ylim(0, 1.02)
        ax.legend(fontsize=7)
        fig.tight_layout()
        p = out_dir / f"{s.name}.png"
        fig.savefig(p, dpi=90)
        plt.close(fig)
        paths.append(p)
    if band is not None:
        fig, ax = plt.subplots(figsize=(4.5, 3))
        bins = [float(x) for x in np.linspace(0.95, 1.0, 26)]
        ax.hist(band.distinct, bins=bins, alpha=0.6, label="distinct innovations (max cos)")
        ax.hist(band.near, bins=bins, alpha=0.6, label="near copies")
        for x in (band.floor, band.ceiling):
            ax.axvline(x, color="grey", ls="--", lw=1)
        ax.set_title("novelty band (doc cosine)")
        ax.legend(fontsize=7)
        fig.tight_layout()
        p = out_dir / "novelty_band.png"
        fig.savefig(p, dpi=90)
        plt.close(fig)
        paths.append(p)
    return paths


def markdown(
    sweeps: Sequence[Sweep],
    grid_rows: Sequence[dict[str, Any]],
    band: NoveltyBand,
    share_rows: Sequence[dict[str, Any]],
    *,
    cases: int,
    plots: Sequence[Path],
) -> str:
    """The body of eval/CALIBRATION.md's generated section (tables of every curve)."""

    def f(x: Any) -> str:
        return "n/a" if isinstance(x, float) and math.isnan(x) else (f"{x:.3f}" if isinstance(x, float) else str(x))

    lines = [f"Dev split: {cases} cases (`eval/data/pairs-dev.jsonl`).", ""]
    for s in sweeps:
        lines += [f"### duplication.{s.name}: {s.current} -> **{s.chosen}**", ""]
        if any(p.stem == s.name for p in plots):
            lines += [f"![{s.name}](plots/{s.name}.png)", ""]
        lines += [
            "| value | precision | recall | F1 | plagdet | paraphrase F1 | false reports | PAN plagdet | PAN recall |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for r in s.rows:
            mark = " **←**" if r["value"] == s.chosen else ""
            lines.append(
                f"| {r['value']}{mark} | {f(r['precision'])} | {f(r['recall'])} | {f(r['f1'])} | {f(r['plagdet'])} "
                f"| {f(r['paraphrase_f1'])} | {r['false_reports']} | {f(r['pan_plagdet'])} | {f(r['pan_recall'])} |"
            )
        lines.append("")
    lines += ["### paraphrase_cosine x paraphrase_min_overlap (case F1 / false reports)", ""]
    overlaps_ = sorted({r["paraphrase_min_overlap"] for r in grid_rows})
    lines += [
        "| cosine \\ overlap | " + " | ".join(str(o) for o in overlaps_) + " |",
        "|---" * (len(overlaps_) + 1) + "|",
    ]
    for c in sorted({r["paraphrase_cosine"] for r in grid_rows}):
        cells = [
            f"{f(r['f1'])} / {r['false_reports']}"
            for o in overlaps_
            for r in grid_rows
            if r["paraphrase_cosine"] == c and r["paraphrase_min_overlap"] == o
        ]
        lines.append(f"| {c} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "### similarity.novelty_floor_cosine / novelty_ceiling_cosine",
        "",
        f"Highest document cosine of each dev-split archive entry to another past top innovation "
        f"({len(band.distinct)} entries): "
        + ", ".join(f"p{q} {np.percentile(band.distinct, q):.3f}" for q in (10, 50, 90, 100)),
        "",
        f"Cosine of each entry's whole-proposal rewrite to the entry ({len(band.near)}): "
        + ", ".join(f"p{q} {np.percentile(band.near, q):.3f}" for q in (0, 10, 50, 90)),
        "",
        f"Chosen floor **{band.floor}**, ceiling **{band.ceiling}**.",
        "",
    ]
    if any(p.stem == "novelty_band" for p in plots):
        lines += ["![novelty band](plots/novelty_band.png)", ""]
    lines += [
        "### recommendation.duplicate_share",
        "",
        "| duplicate_share | other-region copies flagged | reported negatives flagged |",
        "|---|---|---|",
    ]
    for r in share_rows:
        lines.append(
            f"| {r['value']} | {f(r['copies_flagged'])} ({r['copies']}) "
            f"| {f(r['negatives_flagged'])} ({r['negatives']}) |"
        )
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- the aligner, on the PAN dev halves

ALIGNER_SWEEPS: dict[str, list[Any]] = {
    "sentence_isf": [False, True],
    "ignore_heading_words": [False, True],
    "sentence_cosine": [0.3, 0.35, 0.4, 0.45, 0.5],
    "sentence_strong_cosine": [0.45, 0.5, 0.55, 0.6, 0.65, 0.7],
    "extend_gap_chars": [300, 450, 600, 900, 1200],
    "merge_gap_chars": [500, 700, 800, 1100, 1400, 1500, 2000],
    "merge_other_gap_chars": [2000, 3000, 4000, 6000, 8000],
    "translated_cosine": [0.82, 0.84, 0.86, 0.88, 0.9],
    "report_min_passage_words": [12, 15, 20, 25, 30],
    "report_max_name_share": [0.3, 0.35, 0.4, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 1.0],
    "paraphrase_strong_cosine": [0.95, 0.96, 0.965, 0.97, 0.98],
    "paraphrase_strong_overlap": [0.2, 0.3, 0.4, 0.5, 0.6],
    "cluster_min_density": [0.0, 0.4, 0.45, 0.5, 0.52, 0.55, 0.6, 0.7],
    "chain_min_chunks": [3, 4, 5, 6],
    "chain_cosine": [0.82, 0.84, 0.86, 0.88],
    "chain_mean_cosine": [0.88, 0.89, 0.9, 0.91, 0.92],
    "chain_max_step": [1, 2, 3],
    "chain_lexical_chunks": [0, 2, 3],
    "chain_lexical_cosine": [0.2, 0.25, 0.3, 0.34, 0.35, 0.4, 0.5],
    "candidate_cosine": [0.85, 0.88, 0.89, 0.9, 0.91, 0.92, 0.94],
    "candidate_shared_cosine": [0.5, 0.8, 0.84, 0.86, 0.88, 0.9, 0.91, 1.0],
}
"""Values tried for each aligner parameter. `sentence_cosine` moves `sentence_dice` with it (the two are
one rule: Sanchez-Perez et al. used the same value for both)."""


@dataclass
class HalfSweep:
    """One parameter swept on the whole PAN dev corpus, scored per half: the value chosen on each half and
    what it scores on the other (held-out) half."""

    name: str
    current: Any
    rows: list[dict[str, Any]] = field(default_factory=list)
    chosen: dict[str, Any] = field(default_factory=dict)
    held_out: dict[str, float] = field(default_factory=dict)


def prepare_pan_full(params: Parameters, embedder: Embedder) -> PanDev:
    """All of the PAN dev corpus (both halves), analysed and embedded once."""
    from eval.pan import read_cases

    root = pan_dir()

    def feats(folder: str, prefix: str) -> dict[str, DocFeatures]:
        return {
            p.name: analyse(prefix + p.name, unwrap(p.read_text(encoding="utf-8")), params)
            for p in sorted((root / folder).glob("*.txt"))
        }

    src = feats("source-documents", "src:")
    sus = feats("suspicious-documents", "sus:")
    embed_features([*src.values(), *sus.values()], embedder, NullProgress())
    xmls = [(root / "suspicious-documents" / n).with_suffix(".xml") for n in sus]
    cases = [c for x in xmls if x.is_file() for c in read_cases(x) if c.source_reference in src]
    return PanDev(src, sus, cases)


def _aligner_params(params: Parameters, name: str, value: Any) -> Parameters:
    extra = {"sentence_dice": value} if name == "sentence_cosine" else {}
    return with_duplication(params, **{name: value}, **extra)


def half_sweeps(pan: PanDev, prepared: Sequence[Prepared], params: Parameters, same_form: SameForm) -> list[HalfSweep]:
    """Each aligner parameter varied alone around the shipped values. On each half the value with the best
    PAN plagdet is chosen (ties: the shipped value, then the closer one) among those that report no more
    false pairs on the dev negatives and on the sample archive screened against itself than the shipped
    value; the other half's plagdet at that value is the held-out score."""
    from eval.pairs import same_form_reports
    from eval.pan import score_halves

    out: list[HalfSweep] = []
    for name, values in ALIGNER_SWEEPS.items():
        now = getattr(params.duplication, name)
        hs = HalfSweep(name, now)
        for v in values:
            p = _aligner_params(params, name, v)
            dets, n_pairs = detect_features(pan.sources, pan.suspicious, params=p, embedder=None)
            by_half = score_halves(pan.cases, dets, list(pan.suspicious))
            overall = pan_scores(pan.cases, dets)
            r = evaluate(prepared, p)
            hs.rows.append(
                {
                    "value": v,
                    "A": by_half["A"].plagdet,
                    "B": by_half["B"].plagdet,
                    "overall": overall.plagdet,
                    "precision": overall.precision,
                    "granularity": overall.granularity,
                    "pan_pairs": n_pairs,
                    "pairs_f1": r.detection.f1,
                    "translated": r.by_kind.get("translated", (0, 0))[0],
                    "false_reports": sum(r.by_kind.get(k, (0, 0))[0] for k in ("negative_topic", "negative_template")),
                    "same_form": same_form_reports(same_form, p)["reported"],
                }
            )
        cur = next(r for r in hs.rows if r["value"] == now) if now in values else None
        allowed = [
            r
            for r in hs.rows
            if cur is None or (r["false_reports"] <= cur["false_reports"] and r["same_form"] <= cur["same_form"])
        ]
        for half, other in (("A", "B"), ("B", "A")):
            best = max(
                allowed, key=lambda r: (round(r[half], 3), r["value"] == now, -abs(float(r["value"]) - float(now)))
            )
            hs.chosen[half] = best["value"]
            hs.held_out[other] = best[other]
        out.append(hs)
    return out


def half_markdown(sweeps: Sequence[HalfSweep], same_form: dict[str, Any]) -> str:
    lines = [
        "PAN dev corpus: 30 sources, 17 suspicious documents in two fixed halves (alternate documents in "
        "name order: A = 00001, 00003, ..., B = 00002, 00004, ...; `eval/pan.py:halves`). Each parameter is "
        "varied alone around the shipped values; on each half the best plagdet is chosen (among values that "
        "report no more false pairs on the dev negatives of the labelled pairs nor on the sample archive "
        "screened against itself), and the other half's plagdet at that value is its held-out score. "
        '"PAN pairs aligned": the (suspicious, source) document pairs that the candidate stage hands to the '
        "aligner, i.e. the alignment work.",
        "",
    ]
    for s in sweeps:
        lines.append(f"### duplication.{s.name} (shipped {s.current})")
        lines.append("")
        lines.append(
            f"Chosen on A: **{s.chosen['A']}** (held-out B plagdet {s.held_out['B']:.3f}); "
            f"chosen on B: **{s.chosen['B']}** (held-out A plagdet {s.held_out['A']:.3f})."
        )
        lines.append("")
        lines.append(
            "| value | plagdet A | plagdet B | plagdet all | precision | granularity | PAN pairs aligned "
            "| pairs F1 (dev) | translated found (dev) | false reports (dev negatives) | false reports (same form) |"
        )
        lines.append("|---|---|---|---|---|---|---|---|---|---|---|")
        for r in s.rows:
            mark = " **←**" if r["value"] == s.current else ""
            lines.append(
                f"| {r['value']}{mark} | {r['A']:.3f} | {r['B']:.3f} | {r['overall']:.3f} | {r['precision']:.3f} "
                f"| {r['granularity']:.3f} | {r['pan_pairs']} | {r['pairs_f1']:.3f} | {r['translated']} "
                f"| {r['false_reports']} | {r['same_form']} |"
            )
        lines.append("")
    lines.append("### Same-form false reports with the shipped values")
    lines.append("")
    lines.append(
        f"Sample archive screened against itself: {same_form['reported']} of {same_form['pairs']} pairs of distinct "
        f"innovations reported ({same_form['rate']:.1%}): {', '.join(same_form['examples']) or 'none'}."
    )
    lines.append("")
    return "\n".join(lines)
