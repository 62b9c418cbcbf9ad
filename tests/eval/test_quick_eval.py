"""The CI subset of the evaluation runs end to end and its numbers stay sane (slow: a few minutes)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from eval.commands import eval_app


@pytest.mark.slow
def test_quick_eval_runs(tmp_path: Path, plag_corpus_dir: Path) -> None:
    out = tmp_path / "quick.json"
    result = CliRunner().invoke(eval_app, ["all", "--quick", "--json", str(out)])
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["pan"]["overall"]["recall"] > 0.5
    assert data["pairs"]["by_match"]["identical"]["recall"] > 0.8
    assert data["retrieval"]["all/hybrid"]["R@10"] > 0.8
    larger = data["retrieval"]["larger_archive"]
    assert larger["scores"]["test/rewritten/score"]["R@5"] > 0.7
    assert larger["listing"]["test"]["none"]["none: nothing listed"] >= 0.8
    assert data["sts"]["spearman"] > 0.5
