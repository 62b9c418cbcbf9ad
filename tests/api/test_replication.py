"""The replication map (issue 15, point 4) on the sample data: past top innovations with the later proposals
that declared them or copied their text, by region and year, as JSON, as a page, as XLSX, and, for one
proposal, where its idea came from."""

from __future__ import annotations

import io
import json
import tempfile
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from saring.service import Saring
from tests.api.conftest import Keys, auth, sample_batch

EDITED, PARAPHRASE, DECLARED, CLEAN = "usulan-2025-07", "usulan-2025-08", "usulan-2025-09", "usulan-2025-01"


@pytest.fixture(scope="module")
def screened(client: TestClient, keys: Keys) -> str:
    rows = {r["id"]: r for r in sample_batch()}
    body = "\n".join(json.dumps(rows[i], ensure_ascii=False) for i in (EDITED, PARAPHRASE, DECLARED, CLEAN))
    r = client.post(
        "/halaman/unggah",
        files={"berkas": ("empat.jsonl", body.encode(), "application/jsonl")},
        data={"nama": "Batch peta replikasi", "tanggal": "2025-06-01"},
        headers=auth(keys["secretariat"]),
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    return r.headers["location"].removeprefix("/batch/")


def _links(m: dict[str, object]) -> dict[str, dict[str, str]]:
    """{archive id: {proposal id: relation}} of the map's entries."""
    return {
        e["id"]: {x["proposal_id"]: x["relation"] for x in e["links"]}  # type: ignore[index]
        for e in m["entries"]  # type: ignore[attr-defined]
    }


def test_the_map_links_each_past_top_innovation_to_what_followed_it(
    client: TestClient, keys: Keys, screened: str, service: Saring
) -> None:
    r = client.get("/api/v1/replication-map", headers=auth(keys["judge"]))
    assert r.status_code == 200, r.text
    m = r.json()
    links = _links(m)
    statuses = {e.id: e.status for e in service.store.archive_entries()}
    # every past top innovation is on the map, and nothing else
    assert set(links) == {i for i, s in statuses.items() if s in ("top99", "top45")}
    # the declared replication (by name: "Kampung Kerupuk Modern, Pemerintah Kabupaten Bintan") ...
    assert links["arsip-001"].get(DECLARED) == "declared_replication"
    # ... the edited copy and the paraphrase of archive entries from other regions
    assert links["arsip-009"].get(EDITED) == "other_region"
    assert links["arsip-017"].get(PARAPHRASE) == "other_region"
    # the clean proposal follows nothing
    assert all(CLEAN not in v for v in links.values())
    first = m["entries"][0]
    assert first["links"], "the innovations followed most come first"
    a001 = next(e for e in m["entries"] if e["id"] == "arsip-001")
    assert a001["declared"] >= 1 and "Bangka Selatan" in " ".join(a001["regions"]) and 2025 in a001["years"]
    only = client.get("/api/v1/replication-map?only_linked=true", headers=auth(keys["judge"])).json()
    assert only["entries"] and all(e["links"] for e in only["entries"])
    assert len(only["entries"]) < len(m["entries"])


def test_the_map_is_an_xlsx_from_the_same_json(client: TestClient, keys: Keys, screened: str) -> None:
    m = client.get("/api/v1/replication-map", headers=auth(keys["secretariat"])).json()
    r = client.get("/api/v1/replication-map?format=xlsx", headers=auth(keys["secretariat"]))
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/vnd.openxmlformats")
    wb = load_workbook(io.BytesIO(r.content), read_only=True)
    entries = list(wb["Peta replikasi"].iter_rows(values_only=True))
    assert entries[0][0] == "ID arsip" and [row[0] for row in entries[1:]] == [e["id"] for e in m["entries"]]
    links = list(wb["Tautan"].iter_rows(values_only=True))[1:]
    assert {(row[0], row[2], row[7]) for row in links} >= {
        ("arsip-001", DECLARED, "Replikasi yang dinyatakan"),
        ("arsip-009", EDITED, "Instansi/daerah lain"),
    }
    assert len(links) == sum(len(e["links"]) for e in m["entries"])


def test_the_map_page_and_who_may_see_it(client: TestClient, keys: Keys, screened: str) -> None:
    page = client.get("/replikasi?hanya_terkait=1", headers=auth(keys["judge"]))
    assert page.status_code == 200
    assert "Peta replikasi inovasi terdahulu" in page.text
    for pid in (DECLARED, EDITED, PARAPHRASE):
        assert f'href="/usulan/{pid}"' in page.text
    assert "/api/v1/replication-map?format=xlsx" in page.text
    assert client.get("/api/v1/replication-map", headers=auth(keys["portal"])).status_code == 403


def test_a_proposal_page_says_where_its_idea_came_from(client: TestClient, keys: Keys, screened: str) -> None:
    page = client.get(f"/usulan/{DECLARED}", headers=auth(keys["judge"])).text
    start = page.index("Asal gagasan")
    origin = page[start : page.index("</dd>", start)]
    assert 'href="/arsip/arsip-001"' in origin and "replikasi yang dinyatakan" in origin
    clean = client.get(f"/usulan/{CLEAN}", headers=auth(keys["judge"])).text
    assert "tidak ada inovasi terdahulu di arsip yang dinyatakan" in clean


def test_downloads_leave_no_temporary_files_behind(
    client: TestClient, keys: Keys, screened: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each XLSX/CSV/HTML download is rendered into a temporary folder; it is removed once sent (every
    download of the map and of a report used to leave its folder in /tmp)."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    urls = ["/api/v1/replication-map?format=xlsx"] + [
        f"/api/v1/batches/{screened}/report?format={f}" for f in ("xlsx", "csv", "html")
    ]
    for url in urls:
        r = client.get(url, headers=auth(keys["secretariat"]))
        assert r.status_code == 200 and len(r.content) > 100, url
        assert list(tmp_path.iterdir()) == [], url
