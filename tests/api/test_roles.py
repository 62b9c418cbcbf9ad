"""Every role against every route: 401 without a valid key, 403 for the wrong role, 404 where existence would leak."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from saring.service import Saring
from tests.api.conftest import Keys, auth, sample_batch

ROLES = ("admin", "secretariat", "judge", "portal")


@pytest.fixture(scope="module")
def world(client: TestClient, keys: Keys) -> dict[str, Any]:
    """Palu's proposal submitted through the portal; a two-proposal batch uploaded by the secretariat."""
    rows = {r["id"]: r for r in sample_batch()}
    r = client.post("/api/v1/proposals", json=rows["usulan-2025-05"], headers=auth(keys["portal"]))
    assert r.status_code == 201, r.text
    body = "\n".join(json.dumps(rows[i], ensure_ascii=False) for i in ("usulan-2025-06", "usulan-2025-07"))
    r = client.post(
        "/api/v1/batches",
        files={"file": ("dua.jsonl", body.encode(), "application/jsonl")},
        headers=auth(keys["secretariat"]),
    )
    assert r.status_code == 202, r.text
    return {"rows": rows, "batch": r.json()["id"]}


def _requests(world: dict[str, Any]) -> dict[str, tuple[str, str, dict[str, Any]]]:
    rows, batch = world["rows"], world["batch"]
    archive_entry = {**rows["usulan-2025-01"], "id": "arsip-uji-peran", "status": "top99", "tahun": 2024}
    return {
        "submit_own": ("POST", "/api/v1/proposals", {"json": rows["usulan-2025-05"]}),
        "get_own": ("GET", "/api/v1/proposals/usulan-2025-05", {}),
        "get_other": ("GET", "/api/v1/proposals/usulan-2025-06", {}),
        "list": ("GET", "/api/v1/proposals", {}),
        "similar_own": ("GET", "/api/v1/proposals/usulan-2025-05/similar", {}),
        "similar_other": ("GET", "/api/v1/proposals/usulan-2025-06/similar", {}),
        "upload": ("POST", "/api/v1/batches", {"files": {"file": ("x.jsonl", json.dumps(rows["usulan-2025-02"]))}}),
        "batches": ("GET", "/api/v1/batches", {}),
        "batch": ("GET", f"/api/v1/batches/{batch}", {}),
        "report": ("GET", f"/api/v1/batches/{batch}/report", {}),
        "compare": ("GET", "/api/v1/compare", {"params": {"a": "usulan-2025-06", "b": "usulan-2025-05"}}),
        "archive_import": ("POST", "/api/v1/archive", {"json": {"entries": [archive_entry]}}),
        "archive_search": ("GET", "/api/v1/archive/search", {"params": {"q": "sampah tabungan"}}),
    }


# Expected status by request and role. The portal key belongs to Pemerintah Kota Palu (owner of usulan-2025-05).
EXPECTED: dict[str, dict[str, int]] = {
    "submit_own": {"admin": 201, "secretariat": 201, "judge": 403, "portal": 201},
    "get_own": {"admin": 200, "secretariat": 200, "judge": 200, "portal": 200},
    "get_other": {"admin": 200, "secretariat": 200, "judge": 200, "portal": 404},
    "list": {"admin": 200, "secretariat": 200, "judge": 200, "portal": 200},
    "similar_own": {"admin": 200, "secretariat": 200, "judge": 200, "portal": 200},
    "similar_other": {"admin": 200, "secretariat": 200, "judge": 200, "portal": 404},
    "upload": {"admin": 202, "secretariat": 202, "judge": 403, "portal": 403},
    "batches": {"admin": 200, "secretariat": 200, "judge": 200, "portal": 403},
    "batch": {"admin": 200, "secretariat": 200, "judge": 200, "portal": 403},
    "report": {"admin": 200, "secretariat": 200, "judge": 200, "portal": 403},
    "compare": {"admin": 200, "secretariat": 200, "judge": 200, "portal": 403},
    "archive_import": {"admin": 200, "secretariat": 200, "judge": 403, "portal": 403},
    "archive_search": {"admin": 200, "secretariat": 200, "judge": 200, "portal": 200},
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_role_matrix(client: TestClient, keys: Keys, world: dict[str, Any], name: str, role: str) -> None:
    method, url, kw = _requests(world)[name]
    r = client.request(method, url, headers=auth(keys[role]), **kw)
    assert r.status_code == EXPECTED[name][role], f"{role} {method} {url}: {r.status_code} {r.text[:300]}"


@pytest.mark.parametrize("name", sorted(EXPECTED))
@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer srg_not-a-real-key"}, {"X-API-Key": "wrong"}])
def test_missing_or_wrong_key_is_401(
    client: TestClient, world: dict[str, Any], name: str, headers: dict[str, str]
) -> None:
    method, url, kw = _requests(world)[name]
    r = client.request(method, url, headers=headers, **kw)
    assert r.status_code == 401, r.text
    assert "key" in r.json()["detail"]


def test_revoked_key_is_401(client: TestClient, service: Saring) -> None:
    from saring.auth import create_key

    key_id, key = create_key(service.store, name="sementara", role="judge")
    assert client.get("/api/v1/proposals", headers=auth(key)).status_code == 200
    assert service.store.revoke_api_key(key_id)
    assert client.get("/api/v1/proposals", headers=auth(key)).status_code == 401


def test_portal_cannot_submit_for_another_instansi(client: TestClient, keys: Keys, world: dict[str, Any]) -> None:
    r = client.post("/api/v1/proposals", json=world["rows"]["usulan-2025-06"], headers=auth(keys["portal"]))
    assert r.status_code == 403
    assert "instansi" in r.json()["detail"]


def test_portal_cannot_take_over_another_instansis_id(client: TestClient, keys: Keys, world: dict[str, Any]) -> None:
    """Donggala's portal may not overwrite Palu's proposal by reusing its id, and is not told that the id
    exists (404, as for reading another instansi's proposal)."""
    stolen = {**world["rows"]["usulan-2025-06"], "id": "usulan-2025-05"}
    r = client.post("/api/v1/proposals", json=stolen, headers=auth(keys["portal_other"]))
    assert r.status_code == 404 and "another instansi" not in r.json()["detail"]
    assert client.get("/api/v1/proposals/usulan-2025-05", headers=auth(keys["judge"])).json()["instansi"] == (
        "Pemerintah Kota Palu"
    )


def test_portal_list_shows_only_its_instansi(client: TestClient, keys: Keys, world: dict[str, Any]) -> None:
    mine = client.get("/api/v1/proposals", headers=auth(keys["portal"])).json()["items"]
    everyone = client.get("/api/v1/proposals", headers=auth(keys["judge"])).json()["items"]
    assert {p["id"] for p in mine} == {"usulan-2025-05"}
    assert {"usulan-2025-05", "usulan-2025-06", "usulan-2025-07"} <= {p["id"] for p in everyone}


def test_portal_never_sees_other_documents_text(client: TestClient, keys: Keys, world: dict[str, Any]) -> None:
    """Seram Bagian Barat copied an archive entry; its own portal sees offsets but not the other text."""
    key = client.app.state.saring  # type: ignore[attr-defined]
    from saring.auth import create_key

    _, sbb = create_key(key.store, name="portal-sbb", role="portal", instansi="Pemerintah Kabupaten Seram Bagian Barat")
    own = client.get("/api/v1/proposals/usulan-2025-07", headers=auth(sbb)).json()
    judge = client.get("/api/v1/proposals/usulan-2025-07", headers=auth(keys["judge"])).json()
    assert judge["duplicates"] and judge["duplicates"][0]["other_text"]
    assert own["duplicates"] and all(d["other_text"] is None for d in own["duplicates"])
    assert own["duplicates"][0]["passages"] == judge["duplicates"][0]["passages"]


def test_short_archive_query_uses_meaning_too(client: TestClient, keys: Keys) -> None:
    """A two-word query finds the bank-sampah innovation by both retrievers, and the status filter applies."""
    r = client.get("/api/v1/archive/search", params={"q": "bank sampah"}, headers=auth(keys["judge"])).json()
    top = r["items"][0]
    assert top["id"] == "arsip-017" and top["dense_score"] > 0.5 and top["lexical_score"] > 0
    assert r["novelty"] is None, "the novelty band is calibrated on whole proposals, not on two words"
    only99 = client.get(
        "/api/v1/archive/search", params={"q": "bank sampah", "status": "top99"}, headers=auth(keys["judge"])
    ).json()["items"]
    assert [h["id"] for h in only99] == ["arsip-017"]
    only45 = client.get(
        "/api/v1/archive/search", params={"q": "bank sampah", "status": "top45"}, headers=auth(keys["judge"])
    ).json()["items"]
    assert only45 == [], "no Top 45 entry is about bank sampah: nothing above the cut-off"


def test_archive_import_with_a_repeated_id_is_409_and_imports_nothing(
    client: TestClient, keys: Keys, world: dict[str, Any]
) -> None:
    entry = {**world["rows"]["usulan-2025-02"], "id": "arsip-uji-ganda", "status": "peserta", "tahun": 2024}
    r = client.post("/api/v1/archive", json={"entries": [entry, entry]}, headers=auth(keys["secretariat"]))
    assert r.status_code == 409 and "arsip-uji-ganda" in r.json()["detail"]
    found = client.get("/api/v1/archive/search", params={"q": entry["judul"]}, headers=auth(keys["judge"])).json()
    assert all(h["id"] != "arsip-uji-ganda" for h in found["items"])


def test_a_whole_proposal_gets_a_novelty_estimate(client: TestClient, keys: Keys, world: dict[str, Any]) -> None:
    r = client.get("/api/v1/proposals/usulan-2025-05/similar", headers=auth(keys["judge"]))
    assert r.status_code == 200 and isinstance(r.json()["novelty"], float)


def test_an_oversized_portal_proposal_is_413_naming_the_limit(
    client: TestClient, keys: Keys, world: dict[str, Any]
) -> None:
    """A proposal far beyond the form's word limits is refused before screening (it would hold a core for
    minutes), by its word count and, before the body is even read, by its size."""
    row = dict(world["rows"]["usulan-2025-05"])
    para = row["bagian"]["latar_belakang"]
    # three long sections (each within the schema's 100,000 characters), 21,000 words together
    long = " ".join([para] * (7_000 // len(para.split()) + 1))
    assert len(long) < 100_000
    row["bagian"] = {**row["bagian"], "latar_belakang": long, "implementasi": long, "signifikansi": long}
    r = client.post("/api/v1/proposals", json=row, headers=auth(keys["portal"]))
    assert r.status_code == 413
    assert "SARING_MAX_PROPOSAL_WORDS" in r.json()["detail"] and "20000" in r.json()["detail"]
    row["bagian"] = {**row["bagian"], "latar_belakang": "a" * (600 * 1024)}
    r = client.post("/api/v1/proposals", json=row, headers=auth(keys["portal"]))
    assert r.status_code == 413 and "512 KiB (SARING_MAX_PROPOSAL_KB)" in r.json()["detail"]
    # the stored proposal is untouched
    own = client.get("/api/v1/proposals/usulan-2025-05", headers=auth(keys["judge"])).json()
    assert own["instansi"] == world["rows"]["usulan-2025-05"]["instansi"]


def test_portal_cannot_replace_a_proposal_a_batch_screened(
    client: TestClient, keys: Keys, world: dict[str, Any]
) -> None:
    """Donggala's proposal was screened in the secretariat's batch: Donggala's portal sending it again gets a
    409 with the reason in Indonesian, and the batch's result stays (issue 14)."""
    judge = auth(keys["judge"])
    before = client.get("/api/v1/proposals/usulan-2025-06", headers=judge).json()
    r = client.post("/api/v1/proposals", json=world["rows"]["usulan-2025-06"], headers=auth(keys["portal_other"]))
    assert r.status_code == 409
    assert "sudah disaring sekretariat dalam batch" in r.json()["detail"] and world["batch"] in r.json()["detail"]
    after = client.get("/api/v1/proposals/usulan-2025-06", headers=judge).json()
    assert after == before


def test_portal_sees_another_instansis_proposal_only_as_such(
    client: TestClient, keys: Keys, world: dict[str, Any]
) -> None:
    """The secretariat screens Palu's proposal together with Donggala's copy of it. Palu's portal reads its
    proposal: the finding is there, but neither the copy's id, title nor instansi, in the findings or in the
    reasons; the judge sees them (issue 14)."""
    rows = world["rows"]
    body = "\n".join(json.dumps(rows[i], ensure_ascii=False) for i in ("usulan-2025-05", "usulan-2025-06"))
    r = client.post(
        "/api/v1/batches",
        files={"file": ("dua-lagi.jsonl", body.encode(), "application/jsonl")},
        headers=auth(keys["secretariat"]),
    )
    assert r.status_code == 202, r.text
    judge = client.get("/api/v1/proposals/usulan-2025-05", headers=auth(keys["judge"])).json()
    other = next(d for d in judge["duplicates"] if d["other_id"] == "usulan-2025-06")
    secrets = [other["other_id"], other["other_judul"], other["other_instansi"]]
    assert any(x in r["message"] for r in judge["reasons"] for x in secrets), "the judge's reasons name it"
    portal = client.get("/api/v1/proposals/usulan-2025-05", headers=auth(keys["portal"]))
    assert portal.status_code == 200
    text = json.dumps(portal.json(), ensure_ascii=False)
    assert not any(x in text for x in secrets)
    masked = [d for d in portal.json()["duplicates"] if d["other_source"] == "batch"]
    assert masked and all(d["other_instansi"] == "proposal dari instansi lain" for d in masked)
    assert len(portal.json()["duplicates"]) == len(judge["duplicates"])
