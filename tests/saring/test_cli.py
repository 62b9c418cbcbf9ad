"""The `saring` command end to end on the bundled sample: import the archive, screen the batch (JSONL, DOCX,
PDF and a corrupt PDF), and check the report against the expected outcome of each case (corpus/sample/README.md)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from models.embedder import DEFAULT_MODEL
from saring.cli import app

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "corpus" / "sample"


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    data = tmp_path_factory.mktemp("data")
    out = tmp_path_factory.mktemp("out")
    runner = CliRunner()
    env = {"SARING_DATA_DIR": str(data)}
    r = runner.invoke(app, ["corpus", "import", str(SAMPLE / "archive.jsonl")], env=env)
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["screen", str(SAMPLE / "batch"), "--out", str(out), "--today", "2025-06-01"], env=env)
    assert r.exit_code == 0, r.output
    for name in ("report.json", "report.xlsx", "report.csv", "report.html"):
        assert (out / name).stat().st_size > 0, name
    rep: dict[str, Any] = json.loads((out / "report.json").read_text(encoding="utf-8"))
    rep["_html"] = (out / "report.html").read_text(encoding="utf-8")
    return rep


def _p(report: dict[str, Any], pid: str) -> dict[str, Any]:
    return next(p for p in report["proposals"] if p["id"] == pid)


def _dups(report: dict[str, Any], pid: str) -> dict[str, dict[str, Any]]:
    return {d["other_id"]: d for d in _p(report, pid)["duplicates"] if d["relation"] != "boilerplate"}


def test_every_readable_file_is_screened_and_the_corrupt_pdf_is_reported(report: dict[str, Any]) -> None:
    assert len(report["proposals"]) == 20
    assert [e["file"] for e in report["errors"]] == ["rusak.pdf"]
    assert "PDF" in report["errors"][0]["reason"]
    assert report["parameters"]["version"] and report["model"] == DEFAULT_MODEL


def test_exact_copy_from_another_region(report: dict[str, Any]) -> None:
    d = _dups(report, "usulan-2025-06")["usulan-2025-05"]
    assert (d["relation"], d["match_type"]) == ("other_region", "identical")
    assert d["share"] > 0.3
    text = _p(report, "usulan-2025-06")["text"]
    copied = " ".join(text[p["start"] : p["end"]] for p in d["passages"])
    assert "Palu Barat" in copied or "Ulujadi" in copied, "the copied place names are inside the evidence"
    assert _p(report, "usulan-2025-06")["recommendation"] == "indikasi_duplikasi"


def test_source_of_the_copy_is_asked_to_clarify_not_flagged(report: dict[str, Any]) -> None:
    """usulan-2025-05 started in 2021, its copy usulan-2025-06 in 2023: the earlier side is the likely original."""
    p = _p(report, "usulan-2025-05")
    reason = next(r for r in p["reasons"] if r["code"] == "kemungkinan_sumber_salinan")
    assert "usulan-2025-06" in reason["message"]
    assert p["recommendation"] == "perlu_klarifikasi"


def test_edited_copy_of_an_archive_entry(report: dict[str, Any]) -> None:
    d = _dups(report, "usulan-2025-07")["arsip-009"]
    assert (d["relation"], d["match_type"]) == ("other_region", "edited")
    assert _p(report, "usulan-2025-07")["recommendation"] == "indikasi_duplikasi"


def test_paraphrase_of_an_archive_entry(report: dict[str, Any]) -> None:
    d = _dups(report, "usulan-2025-08")["arsip-017"]
    assert d["match_type"] == "paraphrase" and d["share"] > 0.3
    assert _p(report, "usulan-2025-08")["recommendation"] in ("indikasi_duplikasi", "perlu_klarifikasi")
    assert _p(report, "usulan-2025-08")["similar"][0]["id"] == "arsip-017"


def test_declared_replication_is_not_copying(report: dict[str, Any]) -> None:
    dups = _dups(report, "usulan-2025-09")
    assert dups["arsip-001"]["relation"] == "declared_replication"
    assert all(d["relation"] != "other_region" for d in dups.values())
    assert _p(report, "usulan-2025-09")["recommendation"] == "lanjut"


def test_same_instansi_resubmission(report: dict[str, Any]) -> None:
    d = _dups(report, "usulan-2025-10")["arsip-027"]
    assert d["relation"] == "same_instansi" and d["share"] >= 0.5
    assert _p(report, "usulan-2025-10")["recommendation"] == "perlu_klarifikasi"


def test_template_only_overlap_is_not_evidence(report: dict[str, Any]) -> None:
    p = _p(report, "usulan-2025-11")
    assert not _dups(report, "usulan-2025-11")
    assert p["recommendation"] == "lanjut"


@pytest.mark.parametrize("pid", ["usulan-2025-12", "usulan-2025-13", "usulan-2025-14", "usulan-2025-17"])
def test_incomplete_or_ineligible(report: dict[str, Any], pid: str) -> None:
    assert _p(report, pid)["recommendation"] == "tidak_lengkap"


def test_novelty_only_for_whole_proposals(report: dict[str, Any]) -> None:
    """usulan-2025-12 has 180 words (most sections missing): below novelty_min_words, so no estimate."""
    assert _p(report, "usulan-2025-12")["novelty"] is None
    assert _p(report, "usulan-2025-01")["novelty"] == 1.0
    assert _p(report, "usulan-2025-08")["novelty"] == 0.0, "the paraphrase of arsip-017 is not novel"


@pytest.mark.parametrize("pid", ["usulan-2025-15", "usulan-2025-16", "usulan-2025-18"])
def test_needs_clarification(report: dict[str, Any], pid: str) -> None:
    assert _p(report, pid)["recommendation"] == "perlu_klarifikasi"


@pytest.mark.parametrize(
    "pid", ["usulan-2025-01", "usulan-2025-02", "usulan-2025-03", "usulan-2025-04", "usulan-2025-19"]
)
def test_clean_proposals_go_ahead(report: dict[str, Any], pid: str) -> None:
    p = _p(report, pid)
    assert p["recommendation"] == "lanjut", [r["message"] for r in p["reasons"]]
    assert not _dups(report, pid)


def test_html_report_is_rendered_from_the_json(report: dict[str, Any]) -> None:
    html = report["_html"]
    for p in report["proposals"]:
        assert p["id"] in html
    assert "Indikasi duplikasi" in html and "rusak.pdf" in html


def test_bad_input_gets_a_clear_error_and_exit_code_2(tmp_path: Path) -> None:
    r = CliRunner().invoke(app, ["screen", str(tmp_path / "tidak-ada")], env={"SARING_DATA_DIR": str(tmp_path)})
    assert r.exit_code == 2
    assert "Traceback" not in r.output
