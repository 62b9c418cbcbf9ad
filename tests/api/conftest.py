"""API fixtures: one real embedding model per test session, a fresh store per module, one key per role."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from models.embedder import CachedEmbedder, Embedder, load_embedder
from saring.auth import create_key
from saring.config import Settings
from saring.jobs import JobRunner, make_huey
from saring.service import Saring
from screening.proposal import Proposal

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "corpus" / "sample"


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    """The default (Indonesian-capable) model, loaded once; vectors memoised across all tests' stores."""
    return CachedEmbedder(load_embedder(None))


def sample_batch() -> list[dict[str, object]]:
    return [
        json.loads(line) for line in (SAMPLE / "batch" / "proposals.jsonl").read_text(encoding="utf-8").splitlines()
    ]


def copied_sample(copies: int) -> list[Proposal]:
    """The sample batch `copies` times over, each copy with other ids and instansi (a longer batch to interrupt)."""
    out = []
    for c in range(copies):
        for row in sample_batch():
            p = Proposal.model_validate(row)
            out.append(p.model_copy(update={"id": f"{p.id}-k{c}", "instansi": f"{p.instansi} {c}"}))
    return out


def make_service(data_dir: Path, embedder: Embedder, **settings: object) -> Saring:
    s = Saring(Settings(data_dir=data_dir, **settings), embedder=embedder)  # type: ignore[arg-type]
    s.import_archive(SAMPLE / "archive.jsonl")
    return s


class Keys(dict[str, str]):
    """Plaintext keys by role name; 'portal' belongs to Pemerintah Kota Palu, 'portal_other' to Kabupaten Donggala."""


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder, module_store_url: str) -> Iterator[Saring]:
    """The service on a fresh store: every API module runs once on SQLite and once on PostgreSQL."""
    s = make_service(tmp_path_factory.mktemp("api"), embedder, database_url=module_store_url)
    yield s
    s.store.close()


@pytest.fixture(scope="module")
def keys(service: Saring) -> Keys:
    k = Keys()
    for role in ("admin", "secretariat", "judge"):
        k[role] = create_key(service.store, name=f"test-{role}", role=role)[1]
    k["portal"] = create_key(service.store, name="portal-palu", role="portal", instansi="Pemerintah Kota Palu")[1]
    k["portal_other"] = create_key(
        service.store, name="portal-donggala", role="portal", instansi="Pemerintah Kabupaten Donggala"
    )[1]
    return k


@pytest.fixture(scope="module")
def client(service: Saring) -> Iterator[TestClient]:
    """The app with batch jobs run synchronously (huey immediate mode) for deterministic tests."""
    runner = JobRunner(service, huey=make_huey(service.settings, immediate=True))
    app = create_app(service.settings, saring=service, runner=runner, embedded_worker=False)
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}
