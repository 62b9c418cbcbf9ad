"""Screening in waves (issue 14): a batch is compared with the proposals of the same competition year that
earlier batches (or the portal) brought, and the link shows on both sides."""

from __future__ import annotations

import json
from typing import Any

from fastapi.testclient import TestClient

from tests.api.conftest import Keys, auth, sample_batch


def _upload(client: TestClient, keys: Keys, name: str, *ids: str) -> str:
    rows = {r["id"]: r for r in sample_batch()}
    body = "\n".join(json.dumps(rows[i], ensure_ascii=False) for i in ids)
    r = client.post(
        "/api/v1/batches",
        files={"file": (name, body.encode(), "application/jsonl")},
        headers=auth(keys["secretariat"]),
    )
    assert r.status_code == 202, r.text
    batch = client.get(f"/api/v1/batches/{r.json()['id']}", headers=auth(keys["secretariat"])).json()
    assert batch["state"] == "done", batch
    return str(batch["id"])


def _dups(client: TestClient, keys: Keys, pid: str) -> dict[str, dict[str, Any]]:
    r = client.get(f"/api/v1/proposals/{pid}", headers=auth(keys["judge"]))
    assert r.status_code == 200, r.text
    return {d["other_id"]: d for d in r.json()["duplicates"] if d["relation"] != "boilerplate"}


def test_a_copy_in_a_later_wave_is_linked_both_ways(client: TestClient, keys: Keys) -> None:
    """Palu's proposal comes in the first wave, Donggala's verbatim copy of it in the second."""
    first = _upload(client, keys, "gelombang-1.jsonl", "usulan-2025-05", "usulan-2025-07")
    assert "usulan-2025-06" not in _dups(client, keys, "usulan-2025-05")
    second = _upload(client, keys, "gelombang-2.jsonl", "usulan-2025-06")
    later = _dups(client, keys, "usulan-2025-06")["usulan-2025-05"]
    assert later["relation"] == "other_region" and later["match_type"] == "identical"
    assert later["other_batch"] == first
    earlier = _dups(client, keys, "usulan-2025-05")["usulan-2025-06"]
    assert earlier["relation"] == "other_region" and earlier["other_batch"] == second
    # the earlier proposal keeps its own batch, and the pages name where the other one came from
    page = client.get("/usulan/usulan-2025-05", headers=auth(keys["judge"])).text
    assert f"dari batch lain ({second})" in page
    # its new version keeps its own batch and names the wave that caused the re-screening
    versions = client.get("/api/v1/proposals/usulan-2025-05/versions", headers=auth(keys["judge"])).json()
    assert versions[-1]["batch_id"] == first and versions[-1]["cause"] == second
    assert versions[0]["cause"] is None
    assert "disaring ulang karena batch" in page
    listed = client.get(f"/api/v1/proposals?batch_id={first}", headers=auth(keys["judge"])).json()["items"]
    assert "usulan-2025-05" in {x["id"] for x in listed}
    # the unrelated proposal of the first wave is untouched by the second
    assert "usulan-2025-06" not in _dups(client, keys, "usulan-2025-07")


def test_a_portal_proposal_is_compared_with_the_same_years_proposals(client: TestClient, keys: Keys) -> None:
    """Sumba Timur's proposal comes in a batch; Palu's portal then sends a proposal of the same year whose
    innovation and implementation sections are Sumba Timur's, word for word. The portal submission is screened
    against the stored proposals of 2025 too (not only the archive), its findings name the other side only as
    "proposal dari instansi lain", and the earlier proposal's page shows the later copy."""
    first = _upload(client, keys, "gelombang-a.jsonl", "usulan-2025-01")
    source = next(r for r in sample_batch() if r["id"] == "usulan-2025-01")
    own = next(r for r in sample_batch() if r["id"] == "usulan-2025-05")  # Palu's own metadata and sections
    bagian = dict(own["bagian"])  # type: ignore[arg-type]
    for key in ("kebaruan", "implementasi"):
        bagian[key] = source["bagian"][key]  # type: ignore[index]
    body = {**own, "id": "usulan-2025-palu-portal", "judul": "SIGAP IKLIM PALU", "bagian": bagian}
    body["tahun_implementasi"] = 2024
    r = client.post("/api/v1/proposals", json=body, headers=auth(keys["portal"]))
    assert r.status_code == 201, r.text
    seen = [d for d in r.json()["duplicates"] if d["relation"] == "other_region"]
    assert seen, "the same year's batch proposal is found from the portal"
    assert all(d["other_instansi"] == "proposal dari instansi lain" for d in seen)
    assert "usulan-2025-01" not in r.text
    # the secretariat and the judges see both sides, with where each came from
    later = _dups(client, keys, "usulan-2025-palu-portal")["usulan-2025-01"]
    assert later["relation"] == "other_region" and later["other_batch"] == first
    earlier = _dups(client, keys, "usulan-2025-01")["usulan-2025-palu-portal"]
    assert earlier["relation"] == "other_region" and earlier["other_batch"] == "portal"
    versions = client.get("/api/v1/proposals/usulan-2025-01/versions", headers=auth(keys["judge"])).json()
    assert versions[-1]["batch_id"] == first and versions[-1]["cause"] == "portal"
