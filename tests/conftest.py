"""Shared fixtures. Tests never download anything: HF_HUB_OFFLINE is forced before any model import."""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from pathlib import Path

import pytest

from screening.params import Parameters, default_parameters

pytest_plugins = ["tests.postgres", "tests.redis_server"]
"""Throw-away PostgreSQL servers and the `store_url` fixture (SQLite and PostgreSQL); throw-away Redis servers."""

REPO = Path(__file__).resolve().parents[1]


def shared_dir() -> Path:
    """`../shared` beside the checkout (or SARING_SHARED_DIR): real Indonesian evaluation data."""
    return Path(os.environ.get("SARING_SHARED_DIR", REPO.parent / "shared"))


@pytest.fixture(scope="session")
def params() -> Parameters:
    return default_parameters()


@pytest.fixture(scope="session")
def seeds_dir() -> Path:
    d = shared_dir() / "data" / "seeds"
    if not d.is_dir():
        pytest.fail(f"real Indonesian seed texts not found at {d}; set SARING_SHARED_DIR")
    return d


@pytest.fixture(scope="session")
def seed_texts(seeds_dir: Path) -> list[str]:
    """The five real Indonesian news articles about KIPP, cleaned."""
    from models.text import clean_text

    return [clean_text(p.read_text(encoding="utf-8")) for p in sorted(seeds_dir.glob("*.txt"))]


@pytest.fixture(scope="session")
def plag_corpus_dir() -> Path:
    d = shared_dir() / "data" / "korpus-plagiarisme-indonesia"
    if not d.is_dir():
        pytest.fail(f"Indonesian plagiarism corpus not found at {d}; set SARING_SHARED_DIR")
    return d
