"""Browser tests: the real server (`saring serve`) in a subprocess, driven by Debian's headless Chromium.

Chromium and its driver come from Debian's packages (`apt-get install -y chromium chromium-driver`); a browser
downloaded by a test tool would not run on these machines. Selenium is told both paths, so it never looks for
or downloads a driver itself. Screenshots and PDFs go to `artifacts/screenshots/` (git-ignored).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.chrome.webdriver import WebDriver

from corpus.store import Store
from saring.auth import create_key
from saring.config import Settings

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "corpus" / "sample"
ARTIFACTS = Path(os.environ.get("SARING_ARTIFACTS", REPO / "artifacts")) / "screenshots"
STARTUP_TIMEOUT_S = 180.0
WINDOW = (1366, 768)
"""A common laptop screen: the pages must work at this size."""
CHROME_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--lang=id-ID",
)


def find_chromium() -> str | None:
    """Debian's Chromium (or SARING_CHROMIUM); None when there is none."""
    explicit = os.environ.get("SARING_CHROMIUM")
    if explicit:
        return explicit if Path(explicit).is_file() else None
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


def find_chromedriver() -> str | None:
    explicit = os.environ.get("SARING_CHROMEDRIVER")
    if explicit:
        return explicit if Path(explicit).is_file() else None
    return shutil.which("chromedriver")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    url: str
    data_dir: Path
    keys: dict[str, str]
    log: Path


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@contextmanager
def running_server(
    data_dir: Path, artifacts: Path, *, database_url: str | None = None, name: str = "e2e-server"
) -> Iterator[Server]:
    """`saring serve` on a free loopback port with a fresh store (SQLite in `data_dir`, or `database_url`), one
    key per role (two portal keys: Pemerintah Kota Palu and Pemerintah Kabupaten Donggala), the sample archive."""
    settings = {"data_dir": data_dir, **({"database_url": database_url} if database_url else {})}
    store = Store.open(Settings(**settings).db_url)  # type: ignore[arg-type]
    keys = {role: create_key(store, name=f"e2e-{role}", role=role)[1] for role in ("admin", "secretariat", "judge")}
    keys["portal"] = create_key(store, name="e2e-portal", role="portal", instansi="Pemerintah Kota Palu")[1]
    keys["portal_other"] = create_key(
        store, name="e2e-portal-donggala", role="portal", instansi="Pemerintah Kabupaten Donggala"
    )[1]
    store.close()

    port = free_port()
    log = artifacts.parent / f"{name}.log"
    env = {**os.environ, "SARING_DATA_DIR": str(data_dir), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    if database_url:
        env["SARING_DATABASE_URL"] = database_url
    cmd = [sys.executable, "-c", "from saring.cli import main; main()", "serve", "--host", "127.0.0.1"]
    with log.open("w", encoding="utf-8") as fh:
        proc = subprocess.Popen([*cmd, "--port", str(port)], cwd=REPO, env=env, stdout=fh, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while True:
            if proc.poll() is not None:
                pytest.fail(f"saring serve exited with {proc.returncode}; see {log}:\n{log.read_text()[-3000:]}")
            try:
                if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"saring serve not ready after {STARTUP_TIMEOUT_S:.0f} s; see {log}")
            time.sleep(0.3)
        # The archive goes in through the API, so the server process embeds it once (no second model load).
        with (SAMPLE / "archive.jsonl").open("rb") as fh:
            r = httpx.post(
                f"{url}/api/v1/archive/files",
                files={"file": ("archive.jsonl", fh, "application/jsonl")},
                headers={"Authorization": f"Bearer {keys['admin']}"},
                timeout=STARTUP_TIMEOUT_S,
            )
        assert r.status_code == 200, r.text
        assert r.json()["total"] == 27, r.text
        yield Server(url=url, data_dir=data_dir, keys=keys, log=log)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="session")
def server(
    tmp_path_factory: pytest.TempPathFactory, artifacts: Path, browser_paths: tuple[str, str]
) -> Iterator[Server]:
    """`running_server` on SQLite for the whole session. Asks for the browser first, so that without Chromium
    the tests skip before the server starts."""
    with running_server(tmp_path_factory.mktemp("e2e-data"), artifacts) as srv:
        yield srv


@pytest.fixture(scope="session")
def browser_paths() -> tuple[str, str]:
    chromium = find_chromium()
    if chromium is None:
        if os.environ.get("SARING_REQUIRE_BROWSER") == "1":
            pytest.fail("no Chromium found and SARING_REQUIRE_BROWSER=1: run `bash .ci/browser-deps`", pytrace=False)
        pytest.skip(
            "!!! NO CHROMIUM FOUND: the browser tests did NOT run. Install Debian's browser and driver: "
            "`apt-get install -y chromium chromium-driver` (or set SARING_CHROMIUM / SARING_CHROMEDRIVER). !!!"
        )
    driver = find_chromedriver()
    if driver is None:
        pytest.fail(
            f"Chromium is at {chromium} but chromedriver is missing: `apt-get install -y chromium-driver` "
            "(or set SARING_CHROMEDRIVER)."
        )
    return chromium, driver


def new_driver(chromium: str, chromedriver: str, profile: Path) -> WebDriver:
    """A fresh headless Chromium at laptop size with its own profile (no state between sessions)."""
    opts = webdriver.ChromeOptions()
    opts.binary_location = chromium
    for flag in CHROME_FLAGS:
        opts.add_argument(flag)
    opts.add_argument(f"--window-size={WINDOW[0]},{WINDOW[1]}")
    opts.add_argument(f"--user-data-dir={profile}")
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    # Chromium on Linux takes its UI language (file pickers, date inputs) from LANGUAGE.
    env = {**os.environ, "LANGUAGE": "id", "LANG": "id_ID.UTF-8"}
    return webdriver.Chrome(service=Service(executable_path=chromedriver, env=env), options=opts)


@pytest.fixture(scope="module")
def browser(browser_paths: tuple[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebDriver]:
    driver = new_driver(*browser_paths, tmp_path_factory.mktemp("chromium-profile"))
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()
