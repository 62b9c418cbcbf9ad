"""`saring eval ...` / `python -m eval ...`: PAN, pairs, retrieval, STS, calibration and the full table."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from eval.common import EVAL_DIR, REPO, embedder, fmt, pan_dir, parameters
from eval.measures import PanScores

eval_app = typer.Typer(
    help="Evaluate saring on real Indonesian data (../shared/data or SARING_EVAL_DATA).", no_args_is_help=True
)
console = Console(width=150, record=True)
"""Records what it prints, so `all --markdown` can keep the exact tables of a run."""

QUICK_PER_KIND = 4
QUICK_STS = 300


def _pan_table(title: str, overall: PanScores, groups: dict[str, dict[str, PanScores]]) -> Table:
    t = Table(title=title)
    for col in ("group", "cases", "detected", "precision", "recall", "granularity", "plagdet", "case recall"):
        t.add_column(col, justify="right" if col != "group" else "left")

    def row(name: str, s: PanScores) -> None:
        t.add_row(
            name,
            str(s.cases),
            str(s.detections),
            fmt(s.precision),
            fmt(s.recall),
            fmt(s.granularity),
            fmt(s.plagdet),
            fmt(s.case_recall),
        )

    row("overall", overall)
    for prefix, g in groups.items():
        for k, s in g.items():
            row(f"{prefix}{k}", s)
    return t


def run_pan_cmd(sources: Path, suspicious: Path, *, quick: bool, json_out: Path | None) -> dict[str, Any]:
    from eval.pan import quick_subset, run_pan

    params = parameters()
    srcs, susp = quick_subset(sources, suspicious, params) if quick else (None, None)
    r = run_pan(sources, suspicious, params=params, embedder=embedder(), source_names=srcs, suspicious_names=susp)
    console.print(
        _pan_table(
            f"PAN measures ({r.documents['sources']} sources, {r.documents['suspicious']} suspicious, "
            f"{r.seconds:.0f} s)",
            r.overall,
            {"half: ": r.by_half, "obf: ": r.by_obfuscation, "type: ": r.by_type},
        )
    )
    if json_out:
        r.write_json(json_out)
    return r.to_json()


@eval_app.command("pan")
def pan(
    sources: Path = typer.Option(None, help="source-documents folder (default: the Indonesian corpus)"),
    suspicious: Path = typer.Option(None, help="suspicious-documents folder with *.txt and *.xml"),
    quick: bool = typer.Option(False, help="short source documents and suspicious documents only"),
    json_file: Path | None = typer.Option(None, "--json", help="write measures and detections to this file"),
) -> None:
    """PAN character-level precision, recall, granularity and plagdet, overall and per obfuscation."""
    run_pan_cmd(
        sources or pan_dir() / "source-documents",
        suspicious or pan_dir() / "suspicious-documents",
        quick=quick,
        json_out=json_file,
    )


def _prf_table(title: str, rows: dict[str, Any]) -> Table:
    t = Table(title=title)
    for col in ("label", "tp", "fp", "fn", "precision", "recall", "F1"):
        t.add_column(col, justify="right" if col != "label" else "left")
    for k, x in rows.items():
        t.add_row(k, str(x.tp), str(x.fp), str(x.fn), fmt(x.precision), fmt(x.recall), fmt(x.f1))
    return t


def run_pairs_cmd(split: str, *, quick: bool) -> dict[str, Any]:
    from eval.pairs import evaluate as evaluate_pairs
    from eval.pairs import load_pairs, prepare, quick_cases

    params = parameters()
    cases = load_pairs(split)
    if quick:
        cases = quick_cases(cases, QUICK_PER_KIND)
    t0 = time.time()
    r = evaluate_pairs(prepare(cases, params=params, embedder=embedder()), params)
    console.print(
        _prf_table(
            f"Pairs ({split}, {len(cases)} cases, {time.time() - t0:.0f} s): copying detected", {"any": r.detection}
        )
    )
    console.print(_prf_table("per match type", r.by_match))
    console.print(_prf_table("per pair class / relation", r.by_relation))
    t = Table(title="per kind: positives found on target / negatives reported")
    t.add_column("kind")
    t.add_column("hits", justify="right")
    t.add_column("cases", justify="right")
    for k, (h, n) in r.by_kind.items():
        t.add_row(k, str(h), str(n))
    console.print(t)
    console.print(_pan_table("passage measures on the cases", r.passages, {"kind: ": r.passages_by_kind}))
    return {"split": split, **r.to_json()}


def run_same_form_cmd() -> dict[str, Any]:
    from eval.pairs import same_form_false_reports

    r = same_form_false_reports(parameters(), embedder())
    console.print(
        f"Same-form false reports: the sample archive screened against itself reports {r['reported']} of "
        f"{r['pairs']} pairs of distinct innovations as copying (from another region, or as a resubmission "
        f"of the same instansi although the titles differ) ({r['rate']:.1%})"
        + (": " + "; ".join(r["examples"]) if r["examples"] else "")
    )
    return r


@eval_app.command("pairs")
def pairs(
    split: str = typer.Option("test", help="dev or test"),
    quick: bool = typer.Option(False, help=f"the first {QUICK_PER_KIND} cases of each kind"),
    generate: bool = typer.Option(False, help="regenerate eval/data/pairs-{dev,test}.jsonl first"),
) -> None:
    """Case-level P/R/F1 per match type and pair class, and passage measures, on the labelled pairs."""
    if generate:
        from eval.pairs import write_pairs

        console.print(write_pairs())
    run_pairs_cmd(split, quick=quick)


def run_retrieval_cmd(*, quick: bool = False) -> dict[str, Any]:
    from eval.retrieval import run_retrieval

    r = run_retrieval(params=parameters(), embedder=embedder())
    t = Table(title="Retrieval of similar past innovations (sample archive)")
    for col in ("queries", "method", "n", "R@1", "R@5", "R@10", "MRR"):
        t.add_column(col, justify="right" if col not in ("queries", "method") else "left")
    out: dict[str, Any] = {}
    for qset, methods in r.scores.items():
        for m, s in methods.items():
            t.add_row(qset, m, str(s.queries), fmt(s.recall[1]), fmt(s.recall[5]), fmt(s.recall[10]), fmt(s.mrr))
            out[f"{qset}/{m}"] = {"n": s.queries, **{f"R@{k}": v for k, v in s.recall.items()}, "MRR": s.mrr}
    console.print(t)
    out["larger_archive"] = run_large_retrieval_cmd(quick=quick)
    return out


def run_large_retrieval_cmd(*, quick: bool) -> dict[str, Any]:
    """The larger archive (eval/retrieval_set.py): rankings per split and query kind, the readable score's
    weights, cut-off and levels chosen on dev next to the shipped ones, and what a judge would see."""
    from eval.retrieval import run_large_retrieval

    params = parameters()
    r = run_large_retrieval(params=params, embedder=embedder(), quick=quick)
    sizes = ", ".join(f"{v} {k}" for k, v in r.entries.items() if k != "all")
    t = Table(title=f"Retrieval on the larger archive ({r.entries['all']} entries: {sizes})")
    for col in ("split", "kind", "n", "method", "R@1", "R@5", "MRR"):
        t.add_column(col, justify="right" if col in ("n", "R@1", "R@5", "MRR") else "left")
    out: dict[str, Any] = {"entries": r.entries, "queries": r.queries, "scores": {}, "listing": r.listing}
    for split, kinds in r.scores.items():
        for kind, methods in kinds.items():
            for m, s in methods.items():
                t.add_row(split, kind, str(s.queries), m, fmt(s.recall[1]), fmt(s.recall[5]), fmt(s.mrr))
                out["scores"][f"{split}/{kind}/{m}"] = {
                    "n": s.queries,
                    "R@1": s.recall[1],
                    "R@5": s.recall[5],
                    "MRR": s.mrr,
                }
    console.print(t)
    t = Table(title="What a judge sees: shipped score, cut-off and levels (at most top_k listed)")
    cols = ("relevant listed", "same shown as sama", "none: nothing listed", "unrelated listed per query")
    for col in ("split", "kind", "queries", *cols):
        t.add_column(col, justify="left" if col in ("split", "kind") else "right")
    for split, listed in r.listing.items():
        for kind, x in listed.items():
            t.add_row(split, kind, str(int(x["queries"])), *(fmt(x[c]) if c in x else "–" for c in cols))
    console.print(t)
    f = r.fitted
    t = Table(title="Readable score: chosen on dev vs shipped (screening/parameters.yaml similarity)")
    for col in ("parameter", "chosen on dev", "shipped"):
        t.add_column(col)
    chosen = {
        "bias": f.bias,
        "dense_weight": f.dense_weight,
        "lexical_weight": f.lexical_weight,
        "cutoff": f.cutoff,
        "level_related": f.level_related,
        "level_same": f.level_same,
    }
    names = {"bias": "score_bias", "dense_weight": "score_dense_weight", "lexical_weight": "score_lexical_weight"}
    for k, v in chosen.items():
        t.add_row(f"similarity.{names.get(k, k)}", str(v), str(r.shipped[k]))
    mrr = ", ".join(f"{m} {fmt(v)}" for m, v in f.method_mrr.items())
    t.add_row("similarity.ranking", f"{f.method} (dev MRR: {mrr})", params.similarity.ranking)
    console.print(t)
    out["fitted"] = {**chosen, "cutoff_f1": float(f.cutoff_f1), "ranking": f.method, "dev_mrr": f.method_mrr}
    out["shipped"] = {**r.shipped, "ranking": params.similarity.ranking}
    return out


@eval_app.command("retrieval")
def retrieval(quick: bool = typer.Option(False, help="a smaller evaluation archive (the CI subset)")) -> None:
    """Recall@1/5/10 and MRR of the product's ranking, RRF, dense-only and lexical-only archive search (sample
    archive and the larger evaluation archive), and the readable score's cut-off and levels chosen on dev."""
    run_retrieval_cmd(quick=quick)


def run_sts_cmd(*, limit: int | None, candidates: str | None = None) -> dict[str, Any]:
    from eval.sts import run_sts

    r = run_sts(embedder(), limit=limit)
    console.print(f"STS (Indonesian, {r.pairs} pairs): Spearman {r.spearman:.3f} for {r.model}")
    if candidates:
        from eval.embedding_candidates import main as candidates_main

        args = ["--candidates", candidates] + (["--sts-limit", str(limit)] if limit else [])
        candidates_main(args)
    return {"model": r.model, "pairs": r.pairs, "spearman": r.spearman}


@eval_app.command("sts")
def sts(
    limit: int | None = typer.Option(None, help="first N pairs only"),
    candidates: str | None = typer.Option(None, help="also compare these eval/embedding_candidates.py candidates"),
) -> None:
    """Spearman of cosine vs gold on Indonesian STS for the configured model."""
    run_sts_cmd(limit=limit, candidates=candidates)


@eval_app.command("calibrate")
def calibrate(
    write: bool = typer.Option(True, help="write the tables into eval/CALIBRATION.md (generated section)"),
) -> None:
    """Sweep the thresholds on the dev split and report the chosen values (parameters.yaml is not edited)."""
    from eval.calibrate import duplicate_share_curve, grid, markdown, novelty_band, plot_sweeps, prepare_pan, sweep
    from eval.pairs import load_pairs, prepare
    from eval.retrieval import archive_novelty_cosines

    params = parameters()
    emb = embedder()
    prepared = prepare(load_pairs("dev"), params=params, embedder=emb)
    sweeps = sweep(prepared, params, pan=prepare_pan(params, emb))
    grid_rows = grid(prepared, params)
    band = novelty_band(*archive_novelty_cosines(params, emb))
    share_rows = duplicate_share_curve(prepared, params)
    plots = plot_sweeps(sweeps, band)
    t = Table(title="Calibration on the dev split")
    for col in ("parameter", "current", "chosen"):
        t.add_column(col)
    for s in sweeps:
        t.add_row(f"duplication.{s.name}", str(s.current), str(s.chosen))
    t.add_row("similarity.novelty_floor_cosine", str(params.similarity.novelty_floor_cosine), str(band.floor))
    t.add_row("similarity.novelty_ceiling_cosine", str(params.similarity.novelty_ceiling_cosine), str(band.ceiling))
    console.print(t)
    body = markdown(sweeps, grid_rows, band, share_rows, cases=len(prepared), plots=plots)
    if write:
        path = EVAL_DIR / "CALIBRATION.md"
        marker = "<!-- generated by `python -m eval calibrate` -->"
        head = path.read_text(encoding="utf-8").split(marker)[0] if path.is_file() else "# Calibration\n\n"
        path.write_text(head.rstrip() + "\n\n" + marker + "\n\n" + body, encoding="utf-8")
        console.print(f"wrote {path}")


ALIGNER_BEGIN = "<!-- generated by `python -m eval calibrate-aligner` -->"
ALIGNER_END = "<!-- end of `python -m eval calibrate-aligner` -->"


@eval_app.command("calibrate-aligner")
def calibrate_aligner(
    write: bool = typer.Option(True, help="write the tables into eval/CALIBRATION.md (its own section)"),
) -> None:
    """Sweep the aligner's parameters on the PAN dev corpus, choosing on one half and scoring the other."""
    from eval.calibrate import half_markdown, half_sweeps, prepare_pan_full
    from eval.pairs import load_pairs, prepare, prepare_same_form, same_form_reports

    params = parameters()
    emb = embedder()
    sf = prepare_same_form(params, emb)
    sweeps = half_sweeps(
        prepare_pan_full(params, emb), prepare(load_pairs("dev"), params=params, embedder=emb), params, sf
    )
    same_form = same_form_reports(sf, params)
    t = Table(title="Aligner parameters on the PAN dev halves")
    for col in ("parameter", "shipped", "chosen on A", "held-out B", "chosen on B", "held-out A"):
        t.add_column(col)
    for s in sweeps:
        t.add_row(
            f"duplication.{s.name}",
            str(s.current),
            str(s.chosen["A"]),
            fmt(s.held_out["B"]),
            str(s.chosen["B"]),
            fmt(s.held_out["A"]),
        )
    console.print(t)
    if write:
        path = EVAL_DIR / "CALIBRATION.md"
        text = path.read_text(encoding="utf-8") if path.is_file() else "# Calibration\n\n"
        section = ALIGNER_BEGIN + "\n\n" + half_markdown(sweeps, same_form) + "\n" + ALIGNER_END
        if ALIGNER_BEGIN in text and ALIGNER_END in text:
            head, rest = text.split(ALIGNER_BEGIN, 1)
            text = head + section + rest.split(ALIGNER_END, 1)[1]
        else:  # above the section `python -m eval calibrate` rewrites
            marker = "<!-- generated by `python -m eval calibrate` -->"
            head, sep, tail = text.partition(marker)
            text = head.rstrip() + "\n\n" + section + "\n\n" + sep + tail
        path.write_text(text, encoding="utf-8")
        console.print(f"wrote {path}")


def _commit() -> str:
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


@eval_app.command("all")
def all_(
    quick: bool = typer.Option(False, help="the CI subset: a few minutes on two cores"),
    json_file: Path | None = typer.Option(None, "--json", help="write every number to this file"),
    markdown: Path | None = typer.Option(
        None, help="write the printed tables, the command and the commit to this file (e.g. eval/RESULTS.md)"
    ),
) -> None:
    """PAN, pairs (test split), retrieval and STS in one run."""
    t0 = time.time()
    out: dict[str, Any] = {"commit": _commit(), "quick": quick}
    out["pan"] = run_pan_cmd(
        pan_dir() / "source-documents", pan_dir() / "suspicious-documents", quick=quick, json_out=None
    )
    out["pan"].pop("detections", None)
    out["pairs"] = run_pairs_cmd("test", quick=quick)
    out["same_form"] = run_same_form_cmd()
    out["retrieval"] = run_retrieval_cmd(quick=quick)
    out["sts"] = run_sts_cmd(limit=QUICK_STS if quick else None)
    out["seconds"] = round(time.time() - t0, 1)
    console.print(f"done in {out['seconds']:.0f} s (commit {out['commit']})")
    if json_file:
        json_file.parent.mkdir(parents=True, exist_ok=True)
        json_file.write_text(json.dumps(out, indent=1, default=float), encoding="utf-8")
    if markdown:
        _write_results(markdown, out, console.export_text())


RESULTS_MARKER = "<!-- generated by `python -m eval all --markdown` -->"


def _write_results(path: Path, out: dict[str, Any], printed: str) -> None:
    """Keep the hand-written reading of the numbers above the marker; below it, how this run was made
    (command, commit, parameters, data, time) and the tables exactly as printed."""
    cmd = "python -m eval all" + (" --quick" if out["quick"] else "") + f" --markdown {path.as_posix()}"
    notes = path.read_text(encoding="utf-8").split(RESULTS_MARKER)[0].rstrip() if path.is_file() else ""
    body = (
        f"Generated by `{cmd}` at commit `{out['commit']}` on {time.strftime('%Y-%m-%d')} in "
        f"{out['seconds']:.0f} s; `screening/parameters.yaml` version {parameters().version}"
        f"{' (quick subset)' if out['quick'] else ''}. Data: `../shared/data/korpus-plagiarisme-indonesia` "
        "(PAN), `eval/data/pairs-test.jsonl` (test split, never used for tuning), the sample archive and the "
        "larger evaluation archive of `eval/retrieval_set.py` (retrieval), `../shared/data/sts-indo/test.tsv` "
        "(STS).\n\n"
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    text = (notes or "# Evaluation results") + "\n\n" + RESULTS_MARKER + "\n\n" + body
    path.write_text(text + "```text\n" + printed.rstrip() + "\n```\n", encoding="utf-8")
    console.print(f"wrote {path}")
