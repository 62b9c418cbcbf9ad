"""Rendering a Report as JSON, XLSX, CSV and HTML, built from real Indonesian seed texts."""

from __future__ import annotations

import csv
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from markupsafe import Markup, escape
from openpyxl import load_workbook

from screening.render import (
    SUMMARY_COLUMNS,
    anchor_id,
    evidence_anchor,
    flatten,
    fmt_when,
    highlight,
    highlight_excerpt,
    render_html,
    summary_rows,
    write_csv,
    write_html,
    write_json,
    write_report,
    write_xlsx,
)
from screening.results import (
    Completeness,
    Duplicate,
    FileError,
    Finding,
    Passage,
    ProposalResult,
    Reason,
    Report,
    SectionCheck,
    Segment,
    Similar,
)

EVIL = "<script>alert('x')</script>"


# --------------------------------------------------------------------------- helpers


class _MarkText(HTMLParser):
    """Collect the text of every <mark> by id (continuation fragments join via data-of)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str | None] = []
        self.texts: dict[str, str] = {}
        self.attrs: dict[str, dict[str, str | None]] = {}
        self.all_text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag != "mark":
            return
        a = dict(attrs)
        key = a.get("id") or a.get("data-of")
        eid = a.get("id")
        if eid:
            assert eid not in self.attrs, f"duplicate id {eid}"
            self.attrs[eid] = a
        self.stack.append(key)
        if key is not None:
            self.texts.setdefault(key, "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "mark":
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.all_text.append(data)
        for key in self.stack:
            if key is not None:
                self.texts[key] += data


def _marks(html: str) -> _MarkText:
    parser = _MarkText()
    parser.feed(html)
    parser.close()
    assert parser.stack == [], "unbalanced <mark> tags"
    return parser


def _section(pid: str, key: str, status: str = "ada", words: int = 120) -> SectionCheck:
    return SectionCheck(key=key, heading=key.replace("_", " ").title(), status=status, words=words, min_words=30)


@pytest.fixture(scope="module")
def report(seed_texts: list[str]) -> Report:
    return build_report(seed_texts)


def build_report(seed_texts: list[str]) -> Report:
    """Three proposals: one copying two passages of another region's text (with the other text), one
    with an archive duplicate without text and hostile markup, one incomplete; plus a file error."""
    assert len(seed_texts) >= 5
    other = seed_texts[0]
    # Two adjacent passages copied from `other`, and a third overlapping the second one.
    e1 = other.rfind(" ", 0, 180) + 1
    e2 = other.rfind(" ", 0, 420)
    c1, c2 = other[0:e1], other[e1:e2]
    host = seed_texts[2]
    cut = host.index("\n", 1500) + 1
    text_a = host[:cut] + c1 + c2 + " " + host[cut:]
    s1, s2 = text_a.find(c1), text_a.find(c2)
    assert s1 == cut and s2 == s1 + len(c1)
    tpl = "Kompetisi Inovasi Pelayanan Publik"
    t_a, t_b = text_a.find(tpl), other.find(tpl)
    passages = [
        Passage(start=s1, end=s1 + len(c1), other_start=0, other_end=e1, match_type="identical", words=30),
        Passage(start=s2, end=s2 + len(c2), other_start=e1, other_end=e2, match_type="identical", words=36),
        # overlaps the second passage on both sides (e.g. an "edited" extension)
        Passage(start=s2 + 100, end=s2 + 300, other_start=e1 + 100, other_end=e1 + 300, match_type="edited", words=30),
    ]
    dup_a = Duplicate(
        other_id="P-004",
        other_judul="Kampung Kerupuk Modern",
        other_instansi="Pemerintah Kabupaten Bintan",
        other_tahun=2023,
        relation="other_region",
        match_type="identical",
        share=0.087,
        other_share=0.174,
        longest_passage_words=36,
        passages=passages,
        template_passages=[
            Passage(start=t_a, end=t_a + len(tpl), other_start=t_b, other_end=t_b + len(tpl), match_type="identical")
        ],
        other_text=other,
    )
    text_b = seed_texts[1] + "\n\n" + EVIL
    dup_b = Duplicate(
        other_id="ARS-2019-17",
        other_source="archive",
        other_judul="Arsip " + EVIL,
        relation="same_instansi",
        match_type="edited",
        share=0.55,
        passages=[Passage(start=0, end=150, other_start=10, other_end=160, match_type="edited", words=20)],
        other_text=None,
    )
    prop_a = ProposalResult(
        id="P-001",
        judul="Lima Program Unggulan Bangka Barat",
        instansi="Pemerintah Kabupaten Bangka Barat",
        klaster="tata kelola pemerintahan",
        wilayah="Kepulauan Bangka Belitung",
        tahun=2024,
        tahun_implementasi=2022,
        source="proposal_bangka_barat.pdf",
        text=text_a,
        recommendation="indikasi_duplikasi",
        reasons=[
            Reason(
                code="duplicate_other_region",
                message="8,7 % teks sama dengan proposal instansi lain (P-004).",
                evidence="/duplicates/0",
            ),
            Reason(code="passage", message="Bagian pertama identik.", evidence="/duplicates/0/passages/0"),
        ],
        completeness=Completeness(
            form="2023_umum",
            form_label="Formulir 2023 (umum)",
            complete=True,
            sections=[_section("P-001", "ringkasan"), _section("P-001", "signifikansi")],
        ),
        duplicates=[dup_a],
        similar=[
            Similar(
                id="ARS-2021-3",
                judul="Kampung Kerupuk Modern",
                instansi="Pemerintah Kabupaten Bintan",
                tahun=2021,
                status="top45",
                score=0.0323,
                dense_score=0.91,
                lexical_score=12.4,
            ),
            Similar(id="ARS-2018-9", judul="Lapor Cepat", tahun=2018, status="top99", score=0.0161),
        ],
        novelty=0.42,
    )
    prop_b = ProposalResult(
        id='P 002/"x"',
        judul="Judul " + EVIL,
        instansi='=HYPERLINK("http://contoh.invalid")',
        text=text_b,
        recommendation="perlu_klarifikasi",
        reasons=[Reason(code="resubmission", message="Pengajuan ulang " + EVIL, evidence="/duplicates/0")],
        completeness=Completeness(form="2023_umum", complete=True, sections=[_section("x", "ringkasan")]),
        duplicates=[dup_b],
        novelty=None,
    )
    prop_c = ProposalResult(
        id="P-003",
        judul="Pemantauan Keberlanjutan dan Replikasi",
        instansi="Kementerian PANRB",
        text=seed_texts[4],
        recommendation="tidak_lengkap",
        reasons=[
            Reason(
                code="missing_section",
                message="Bagian Signifikansi tidak ada.",
                evidence="/completeness/sections/1",
            ),
            Reason(code="video", message="Tautan video tidak ada.", evidence="/completeness/findings/0"),
        ],
        completeness=Completeness(
            form="2023_umum",
            complete=False,
            sections=[_section("P-003", "ringkasan"), _section("P-003", "signifikansi", "tidak_ada", 0)],
            findings=[Finding(code="no_video", severity="error", message="Tautan video tidak ada.", field="video")],
        ),
        novelty=0.9,
    )
    return Report(
        saring_version="0.1.0",
        generated_at="2026-03-02T09:15:00+07:00",
        parameters={"version": "2026.11.1", "duplication": {"shingle_size": 3}, "similarity": {"top_k": 5}},
        settings={"workers": 2},
        model="intfloat/multilingual-e5-small",
        archive_size=979,
        proposals=[prop_a, prop_b, prop_c],
        errors=[FileError(file="rusak.pdf", reason="Berkas PDF rusak atau terenkripsi.", reason_en="bad pdf")],
    )


@pytest.fixture(scope="module")
def html(report: Report) -> str:
    return render_html(report)


# --------------------------------------------------------------------------- highlight


def test_highlight_escapes_and_preserves_text() -> None:
    text = "a <b>&amp; " + EVIL + " z"
    out = highlight(text, [(2, 5, "m0", "x0")])
    assert isinstance(out, Markup)
    assert "<script>" not in out and "&lt;script&gt;" in out
    parsed = _marks(str(out))
    assert "".join(parsed.all_text) == text
    assert parsed.texts["x0"] == "<b>"


def test_highlight_adjacent_overlapping_and_nested() -> None:
    text = "0123456789abcdefghij"
    spans = [(0, 5, "m0", "a"), (5, 10, "m1", "b"), (8, 15, "m2", "c"), (9, 11, "m3", "d"), (2, 3, "m4", "e")]
    out = str(highlight(text, spans))
    parsed = _marks(out)
    assert "".join(parsed.all_text) == text
    for s, e, _cls, eid in spans:
        assert parsed.texts[eid] == text[s:e], eid
    # the element with the id starts at the span's start
    assert '<mark class="m1" id="b">56' in out
    # `b` ends inside `c`, so `c` is continued after `b` closes
    assert 'data-of="c"' in out


def test_highlight_deterministic_nesting_order() -> None:
    # Same start: the longer span is outermost; equal spans keep list order.
    out = str(highlight("abcdef", [(0, 2, "x", "short"), (0, 4, "y", "long"), (0, 4, "z", "twin")]))
    assert out.startswith('<mark class="y" id="long"><mark class="z" id="twin"><mark class="x" id="short">ab')


def test_highlight_clamps_and_drops_empty_spans() -> None:
    out = str(highlight("abc", [(2, 99, "m0", "a"), (1, 1, "m1", "b"), (5, 3, "m2", "c")]))
    assert out == 'ab<mark class="m0" id="a">c</mark>'
    assert str(highlight("", [])) == ""


def test_highlight_attrs_and_continuations() -> None:
    out = str(
        highlight(
            "abcdef",
            [(0, 4, "m0", "a"), (2, 6, "m1", "b")],
            attrs={"b": {"data-n": "2", "data-twin": 't"b', "title": "<x>"}},
        )
    )
    assert 'data-twin="t&#34;b"' in out and 'title="&lt;x&gt;"' in out
    assert out.count('data-n="2"') == 1  # number only on the first fragment
    assert out.count('data-twin="t&#34;b"') == 2  # both fragments jump to the twin
    with pytest.raises(ValueError):
        highlight("abc", [(0, 1, "m0", "a")], attrs={"a": {"on click": "x"}})


def test_highlight_excerpt_elides_far_text() -> None:
    text = ("kata " * 400) + "SALINAN" + (" kata" * 400)
    s = text.find("SALINAN")
    out = str(highlight_excerpt(text, [(s, s + 7, "m0", "a")], context=50))
    assert "karakter tidak ditampilkan" in out
    assert len(out) < 400
    assert _marks(out).texts["a"] == "SALINAN"
    assert str(highlight_excerpt(text, [(s, s + 7, "m0", "a")], context=None)).count("kata") == 800


# --------------------------------------------------------------------------- anchors


def test_anchor_ids_are_safe_and_distinct() -> None:
    assert anchor_id("P-001") == "p-P-001"
    assert re.fullmatch(r"[A-Za-z0-9._-]+", anchor_id('P 002/"x"'))
    assert anchor_id("a_b") != anchor_id("a b") != anchor_id("a_20_b")


def test_evidence_anchor(report: Report) -> None:
    p = report.proposals[0]
    assert evidence_anchor(p, "/duplicates/0") == "p-P-001-dup-0"
    assert evidence_anchor(p, "/duplicates/0/passages/1") == "p-P-001-d0-a1"
    assert evidence_anchor(p, "/duplicates/7") == "p-P-001-duplicates"
    assert evidence_anchor(p, "/completeness/sections/1") == "p-P-001-sec-1"
    assert evidence_anchor(p, "/similar/1") == "p-P-001-sim-1"
    assert evidence_anchor(p, "/novelty") == "p-P-001-novelty"
    assert evidence_anchor(p, None) == "p-P-001"
    assert evidence_anchor(p, "/nonsense") == "p-P-001"


# --------------------------------------------------------------------------- HTML


def test_html_contains_everything(report: Report, html: str) -> None:
    assert html.startswith("<!DOCTYPE html>")
    for p in report.proposals:
        assert f'id="{anchor_id(p.id)}"' in html
        assert f'href="#{anchor_id(p.id)}"' in html
    for needle in ("2 Maret 2026 09.15 WIB", "intfloat/multilingual-e5-small", "979", "2026.11.1", "<details"):
        assert needle in html
    assert "Indikasi duplikasi" in html and "Tidak lengkap" in html and "Perlu klarifikasi" in html
    assert "rusak.pdf" in html and "Berkas PDF rusak atau terenkripsi." in html
    assert "Top 45" in html and "Top 99" in html
    assert "8,7 %" in html  # share in Indonesian notation
    assert "Instansi/daerah lain" in html and "identik" in html
    # self-contained: no external resources
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)
    assert "@media print" in html


def test_html_escapes_untrusted_text(html: str) -> None:
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in html
    assert html.count("<script>") == 1  # only the report's own inline script


def test_html_reason_links_resolve(report: Report, html: str) -> None:
    ids = set(re.findall(r'\sid="([^"]+)"', html))
    hrefs = set(re.findall(r'href="#([^"]+)"', html))
    assert hrefs <= ids, hrefs - ids
    assert 'href="#p-P-001-dup-0"' in html
    assert 'href="#p-P-001-d0-a0"' in html
    assert 'href="#p-P-003-sec-1"' in html and 'href="#p-P-003-find-0"' in html


def test_html_side_by_side_passages_match_both_texts(report: Report, html: str) -> None:
    parsed = _marks(html)
    p = report.proposals[0]
    d = p.duplicates[0]
    assert d.other_text is not None
    for i, ps in enumerate(d.passages):
        a, b = f"p-P-001-d0-a{i}", f"p-P-001-d0-b{i}"
        assert parsed.texts[a] == p.text[ps.start : ps.end]
        assert parsed.texts[b] == d.other_text[ps.other_start : ps.other_end]
        assert parsed.attrs[a]["data-twin"] == b and parsed.attrs[b]["data-twin"] == a
        assert parsed.attrs[a]["class"] == f"m{i}" and parsed.attrs[a]["data-n"] == str(i + 1)
    # the two identical passages are the copied substrings, equal on both sides
    a0, a1 = parsed.texts["p-P-001-d0-a0"], parsed.texts["p-P-001-d0-a1"]
    assert a0 == parsed.texts["p-P-001-d0-b0"] and a1 == parsed.texts["p-P-001-d0-b1"]
    assert len(a0) > 100 and len(a1) > 100
    assert d.other_text.startswith(a0 + a1) and (a0 + a1) in p.text
    # template passages are greyed
    assert parsed.attrs["p-P-001-d0-ta0"]["class"] == "tpl"
    assert parsed.texts["p-P-001-d0-ta0"] == "Kompetisi Inovasi Pelayanan Publik"


def test_html_without_other_text_shows_excerpts(report: Report, html: str) -> None:
    parsed = _marks(html)
    pid = anchor_id(report.proposals[1].id)
    assert parsed.texts[f"{pid}-d0-a0"] == report.proposals[1].text[:150]
    assert parsed.attrs[f"{pid}-d0-b0"]["data-twin"] == f"{pid}-d0-a0"
    assert "Teks dokumen lain tidak tersedia" in html


def test_html_empty_report() -> None:
    out = render_html(Report(parameters={}, model="m"))
    assert "Tidak ada proposal yang diproses." in out


# --------------------------------------------------------------------------- rows, CSV, XLSX, JSON


def test_summary_rows(report: Report) -> None:
    rows = summary_rows(report)
    assert [r["id"] for r in rows] == [p.id for p in report.proposals]
    assert all(set(r) == set(SUMMARY_COLUMNS) for r in rows)
    assert rows[0]["rekomendasi"] == "Indikasi duplikasi"
    assert rows[0]["porsi_tertinggi"] == pytest.approx(0.087)
    assert rows[0]["jumlah_duplikasi"] == 1
    assert rows[0]["mirip_teratas_id"] == "ARS-2021-3"
    assert "Top 45" in str(rows[0]["mirip_teratas"])
    assert rows[2]["lengkap"] == "Tidak" and rows[2]["porsi_tertinggi"] is None


def test_csv(report: Report, tmp_path: Path) -> None:
    """By default what Indonesian office spreadsheets open directly: BOM, `;` between fields, decimal commas
    (issue 15); `international` keeps `,` and points."""
    path = tmp_path / "report.csv"
    write_csv(report, path)
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    with path.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter=";"))
    assert [r["ID"] for r in rows] == [p.id for p in report.proposals]
    assert rows[0]["Rekomendasi"] == "Indikasi duplikasi"
    assert rows[0]["Judul"] == "Lima Program Unggulan Bangka Barat"
    assert rows[0]["Porsi tumpang tindih tertinggi"] == "0,087"
    assert rows[1]["Instansi"].startswith("'=")  # no formula injection
    write_csv(report, path, csv_format="international")
    with path.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert rows[0]["Porsi tumpang tindih tertinggi"] == "0.087" and rows[0]["ID"] == report.proposals[0].id
    with pytest.raises(ValueError, match="id, international"):
        write_csv(report, path, csv_format="excel")


def test_template_only_findings_are_not_counted(report: Report) -> None:
    """`Jumlah temuan duplikasi` counts real findings only: a template-only overlap adds nothing (issue 15)."""
    p = report.proposals[0]
    template = p.duplicates[0].model_copy(update={"relation": "boilerplate", "share": 0.5, "other_id": "X-9"})
    with_template = report.model_copy(
        update={"proposals": [p.model_copy(update={"duplicates": [*p.duplicates, template]}), *report.proposals[1:]]}
    )
    row = summary_rows(with_template)[0]
    assert row["jumlah_duplikasi"] == 1 and row["porsi_tertinggi"] == pytest.approx(0.087)


def test_xlsx(report: Report, tmp_path: Path) -> None:
    path = tmp_path / "report.xlsx"
    write_xlsx(report, path)
    wb = load_workbook(path)
    assert wb.sheetnames == ["Ringkasan", "Duplikasi", "Kelengkapan", "Temuan", "Mirip", "Galat", "Parameter"]
    counts = {name: wb[name].max_row - 1 for name in wb.sheetnames}
    assert counts["Ringkasan"] == 3
    assert counts["Duplikasi"] == 2
    assert counts["Kelengkapan"] == 5
    assert counts["Temuan"] == 1
    assert counts["Mirip"] == 2
    assert counts["Galat"] == 1
    assert counts["Parameter"] == 4 + len(flatten(report.parameters)) + len(flatten(report.settings))
    ws = wb["Ringkasan"]
    header = [c.value for c in ws[1]]
    assert header == list(SUMMARY_COLUMNS.values())
    assert ws["A1"].font.bold and ws.freeze_panes == "A2" and ws.auto_filter.ref
    ids = [ws.cell(row=r, column=1).value for r in range(2, 5)]
    assert ids == [p.id for p in report.proposals]
    share = ws.cell(row=2, column=header.index("Porsi tumpang tindih tertinggi") + 1)
    assert share.value == pytest.approx(0.087) and "%" in share.number_format
    inst = ws.cell(row=3, column=header.index("Instansi") + 1)
    assert inst.data_type == "s" and inst.value.startswith("=")  # kept as text, not a formula
    dup = wb["Duplikasi"]
    assert dup.cell(row=2, column=1).value == "P-001" and dup.cell(row=2, column=2).value == "P-004"
    assert dup.cell(row=2, column=7).value == "Instansi/daerah lain"
    excerpt = dup.cell(row=2, column=13).value
    assert excerpt and excerpt[:40] == " ".join(report.proposals[0].duplicates[0].other_text.split())[:40]  # type: ignore[union-attr]
    params = {
        wb["Parameter"].cell(row=r, column=1).value: wb["Parameter"].cell(row=r, column=2).value
        for r in range(2, wb["Parameter"].max_row + 1)
    }
    assert params["parameters.duplication.shingle_size"] == 3 and params["model"] == report.model


def test_fmt_when() -> None:
    """Times in Indonesian time zones (issue 15): WIB by default; a time without an offset is UTC."""
    assert fmt_when("2026-03-02T09:15:00+07:00") == "2 Maret 2026 09.15 WIB"
    assert fmt_when("2026-03-02T09:15:00+07:00", zone="WITA") == "2 Maret 2026 10.15 WITA"
    assert fmt_when("2026-03-02T02:15:00+00:00", zone="WIT") == "2 Maret 2026 11.15 WIT"
    assert fmt_when("2026-12-31T23:05:00") == "1 Januari 2027 06.05 WIB"
    assert fmt_when("kemarin") == "kemarin" and fmt_when("") == "–"
    with pytest.raises(ValueError, match="WIB, WITA, WIT"):
        fmt_when("2026-03-02T09:15:00+07:00", zone="UTC")


def test_report_times_follow_the_configured_zone(report: Report, tmp_path: Path) -> None:
    wita = report.model_copy(update={"settings": {**report.settings, "timezone": "WITA"}})
    write_html(wita, tmp_path / "r.html")
    assert "2 Maret 2026 10.15 WITA" in (tmp_path / "r.html").read_text(encoding="utf-8")


def test_flatten() -> None:
    data = {"a": {"b": 1, "c": ["x", "y"]}, "d": [{"e": True}], "f": None}
    assert flatten(data) == [("a.b", 1), ("a.c", '["x", "y"]'), ("d.0.e", True), ("f", None)]


def test_json_round_trip(report: Report, tmp_path: Path) -> None:
    path = tmp_path / "sub" / "report.json"
    write_json(report, path)
    assert Report.model_validate_json(path.read_text(encoding="utf-8")) == report
    assert json.loads(path.read_text(encoding="utf-8"))["proposals"][0]["id"] == "P-001"


def test_write_report(report: Report, tmp_path: Path) -> None:
    paths = write_report(report, tmp_path / "out")
    assert set(paths) == {"json", "xlsx", "csv", "html"}
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "report.csv",
        "report.html",
        "report.json",
        "report.xlsx",
    ]
    assert Report.model_validate_json(paths["json"].read_text(encoding="utf-8")) == report
    body = paths["html"].read_text(encoding="utf-8")
    csv_text = paths["csv"].read_text(encoding="utf-8-sig")
    wb = load_workbook(paths["xlsx"])
    xlsx_ids = {wb["Ringkasan"].cell(row=r, column=1).value for r in range(2, wb["Ringkasan"].max_row + 1)}
    for p in report.proposals:
        assert anchor_id(p.id) in body
        assert p.id in csv_text or json.dumps(p.id)[1:-1] in csv_text or p.id.replace('"', '""') in csv_text
        assert p.id in xlsx_ids


def test_json_is_written_in_pieces_byte_for_byte(report: Report, tmp_path: Path) -> None:
    """report.json is written one proposal at a time; the file equals the report dumped in one piece."""
    assert len(report.proposals) > 1
    write_json(report, tmp_path / "r.json")
    assert (tmp_path / "r.json").read_text(encoding="utf-8") == report.model_dump_json(indent=2)
    empty = report.model_copy(update={"proposals": []})
    write_json(empty, tmp_path / "e.json")
    assert (tmp_path / "e.json").read_text(encoding="utf-8") == empty.model_dump_json(indent=2)


def test_html_file_is_the_rendered_report(report: Report, html: str, tmp_path: Path) -> None:
    """report.html is written as the template generates it (duplicate views built proposal by proposal)."""
    write_report(report, tmp_path)
    assert (tmp_path / "report.html").read_text(encoding="utf-8") == html


# --------------------------------------------------------------------------- merged passages and segments

# Real sentences of the seed articles (asserted to be there): three copied from seed 0, reordered and one edited;
# one of seed 4 that the other document holds in English (a translation); one paragraph of seed 0 copied as an
# old-style passage (written before segments existed: `segments == []`).
S1 = (
    "Mulai dari tahapan penjaringan 2.135 proposal yang masuk ke Menpan RB, yang dinyatakan lolos administrasi "
    "hanya sebanyak 1.381 proposal."
)
S2 = (
    "Tidak sampai disitu, Tim Panel Independen kembali melakukan seleksi, ada 99 inovasi yang menjadi TOP KIPP "
    "terpuji, termasuk inovasi milik Pemkab Bintan."
)
S3 = "Kemudian, Gubernur atau Walikota dan Bupati yang masuk TOP 99 ini melakukan pemaparan materi."
S3_EDITED = "Kemudian, Gubernur atau Wali Kota dan Bupati yang masuk TOP 99 ini memaparkan materi inovasinya."
GAP = " Sebelumnya, panitia menjelaskan: "
ID_SENTENCE = (
    "Kementerian PANRB membagi penilaian ke dalam tiga kelompok: kelompok instansi pemerintah, kelompok "
    "keberlanjutan inovasi, dan kelompok replikasi inovasi."
)
EN_SENTENCE = (
    "The Ministry of PANRB divides the assessment into three groups: the government agency group, the "
    "innovation sustainability group, and the innovation replication group."
)
SEG_BASE = "p-P-SEG-d0"


def build_segment_report(seed_texts: list[str]) -> tuple[Report, dict[str, str]]:
    """One proposal with a merged passage of three segments (the second reordered on the other side, the third
    edited), a translated passage (one segment: the passage itself) and an old passage without segments; plus
    an archive duplicate that is a translation only."""
    other_id, seed4 = seed_texts[0], seed_texts[4]
    for sentence in (S1, S2, S3):
        assert sentence in other_id, sentence
    assert ID_SENTENCE in seed4
    old = next(line for line in other_id.split("\n") if line.startswith("Saat itu, Bupati Bintan"))
    assert len(old) > 150
    other = other_id + "\n\n" + EN_SENTENCE + "\n"
    intro = seed_texts[2].split("\n")[0]
    copied = S2 + GAP + S1 + " " + S3_EDITED
    text = intro + "\n" + copied + "\n" + ID_SENTENCE + "\n" + old + "\n" + seed_texts[3][:800]

    def at(t: str, piece: str) -> tuple[int, int]:
        i = t.index(piece)
        return i, i + len(piece)

    (a2, e2), (a1, e1), (a3, e3) = at(text, S2), at(text, S1), at(text, S3_EDITED)
    (b1, f1), (b2, f2), (b3, f3) = at(other, S1), at(other, S2), at(other, S3)
    assert b1 < b2 < b3 and a2 < a1 < a3, "the copy puts the second sentence first"
    merged = Passage(
        start=a2,
        end=e3,
        other_start=b1,
        other_end=f3,
        match_type="identical",
        score=0.93,
        words=len(copied.split()),
        segments=[
            Segment(start=a2, end=e2, other_start=b2, other_end=f2, match_type="identical"),
            Segment(start=a1, end=e1, other_start=b1, other_end=f1, match_type="identical"),
            Segment(start=a3, end=e3, other_start=b3, other_end=f3, match_type="edited", score=0.71),
        ],
    )
    (ti, tj), (ui, uj) = at(text, ID_SENTENCE), at(other, EN_SENTENCE)
    translated = Passage(
        start=ti,
        end=tj,
        other_start=ui,
        other_end=uj,
        match_type="translated",
        score=0.88,
        words=len(ID_SENTENCE.split()),
        segments=[Segment(start=ti, end=tj, other_start=ui, other_end=uj, match_type="translated", score=0.88)],
    )
    (oi, oj), (pi, pj) = at(text, old), at(other, old)
    legacy = Passage(start=oi, end=oj, other_start=pi, other_end=pj, match_type="identical", words=len(old.split()))
    dup = Duplicate(
        other_id="P-004",
        other_judul="Kampung Kerupuk Modern",
        other_instansi="Pemerintah Kabupaten Bintan",
        relation="other_region",
        match_type="identical",
        share=0.4,
        other_share=0.2,
        longest_passage_words=merged.words,
        passages=[merged, translated, legacy],
        other_text=other,
    )
    en_only = Duplicate(
        other_id="ARS-2020-5",
        other_source="archive",
        relation="other_region",
        match_type="translated",
        share=0.05,
        passages=[translated.model_copy(update={"other_start": 0, "other_end": len(EN_SENTENCE), "segments": []})],
        other_text=EN_SENTENCE,
    )
    prop = ProposalResult(
        id="P-SEG",
        judul="Penjaringan Inovasi",
        instansi="Pemerintah Kabupaten Bangka Barat",
        text=text,
        recommendation="indikasi_duplikasi",
        reasons=[Reason(code="salinan", message="Bagian disalin.", evidence="/duplicates/0/passages/0/segments/1")],
        completeness=Completeness(form="2023_umum", complete=True),
        duplicates=[dup, en_only],
    )
    report = Report(parameters={"version": "2026.12.0"}, model="m", proposals=[prop])
    return report, {"text": text, "other": other, "old": old, "copied": copied}


@pytest.fixture(scope="module")
def seg_report(seed_texts: list[str]) -> tuple[Report, dict[str, str]]:
    return build_segment_report(seed_texts)


@pytest.fixture(scope="module")
def seg_html(seg_report: tuple[Report, dict[str, str]]) -> str:
    return render_html(seg_report[0], context_chars=None)


def test_merged_passage_is_one_unit_with_its_segments_on_both_sides(
    seg_report: tuple[Report, dict[str, str]], seg_html: str
) -> None:
    _, t = seg_report
    parsed = _marks(seg_html)
    a, b = f"{SEG_BASE}-a0", f"{SEG_BASE}-b0"
    # One numbered unit, the same colour on both sides, lighter where no segment matched.
    for eid, twin in ((a, b), (b, a)):
        assert parsed.attrs[eid]["class"] == "m0 parts"
        assert parsed.attrs[eid]["data-n"] == "1" and parsed.attrs[eid]["data-twin"] == twin
        assert parsed.attrs[eid]["title"] == (
            f"Bagian 1 · identik · {len(t['copied'].split())} kata · 3 segmen (2 identik, 1 disunting) · urutan diubah"
        )
    # This side: the whole copied span, gaps included; the other side: from its first to its last segment.
    assert parsed.texts[a] == t["copied"]
    assert parsed.texts[b] == t["other"][t["other"].index(S1) : t["other"].index(S3) + len(S3)]
    # Each segment at its own offsets on both sides, with its own match type.
    expected = [
        (S2, S2, "identical", "identik"),
        (S1, S1, "identical", "identik"),
        (S3_EDITED, S3, "edited", "disunting"),
    ]
    for k, (mine, theirs, mt, label) in enumerate(expected):
        sa, sb = f"{a}s{k}", f"{b}s{k}"
        assert parsed.texts[sa] == mine and parsed.texts[sb] == theirs, k
        for eid, twin in ((sa, sb), (sb, sa)):
            attrs = parsed.attrs[eid]
            assert attrs["class"] == "seg m0" and attrs["data-match"] == mt and attrs["data-twin"] == twin
            assert f"segmen {k + 1} dari 3 · {label}" in str(attrs["title"])
            assert "data-n" not in attrs
    # The gap between the first two segments lies inside the passage but in no segment.
    assert f'</mark>{escape(GAP)}<mark class="seg m0" id="{a}s1"' in seg_html
    # The other side follows the other text's order: the reordered sentence's segment opens the passage there.
    assert re.search(rf'<mark class="m0 parts" id="{b}"[^>]*><mark class="seg m0" id="{b}s1"', seg_html)
    assert seg_html.index(f'id="{b}s1"') < seg_html.index(f'id="{b}s0"') < seg_html.index(f'id="{b}s2"')
    assert seg_html.index(f'id="{a}s0"') < seg_html.index(f'id="{a}s1"') < seg_html.index(f'id="{a}s2"')


def test_translated_passage_is_labelled_everywhere(seg_report: tuple[Report, dict[str, str]], seg_html: str) -> None:
    parsed = _marks(seg_html)
    a, b = f"{SEG_BASE}-a1", f"{SEG_BASE}-b1"
    assert parsed.texts[a] == ID_SENTENCE and parsed.texts[b] == EN_SENTENCE
    for eid in (a, b):
        assert parsed.attrs[eid]["class"] == "m1", "a passage that is its own single segment has no parts"
        assert parsed.attrs[eid]["data-match"] == "translated"
        assert parsed.attrs[eid]["title"] == f"Bagian 2 · terjemahan · {len(ID_SENTENCE.split())} kata"
    assert f"{a}s0" not in parsed.attrs
    # the passage table and the legend name the type in Indonesian
    table = re.search(rf'<a href="#{a}" class="n m1">2</a></td><td>(.*?)</td>', seg_html)
    assert table is not None and table.group(1) == '<span class="mt mt-translated">terjemahan</span>'
    row0 = re.search(rf'<a href="#{SEG_BASE}-a0" class="n m0">1</a></td><td>(.*?)</td>', seg_html)
    assert row0 is not None and "3 segmen (2 identik, 1 disunting) · urutan diubah" in row0.group(1)
    assert '<mark class="seg m0 legend" data-match="translated">terjemahan</mark>' in seg_html
    assert "3 bagian cocok (5 segmen)" in seg_html
    assert '<span class="chip mt mt-translated">terjemahan</span>' in seg_html, "the translation-only finding"
    assert "mark[data-match=translated]" in seg_html, "the report styles translated text"


def test_passage_without_segments_renders_as_before(
    seg_report: tuple[Report, dict[str, str]], seg_html: str, html: str
) -> None:
    _, t = seg_report
    old = escape(t["old"])
    words = len(t["old"].split())
    for side, twin in (("a", "b"), ("b", "a")):
        expected = (
            f'<mark class="m2" id="{SEG_BASE}-{side}2" data-n="3" data-twin="{SEG_BASE}-{twin}2" '
            f'title="Bagian 3 · identik · {words} kata">{old}</mark>'
        )
        assert expected in seg_html, side
    assert f'id="{SEG_BASE}-a2s0"' not in seg_html
    # A report without segments has no segment marks, no match attributes on passages and no segment legend.
    assert not any("parts" in c or "seg" in c for c in re.findall(r'<mark class="([^"]*)"', html))
    assert not re.search(r"<mark[^>]*data-match", html)
    assert "segmen" not in html.split("</style>", 1)[1].split("<script>", 1)[0]


def test_evidence_anchor_reaches_segments(seg_report: tuple[Report, dict[str, str]], seg_html: str) -> None:
    p = seg_report[0].proposals[0]
    assert evidence_anchor(p, "/duplicates/0/passages/0/segments/2") == f"{SEG_BASE}-a0s2"
    assert evidence_anchor(p, "/duplicates/0/passages/0/segments/3") == f"{SEG_BASE}-a0"
    assert evidence_anchor(p, "/duplicates/0/passages/1/segments/0") == f"{SEG_BASE}-a1", "no marks of its own"
    assert evidence_anchor(p, "/duplicates/0/passages/2/segments/0") == f"{SEG_BASE}-a2"
    assert f'href="#{SEG_BASE}-a0s1"' in seg_html and f'id="{SEG_BASE}-a0s1"' in seg_html


def test_excerpted_view_keeps_segments_whole(seg_report: tuple[Report, dict[str, str]]) -> None:
    """With the default context the far text is elided, never the segments or the gaps between them."""
    parsed = _marks(render_html(seg_report[0]))
    assert parsed.texts[f"{SEG_BASE}-a0"] == seg_report[1]["copied"]
    assert parsed.texts[f"{SEG_BASE}-b0s1"] == S1 and parsed.texts[f"{SEG_BASE}-b0s2"] == S3


def test_xlsx_counts_segments_and_names_translations(seg_report: tuple[Report, dict[str, str]], tmp_path: Path) -> None:
    path = tmp_path / "report.xlsx"
    write_xlsx(seg_report[0], path)
    ws = load_workbook(path)["Duplikasi"]
    header = [c.value for c in ws[1]]
    rows = [dict(zip(header, (c.value for c in ws[r]), strict=True)) for r in (2, 3)]
    assert rows[0]["Jenis kecocokan"] == "identik"
    assert rows[0]["Jumlah bagian"] == 3 and rows[0]["Jumlah segmen"] == 5
    assert rows[0]["Jenis kecocokan dalam bagian"] == "identik, disunting, terjemahan"
    assert rows[1]["Jenis kecocokan"] == "terjemahan" and rows[1]["Jumlah segmen"] == 1
    assert rows[1]["Jenis kecocokan dalam bagian"] == "terjemahan"


def test_word_diff_marks_what_an_edit_changed(seed_texts: list[str]) -> None:
    """Issue 15: inside an edited passage the changed words are marked on both sides (real news text, a few
    figures and words changed by the copier)."""
    from screening.render import _passage_spans, highlight, word_diff

    src = seed_texts[0][:900]
    words = src.split()
    assert len(words) > 60
    edited = src.replace(words[20], "DIGANTI", 1).replace(f" {words[40]} ", " ", 1)
    only_a, only_b = word_diff(edited, 0, len(edited), src, 0, len(src))
    assert [edited[s:e] for s, e in only_a] == ["DIGANTI"]
    changed_b = " ".join(src[s:e] for s, e in only_b)
    assert words[20] in changed_b and words[40] in changed_b
    assert len(only_b) == 2
    # identical texts: nothing marked; punctuation and case alone are no change
    assert word_diff(src, 0, len(src), src, 0, len(src)) == ([], [])
    assert word_diff("Kota Palu,", 0, 10, "kota palu", 0, 9) == ([], [])

    p = Passage(start=0, end=len(edited), other_start=0, other_end=len(src), match_type="edited", words=len(words))
    left, right, attrs = _passage_spans("x", 0, [p], [], texts=(edited, src))
    html = str(highlight(edited, left, attrs=attrs))
    assert '<mark class="diff-add">DIGANTI</mark>' in html
    assert sum(1 for s in right if s[2] == "diff-del") == 2
    # without both texts (e.g. a portal view without the other text) nothing is diffed
    left, right, _ = _passage_spans("x", 0, [p], [], texts=(edited, None))
    assert not [s for s in left + right if s[2].startswith("diff")]
