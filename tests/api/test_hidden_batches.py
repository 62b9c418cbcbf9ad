"""Hiding failed batches (issue 14): the secretariat hides a batch that failed ("Gagal") from the batch list,
through the API or the dashboard's button; nothing is deleted, the list can still show it, and only a failed
batch can be hidden, only by the secretariat or an admin."""

from __future__ import annotations

import json
import secrets

import pytest
from fastapi.testclient import TestClient

from saring.service import Saring
from screening.results import FileError
from tests.api.conftest import Keys, auth, sample_batch


def failed_batch(service: Saring) -> str:
    """A batch whose upload held nothing readable, failed as the job runner fails it."""
    batch_id = f"b-gagal-{secrets.token_hex(3)}"
    service.store.create_batch(
        batch_id,
        name="Unggahan rusak",
        proposals=[],
        errors=[FileError(file="../luar.pdf", reason="Jalur berkas tidak aman.", reason_en="unsafe path")],
    )
    service.store.finish_batch(batch_id, state="failed", message="Tidak ada proposal yang dapat dibaca.")
    return batch_id


@pytest.fixture(scope="module")
def done_batch(client: TestClient, keys: Keys) -> str:
    row = sample_batch()[0]
    r = client.post(
        "/api/v1/batches",
        files={"file": ("satu.jsonl", json.dumps(row, ensure_ascii=False).encode(), "application/jsonl")},
        headers=auth(keys["secretariat"]),
    )
    assert r.status_code == 202, r.text
    assert client.get(f"/api/v1/batches/{r.json()['id']}", headers=auth(keys["secretariat"])).json()["state"] == "done"
    return str(r.json()["id"])


def _listed(client: TestClient, keys: Keys, **params: str) -> dict[str, bool]:
    r = client.get("/api/v1/batches", params=params, headers=auth(keys["judge"]))
    assert r.status_code == 200, r.text
    return {b["id"]: b["hidden"] for b in r.json()}


@pytest.mark.parametrize("role", ["secretariat", "admin"])
def test_hiding_a_failed_batch_leaves_it_out_of_the_list(
    client: TestClient, keys: Keys, service: Saring, done_batch: str, role: str
) -> None:
    batch_id = failed_batch(service)
    assert _listed(client, keys)[batch_id] is False
    r = client.post(f"/api/v1/batches/{batch_id}/hide", headers=auth(keys[role]))
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "failed" and r.json()["hidden"] is True and r.json()["hidden_at"]
    listed = _listed(client, keys)
    assert batch_id not in listed and done_batch in listed
    assert _listed(client, keys, include_hidden="true")[batch_id] is True
    # nothing is deleted: the batch itself is still there, and hiding it again changes nothing
    assert client.get(f"/api/v1/batches/{batch_id}", headers=auth(keys["judge"])).json()["hidden"] is True
    again = client.post(f"/api/v1/batches/{batch_id}/hide", headers=auth(keys[role]))
    assert again.status_code == 200 and again.json()["hidden_at"] == r.json()["hidden_at"]


def test_only_a_failed_batch_can_be_hidden(client: TestClient, keys: Keys, done_batch: str) -> None:
    r = client.post(f"/api/v1/batches/{done_batch}/hide", headers=auth(keys["secretariat"]))
    assert r.status_code == 409
    assert "hanya batch yang gagal" in r.json()["detail"] and "Selesai" in r.json()["detail"]
    assert done_batch in _listed(client, keys)
    r = client.post("/api/v1/batches/b-tidak-ada/hide", headers=auth(keys["secretariat"]))
    assert r.status_code == 404


@pytest.mark.parametrize(("role", "code"), [("judge", 403), ("portal", 403), (None, 401)])
def test_judges_and_portals_cannot_hide(
    client: TestClient, keys: Keys, service: Saring, role: str | None, code: int
) -> None:
    batch_id = failed_batch(service)
    r = client.post(f"/api/v1/batches/{batch_id}/hide", headers=auth(keys[role]) if role else {})
    assert r.status_code == code, r.text
    assert batch_id in _listed(client, keys)


def test_the_dashboard_button_hides_a_failed_batch(client: TestClient, keys: Keys, service: Saring) -> None:
    batch_id = failed_batch(service)
    action = f'action="/batch/{batch_id}/sembunyikan"'
    page = client.get("/", headers=auth(keys["secretariat"])).text
    assert action in page and "Sembunyikan" in page
    assert action not in client.get("/", headers=auth(keys["judge"])).text  # judges change nothing
    r = client.post(f"/batch/{batch_id}/sembunyikan", headers=auth(keys["secretariat"]), follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/?disembunyikan={batch_id}"
    page = client.get(r.headers["location"], headers=auth(keys["secretariat"])).text
    assert "disembunyikan dari daftar" in page
    assert f'href="/batch/{batch_id}"' not in page
    shown = client.get("/?tampilkan_tersembunyi=1", headers=auth(keys["secretariat"])).text
    assert f'href="/batch/{batch_id}"' in shown and "(disembunyikan)" in shown and action not in shown


def test_the_hide_form_refuses_judges_other_sites_and_finished_batches(
    client: TestClient, keys: Keys, service: Saring, done_batch: str
) -> None:
    batch_id = failed_batch(service)
    r = client.post(f"/batch/{batch_id}/sembunyikan", headers=auth(keys["judge"]), follow_redirects=False)
    assert r.status_code == 403
    r = client.post(
        f"/batch/{batch_id}/sembunyikan",
        headers={**auth(keys["secretariat"]), "Origin": "https://jahat.example"},
        follow_redirects=False,
    )
    assert r.status_code == 403 and "situs lain" in r.text
    assert batch_id in _listed(client, keys)
    r = client.post(f"/batch/{done_batch}/sembunyikan", headers=auth(keys["secretariat"]), follow_redirects=False)
    assert r.status_code == 409 and "hanya batch yang gagal" in r.text
