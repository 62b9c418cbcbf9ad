"""The secretariat's and the judges' flows in a real browser (Debian's headless Chromium) against `saring serve`.

Log in, upload the sample batch (a ZIP of corpus/sample/batch), watch it finish without reloading, filter and
sort the table, open the flagged copy usulan-2025-06, open its comparison with usulan-2025-05 and check that
the highlighted passages are exactly the paragraphs copied verbatim (known from the sample data, not from
saring), that every passage has its numbered twin, and that clicking one scrolls the twin into view.
Every page is saved as a PNG (and two as PDF) under artifacts/screenshots/.
"""

from __future__ import annotations

import base64
import io
import json
import re
import time
import zipfile
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.common.actions.action_builder import ActionBuilder
from selenium.webdriver.common.by import By
from selenium.webdriver.common.print_page_options import PrintOptions
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import Select, WebDriverWait

from tests.e2e.conftest import SAMPLE, Server

pytestmark = pytest.mark.e2e

BATCH_TIMEOUT_S = 300.0
COPY, SOURCE = "usulan-2025-06", "usulan-2025-05"


# ---------------------------------------------------------------- helpers


def shot(d: WebDriver, artifacts: Path, name: str, *, full: bool = False) -> Path:
    """The viewport as the user sees it on a 1366×768 screen; `full` adds the whole page."""
    path = artifacts / f"{name}.png"
    d.save_screenshot(str(path))
    if full:
        metrics = d.execute_cdp_cmd("Page.getLayoutMetrics", {})
        size = metrics["cssContentSize"]
        png = d.execute_cdp_cmd(
            "Page.captureScreenshot",
            {
                "captureBeyondViewport": True,
                "clip": {"x": 0, "y": 0, "width": size["width"], "height": min(size["height"], 12000), "scale": 1},
            },
        )
        (artifacts / f"{name}-penuh.png").write_bytes(base64.b64decode(png["data"]))
    return path


def wait(d: WebDriver, timeout: float = 30) -> WebDriverWait:
    return WebDriverWait(d, timeout, poll_frequency=0.2)


def login(d: WebDriver, server: Server, role: str) -> None:
    d.get(f"{server.url}/masuk")
    d.find_element(By.ID, "kunci").send_keys(server.keys[role])
    d.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    wait(d).until(lambda x: "/masuk" not in x.current_url)


def error_notice(d: WebDriver) -> str:
    """The error message of the page the last click submitted (waits: a click does not wait for the load)."""
    return str(wait(d).until(ec.presence_of_element_located((By.CSS_SELECTOR, ".notice.error"))).text)


def fits_the_screen(d: WebDriver) -> None:
    """No horizontal scrolling at laptop width."""
    scroll, inner = d.execute_script("return [document.documentElement.scrollWidth, window.innerWidth]")
    assert scroll <= inner, f"{d.current_url}: page is {scroll}px wide in a {inner}px window"


def no_console_errors(d: WebDriver) -> None:
    errors = [e for e in d.get_log("browser") if e.get("level") == "SEVERE"]
    assert not errors, f"{d.current_url}: browser console errors {errors}"


def visible_rows(d: WebDriver) -> list[WebElement]:
    return [tr for tr in d.find_elements(By.CSS_SELECTOR, "#tabel-usulan tbody tr") if tr.is_displayed()]


def in_viewport(d: WebDriver, el: WebElement) -> bool:
    """The element is on screen: inside the window and inside its scrolling text pane."""
    return bool(
        d.execute_script(
            """const r = arguments[0].getBoundingClientRect();
               const p = arguments[0].closest('.text').getBoundingClientRect();
               return r.height > 0 && r.top >= Math.max(0, p.top) - 1 && r.top < Math.min(innerHeight, p.bottom);""",
            el,
        )
    )


HIGHLIGHTS_JS = """
const pane = document.getElementById(arguments[0]);
const walker = document.createTreeWalker(pane, NodeFilter.SHOW_TEXT);
let text = "", ranges = [], n;
while ((n = walker.nextNode())) {
  let hl = false;
  for (let el = n.parentElement; el && el !== pane; el = el.parentElement) {
    // the gaps between a merged passage's segments (`parts`) are inside the copy but not matched
    if (el.tagName === "MARK" && !el.classList.contains("tpl") && !el.classList.contains("parts")) { hl = true; break; }
  }
  if (hl) ranges.push([text.length, text.length + n.data.length]);
  text += n.data;
}
return [text, ranges];
"""


def highlighted(d: WebDriver, pane_id: str) -> tuple[str, list[bool]]:
    """The pane's text and, per character, whether a matched passage or segment (not template text, not the gap
    between a merged passage's segments) covers it."""
    text, ranges = d.execute_script(HIGHLIGHTS_JS, pane_id)
    mask = [False] * len(text)
    for s, e in ranges:
        mask[s:e] = [True] * (e - s)
    return text, mask


BADGE_JS = """
const pane = arguments[0].closest(".text");
pane.scrollTop += arguments[0].getClientRects()[0].top - pane.getBoundingClientRect().top - 20;
pane.scrollIntoView({block: "nearest"});
const r = arguments[0].getClientRects()[0];
const x = r.left + Math.min(4, r.width / 2), y = r.top + r.height / 2;
let m = document.elementFromPoint(x, y);
m = m && m.closest("mark[data-twin]");
while (m && (m.classList.contains("tpl") || !document.getElementById(m.getAttribute("data-twin")))) {
  m = m.parentElement.closest("mark[data-twin]");
}
return [x, y, m ? m.getAttribute("data-twin") : null];
"""


def click_start(d: WebDriver, el: WebElement) -> WebElement:
    """Click a passage where it starts (its number), as a reader does; returns the twin that click should show
    (a merged passage's segments are nested inside it, so its middle may be one of its segments)."""
    x, y, twin_id = d.execute_script(BADGE_JS, el)
    assert twin_id, f"nothing clickable with a twin at the start of {el.get_attribute('id')}"
    actions = ActionBuilder(d)
    actions.pointer_action.move_to_location(x, y).click()
    actions.perform()
    return d.find_element(By.ID, twin_id)


def passage_text(d: WebDriver, element_id: str) -> str:
    """A passage's text: its element and any continuation fragments (`data-of`)."""
    return str(
        d.execute_script(
            "return Array.from(document.querySelectorAll('[id=\"' + arguments[0] + '\"], [data-of=\"' + "
            "arguments[0] + '\"]')).map(e => e.textContent).join('');",
            element_id,
        )
    )


def copied_paragraphs() -> list[str]:
    """Ground truth from the sample data: the paragraphs of usulan-2025-06 found verbatim in usulan-2025-05."""
    rows = {r["id"]: r for r in map(json.loads, (SAMPLE / "batch" / "proposals.jsonl").read_text("utf-8").splitlines())}
    source = "\n".join(rows[SOURCE]["bagian"].values())
    paragraphs = [p.strip() for t in rows[COPY]["bagian"].values() for p in t.split("\n") if p.strip()]
    copied = [p for p in paragraphs if p in source]
    assert len(copied) == 6, "the sample's case b copies two paragraphs each of kebaruan, implementasi, signifikansi"
    return copied


# ---------------------------------------------------------------- the secretariat's flow


@pytest.fixture(scope="module")
def screened(
    browser: WebDriver, server: Server, artifacts: Path, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Any]:
    """Log in as the secretariat, upload the sample batch as a ZIP, and wait for the page to show the table."""
    d = browser
    d.get(f"{server.url}/batch/tidak-ada")
    assert "/masuk?next=" in d.current_url, "an unauthenticated page request must go to the login form"
    shot(d, artifacts, "01-masuk")
    d.find_element(By.ID, "kunci").send_keys("srg_bukan-kunci")
    d.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    assert "Kunci tidak dikenal" in error_notice(d)
    login(d, server, "secretariat")
    d.get_log("browser")  # drop the expected 401 of the wrong key
    d.get(f"{server.url}/")
    assert d.find_element(By.TAG_NAME, "h1").text == "Batch penyaringan"
    shot(d, artifacts, "02-beranda-sekretariat")

    archive = tmp_path_factory.mktemp("upload") / "batch-sampel-2025.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for f in sorted((SAMPLE / "batch").iterdir()):
            z.write(f, f.name)
    d.find_element(By.ID, "berkas").send_keys(str(archive))
    d.find_element(By.ID, "nama").send_keys("Sampel KIPP 2025")
    started = time.monotonic()
    d.find_element(By.CSS_SELECTOR, ".upload-form button[type=submit]").click()
    wait(d).until(lambda x: "/batch/" in x.current_url)
    batch_url = d.current_url
    first_state = d.find_element(By.ID, "batch-state").text
    shot(d, artifacts, "03-batch-berjalan")

    # Watch without ever reloading: the page polls the API and reloads itself when the batch is done.
    seen: list[tuple[str, str]] = []
    badges: set[str] = set()
    deadline = time.monotonic() + BATCH_TIMEOUT_S
    while not d.find_elements(By.ID, "tabel-usulan"):
        assert time.monotonic() < deadline, f"batch not done after {BATCH_TIMEOUT_S:.0f} s; log: {server.log}"
        try:
            done = d.find_element(By.CSS_SELECTOR, "[data-progress-done]").text
            msg = d.find_element(By.CSS_SELECTOR, "[data-progress-message]").text
            badges.add(d.find_element(By.ID, "batch-state").text)
            if not seen or seen[-1] != (done, msg):
                seen.append((done, msg))
                if done.isdigit() and int(done) > 0 and not any(d_.isdigit() and int(d_) > 0 for d_, _ in seen[:-1]):
                    shot(d, artifacts, "03b-batch-kemajuan")
        except Exception:  # the page is reloading
            pass
        time.sleep(0.25)
    assert d.current_url == batch_url
    shot(d, artifacts, "04-batch-selesai")
    return {
        "batch_url": batch_url,
        "first_state": first_state,
        "progress": seen,
        "badges": badges,
        "secs": time.monotonic() - started,
    }


def test_batch_progress_then_sortable_filterable_table(
    browser: WebDriver, screened: dict[str, Any], artifacts: Path
) -> None:
    d = browser
    d.get(screened["batch_url"])
    assert screened["first_state"] in ("Menunggu", "Sedang disaring", "Selesai")
    # while it runs, the badge follows the batch without a reload (issue 15: not "Menunggu" all along)
    assert "Sedang disaring" in screened["badges"] or screened["first_state"] == "Selesai", screened["badges"]
    assert screened["progress"], "the progress card was never seen"
    assert d.find_element(By.ID, "batch-state").text == "Selesai"
    rows = visible_rows(d)
    assert len(rows) == 20, "18 JSONL proposals + the DOCX + the PDF"
    assert "rusak.pdf" in d.find_element(By.TAG_NAME, "main").text, "the corrupt PDF is listed as a failed file"
    fits_the_screen(d)
    no_console_errors(d)

    # Exports: each button downloads with the login cookie.
    links = {a.text: a.get_attribute("href") for a in d.find_elements(By.CSS_SELECTOR, ".exports a")}
    assert set(links) == {"XLSX", "CSV", "JSON", "HTML siap cetak"}
    for label, href in links.items():
        status, ctype = d.execute_async_script(
            "const done = arguments[1];fetch(arguments[0]).then(r => done([r.status, r.headers.get('content-type')]));",
            href,
        )
        assert status == 200, f"{label}: {status}"
        assert ctype.split(";")[0] in {
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "text/csv",
            "application/json",
            "text/html",
        }

    # Filter in the browser: only the duplicates, the copy among them.
    Select(d.find_element(By.ID, "f-rek")).select_by_value("indikasi_duplikasi")
    rows = visible_rows(d)
    assert rows and all(r.get_attribute("data-rekomendasi") == "indikasi_duplikasi" for r in rows)
    ids = [r.find_element(By.TAG_NAME, "code").text for r in rows]
    assert COPY in ids
    assert d.find_element(By.CSS_SELECTOR, "[data-count-for]").text == f"Menampilkan {len(rows)} dari 20 usulan."
    assert "rekomendasi=indikasi_duplikasi" in d.current_url, "the filter is kept in the address"

    # Sort by the highest overlap, largest first (second click).
    head = d.find_element(By.XPATH, "//th[button[normalize-space()='Tumpang tindih tertinggi']]")
    head.find_element(By.TAG_NAME, "button").click()
    head.find_element(By.TAG_NAME, "button").click()
    assert head.get_attribute("aria-sort") == "descending"
    shares = [float(r.find_elements(By.TAG_NAME, "td")[7].get_attribute("data-value") or 0) for r in visible_rows(d)]
    assert shares == sorted(shares, reverse=True) and shares[0] > 0.4
    shot(d, artifacts, "05-batch-tersaring-terurut")

    Select(d.find_element(By.ID, "f-rek")).select_by_value("")
    d.find_element(By.ID, "f-q").send_keys("donggala")
    rows = visible_rows(d)
    assert [r.find_element(By.TAG_NAME, "code").text for r in rows] == [COPY]
    shot(d, artifacts, "06-batch-full", full=True)


def test_flagged_proposal_page(browser: WebDriver, screened: dict[str, Any], artifacts: Path) -> None:
    d = browser
    d.get(screened["batch_url"])
    d.find_element(By.LINK_TEXT, COPY).click()
    wait(d).until(ec.url_contains(f"/usulan/{COPY}"))
    main = d.find_element(By.TAG_NAME, "main").text
    assert d.find_element(By.CSS_SELECTOR, ".page-head .badge").text == "Indikasi duplikasi"
    for expected in (
        "Data usulan",
        "Kelengkapan",
        "Tumpang tindih dengan dokumen lain",
        "Inovasi terdahulu yang mirip",
    ):
        assert expected in main
    row = d.find_element(By.XPATH, f"//table[contains(@class,'overlaps')]//tr[.//code[text()='{SOURCE}']]")
    assert "Instansi/daerah lain" in row.text and "identik" in row.text
    # SIAGA ZONA (disaster zoning) resembles no past innovation of the archive: nothing is listed, and it says so
    assert not d.find_elements(By.CSS_SELECTOR, "[id$='-similar'] table tbody tr")
    assert "Tidak ada inovasi terdahulu yang mirip" in d.find_element(By.CSS_SELECTOR, "[id$='-similar']").text
    fits_the_screen(d)
    no_console_errors(d)
    shot(d, artifacts, "07-usulan-ditandai")
    shot(d, artifacts, "07-usulan-ditandai", full=True)
    # the paraphrase of BASADIG (arsip-017) lists it first, with a readable score, its level and the reason
    d.get(d.current_url.replace(COPY, "usulan-2025-08"))
    rows = d.find_elements(By.CSS_SELECTOR, "[id$='-similar'] table tbody tr")
    assert rows and "BASADIG" in rows[0].text
    score = int(rows[0].find_element(By.CSS_SELECTOR, "td.num b").text)
    assert 0 < score <= 100
    d.execute_script("arguments[0].scrollIntoView()", d.find_element(By.CSS_SELECTOR, "[id$='-similar']"))
    shot(d, artifacts, "21-usulan-mirip-skor")


def test_own_text_and_replication_map(browser: WebDriver, screened: dict[str, Any], artifacts: Path) -> None:
    """Issue 15 points 3 and 4: the proposal's own text with its shared passages marked (headings plain), and
    the replication map with the declared replication of arsip-001 and the copies of arsip-009 / arsip-017."""
    d = browser
    base = screened["batch_url"].rsplit("/batch/", 1)[0]
    d.get(f"{base}/usulan/{COPY}")
    own = d.find_element(By.CSS_SELECTOR, "section[id$='-teks'] .own-text")
    d.execute_script("arguments[0].scrollIntoView()", own)
    marks = own.find_elements(By.CSS_SELECTOR, "mark[id*='-own-d']")
    assert marks and all(m.text.strip() for m in marks)
    heading = own.find_element(By.CSS_SELECTOR, "mark.sec-head")
    assert heading.value_of_css_property("font-weight") in ("700", "bold")
    fits_the_screen(d)
    no_console_errors(d)
    shot(d, artifacts, "18-usulan-teks-sendiri")
    d.get(f"{base}/replikasi?hanya_terkait=1")
    table = d.find_element(By.CSS_SELECTOR, "table.replication")
    rows = {r.find_element(By.TAG_NAME, "code").text: r.text for r in table.find_elements(By.CSS_SELECTOR, "tbody tr")}
    assert "usulan-2025-09" in rows["arsip-001"] and "Replikasi yang dinyatakan" in rows["arsip-001"]
    assert "usulan-2025-07" in rows["arsip-009"] and "usulan-2025-08" in rows["arsip-017"]
    fits_the_screen(d)
    no_console_errors(d)
    shot(d, artifacts, "19-peta-replikasi")
    d.get(f"{base}/usulan/usulan-2025-09")
    assert "arsip-001" in d.find_element(By.CSS_SELECTOR, "[id$='-asal']").text
    shot(d, artifacts, "20-usulan-asal-gagasan")


def test_comparison_highlights_the_copied_passages(
    browser: WebDriver, screened: dict[str, Any], artifacts: Path
) -> None:
    d = browser
    d.get(screened["batch_url"].rsplit("/batch/", 1)[0] + f"/usulan/{COPY}")
    row = d.find_element(By.XPATH, f"//table[contains(@class,'overlaps')]//tr[.//code[text()='{SOURCE}']]")
    row.find_element(By.LINK_TEXT, "Bandingkan berdampingan").click()
    wait(d).until(ec.presence_of_element_located((By.ID, "teks-a")))
    assert f"a={COPY}" in d.current_url and f"b={SOURCE}" in d.current_url

    left = d.find_elements(By.CSS_SELECTOR, "#teks-a mark[data-n]")
    assert left, "no numbered passage on the left"
    identical: list[str] = []
    for m in left:
        n, twin_id = m.get_attribute("data-n"), m.get_attribute("data-twin")
        twin = d.find_element(By.ID, twin_id)
        assert twin.find_element(By.XPATH, "ancestor::div[@id='teks-b']"), "the twin is in the other text"
        assert twin.get_attribute("data-n") == n
        assert twin.get_attribute("class").split()[0] == m.get_attribute("class").split()[0], "same colour"
    # Identical text is the same on both sides: passages of one part, and the segments of merged passages.
    for m in d.find_elements(By.CSS_SELECTOR, "#teks-a mark[data-match='identical']:not(.parts)[id]"):
        a_text, b_text = passage_text(d, m.get_attribute("id")), passage_text(d, m.get_attribute("data-twin"))
        assert " ".join(a_text.split()) == " ".join(b_text.split()), f"{m.get_attribute('id')}: identical text differs"
        identical.append(a_text)
    assert "Palu Barat" in " ".join(identical), "the copied implementation paragraph is an identical passage"

    # The highlighted text is the copied text: every copied paragraph is covered, little else is.
    text, mask = highlighted(d, "teks-a")
    copied_chars = [False] * len(text)
    for p in copied_paragraphs():
        at = text.find(p)
        assert at >= 0, f"paragraph not in the shown text: {p[:60]}"
        copied_chars[at : at + len(p)] = [True] * len(p)
        covered = sum(mask[at : at + len(p)]) / len(p)
        assert covered >= 0.95, f"only {covered:.0%} highlighted of the copied paragraph {p[:60]!r}"
    outside = sum(h and not c for h, c in zip(mask, copied_chars, strict=True))
    # Since the 2026.12 aligner the copy is one merged passage whose parts also include the section headings
    # inside the identical runs and three rephrased sentences of the copy's own sections (its budget,
    # stakeholder and adaptability sentences restate the source's, `paraphrase` segments): about 22 % of
    # the highlight (a known limitation, eval/RESULTS.md). More would mean claims beyond these.
    assert outside <= 0.25 * sum(mask), f"{outside} highlighted characters lie outside the copied paragraphs"
    shown = "".join(ch for ch, h in zip(text, mask, strict=True) if h)
    assert "Palu Barat" in shown and "Ulujadi" in shown
    fits_the_screen(d)
    no_console_errors(d)
    shot(d, artifacts, "08-bandingkan")

    # Clicking a passage (or one part of a merged passage) scrolls its twin into view (pick one whose twin is
    # off screen first).
    target = None
    for m in reversed(d.find_elements(By.CSS_SELECTOR, "#teks-a mark[data-twin][id]:not(.tpl)")):
        d.execute_script("arguments[0].scrollIntoView({block: 'center'})", m)
        if not in_viewport(d, d.find_element(By.ID, m.get_attribute("data-twin"))):
            target = m
            break
    assert target is not None, "every twin was already on screen; the sample passages should be farther apart"
    twin = click_start(d, target)
    assert twin.get_attribute("id") == target.get_attribute("data-twin"), "a passage's number leads to its twin"
    wait(d, 5).until(lambda _: in_viewport(d, twin))
    assert "flash" in twin.get_attribute("class")
    shot(d, artifacts, "09-bandingkan-setelah-klik")

    # And back: clicking the twin brings the first passage into view again.
    d.execute_script("document.getElementById('teks-a').scrollTop = 0")
    back = click_start(d, twin)
    assert back.get_attribute("id") == target.get_attribute("id")
    wait(d, 5).until(lambda _: in_viewport(d, target))


def print_to_pdf(d: WebDriver, url: str, *, attempts: int = 3) -> bytes:
    """The page as the browser prints it. Headless Chromium now and then answers "Printing failed" for a
    page that prints fine on the next try (seen once in ~6 runs, on different pages): load it again and retry."""
    opts = PrintOptions()
    opts.background = True
    for attempt in range(1, attempts + 1):
        d.get(url)
        try:
            return base64.b64decode(d.print_page(opts))
        except WebDriverException as e:
            if "Printing failed" not in str(e) or attempt == attempts:
                raise
            time.sleep(1)
    raise AssertionError("unreachable")


def text_run_ends(page: Any) -> list[float]:
    """Estimated right end (pt) of every text run of a PDF page: its start plus half an em per character."""
    ends: list[float] = []

    def run_end(t: str, cm: Any, tm: Any, _font: Any, size: float) -> None:
        if t.strip():
            ends.append(cm[4] + tm[4] * cm[0] + len(t.strip()) * size * abs(cm[0]) * 0.5)

    page.extract_text(visitor_text=run_end)
    return ends


def test_prints_cleanly_to_pdf(browser: WebDriver, screened: dict[str, Any], artifacts: Path) -> None:
    d = browser
    base = screened["batch_url"].rsplit("/batch/", 1)[0]
    for name, url in (
        ("10-bandingkan-cetak", f"{base}/bandingkan?a={COPY}&b={SOURCE}"),
        ("11-usulan-cetak", f"{base}/usulan/{COPY}"),
        ("12-batch-cetak", screened["batch_url"]),
    ):
        pdf = print_to_pdf(d, url)
        (artifacts / f"{name}.pdf").write_bytes(pdf)
        reader = PdfReader(io.BytesIO(pdf))
        text = "\n".join(page.extract_text() or "" for page in reader.pages)
        assert "Keluar" not in text and "Saring tabel" not in text, "navigation and forms are not printed"
        assert "bukan keputusan" in text
        box = reader.pages[0].mediabox
        if name.startswith(("10", "12")):
            assert box.width > box.height, "comparisons and tables print in landscape"
        if name.startswith("12"):
            # the last column stays inside the 10 mm margin (it ran into it once): every text run's right end,
            # estimated at half an em per character, lies left of the margin on every page
            for page in reader.pages:
                right = float(page.mediabox.width) - 10 / 25.4 * 72
                ends = text_run_ends(page)
                assert ends and max(ends) <= right, f"{name}: text reaches {max(ends):.0f} pt, margin at {right:.0f} pt"
        if name.startswith("10"):
            assert len(reader.pages) >= 2, "both full texts are printed, not just the visible part of the panes"
            flat = re.sub(r"\s+", " ", text)
            assert "Palu Barat" in flat and "Ulujadi" in flat


def test_archive_search(browser: WebDriver, screened: dict[str, Any], artifacts: Path) -> None:
    d = browser
    d.get(screened["batch_url"].rsplit("/batch/", 1)[0] + "/arsip")
    assert "inovasi di arsip" in d.find_element(By.TAG_NAME, "main").text
    d.find_element(By.ID, "q").send_keys("tabungan sampah warga untuk token listrik dan iuran BPJS")
    Select(d.find_element(By.ID, "status")).select_by_value("top99")
    d.find_element(By.CSS_SELECTOR, "form.filters button[type=submit]").click()
    wait(d).until(ec.url_contains("q="))
    rows = d.find_elements(By.CSS_SELECTOR, "table.archive tbody tr")
    assert rows and "BASADIG" in rows[0].text, "arsip-017 (bank sampah digital, Top 99) comes first"
    assert all("Top 99" in r.text for r in rows)
    fits_the_screen(d)
    no_console_errors(d)
    shot(d, artifacts, "13-arsip-cari")


def test_judge_has_no_upload_and_portal_keys_open_no_page(
    browser: WebDriver, screened: dict[str, Any], server: Server, artifacts: Path
) -> None:
    d = browser
    d.get(f"{server.url}/")
    d.find_element(By.CSS_SELECTOR, "header.site form button").click()  # Keluar
    wait(d).until(ec.url_contains("/masuk"))
    assert "Anda telah keluar" in d.find_element(By.TAG_NAME, "main").text
    login(d, server, "judge")
    d.get(f"{server.url}/")
    assert not d.find_elements(By.ID, "berkas"), "judges do not upload"
    assert d.find_elements(By.CSS_SELECTOR, "table.list a[href^='/batch/']"), "judges see the batches"
    assert "Juri" in d.find_element(By.CSS_SELECTOR, "header.site .who").text
    shot(d, artifacts, "14-beranda-juri")

    d.find_element(By.CSS_SELECTOR, "header.site form button").click()
    wait(d).until(ec.url_contains("/masuk"))
    d.find_element(By.ID, "kunci").send_keys(server.keys["portal"])
    d.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    assert "Kunci portal" in error_notice(d)
    shot(d, artifacts, "15-portal-ditolak")
    d.get(f"{server.url}/arsip")
    assert "/masuk" in d.current_url, "no cookie was set for the portal key"
