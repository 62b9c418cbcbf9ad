"""The web pages through the ASGI app: login cookie, every page for every role, upload, filters, evidence shown.

The browser flows (JavaScript, layout, printing) are in tests/e2e; these check what the server renders.
"""

from __future__ import annotations

import html
import io
import json
import re
import zipfile
from collections.abc import Iterator
from html.parser import HTMLParser
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient

from api.pages import compare_view, flag_label
from saring.service import Saring
from screening.proposal import Proposal
from screening.render import other_extent, segment_parts
from screening.results import (
    Comparison,
    Completeness,
    DocumentRef,
    Duplicate,
    Passage,
    ProposalResult,
    Segment,
)
from tests.api.conftest import SAMPLE, Keys, auth, sample_batch

STAFF = ("admin", "secretariat", "judge")
COPY, SOURCE, MISSING = "usulan-2025-06", "usulan-2025-05", "usulan-2025-12"


def jsonl(*ids: str) -> bytes:
    rows = {r["id"]: r for r in sample_batch()}
    return "\n".join(json.dumps(rows[i], ensure_ascii=False) for i in ids).encode()


@pytest.fixture(scope="module")
def batch_id(client: TestClient, keys: Keys) -> str:
    """The copy, its source and an incomplete proposal, uploaded through the dashboard's form."""
    r = client.post(
        "/halaman/unggah",
        files={"berkas": ("tiga.jsonl", jsonl(SOURCE, COPY, MISSING), "application/jsonl")},
        data={"nama": "Batch uji halaman", "tanggal": "2025-06-01"},
        headers=auth(keys["secretariat"]),
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    assert r.headers["location"].startswith("/batch/b-")
    return r.headers["location"].removeprefix("/batch/")


@pytest.fixture()
def browser(client: TestClient) -> Iterator[TestClient]:
    """The shared client with an empty cookie jar, emptied again afterwards."""
    client.cookies.clear()
    yield client
    client.cookies.clear()


def pages(batch_id: str) -> dict[str, str]:
    return {
        "dashboard": "/",
        "batch": f"/batch/{batch_id}",
        "proposals": "/usulan",
        "proposal": f"/usulan/{COPY}",
        "compare_form": "/bandingkan",
        "compare": f"/bandingkan?a={COPY}&b={SOURCE}",
        "archive": "/arsip",
        "archive_search": "/arsip?q=bank+sampah+tabungan&status=top99",
    }


class Marks(HTMLParser):
    """The text and attributes of every <mark> by id (continuation fragments join it via data-of)."""

    def __init__(self, page: str) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str | None] = []
        self.texts: dict[str, str] = {}
        self.attrs: dict[str, dict[str, str | None]] = {}
        self.feed(page)
        self.close()
        assert self.stack == [], "unbalanced <mark> tags"

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "mark":
            a = dict(attrs)
            key = a.get("id") or a.get("data-of")
            if a.get("id"):
                self.attrs[str(a["id"])] = a
            self.stack.append(key)
            if key:
                self.texts.setdefault(key, "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "mark":
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        for key in self.stack:
            if key:
                self.texts[key] += data


def text_of(page: str) -> str:
    """The visible text of a page, roughly: tags dropped, entities decoded, spaces collapsed."""
    body = re.sub(r"(?s)<(script|style)\b.*?</\1>", " ", page)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body)).split())


# ---------------------------------------------------------------- login and roles


def test_login_sets_an_httponly_strict_cookie_and_logout_clears_it(browser: TestClient, keys: Keys) -> None:
    r = browser.post("/masuk", data={"kunci": keys["judge"], "next": "/arsip"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/arsip"
    cookie = r.headers["set-cookie"]
    # a server-side session: a random id, never the key (issue 14)
    session = re.match(r"saring_session=(srs_[\w-]+);", cookie)
    assert session and keys["judge"] not in cookie
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Max-Age=43200" in cookie
    assert "Secure" not in cookie, "plain-http deployments (and this test) must still get the cookie back"

    r = browser.get("/arsip")
    assert r.status_code == 200 and "Arsip inovasi terdahulu" in r.text
    assert "Juri" in r.text, "the header names the role"
    # The cookie also authenticates the JSON API (the batch page polls it).
    assert browser.get("/api/v1/batches").status_code == 200

    r = browser.post("/keluar", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/masuk?keluar=1"
    assert 'saring_session=""' in r.headers["set-cookie"] and "Max-Age=0" in r.headers["set-cookie"]
    browser.cookies.clear()  # what the browser does with Max-Age=0
    assert browser.get("/arsip", follow_redirects=False).status_code == 303
    assert "Anda telah keluar" in browser.get("/masuk?keluar=1").text
    # the ended session is dead on the server too: a copied cookie no longer works
    stolen = {"Cookie": f"saring_session={session.group(1)}"}
    assert browser.get("/api/v1/batches", headers=stolen).status_code == 401


def test_revoking_a_key_ends_its_web_sessions(browser: TestClient, service: Saring) -> None:
    """Issue 14: the session stored hashed; revoking the key logs its browser out."""
    from saring.auth import create_key, hash_key

    key_id, key = create_key(service.store, name="sementara", role="judge")
    r = browser.post("/masuk", data={"kunci": key, "next": "/arsip"}, follow_redirects=False)
    token = re.match(r"saring_session=(srs_[\w-]+);", r.headers["set-cookie"])
    assert token and service.store.find_web_session(hash_key(token.group(1))) is not None
    assert service.store.find_web_session(token.group(1)) is None, "only the hash is stored"
    assert browser.get("/arsip").status_code == 200
    service.store.revoke_api_key(key_id)
    assert browser.get("/arsip", follow_redirects=False).status_code == 303
    assert browser.get("/api/v1/batches").status_code == 401


@pytest.mark.parametrize(
    ("key", "status", "message"),
    [
        ("", 401, "Masukkan kunci API Anda."),
        ("srg_bukan-kunci-yang-benar", 401, "Kunci tidak dikenal atau sudah dicabut."),
        ("portal", 403, "Kunci portal hanya dipakai melalui API"),
    ],
)
def test_login_refuses_bad_and_portal_keys(
    browser: TestClient, keys: Keys, key: str, status: int, message: str
) -> None:
    r = browser.post("/masuk", data={"kunci": keys.get(key, key), "next": "/"}, follow_redirects=False)
    assert r.status_code == status
    assert message in text_of(r.text)
    assert "set-cookie" not in r.headers


@pytest.mark.parametrize("target", ["//contoh.com/x", "https://contoh.com/", "/\\contoh.com", "javascript:alert(1)"])
def test_login_only_follows_local_paths(browser: TestClient, keys: Keys, target: str) -> None:
    r = browser.post("/masuk", data={"kunci": keys["secretariat"], "next": target}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/"


def test_login_form_sends_a_logged_in_user_on(browser: TestClient, keys: Keys) -> None:
    r = browser.get("/masuk?next=/arsip", headers=auth(keys["admin"]), follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/arsip"


@pytest.mark.parametrize("name", sorted(pages("B")))
def test_pages_without_a_key_go_to_the_login_form(browser: TestClient, batch_id: str, name: str) -> None:
    url = pages(batch_id)[name]
    r = browser.get(url, follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == f"/masuk?next={quote(url, safe='')}"
    form = browser.get(r.headers["location"])
    assert form.status_code == 200 and f'name="next" value="{html.escape(url)}"' in form.text


@pytest.mark.parametrize("role", [*STAFF, "portal"])
@pytest.mark.parametrize("name", sorted(pages("B")))
def test_every_page_for_every_role(client: TestClient, keys: Keys, batch_id: str, name: str, role: str) -> None:
    r = client.get(pages(batch_id)[name], headers=auth(keys[role]), follow_redirects=False)
    if role == "portal":
        assert r.status_code == 403
        assert "Akses ditolak" in r.text and "hanya untuk Admin, Sekretariat, Juri" in r.text
    else:
        assert r.status_code == 200, r.text[:500]
    assert r.headers["content-type"].startswith("text/html")
    assert '<html lang="id">' in r.text
    assert r.headers["cache-control"] == "no-store"


def test_upload_form_is_for_the_secretariat_only(client: TestClient, keys: Keys) -> None:
    assert 'action="/halaman/unggah"' in client.get("/", headers=auth(keys["secretariat"])).text
    assert 'action="/halaman/unggah"' in client.get("/", headers=auth(keys["admin"])).text
    judge = client.get("/", headers=auth(keys["judge"]))
    assert judge.status_code == 200 and 'action="/halaman/unggah"' not in judge.text
    r = client.post(
        "/halaman/unggah",
        files={"berkas": ("x.jsonl", jsonl("usulan-2025-01"), "application/jsonl")},
        headers=auth(keys["judge"]),
    )
    assert r.status_code == 403 and "Akses ditolak" in r.text and "Juri" in r.text


# ---------------------------------------------------------------- upload


@pytest.mark.parametrize(
    ("files", "data", "status", "message"),
    [
        (None, {}, 400, "Pilih berkas batch yang akan diunggah."),
        ({"berkas": ("catatan.exe", b"MZ", "application/octet-stream")}, {}, 415, "Jenis berkas .exe tidak didukung"),
        ({"berkas": ("kosong.jsonl", b"", "application/jsonl")}, {}, 400, "Berkas kosong.jsonl kosong."),
        ({"berkas": ("x.jsonl", b"{}", "application/jsonl")}, {"tanggal": "1 Juni"}, 400, "tidak valid"),
    ],
)
def test_upload_problems_are_explained_in_indonesian(
    client: TestClient,
    keys: Keys,
    files: dict[str, Any] | None,
    data: dict[str, str],
    status: int,
    message: str,
) -> None:
    r = client.post("/halaman/unggah", files=files or {}, data=data, headers=auth(keys["secretariat"]))
    assert r.status_code == status, r.text[:300]
    assert message in text_of(r.text)
    assert 'class="notice error"' in r.text, "the dashboard is shown again with the error"


def test_an_unreadable_upload_is_refused_with_the_reason(client: TestClient, keys: Keys) -> None:
    """Issue 14: an upload with nothing readable (a damaged ZIP, a ZIP that escapes its folder) creates no
    green "Selesai 0 / 0" batch: the page says why, with a 400, and so does the API."""
    before = len(client.get("/api/v1/batches", headers=auth(keys["secretariat"])).json())
    r = client.post(
        "/halaman/unggah",
        files={"berkas": ("rusak.zip", b"PK\x03\x04 bukan zip", "application/zip")},
        headers=auth(keys["secretariat"]),
    )
    assert r.status_code == 400 and 'class="notice error"' in r.text
    page = text_of(r.text)
    assert "rusak.zip: tidak ada proposal yang dapat dibaca" in page
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("../../luar.txt", "Judul: Keluar folder\n\nRingkasan\nTeks.")
    r = client.post(
        "/api/v1/batches",
        files={"file": ("jalan.zip", buf.getvalue(), "application/zip")},
        headers=auth(keys["secretariat"]),
    )
    assert r.status_code == 400 and "tidak ada proposal yang dapat dibaca" in r.json()["detail"]
    assert "luar.txt" in r.json()["detail"]
    assert len(client.get("/api/v1/batches", headers=auth(keys["secretariat"])).json()) == before


def test_upload_creates_a_batch_and_shows_it(client: TestClient, keys: Keys, batch_id: str) -> None:
    r = client.get(f"/batch/{batch_id}", headers=auth(keys["judge"]))
    page = text_of(r.text)
    assert "Batch uji halaman" in page and "Selesai" in page and "Tanggal acuan 2025-06-01" in page
    assert page.count("usulan-2025-") >= 3
    for fmt in ("xlsx", "csv", "json", "html"):
        href = f"/api/v1/batches/{batch_id}/report?format={fmt}"
        assert f'href="{href}"' in r.text
        assert client.get(href, headers=auth(keys["judge"])).status_code == 200
    assert "data-batch-poll" not in r.text, "a finished batch is not polled"
    listed = text_of(client.get("/", headers=auth(keys["judge"])).text)
    assert "Batch uji halaman" in listed and "3 / 3" in listed


def test_a_waiting_batch_shows_live_progress(client: TestClient, keys: Keys, service: Saring) -> None:
    proposal = next(r for r in sample_batch() if r["id"] == "usulan-2025-02")
    from screening.proposal import Proposal

    service.store.create_batch("b-menunggu", name="Menunggu giliran", proposals=[Proposal(**proposal)], errors=[])
    r = client.get("/batch/b-menunggu", headers=auth(keys["secretariat"]))
    assert r.status_code == 200
    assert 'data-batch-poll="/api/v1/batches/b-menunggu"' in r.text
    assert '<noscript><meta http-equiv="refresh" content="5"></noscript>' in r.text, "works without JavaScript"
    assert "0</b> dari <b data-progress-total>1</b>" in r.text
    assert "Unduh laporan" not in r.text and 'id="tabel-usulan"' not in r.text


def test_missing_documents_are_404_pages(client: TestClient, keys: Keys) -> None:
    for url, message in [
        ("/batch/b-tidak-ada", "Batch b-tidak-ada tidak ada."),
        ("/usulan/usulan-tidak-ada", "Usulan usulan-tidak-ada belum disaring atau tidak ada."),
        ("/bandingkan?a=usulan-2025-06&b=arsip-tidak-ada", "Dokumen tidak ditemukan"),
    ]:
        r = client.get(url, headers=auth(keys["judge"]))
        assert r.status_code == 404 and "Tidak ditemukan" in r.text and message in text_of(r.text)


# ---------------------------------------------------------------- table


def rows_shown(page: str) -> list[str]:
    return re.findall(r'<tr data-rekomendasi="[^"]+"[^>]*>\s*<td><a href="/usulan/([^"]+)"', page)


def test_batch_table_filters_on_the_server_too(client: TestClient, keys: Keys, batch_id: str) -> None:
    get = lambda q: client.get(f"/batch/{batch_id}{q}", headers=auth(keys["judge"])).text  # noqa: E731
    assert sorted(rows_shown(get(""))) == [SOURCE, COPY, MISSING]
    dup = get("?rekomendasi=indikasi_duplikasi")
    assert COPY in rows_shown(dup) and MISSING not in rows_shown(dup)
    assert rows_shown(get("?rekomendasi=tidak_lengkap")) == [MISSING]
    assert rows_shown(get("?lengkap=tidak")) == [MISSING]
    assert rows_shown(get("?tanda=salinan_daerah_lain&q=donggala")) == [COPY]
    assert rows_shown(get("?klaster=kementerian")) == []
    assert "Tidak ada usulan yang cocok" in get("?klaster=kementerian")
    page = get("?wilayah=" + quote("Kabupaten Halmahera Utara, Provinsi Maluku Utara"))
    assert rows_shown(page) == [MISSING]
    assert "Menampilkan 1 dari 3 usulan." in text_of(page)


def test_batch_table_columns(client: TestClient, keys: Keys, batch_id: str) -> None:
    page = client.get(f"/batch/{batch_id}", headers=auth(keys["secretariat"])).text
    row = re.search(rf'<tr data-rekomendasi="[^"]*"(?:(?!</tr>).)*?/usulan/{COPY}".*?</tr>', page, re.S)
    assert row is not None
    cells = text_of(row.group(0))
    for expected in ("Indikasi duplikasi", "Salinan daerah lain", "Lengkap", "Instansi/daerah lain", "Kabupaten"):
        assert expected in cells
    assert re.search(r"[45]\d,\d %", cells), "highest overlap is the copy's share (about 45-55 %)"
    assert 'data-sort="num"' in page and "data-sortable" in page


def test_all_proposals_page_lists_every_result(client: TestClient, keys: Keys, batch_id: str) -> None:
    page = client.get("/usulan", headers=auth(keys["admin"])).text
    assert {SOURCE, COPY, MISSING} <= set(rows_shown(page))


# ---------------------------------------------------------------- proposal page


def test_proposal_page_shows_the_evidence(client: TestClient, keys: Keys, batch_id: str, service: Saring) -> None:
    r = client.get(f"/usulan/{COPY}", headers=auth(keys["judge"]))
    page = text_of(r.text)
    result = service.store.get_result(COPY)
    assert result is not None and result.recommendation == "indikasi_duplikasi"
    # Metadata, stored fields included.
    for expected in ("Pemerintah Kabupaten Donggala", "Tahun implementasi 2023", "Batch uji halaman", "Nomor SK"):
        assert expected in page
    # The recommendation and each of its reasons, as the screening wrote them.
    assert "Rekomendasi: Indikasi duplikasi" in page
    for reason in result.reasons:
        assert " ".join(reason.message.split()) in page
    # Completeness: every section with its status and reason.
    for s in result.completeness.sections:
        assert " ".join(s.message.split()) in page
    # Overlaps: the copy's source with its relation, match type, share and a comparison link.
    dup = next(d for d in result.duplicates if d.other_id == SOURCE)
    assert f'href="/bandingkan?a={COPY}&amp;b={SOURCE}"' in r.text
    row = re.search(rf'<tr id="[^"]*-dup-\d+">(?:(?!</tr>).)*?{SOURCE}.*?</tr>', r.text, re.S)
    assert row is not None
    cells = text_of(row.group(0))
    assert "Instansi/daerah lain" in cells and "identik" in cells
    assert f"{dup.share * 100:.1f} %".replace(".", ",") in cells
    # Template-only overlaps are folded away, not listed as findings.
    boiler = [d for d in result.duplicates if d.relation == "boilerplate"]
    assert len(boiler) == min(result.template_only_pairs, 10)
    if boiler:
        assert f"{result.template_only_pairs} dokumen lain hanya berbagi teks templat" in page
    # Similar past innovations with year, outcome and score.
    for s in result.similar:
        assert s.judul in page
    assert "Kebaruan usulan ini" in page


def test_proposal_page_shows_its_own_text_with_the_shared_passages_marked(
    client: TestClient, keys: Keys, batch_id: str, service: Saring
) -> None:
    """The judge reads the proposal itself: its full text, the form's headings in bold, and each passage it
    shares with another document marked with that finding's colour, covering exactly the passage's words."""
    result = service.store.get_result(COPY)
    assert result is not None
    page = client.get(f"/usulan/{COPY}", headers=auth(keys["judge"])).text
    section = re.search(r'<section id="[^"]*-teks">.*?</section>', page, re.S)
    assert section is not None
    marks = Marks(section.group(0))
    anchor = next(iter(marks.texts)).split("-own-")[0] if marks.texts else ""
    shown = 0
    for j, d in enumerate(result.duplicates):
        if d.relation == "boilerplate":
            assert not any(k.startswith(f"{anchor}-own-d{j}p") for k in marks.texts)
            continue
        for i, ps in enumerate(d.passages):
            element = f"{anchor}-own-d{j}p{i}"
            assert marks.texts[element] == result.text[ps.start : ps.end]
            assert f"m{j % 8}" in str(marks.attrs[element]["class"]) and d.other_id in str(
                marks.attrs[element]["title"]
            )
            shown += 1
    assert shown >= 1
    # the whole text is there, and the form's headings are marked as headings, not as copied text
    assert " ".join(result.text.split()) in text_of(section.group(0))
    assert re.search(r'<mark class="sec-head">Ringkasan</mark>', section.group(0))
    assert f"/bandingkan?a={COPY}&amp;b={SOURCE}" in section.group(0)


def test_evidence_links_point_at_elements_of_the_page(client: TestClient, keys: Keys, batch_id: str) -> None:
    page = client.get(f"/usulan/{COPY}", headers=auth(keys["judge"])).text
    targets = re.findall(r'<a href="#([^"]+)" class="small no-print">\[bukti\]</a>', page)
    assert targets
    for t in targets:
        assert f'id="{t}"' in page, f"evidence link #{t} has no target"


# ---------------------------------------------------------------- comparison


def test_comparison_highlights_the_stored_evidence(
    client: TestClient, keys: Keys, batch_id: str, service: Saring
) -> None:
    r = client.get(f"/bandingkan?a={COPY}&b={SOURCE}", headers=auth(keys["secretariat"]))
    result = service.store.get_result(COPY)
    assert result is not None
    dup = next(d for d in result.duplicates if d.other_id == SOURCE)
    assert dup.other_text is not None
    assert "diambil dari hasil penyaringan" in text_of(r.text)
    marks = Marks(r.text)
    for i, p in enumerate(dup.passages):
        o_start, o_end = other_extent(p)
        for side, text, start, end in (("a", result.text, p.start, p.end), ("b", dup.other_text, o_start, o_end)):
            eid, twin = f"c-d0-{side}{i}", f"c-d0-{'b' if side == 'a' else 'a'}{i}"
            assert eid in marks.attrs, f"passage {i + 1} side {side} is not highlighted"
            attrs = marks.attrs[eid]
            assert str(attrs["class"]).split()[0] == f"m{i % 8}"
            assert attrs["data-n"] == str(i + 1) and attrs["data-match"] == p.match_type
            assert attrs["data-twin"] == twin
            assert marks.texts[eid] == text[start:end], f"passage {i + 1} side {side}"
        for k, sg in enumerate(segment_parts(p)):
            a_id, b_id = f"c-d0-a{i}s{k}", f"c-d0-b{i}s{k}"
            assert marks.texts[a_id] == result.text[sg.start : sg.end]
            assert marks.texts[b_id] == dup.other_text[sg.other_start : sg.other_end]
            assert marks.attrs[a_id]["data-twin"] == b_id and marks.attrs[b_id]["data-match"] == sg.match_type
    shown_a = text_of(r.text)
    assert "Palu Barat" in shown_a and "Ulujadi" in shown_a
    for _ in dup.template_passages:
        assert 'class="tpl"' in r.text


def test_form_headings_inside_a_copied_passage_are_not_highlighted(
    client: TestClient, keys: Keys, batch_id: str, service: Saring
) -> None:
    """The verbatim copy spans several sections of the form: the headings between them (the form's own
    text, in both documents anyway) are marked `sec-head` inside the passage, which the page shows plain."""
    page = client.get(f"/bandingkan?a={COPY}&b={SOURCE}", headers=auth(keys["judge"])).text
    inside = re.findall(r'<mark class="sec-head">([^<]+)</mark>', page)
    assert inside, "the copied passage crosses a section heading"
    from screening.proposal import KEY_HEADINGS

    assert set(inside) <= set(KEY_HEADINGS.values())
    css = client.get("/static/saring.css").text
    assert re.search(r"mark\.sec-head \{[^}]*background: #fff", css)


def test_comparison_recomputes_when_asked_or_without_stored_evidence(
    client: TestClient, keys: Keys, batch_id: str
) -> None:
    r = client.get(f"/bandingkan?a={COPY}&b={SOURCE}&ulang=1", headers=auth(keys["judge"]))
    assert r.status_code == 200 and "dihitung sekarang" in text_of(r.text)
    assert 'id="c-d0-a0"' in r.text and 'id="c-d0-b0"' in r.text
    r = client.get("/bandingkan?a=arsip-009&b=arsip-017", headers=auth(keys["judge"]))
    assert r.status_code == 200 and "dihitung sekarang" in text_of(r.text)


def test_stored_comparison_needs_a_result_that_names_the_other(service: Saring, batch_id: str) -> None:
    assert service.stored_comparison(COPY, SOURCE) is not None
    assert service.stored_comparison(COPY, "arsip-tidak-ada") is None
    assert service.stored_comparison("arsip-017", COPY) is None


def test_compare_view_numbers_twins_and_greys_templates() -> None:
    a = "Awal. Teks yang disalin sama persis. Kalimat templat UU 25/2009. Akhir."
    b = "Lain. Kalimat templat UU 25/2009. Lalu: Teks yang disalin sama persis."
    copied, tpl = "Teks yang disalin sama persis.", "Kalimat templat UU 25/2009."
    cmp = Comparison(
        a=DocumentRef(id="a", source="proposal", text=a),
        b=DocumentRef(id="b", source="archive", text=b),
        passages=[
            Passage(
                start=a.index(copied),
                end=a.index(copied) + len(copied),
                other_start=b.index(copied),
                other_end=b.index(copied) + len(copied),
                match_type="identical",
                words=5,
            )
        ],
        template_passages=[
            Passage(
                start=a.index(tpl),
                end=a.index(tpl) + len(tpl),
                other_start=b.index(tpl),
                other_end=b.index(tpl) + len(tpl),
                match_type="identical",
            )
        ],
    )
    v = compare_view(cmp)
    assert 'id="c-d0-a0" data-n="1" data-twin="c-d0-b0"' in v.left and f">{copied}</mark>" in v.left
    assert 'id="c-d0-b0" data-n="1" data-twin="c-d0-a0"' in v.right and f">{copied}</mark>" in v.right
    assert '<mark class="tpl" id="c-d0-ta0"' in v.left and f">{tpl}</mark>" in v.left
    assert re.sub(r"<[^>]+>", "", str(v.left)) == a, "the whole text is shown"
    assert v.passages[0]["n"] == 1 and v.passages[0]["match"] == "identical"


# ---------------------------------------------------------------- merged passages, segments, translations

SEG_ID = "usulan-segmen"
SEG_OTHER = "arsip-001"


def archive_sentences(entry_id: str, section: str) -> list[str]:
    row = next(
        json.loads(line)
        for line in (SAMPLE / "archive.jsonl").read_text(encoding="utf-8").splitlines()
        if json.loads(line)["id"] == entry_id
    )
    return re.split(r"(?<=[.!?])\s+", row["bagian"][section].strip())


# A sentence of the sample archive's BASADIG entry, and its English translation held by the other document.
ID_SENTENCE_SECTION = ("arsip-001", "keberlanjutan", 3)
EN_SENTENCE = (
    "This innovation is part of the One Agency One Innovation movement launched by the Ministry of State "
    "Apparatus Empowerment and Bureaucratic Reform."
)


def segment_case() -> tuple[str, str, list[Passage], dict[str, str]]:
    """A proposal text and another document built from real sentences of the sample archive (Kampung Kerupuk
    Modern): three sentences copied in another order, the middle one reordered and the last one edited, merged
    into one passage of three segments; a sentence the other document holds in English (translated); and an
    old-style passage without segments."""
    s1, s2, s3, s4 = archive_sentences("arsip-001", "kebaruan")[:4]
    entry, section, k = ID_SENTENCE_SECTION
    id_sentence = archive_sentences(entry, section)[k]
    assert id_sentence.startswith("Inovasi ini merupakan bagian dari gerakan One Agency One Innovation")
    old = archive_sentences("arsip-001", "ringkasan")[0]
    other = " ".join((old, s1, s2, s3, s4)) + "\n\n" + EN_SENTENCE
    s4_edited = s4.replace("Limbah cair diolah", "Air limbah pengolahan ikan diolah")
    assert s4_edited != s4
    gap = " Di samping itu, "
    intro = " ".join(archive_sentences("arsip-002", "ringkasan")[:2])
    text = intro + "\n" + s3 + gap + s1 + " " + s4_edited + "\n" + id_sentence + "\n" + old

    def at(t: str, piece: str) -> tuple[int, int]:
        i = t.index(piece)
        return i, i + len(piece)

    segs = [
        Segment(start=at(text, x)[0], end=at(text, x)[1], other_start=at(other, y)[0], other_end=at(other, y)[1],
                match_type=mt, score=sc)
        for x, y, mt, sc in ((s3, s3, "identical", 1.0), (s1, s1, "identical", 1.0), (s4_edited, s4, "edited", 0.7))
    ]  # fmt: skip
    merged = Passage(
        start=segs[0].start,
        end=segs[-1].end,
        other_start=min(g.other_start for g in segs),
        other_end=max(g.other_end for g in segs),
        match_type="identical",
        words=len(text[segs[0].start : segs[-1].end].split()),
        segments=segs,
    )
    (ti, tj), (ui, uj) = at(text, id_sentence), at(other, EN_SENTENCE)
    translated = Passage(
        start=ti,
        end=tj,
        other_start=ui,
        other_end=uj,
        match_type="translated",
        score=0.9,
        words=len(id_sentence.split()),
        segments=[Segment(start=ti, end=tj, other_start=ui, other_end=uj, match_type="translated", score=0.9)],
    )
    (oi, oj), (pi, pj) = at(text, old), at(other, old)
    legacy = Passage(start=oi, end=oj, other_start=pi, other_end=pj, match_type="identical", words=len(old.split()))
    pieces = {"s1": s1, "s3": s3, "s4": s4, "s4_edited": s4_edited, "gap": gap, "id": id_sentence, "old": old}
    return text, other, [merged, translated, legacy], pieces


def test_compare_view_shows_segments_of_a_merged_passage_on_both_sides() -> None:
    text, other, passages, t = segment_case()
    v = compare_view(
        Comparison(
            a=DocumentRef(id="a", source="proposal", text=text),
            b=DocumentRef(id="b", source="archive", text=other),
            passages=passages,
        )
    )
    left, right = Marks(str(v.left)), Marks(str(v.right))
    assert re.sub(r"<[^>]+>", "", str(v.left)) == text and re.sub(r"<[^>]+>", "", str(v.right)) == other
    # The merged passage: one unit numbered 1 on both sides, its extent there from s1 (first there) to s4.
    assert left.texts["c-d0-a0"] == t["s3"] + t["gap"] + t["s1"] + " " + t["s4_edited"]
    assert right.texts["c-d0-b0"] == other[other.index(t["s1"]) : other.index(t["s4"]) + len(t["s4"])]
    for m in (left.attrs["c-d0-a0"], right.attrs["c-d0-b0"]):
        assert m["class"] == "m0 parts" and m["data-n"] == "1" and m["data-match"] == "identical"
        assert m["data-badge"] == "1 · identik · 3 segmen"
    for k, (mine, theirs, mt) in enumerate(
        [(t["s3"], t["s3"], "identical"), (t["s1"], t["s1"], "identical"), (t["s4_edited"], t["s4"], "edited")]
    ):
        assert left.texts[f"c-d0-a0s{k}"] == mine and right.texts[f"c-d0-b0s{k}"] == theirs, k
        assert left.attrs[f"c-d0-a0s{k}"]["data-twin"] == f"c-d0-b0s{k}"
        assert right.attrs[f"c-d0-b0s{k}"]["data-twin"] == f"c-d0-a0s{k}"
        assert left.attrs[f"c-d0-a0s{k}"]["data-match"] == right.attrs[f"c-d0-b0s{k}"]["data-match"] == mt
    # reordered: on the other side the second segment comes first
    assert str(v.right).index('id="c-d0-b0s1"') < str(v.right).index('id="c-d0-b0s0"')
    # the gap is inside the passage, between two segments, in no segment
    assert f'</mark>{html.escape(t["gap"], quote=False)}<mark class="seg m0" id="c-d0-a0s1"' in str(v.left)
    # translated: its own type on both sides, no segment marks for a single whole segment
    assert left.texts["c-d0-a1"] == t["id"] and right.texts["c-d0-b1"] == EN_SENTENCE
    assert left.attrs["c-d0-a1"]["data-match"] == right.attrs["c-d0-b1"]["data-match"] == "translated"
    assert "c-d0-a1s0" not in left.attrs and "data-badge" not in left.attrs["c-d0-a1"]
    # an old passage without segments: exactly the markup it always had
    assert (
        f'<mark class="m2" id="c-d0-a2" data-n="3" data-twin="c-d0-b2" title="Bagian 3 · identik · '
        f'{len(t["old"].split())} kata" data-match="identical">{html.escape(t["old"], quote=False)}</mark>'
    ) in str(v.left)
    assert [p["parts"] for p in v.passages] == ["3 segmen (2 identik, 1 disunting) · urutan diubah", "", ""]
    assert [s["n"] for s in v.passages[0]["segments"]] == ["1.1", "1.2", "1.3"]
    assert v.passages[1]["match"] == "translated" and v.passages[1]["segments"] == []


@pytest.fixture(scope="module")
def segment_result(service: Saring, batch_id: str) -> ProposalResult:
    """A stored result whose evidence has a merged passage, a translated passage and an old passage."""
    text, other, passages, _ = segment_case()
    row = {**next(r for r in sample_batch() if r["id"] == "usulan-2025-03"), "id": SEG_ID}
    service.store.save_proposal(Proposal(**row))  # type: ignore[arg-type]
    result = ProposalResult(
        id=SEG_ID,
        judul="Kampung Kerupuk Terpadu",
        instansi="Pemerintah Kabupaten Contoh",
        text=text,
        recommendation="indikasi_duplikasi",
        completeness=Completeness(form="2023_umum", complete=True),
        duplicates=[
            Duplicate(
                other_id=SEG_OTHER,
                other_source="archive",
                other_judul="Kampung Kerupuk Modern",
                relation="other_region",
                match_type="identical",
                share=0.5,
                passages=passages,
                other_text=other,
            )
        ],
    )
    service.store.save_result(result)
    return result


def test_comparison_page_lists_segments_and_translations(
    client: TestClient, keys: Keys, segment_result: ProposalResult
) -> None:
    r = client.get(f"/bandingkan?a={SEG_ID}&b={SEG_OTHER}", headers=auth(keys["judge"]))
    assert r.status_code == 200 and "diambil dari hasil penyaringan" in text_of(r.text)
    marks = Marks(r.text)
    dup = segment_result.duplicates[0]
    assert dup.other_text is not None
    for k, sg in enumerate(dup.passages[0].segments):
        assert marks.texts[f"c-d0-a0s{k}"] == segment_result.text[sg.start : sg.end]
        assert marks.texts[f"c-d0-b0s{k}"] == dup.other_text[sg.other_start : sg.other_end]
    page = text_of(r.text)
    assert "<b data-passage-count>3</b> bagian cocok (<b data-segment-count>5</b> segmen)" in r.text
    assert "3 segmen (2 identik, 1 disunting) · urutan diubah" in page
    assert "1.1 identik · 1.2 identik · 1.3 disunting" in page
    assert 'data-goto="c-d0-a0s1 c-d0-b0s1"' in r.text
    row = re.search(r'<a href="#c-d0-a1" class="n m1"[^>]*>2</a></td>\s*<td>(.*?)</td>', r.text, re.S)
    assert row is not None and '<span class="mt mt-translated">terjemahan</span>' in row.group(1)
    legend = re.search(r'<p class="muted small legend-line">(.*?)</p>', r.text, re.S)
    assert legend is not None
    assert '<mark class="seg m0 legend" data-match="translated">terjemahan</mark>' in legend.group(1)
    assert "teks di antara segmen" in text_of(legend.group(1))


def test_proposal_page_overlaps_count_segments_and_name_translations(
    client: TestClient, keys: Keys, segment_result: ProposalResult
) -> None:
    r = client.get(f"/usulan/{SEG_ID}", headers=auth(keys["judge"]))
    assert r.status_code == 200
    row = re.search(rf'<tr id="[^"]*-dup-0">(?:(?!</tr>).)*?{SEG_OTHER}.*?</tr>', r.text, re.S)
    assert row is not None
    cells = re.sub(r"\s+([,)])", r"\1", text_of(row.group(0)))  # no space before the tags' punctuation
    assert "identik juga: disunting, terjemahan" in cells
    assert "3 (5 segmen)" in cells
    assert '<span class="mt mt-translated">terjemahan</span>' in row.group(0)


def test_translated_and_segment_styles_are_served(client: TestClient) -> None:
    css = client.get("/static/saring.css").text
    assert 'mark[data-n][data-match=translated]::before { content: attr(data-n) " · terjemahan"' in css
    assert "mark.parts[data-match] { text-decoration: none; }" in css
    assert ".m7.parts" in css and "mark.seg" in css and ".mt-translated" in css
    js = client.get("/static/saring.js").text
    assert 'm.parentElement.closest("mark[data-twin]")' in js, "a gap's click falls back to its passage's twin"


def test_comparison_escapes_document_text(client: TestClient, keys: Keys, batch_id: str) -> None:
    row = {**next(r for r in sample_batch() if r["id"] == "usulan-2025-03"), "id": "usulan-xss"}
    row["judul"] = "<script>alert('judul')</script>"
    row["bagian"] = {**row["bagian"], "ringkasan": row["bagian"]["ringkasan"] + " <img src=x onerror=alert(1)>"}
    r = client.post("/api/v1/proposals", json=row, headers=auth(keys["secretariat"]))
    assert r.status_code == 201, r.text
    for url in ("/usulan/usulan-xss", f"/bandingkan?a=usulan-xss&b={SOURCE}&ulang=1", "/usulan"):
        r = client.get(url, headers=auth(keys["judge"]))
        assert r.status_code == 200, url
        assert "<script>alert" not in r.text and "<img src=x" not in r.text
        assert "&lt;script&gt;alert" in r.text, url


# ---------------------------------------------------------------- archive


def archive_rows(page: str) -> list[dict[str, str]]:
    """The result rows of the archive page: id, tahun, klaster, status (data attributes), in order."""
    found = re.findall(
        r'<tr data-id="([^"]*)" data-tahun="([^"]*)" data-klaster="([^"]*)" data-status="([^"]*)">', page
    )
    return [dict(zip(("id", "tahun", "klaster", "status"), row, strict=True)) for row in found]


def test_archive_search_with_filters(client: TestClient, keys: Keys, service: Saring) -> None:
    get = lambda q: client.get(f"/arsip{q}", headers=auth(keys["judge"])).text  # noqa: E731
    entries = service.archive_context().entries
    everything = get("")
    assert "27 inovasi di arsip" in text_of(everything)
    rows = archive_rows(everything)
    assert sorted(r["id"] for r in rows) == sorted(e.id for e in entries)
    assert [int(r["tahun"]) for r in rows] == sorted((e.tahun or 0 for e in entries), reverse=True), "newest first"

    found = get("?q=" + quote("tabungan sampah warga untuk token listrik dan iuran BPJS"))
    rows = archive_rows(found)
    assert rows and rows[0]["id"] == "arsip-017", rows  # BASADIG, the bank sampah digital
    assert found.count('href="/bandingkan?b=') == len(rows), "every hit links to the comparison form"
    assert "hanya diperkirakan untuk teks usulan utuh" in text_of(found), "no novelty for a one-line query"
    row = next(r for r in sample_batch() if r["id"] == "usulan-2025-08")
    pasted = " ".join(" ".join(str(t) for t in row["bagian"].values()).split()[:400])  # type: ignore[attr-defined]
    assert "Kebaruan teks ini terhadap inovasi unggulan terdahulu" in text_of(get("?q=" + quote(pasted)))

    kota = next(e for e in entries if e.klaster == "kota")
    y2023 = next(e for e in entries if e.tahun == 2023)
    for query, expected in [
        ("?q=" + quote("bank sampah digital") + "&status=top99", {"status": "top99"}),
        ("?q=" + quote(kota.judul) + "&klaster=kota", {"klaster": "kota"}),
        ("?q=" + quote(y2023.judul) + "&tahun=2023", {"tahun": "2023"}),
        ("?tahun=2021", {"tahun": "2021"}),
        ("?klaster=kota&status=top99", {"klaster": "kota", "status": "top99"}),
    ]:
        rows = archive_rows(get(query))
        assert rows, query
        for key, value in expected.items():
            assert {r[key] for r in rows if r[key]} == {value}, (query, rows)
    # a filter whose entries are all below the cut-off lists nothing, and says so (issue 15)
    empty = get("?q=" + quote("bank sampah") + "&status=top45")
    assert not archive_rows(empty) and "tidak ada inovasi terdahulu yang mirip" in text_of(empty).lower()
    assert "sedikitnya 2 karakter" in text_of(get("?q=a"))


# ---------------------------------------------------------------- static files and labels


def test_static_files_are_served(client: TestClient) -> None:
    css = client.get("/static/saring.css")
    js = client.get("/static/saring.js")
    assert css.status_code == 200 and "@media print" in css.text
    assert js.status_code == 200 and "data-batch-poll" in js.text
    assert "http://" not in js.text and "https://" not in css.text, "no CDN: everything is served from here"


def test_flag_labels() -> None:
    assert flag_label("salinan_daerah_lain") == "Salinan daerah lain"
    assert flag_label("kebaruan_rendah") == "Kebaruan rendah"


def test_pages_are_not_in_the_openapi_schema(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert not any(p in paths for p in ("/", "/masuk", "/batch/{batch_id}", "/bandingkan", "/arsip"))


def test_api_comparison_shows_the_stored_evidence_and_a_fresh_one_agrees(
    client: TestClient, keys: Keys, service: Saring, batch_id: str
) -> None:
    stored = service.stored_comparison(COPY, SOURCE)
    assert stored is not None
    r = client.get("/api/v1/compare", params={"a": COPY, "b": SOURCE}, headers=auth(keys["judge"]))
    assert r.status_code == 200
    body = r.json()
    assert [p["start"] for p in body["passages"]] == [p.start for p in stored[0].passages]
    assert body["share_a"] == stored[0].share_a
    # aligned afresh with the same parameters, the copied passages are the same in this text; the other
    # side's extent may differ where the batch's own template statistics (not known afresh) changed a part
    fresh = service.compare(COPY, SOURCE, fresh=True)
    key = [(p.start, p.end, p.match_type) for p in stored[0].passages]
    assert [(p.start, p.end, p.match_type) for p in fresh.passages] == key
    for p, q in zip(fresh.passages, stored[0].passages, strict=True):
        assert p.segments and all(p.start <= s.start < s.end <= p.end for s in p.segments)
        assert min(p.other_end, q.other_end) - max(p.other_start, q.other_start) >= 0.7 * (q.other_end - q.other_start)


def test_security_headers_on_pages_and_api(browser: TestClient) -> None:
    """Issue 14: pages may not be framed, sniffed or leak their address, and run only saring's own script."""
    page = browser.get("/masuk")
    api = browser.get("/healthz")
    for r in (page, api):
        assert r.headers["x-frame-options"] == "DENY"
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["referrer-policy"] == "same-origin"
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "form-action 'self'" in csp
    # every script and stylesheet the page loads is its own (the policy would block any other)
    assert all(src.startswith("/static/") for src in re.findall(r'<script[^>]*src="([^"]+)"', page.text))
    assert all(h.startswith(("/static/", "data:")) for h in re.findall(r'<link[^>]*href="([^"]+)"', page.text))
    assert "<script>" not in page.text


def test_a_form_posted_from_another_site_is_refused(browser: TestClient, keys: Keys) -> None:
    """Issue 14 (CSRF): a login or upload form posted from another origin is refused in Indonesian and sets
    no cookie; the same origin (the test client's host) is accepted."""
    evil = {"Origin": "https://contoh-jahat.example"}
    r = browser.post("/masuk", data={"kunci": keys["judge"], "next": "/"}, headers=evil, follow_redirects=False)
    assert r.status_code == 403 and "dikirim dari situs lain" in r.text
    assert "set-cookie" not in r.headers
    r = browser.post(
        "/halaman/unggah",
        files={"file": ("a.jsonl", jsonl("usulan-2025-05"), "application/jsonl")},
        headers={"Referer": "https://contoh-jahat.example/form", "Authorization": f"Bearer {keys['secretariat']}"},
        follow_redirects=False,
    )
    assert r.status_code == 403
    same = {"Origin": "http://testserver"}
    r = browser.post("/masuk", data={"kunci": keys["judge"], "next": "/"}, headers=same, follow_redirects=False)
    assert r.status_code == 303


def test_invalid_input_is_not_echoed_whole(client: TestClient, keys: Keys) -> None:
    """Issue 14: a 422 names the field and cuts the echoed value (a 150,000-character section comes back as
    about 200 characters)."""
    row = next(r for r in sample_batch() if r["id"] == "usulan-2025-05")
    row = {**row, "bagian": {**row["bagian"], "latar_belakang": "kata " * 30_000}}
    r = client.post("/api/v1/proposals", json=row, headers=auth(keys["portal"]))
    assert r.status_code == 422
    assert len(r.content) < 5_000
    err = r.json()["detail"][0]
    assert err["loc"][-1] == "latar_belakang" and "cut" in err["input"]


def test_api_docs_load_without_a_cdn(browser: TestClient) -> None:
    """Issue 15: /docs and /redoc use assets served by saring itself (machines may be offline)."""
    for path in ("/docs", "/redoc"):
        r = browser.get(path)
        assert r.status_code == 200
        assets = re.findall(r'(?:src|href)="([^"]+\.(?:js|css))"', r.text)
        assert assets and all(a.startswith("/") and not a.startswith("//") for a in assets), assets
        for a in assets:
            assert browser.get(a).status_code == 200, a
    assert browser.get("/openapi.json").json()["openapi"].startswith("3.")


def test_unknown_page_is_an_indonesian_page_and_the_api_keeps_json(browser: TestClient, keys: Keys) -> None:
    """Issue 15: an unknown page address answers with an HTML page in Indonesian, not JSON."""
    r = browser.get("/halaman-yang-tidak-ada")
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")
    assert "Halaman tidak ditemukan" in r.text and "/halaman-yang-tidak-ada" in r.text
    r = browser.get("/api/v1/tidak-ada", headers=auth(keys["judge"]))
    assert r.status_code == 404 and r.headers["content-type"].startswith("application/json")
    r = browser.get("/api/v1/proposals/tidak-ada", headers=auth(keys["judge"]))
    assert r.status_code == 404 and "detail" in r.json()


def test_pages_show_times_in_wib(browser: TestClient, keys: Keys, batch_id: str) -> None:
    """Issue 15: upload and finish times in Indonesian time (WIB by default), never "UTC+00:00"."""
    page = browser.get("/", headers=auth(keys["secretariat"])).text
    assert re.search(r"\d{1,2} \w+ \d{4} \d{2}\.\d{2} WIB", page) and "UTC+" not in page


def test_archive_entry_page_shows_its_text_and_the_proposals_that_use_it(
    client: TestClient, keys: Keys, batch_id: str, service: Saring
) -> None:
    """Issue 15: /arsip/{id} has the past innovation's text, outcome and year, and the screened proposals
    that copy or resemble it, each with a side-by-side link; search hits link to it."""
    judge = auth(keys["judge"])
    r = client.post(
        "/api/v1/batches",
        files={"file": ("sbb.jsonl", jsonl("usulan-2025-07"), "application/jsonl")},
        headers=auth(keys["secretariat"]),
    )
    assert r.status_code == 202, r.text
    found = [
        (res.id, d.other_id)
        for res in service.store.list_results(limit=1000)
        for d in res.duplicates
        if d.other_source == "archive" and d.relation != "boilerplate"
    ]
    assert found, "Seram Bagian Barat's proposal copies an archive entry"
    pid, eid = found[0]
    entry = service.store.get_archive(eid)
    assert entry is not None
    r = client.get(f"/arsip/{eid}", headers=judge)
    assert r.status_code == 200
    page = text_of(r.text)
    assert entry.judul in page and str(entry.tahun) in page
    assert next(iter(entry.bagian.values()))[:60] in page
    assert f'href="/usulan/{pid}"' in r.text and f"/bandingkan?a={quote(pid)}&amp;b={quote(eid)}" in r.text
    assert f'href="/arsip/{quote(eid)}"' in client.get("/arsip", headers=judge).text
    missing = client.get("/arsip/tidak-ada", headers=judge)
    assert missing.status_code == 404 and "tidak ada di arsip" in missing.text


def test_a_proposal_page_counts_template_only_documents_beyond_those_listed(
    client: TestClient, keys: Keys, service: Saring, batch_id: str
) -> None:
    """Only the template-only pairs sharing the most template text are listed; the page says how many there are."""
    row = {**next(r for r in sample_batch() if r["id"] == "usulan-2025-03"), "id": "usulan-templat-saja"}
    service.store.save_proposal(Proposal(**row))  # type: ignore[arg-type]
    listed = [
        Duplicate(
            other_id=f"arsip-00{i}", other_source="archive", relation="boilerplate", match_type="identical", share=0
        )
        for i in (1, 2)
    ]
    result = ProposalResult(
        id="usulan-templat-saja",
        text=Proposal(**row).text,  # type: ignore[arg-type]
        recommendation="lanjut",
        completeness=Completeness(form="2023_umum", complete=True),
        duplicates=listed,
        template_only_pairs=37,
    )
    service.store.save_result(result)
    page = text_of(client.get("/usulan/usulan-templat-saja", headers=auth(keys["judge"])).text)
    assert "37 dokumen lain hanya berbagi teks templat (diabaikan); 2 yang paling banyak berbagi ditampilkan" in page
    assert "arsip-001" in page and "arsip-002" in page
