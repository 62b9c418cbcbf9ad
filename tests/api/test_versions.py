"""Findings nobody can erase (issue 14): every screening result is kept as a version with who caused it, and
a duplication flag stays in view of the secretariat and judges until the secretariat resolves it in writing."""

from __future__ import annotations

import json
import re
from typing import Any

from fastapi.testclient import TestClient

from tests.api.conftest import Keys, auth, sample_batch
from tests.conftest import shared_dir


def _upload(client: TestClient, keys: Keys, name: str, rows: list[dict[str, Any]]) -> str:
    body = "\n".join(json.dumps(r, ensure_ascii=False) for r in rows)
    r = client.post(
        "/api/v1/batches", files={"file": (name, body.encode(), "application/jsonl")}, headers=auth(keys["secretariat"])
    )
    assert r.status_code == 202, r.text
    return str(r.json()["id"])


def _rewritten(row: dict[str, Any]) -> dict[str, Any]:
    """The same proposal id and instansi, its sections replaced by paragraphs of a real news article."""
    article = (shared_dir() / "data" / "seeds").glob("*.txt")
    paras = [p.strip() for p in sorted(article)[3].read_text(encoding="utf-8").split("\n\n") if len(p.split()) > 25]
    return {**row, "bagian": {k: paras[i % len(paras)] for i, k in enumerate(row["bagian"])}}


def test_a_duplication_flag_survives_a_later_clean_version_until_resolved(client: TestClient, keys: Keys) -> None:
    rows = {r["id"]: r for r in sample_batch()}
    first = _upload(client, keys, "gelombang-1.jsonl", [rows["usulan-2025-05"], rows["usulan-2025-06"]])
    judge, sec = auth(keys["judge"]), auth(keys["secretariat"])
    v1 = client.get("/api/v1/proposals/usulan-2025-06", headers=judge).json()
    assert v1["recommendation"] == "indikasi_duplikasi" and v1["version"] == 1

    second = _upload(client, keys, "perbaikan.jsonl", [_rewritten(rows["usulan-2025-06"])])
    now = client.get("/api/v1/proposals/usulan-2025-06", headers=judge).json()
    assert now["version"] == 2 and now["recommendation"] != "indikasi_duplikasi"
    flag = now["open_duplicate_flag"]
    assert flag and flag["version"] == 1 and flag["batch_id"] == first
    assert flag["recommendation"] == "indikasi_duplikasi"

    versions = client.get("/api/v1/proposals/usulan-2025-06/versions", headers=judge).json()
    assert [(v["version"], v["batch_id"]) for v in versions] == [(1, first), (2, second)]
    assert all(v["actor_name"] == "test-secretariat" and v["actor_role"] == "secretariat" for v in versions)
    old = client.get("/api/v1/proposals/usulan-2025-06/versions/1", headers=judge).json()
    assert old["recommendation"] == "indikasi_duplikasi" and old["duplicates"]
    page = client.get("/usulan/usulan-2025-06", headers=judge).text
    assert "Indikasi duplikasi belum ditangani" in page and "Tandai sudah ditangani" not in page  # judges read only
    portal = auth(keys["portal_other"])
    assert client.get("/api/v1/proposals/usulan-2025-06/versions", headers=portal).status_code == 403

    flagged = client.get("/api/v1/proposals?recommendation=indikasi_duplikasi", headers=judge).json()["items"]
    assert "usulan-2025-06" in {x["id"] for x in flagged}, "the filter lists the open flag too"

    # only the secretariat resolves, and only with a written note
    note = {"note": "Sudah dikonfirmasi ke Kabupaten Donggala: naskah lama salah unggah, diganti versi 2."}
    assert client.post("/api/v1/proposals/usulan-2025-06/resolution", json=note, headers=judge).status_code == 403
    short = client.post("/api/v1/proposals/usulan-2025-06/resolution", json={"note": "ok"}, headers=sec)
    assert short.status_code == 422
    assert "Tandai sudah ditangani" in client.get("/usulan/usulan-2025-06", headers=sec).text
    r = client.post("/api/v1/proposals/usulan-2025-06/resolution", json=note, headers=sec)
    assert r.status_code == 201 and r.json()["up_to_version"] == 2

    flagged = client.get("/api/v1/proposals?recommendation=indikasi_duplikasi", headers=judge).json()["items"]
    assert "usulan-2025-06" not in {x["id"] for x in flagged}
    after = client.get("/api/v1/proposals/usulan-2025-06", headers=judge).json()
    assert after["open_duplicate_flag"] is None and after["version"] == 2
    assert len(client.get("/api/v1/proposals/usulan-2025-06/versions", headers=judge).json()) == 2
    page = client.get("/usulan/usulan-2025-06", headers=judge).text
    assert "belum ditangani" not in page and note["note"] in page
    assert re.search(r"Riwayat penyaringan", page)
