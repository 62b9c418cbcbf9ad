"""Fault tests: one real embedding model per session, and small slices of the bundled sample data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from models.embedder import Embedder, load_embedder
from screening.proposal import Proposal

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "corpus" / "sample"


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    """The default (Indonesian-capable) model, loaded once."""
    return load_embedder(None)


def archive_entries(n: int) -> list[Proposal]:
    """The first `n` real entries of the sample archive."""
    lines = (SAMPLE / "archive.jsonl").read_text(encoding="utf-8").splitlines()[:n]
    return [Proposal.model_validate(json.loads(line)) for line in lines]


def batch_proposals(n: int) -> list[Proposal]:
    """The first `n` proposals of the sample batch."""
    lines = (SAMPLE / "batch" / "proposals.jsonl").read_text(encoding="utf-8").splitlines()[:n]
    return [Proposal.model_validate(json.loads(line)) for line in lines]
