"""Issue 14's multi-role scenario in the browser, on SQLite and on PostgreSQL: the secretariat screens a batch
with a copy, the copier's portal tries to send the proposal again, and the judge still sees the finding and
its history; the secretariat resolves it with a note, and the note joins the history."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.common.by import By

from tests.e2e.conftest import SAMPLE, Server, running_server
from tests.e2e.test_browser import login, no_console_errors, shot, wait

COPY, SOURCE = "usulan-2025-06", "usulan-2025-05"


@pytest.fixture(scope="module")
def role_server(
    module_store_url: str,
    tmp_path_factory: pytest.TempPathFactory,
    artifacts: Path,
    browser_paths: tuple[str, str],
) -> Iterator[tuple[Server, str]]:
    backend = "postgresql" if module_store_url.startswith("postgresql") else "sqlite"
    url = None if backend == "sqlite" else module_store_url
    with running_server(
        tmp_path_factory.mktemp(f"e2e-{backend}"), artifacts, database_url=url, name=f"e2e-server-{backend}"
    ) as srv:
        yield srv, backend


def _api(server: Server, role: str) -> httpx.Client:
    return httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {server.keys[role]}"}, timeout=120)


def test_batch_finding_survives_a_portal_resubmission(
    role_server: tuple[Server, str], browser: WebDriver, artifacts: Path
) -> None:
    server, backend = role_server
    rows = {
        r["id"]: r
        for r in map(json.loads, (SAMPLE / "batch" / "proposals.jsonl").read_text(encoding="utf-8").splitlines())
    }
    with _api(server, "secretariat") as sec:
        body = "\n".join(json.dumps(rows[i], ensure_ascii=False) for i in (SOURCE, COPY)).encode()
        r = sec.post(
            "/api/v1/batches", files={"file": ("dua.jsonl", body, "application/jsonl")}, data={"today": "2025-06-01"}
        )
        assert r.status_code == 202, r.text
        batch = r.json()["id"]
        deadline = time.monotonic() + 300
        while sec.get(f"/api/v1/batches/{batch}").json()["state"] != "done":
            assert time.monotonic() < deadline, "batch not done"
            time.sleep(0.5)
        assert sec.get(f"/api/v1/proposals/{COPY}").json()["recommendation"] == "indikasi_duplikasi"

    # Donggala's portal sends the copied proposal again: refused, the batch's finding stays
    with _api(server, "portal_other") as portal:
        r = portal.post("/api/v1/proposals", json=rows[COPY])
        assert r.status_code == 409, r.text
        assert "batch" in r.json()["detail"].lower()

    d = browser
    d.delete_all_cookies()
    login(d, server, "judge")
    d.get(f"{server.url}/usulan/{COPY}")
    assert d.find_element(By.CSS_SELECTOR, ".page-head .badge").text == "Indikasi duplikasi"
    notice = d.find_element(By.ID, "bendera-duplikasi").text
    assert "belum ditangani" in notice
    assert not d.find_elements(By.CSS_SELECTOR, "#bendera-duplikasi form"), "a judge cannot resolve"
    history = d.find_element(By.ID, "riwayat").text
    assert batch in history and "Indikasi duplikasi" in history
    no_console_errors(d)
    shot(d, artifacts, f"22-juri-melihat-temuan-{backend}")

    # the secretariat resolves it with a note; the note and every version stay in the history
    d.delete_all_cookies()
    login(d, server, "secretariat")
    d.get(f"{server.url}/usulan/{COPY}")
    d.find_element(By.ID, "catatan").send_keys("Sudah dikonfirmasi ke Kabupaten Donggala; disalin dari Kota Palu.")
    d.find_element(By.CSS_SELECTOR, "#bendera-duplikasi form button[type=submit]").click()
    wait(d).until(lambda x: "ditangani=1" in x.current_url)
    assert not d.find_elements(By.ID, "bendera-duplikasi")
    history = d.find_element(By.ID, "riwayat").text
    assert "Sudah dikonfirmasi ke Kabupaten Donggala" in history and batch in history
    shot(d, artifacts, f"23-sekretariat-menangani-{backend}")
    with _api(server, "judge") as judge:
        versions = judge.get(f"/api/v1/proposals/{COPY}/versions").json()
        assert [v["recommendation"] for v in versions] == ["indikasi_duplikasi"]
        assert judge.get(f"/api/v1/proposals/{COPY}").json()["recommendation"] == "indikasi_duplikasi"
