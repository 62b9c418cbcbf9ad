"""Similar past innovations as a judge reads them: a score 0-100 with its level, a cut-off, and the reason
(shared key terms, best matching passage), in the API, the archive search page and the proposal page."""

from __future__ import annotations

import html
import re

from fastapi.testclient import TestClient

from saring.service import Saring
from tests.api.conftest import Keys, auth, sample_batch


def _text(page: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def test_the_api_gives_a_readable_score_level_and_reason(client: TestClient, keys: Keys) -> None:
    r = client.get("/api/v1/archive/search", params={"q": "bank sampah"}, headers=auth(keys["judge"]))
    assert r.status_code == 200
    items = r.json()["items"]
    assert [h["id"] for h in items] == ["arsip-017"], "unrelated entries below the cut-off are not listed"
    hit = items[0]
    assert 42 <= hit["score"] <= 100 and hit["level"] in ("sama", "terkait")
    assert "bank sampah" in hit["reason"]["terms"] and "sampah" in hit["reason"]["passage"].lower()


def test_archive_search_page_shows_score_level_and_shared_terms(client: TestClient, keys: Keys) -> None:
    page = client.get("/arsip", params={"q": "bank sampah"}, headers=auth(keys["judge"])).text
    rows = re.findall(r'<tr data-id="([^"]+)"', page)
    assert rows == ["arsip-017"]
    text = _text(page)
    assert "1 inovasi terdahulu yang mirip" in text
    assert "Istilah bersama: bank sampah" in text
    assert re.search(r"\b\d{2,3} (Terkait|Inovasi yang sama)\b", text), "the score 0-100 and its level"


def test_archive_search_with_nothing_similar_says_so(client: TestClient, keys: Keys) -> None:
    for params in ({"q": "bank sampah", "status": "top45"}, {"q": "resep kue lapis legit dengan mentega"}):
        page = client.get("/arsip", params=params, headers=auth(keys["judge"])).text
        assert "tidak ada inovasi terdahulu yang mirip" in _text(page).lower(), params
        assert not re.findall(r'<tr data-id="', page)


def test_a_proposal_page_lists_its_source_with_reason_and_level(
    client: TestClient, keys: Keys, service: Saring
) -> None:
    """usulan-2025-08 paraphrases arsip-017 (bank sampah digital): listed with a high score and shared terms;
    its similar list holds nothing under the cut-off."""
    row = next(r for r in sample_batch() if r["id"] == "usulan-2025-08")
    r = client.post("/api/v1/proposals", json=row, headers=auth(keys["admin"]))
    assert r.status_code == 201, r.text
    similar = r.json()["similar"]
    assert similar and similar[0]["id"] == "arsip-017" and similar[0]["level"] in ("sama", "terkait")
    assert all(s["score"] >= service.params.similarity.cutoff for s in similar)
    assert similar[0]["reason"]["terms"]
    page = client.get("/usulan/usulan-2025-08", headers=auth(keys["judge"])).text
    text = _text(page)
    assert "Istilah bersama: " + ", ".join(similar[0]["reason"]["terms"]) in text
    assert "Bagian paling cocok" in text
