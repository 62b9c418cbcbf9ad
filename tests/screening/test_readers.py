"""Readers on real Indonesian proposal text: every format round-trips, and bad input becomes one clear error."""

from __future__ import annotations

import csv
import importlib.util
import io
import json
import zipfile
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from screening import readers
from screening.errors import InputError
from screening.params import INPUT_KEYS, Parameters
from screening.proposal import KEY_HEADINGS, Proposal
from screening.readers import SUPPORTED_EXTENSIONS, ReadResult, detect_sections, read_bytes, read_path

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "corpus" / "sample"
BATCH = SAMPLE / "batch"
META_FIELDS = ("id", "judul", "instansi", "klaster", "wilayah", "tahun", "tahun_implementasi", "replikasi_dari")
META_LABELS = {
    "id": "ID",
    "judul": "Judul Inovasi",
    "instansi": "Instansi",
    "klaster": "Klaster",
    "wilayah": "Wilayah",
    "tahun": "Tahun",
    "tahun_implementasi": "Tahun Implementasi",
    "replikasi_dari": "Replikasi dari",
    "video": "Video",
    "sk": "SK",
    "kontak": "Kontak",
    "status": "Status",
}


def _jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


ARCHIVE = _jsonl(SAMPLE / "archive.jsonl")
BATCH_RECORDS = _jsonl(BATCH / "proposals.jsonl")


def _by_id(records: list[dict[str, Any]], pid: str) -> dict[str, Any]:
    return next(r for r in records if r["id"] == pid)


def _make_files() -> ModuleType:
    spec = importlib.util.spec_from_file_location("sample_make_files", SAMPLE / "make_files.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _ws(s: str) -> str:
    return " ".join(s.split())


def _same_bagian(got: dict[str, str], want: dict[str, str]) -> None:
    assert sorted(got) == sorted(k for k, v in want.items() if v.strip())
    for k, v in want.items():
        assert _ws(got[k]) == _ws(v), k


def _same_meta(p: Proposal, rec: dict[str, Any], fields: tuple[str, ...] = META_FIELDS) -> None:
    for f in fields:
        assert getattr(p, f) == (rec.get(f) or Proposal.model_fields[f].default), f


def _only(res: ReadResult) -> Proposal:
    assert not res.errors, res.errors
    assert len(res.proposals) == 1
    return res.proposals[0]


def _error(res: ReadResult) -> str:
    assert len(res.errors) == 1, res.errors
    e = res.errors[0]
    assert e.reason and e.reason_en and e.file
    return e.reason


# ---------------------------------------------------------------------------- writers used by the tests


def _sections_of(rec: dict[str, Any]) -> list[tuple[str, str]]:
    """Numbered canonical headings and texts of a record's sections, in form order."""
    keys = [k for k in INPUT_KEYS if rec["bagian"].get(k)]
    return [(f"{i}. {KEY_HEADINGS[k]}", rec["bagian"][k]) for i, k in enumerate(keys, start=1)]


def _meta_lines(rec: dict[str, Any]) -> list[str]:
    return [f"{label}: {rec[f]}" for f, label in META_LABELS.items() if rec.get(f)]


def _docx_bytes(rec: dict[str, Any], *, sections: list[tuple[str, str]] | None = None, table: bool = False) -> bytes:
    from docx import Document

    doc = Document()
    if table:
        t = doc.add_table(rows=0, cols=2)
        for f, label in META_LABELS.items():
            if rec.get(f):
                cells = t.add_row().cells
                cells[0].text, cells[1].text = label, str(rec[f])
        for heading, body in sections or _sections_of(rec):
            cells = t.add_row().cells
            cells[0].text, cells[1].text = heading, body
    else:
        for line in _meta_lines(rec):
            doc.add_paragraph(line)
        for heading, body in sections or _sections_of(rec):
            doc.add_heading(heading, level=2)
            for para in body.split("\n\n"):
                doc.add_paragraph(para)
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def _pdf_bytes(lines_and_sections: tuple[list[str], list[tuple[str, str]]], *, unicode_font: bool = False) -> bytes:
    from fpdf import FPDF

    meta, sections = lines_and_sections
    pdf = FPDF(format="A4")
    pdf.set_margins(20, 20, 20)
    pdf.add_page()
    font = "Helvetica"
    dejavu = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
    if unicode_font and dejavu.is_file():
        pdf.add_font("DejaVu", fname=str(dejavu))
        font = "DejaVu"
    pdf.set_font(font, size=10)
    for line in meta:
        pdf.multi_cell(0, 5, line, new_x="LMARGIN", new_y="NEXT")
    for heading, body in sections:
        pdf.ln(3)
        pdf.multi_cell(0, 6, heading, new_x="LMARGIN", new_y="NEXT")
        for para in body.split("\n\n"):
            pdf.multi_cell(0, 5, para, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def _zip_bytes(members: dict[str, bytes], *, compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=compression) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


# ---------------------------------------------------------------------------- the sample batch


def test_sample_batch_folder_reads_everything_but_the_corrupt_pdf(params: Parameters) -> None:
    res = read_path(BATCH, params=params)
    ids = sorted(p.id for p in res.proposals)
    assert ids == sorted({r["id"] for r in BATCH_RECORDS} | {"usulan-2025-19", "usulan-2025-20"})
    assert len(res.errors) == 1
    err = res.errors[0]
    assert err.file == "rusak.pdf"
    assert err.reason.startswith("PDF rusak atau tidak dapat dibaca")
    assert "PDF" in err.reason_en


def test_sample_jsonl_equals_its_records(params: Parameters) -> None:
    res = read_path(BATCH / "proposals.jsonl", params=params)
    assert not res.errors
    assert len(res.proposals) == len(BATCH_RECORDS) == 18
    for p, rec in zip(res.proposals, BATCH_RECORDS, strict=True):
        assert p == Proposal.model_validate({**rec, "source": "proposals.jsonl"})


@pytest.mark.parametrize(
    ("file", "which"), [("kota-contoh-inovasi.docx", "DOCX_PROPOSAL"), ("kabupaten-contoh-inovasi.pdf", "PDF_PROPOSAL")]
)
def test_sample_document_reads_back_as_its_jsonl_equivalent(params: Parameters, file: str, which: str) -> None:
    spec = getattr(_make_files(), which)
    meta = dict(spec["meta"])
    paras = {heading.split(". ", 1)[1]: ps for heading, ps in spec["sections"]}
    background, aim = paras.pop("Latar Belakang dan Tujuan")
    heading_key = {v: k for k, v in KEY_HEADINGS.items()}
    want = Proposal(
        id=meta["ID"],
        judul=meta["Judul"],
        instansi=meta["Instansi"],
        klaster=meta["Klaster"],
        wilayah=meta["Wilayah"],
        tahun=int(meta["Tahun"]),
        tahun_implementasi=int(meta["Tahun Implementasi"]),
        video=meta["Video"],
        sk=meta["SK"],
        bagian={
            "latar_belakang": background,
            "tujuan": aim,
            **{heading_key[h]: "\n\n".join(ps) for h, ps in paras.items()},
        },
        source=file,
    )
    got = _only(read_path(BATCH / file, params=params))
    assert got.model_dump(exclude={"bagian"}) == want.model_dump(exclude={"bagian"})
    _same_bagian(got.bagian, want.bagian)
    if file.endswith(".docx"):  # paragraphs survive in DOCX
        assert got.bagian == want.bagian


def test_corrupt_pdf_alone_is_one_indonesian_error(params: Parameters) -> None:
    res = read_path(BATCH / "rusak.pdf", params=params)
    assert not res.proposals
    assert _error(res) == "PDF rusak atau tidak dapat dibaca"
    assert res.errors[0].file == "rusak.pdf"


def test_missing_path_fails_the_whole_call(params: Parameters, tmp_path: Path) -> None:
    with pytest.raises(InputError) as exc:
        read_path(tmp_path / "tidak-ada", params=params)
    assert "tidak ditemukan" in exc.value.reason_id


# ---------------------------------------------------------------------------- round trips from the archive

ROUND_TRIP_IDS = ["arsip-001", "arsip-009", "arsip-017", "arsip-027"]


@pytest.mark.parametrize("pid", ROUND_TRIP_IDS)
def test_docx_round_trip(params: Parameters, pid: str) -> None:
    rec = _by_id(ARCHIVE, pid)
    p = _only(read_bytes(f"{pid}.docx", _docx_bytes(rec), params=params))
    _same_meta(p, rec)
    assert (p.video, p.sk, p.kontak, p.status) == (rec.get("video"), rec.get("sk"), rec.get("kontak"), rec["status"])
    assert p.bagian == rec["bagian"]
    assert p.unassigned == ""
    assert p.source == f"{pid}.docx"


def test_docx_table_form_round_trip(params: Parameters) -> None:
    rec = _by_id(ARCHIVE, "arsip-010")
    p = _only(read_bytes("tabel.docx", _docx_bytes(rec, table=True), params=params))
    _same_meta(p, rec)
    assert p.bagian == rec["bagian"]


@pytest.mark.parametrize("pid", ["arsip-001", "arsip-022"])
def test_pdf_round_trip(params: Parameters, pid: str) -> None:
    rec = _by_id(ARCHIVE, pid)
    data = _pdf_bytes((_meta_lines(rec), _sections_of(rec)))
    p = _only(read_bytes(f"{pid}.pdf", data, params=params))
    _same_meta(p, rec)
    _same_bagian(p.bagian, rec["bagian"])


def test_replication_txt_round_trip_uses_the_replication_form(params: Parameters) -> None:
    rec = _by_id(BATCH_RECORDS, "usulan-2025-09")
    assert rec["replikasi_dari"]
    # the replication form's own headings: "Nilai Tambah" means faktor_pembeda there, "Inspirasi Replikasi" inspirasi
    sections = [("Inspirasi Replikasi", rec["bagian"]["inspirasi"]), ("Nilai Tambah", rec["bagian"]["faktor_pembeda"])]
    sections += [(h, t) for h, t in _sections_of(rec) if "Inspirasi" not in h and "Faktor Pembeda" not in h]
    text = "\n".join(_meta_lines(rec)) + "\n\n" + "\n\n".join(f"{h}\n{t}" for h, t in sections)
    p = _only(read_bytes("replikasi.txt", text.encode("utf-8"), params=params))
    _same_meta(p, rec)
    assert p.bagian == rec["bagian"]


def _table_rows(recs: list[dict[str, Any]], *, headings: bool) -> tuple[list[str], list[list[Any]]]:
    meta = ["id", "judul", "instansi", "klaster", "wilayah", "tahun", "tahun_implementasi", "status"]
    keys = [k for k in INPUT_KEYS if any(r["bagian"].get(k) for r in recs)]
    header = [*meta, *(KEY_HEADINGS[k].upper() if headings else k for k in keys)]
    rows = [[r.get(f) for f in meta] + [r["bagian"].get(k, "") for k in keys] for r in recs]
    return header, rows


@pytest.mark.parametrize("headings", [False, True], ids=["keys", "headings"])
def test_xlsx_round_trip(params: Parameters, headings: bool) -> None:
    from openpyxl import Workbook

    recs = ARCHIVE[:6]
    header, rows = _table_rows(recs, headings=headings)
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(header)
    for i, row in enumerate(rows):
        ws.append(row)
        if i == 1:
            ws.append([None] * len(header))  # a blank row is skipped silently
    ws.append(["arsip-999", "Tanpa Isi", "Pemerintah Kota Contoh", "kota", "", 2023, 2021, "peserta"])
    buf = io.BytesIO()
    wb.save(buf)
    res = read_bytes("arsip.xlsx", buf.getvalue(), params=params)
    assert [p.id for p in res.proposals] == [r["id"] for r in recs]
    for p, rec in zip(res.proposals, recs, strict=True):
        _same_meta(p, rec)
        assert p.status == rec["status"]
        assert p.bagian == rec["bagian"]
    assert _error(res) == f"baris {len(recs) + 3} tidak berisi teks"


def test_xlsx_skips_sheets_without_a_proposal_table(params: Parameters) -> None:
    from openpyxl import Workbook

    wb = Workbook()
    guide = wb.active
    assert guide is not None
    guide.title = "Petunjuk"
    guide.append(["Isi satu usulan per baris; kolom bagian memakai judul bagian formulir."])
    data = wb.create_sheet("Usulan 2023")
    header, rows = _table_rows(ARCHIVE[:3], headings=True)
    data.append(header)
    for row in rows:
        data.append(row)
    data.append(["arsip-x", "Judul", "Instansi", "kota", "", "dua ribu", 2021, "peserta", "Ringkasan singkat."])
    buf = io.BytesIO()
    wb.save(buf)
    res = read_bytes("arsip.xlsx", buf.getvalue(), params=params)
    assert [p.id for p in res.proposals] == [r["id"] for r in ARCHIVE[:3]]
    assert _error(res) == "lembar 'Usulan 2023' baris 5: tahun 'dua ribu' bukan tahun"


def test_header_only_table_is_an_error(params: Parameters) -> None:
    reason = _error(read_bytes("kosong.csv", b"id;judul;ringkasan\n", params=params))
    assert reason == "tabel tidak berisi baris usulan"


def _csv_text(recs: list[dict[str, Any]], *, delimiter: str = ",") -> str:
    header, rows = _table_rows(recs, headings=False)
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=delimiter)
    w.writerow(header)
    w.writerows(["" if v is None else v for v in row] for row in rows)
    return buf.getvalue()


@pytest.mark.parametrize(("encoding", "delimiter"), [("utf-8", ","), ("utf-8-sig", ";"), ("cp1252", ",")])
def test_csv_round_trip_in_each_encoding(params: Parameters, encoding: str, delimiter: str) -> None:
    recs = [dict(r) for r in ARCHIVE[6:10]]
    recs[0] = {**recs[0], "judul": recs[0]["judul"] + " – Edisi Café"}  # en dash and é exist in Windows-1252
    data = _csv_text(recs, delimiter=delimiter).encode(encoding)
    if encoding == "cp1252":
        with pytest.raises(UnicodeDecodeError):
            data.decode("utf-8")
    res = read_bytes("arsip.csv", data, params=params)
    assert not res.errors
    for p, rec in zip(res.proposals, recs, strict=True):
        _same_meta(p, rec)
        assert p.bagian == rec["bagian"]


def test_csv_with_undecodable_bytes_is_refused(params: Parameters) -> None:
    data = _csv_text(ARCHIVE[:1]).encode("utf-8") + b"\x81\x8d\x8f\x90"
    reason = _error(read_bytes("arsip.csv", data, params=params))
    assert "UTF-8" in reason


def test_csv_unknown_column_is_named(params: Parameters) -> None:
    text = _csv_text(ARCHIVE[:2]).replace("status", "skor_panel", 1)
    reason = _error(read_bytes("arsip.csv", text.encode(), params=params))
    assert "skor_panel" in reason and "kolom tidak dikenal" in reason


def test_csv_row_without_id(params: Parameters) -> None:
    text = _csv_text(ARCHIVE[:2]).replace(ARCHIVE[1]["id"], "", 1)
    res = read_bytes("arsip.csv", text.encode(), params=params)
    assert [p.id for p in res.proposals] == [ARCHIVE[0]["id"]]
    assert _error(res) == "baris 3: kolom id kosong"


# ---------------------------------------------------------------------------- JSON and JSONL


def test_jsonl_bad_lines_are_errors_and_the_rest_is_read(params: Parameters) -> None:
    good = [json.dumps(r, ensure_ascii=False) for r in ARCHIVE[:3]]
    unknown_field = json.dumps({**ARCHIVE[3], "skor": 87})
    unknown_key = json.dumps({**ARCHIVE[4], "bagian": {**ARCHIVE[4]["bagian"], "anggaran": "Rp1 miliar"}})
    lines = [good[0], '{"id": "rusak", "judul": ', good[1], unknown_field, "", unknown_key, good[2]]
    res = read_bytes("arsip.jsonl", "\n".join(lines).encode(), params=params)
    assert [p.id for p in res.proposals] == [r["id"] for r in ARCHIVE[:3]]
    reasons = [e.reason for e in res.errors]
    assert len(reasons) == 3
    assert reasons[0].startswith("baris 2: JSON tidak valid")
    assert reasons[1].startswith("baris 4: kolom tidak dikenal: skor")
    assert reasons[2].startswith("baris 6: kunci bagian tidak dikenal: anggaran")
    assert all(e.file == "arsip.jsonl" for e in res.errors)
    assert res.errors[0].reason_en.startswith("line 2:")


def test_json_object_and_list(params: Parameters) -> None:
    one = _only(read_bytes("satu.json", json.dumps(ARCHIVE[0]).encode(), params=params))
    assert one.bagian == ARCHIVE[0]["bagian"]
    items = [ARCHIVE[1], {**ARCHIVE[2], "tahun": "dua ribu"}, {k: v for k, v in ARCHIVE[3].items() if k != "id"}]
    res = read_bytes("banyak.json", json.dumps(items).encode(), params=params)
    assert [p.id for p in res.proposals] == [ARCHIVE[1]["id"]]
    assert [e.reason for e in res.errors] == [
        "data ke-2: kolom 'tahun' harus berupa bilangan bulat",
        "data ke-3: id wajib diisi",
    ]


def test_duplicate_ids_keep_the_first(params: Parameters, tmp_path: Path) -> None:
    (tmp_path / "a.jsonl").write_text(json.dumps(ARCHIVE[0]) + "\n", encoding="utf-8")
    (tmp_path / "b.json").write_text(json.dumps(ARCHIVE[0]), encoding="utf-8")
    res = read_path(tmp_path, params=params)
    assert [p.source for p in res.proposals] == ["a.jsonl"]
    assert res.errors[0].file == "b.json" and "ganda" in res.errors[0].reason


# ---------------------------------------------------------------------------- headings


def test_heading_variants(params: Parameters) -> None:
    r = _by_id(ARCHIVE, "arsip-012")["bagian"]
    text = "\n".join(
        [
            "Judul Inovasi: SI JEMPUT",
            "Mulai diterapkan: Maret 2020",
            "",
            f"Ringkasan: {r['ringkasan']}",
            "I. LATAR BELAKNG",
            r["latar_belakang"],
            "2) Tujuan:",
            r["tujuan"],
            "A. Kebaruan dan Nilai Tambah",
            r["kebaruan"],
            "**4.1 Implementasi Inovasi**",
            r["implementasi"],
            "Bab V Signifikansi",
            r["signifikansi"],
            "- Strategi keberlanjutan :",
            r["keberlanjutan"],
            "Lampiran",
            "Foto kegiatan dan SK terlampir.",
        ]
    )
    sections, unassigned = detect_sections(text, params=params)
    assert sections == {k: r[k] for k in ("ringkasan", "latar_belakang", "tujuan", "kebaruan", "implementasi")} | {
        "signifikansi": r["signifikansi"],
        "keberlanjutan": r["keberlanjutan"],
    }
    assert unassigned.startswith("Judul Inovasi: SI JEMPUT")
    assert unassigned.endswith("Lampiran\n\nFoto kegiatan dan SK terlampir.")
    p = _only(read_bytes("si-jemput.txt", text.encode(), params=params))
    assert (p.id, p.judul, p.tahun_implementasi) == ("si-jemput", "SI JEMPUT", 2020)
    assert p.unassigned == "Lampiran\n\nFoto kegiatan dan SK terlampir."


def test_body_lines_that_mention_a_section_are_not_headings(params: Parameters) -> None:
    text = (
        "Ringkasan\n"
        "Layanan ini dibahas dalam forum warga dan rapat dinas sehingga seluruh\n"
        "implementasi\n"  # a wrapped line: lower case, inside a paragraph
        "berjalan sesuai jadwal. Implementasi program dimulai pada 2021 di tiga kecamatan.\n"
        "Signifikansi inovasi terlihat dari turunnya waktu tunggu.\n"
    )
    sections, _ = detect_sections(text, params=params)
    assert list(sections) == ["ringkasan"]
    assert "seluruh implementasi berjalan" in sections["ringkasan"]


def test_combined_heading_is_split_at_the_aim_sentence(params: Parameters) -> None:
    r = _by_id(ARCHIVE, "arsip-015")["bagian"]
    text = f"Latar Belakang dan Tujuan\n{r['latar_belakang']} {r['tujuan']}"
    sections, _ = detect_sections(text, params=params, form="2023-umum")
    assert sections == {"latar_belakang": r["latar_belakang"], "tujuan": r["tujuan"]}


def test_2021_form_headings(params: Parameters) -> None:
    text = (
        "1. Ide Inovatif\nGagasan baru.\n"
        "2. Kolaborasi Pemangku Kepentingan\nDinas dan warga.\n"
        "3. Kontribusi SDGs\nTPB 3."
    )
    sections, _ = detect_sections(text, params=params, form="2021-umum")
    assert sections == {
        "latar_belakang": "Gagasan baru.",
        "pemangku_kepentingan": "Dinas dan warga.",
        "kontribusi_tpb": "TPB 3.",
    }


# ---------------------------------------------------------------------------- DOCX and PDF specifics


def test_docx_without_id_takes_the_file_name(params: Parameters) -> None:
    rec = {k: v for k, v in _by_id(ARCHIVE, "arsip-016").items() if k != "id"}
    p = _only(read_bytes("folder/Cold Storage Wakatobi.docx", _docx_bytes(rec), params=params))
    assert p.id == "Cold Storage Wakatobi"
    assert p.source == "folder/Cold Storage Wakatobi.docx"


def test_document_without_form_headings_is_not_a_proposal(params: Parameters) -> None:
    from docx import Document

    doc = Document()
    doc.add_paragraph("KEPUTUSAN BUPATI TABALONG NOMOR 188.45/371/2023")
    doc.add_paragraph("Menetapkan tim inovasi Sekolah Sungai Tabalong sebagai berikut.")
    buf = io.BytesIO()
    doc.save(buf)
    reason = _error(read_bytes("SK-tim-inovasi.docx", buf.getvalue(), params=params))
    assert reason.startswith("tidak ditemukan judul bagian formulir")


def test_windows_upload_name_gives_the_stem(params: Parameters) -> None:
    text = "Ringkasan\n" + ARCHIVE[0]["bagian"]["ringkasan"]
    p = _only(read_bytes("C:\\fakepath\\Kerupuk Bintan.txt", text.encode(), params=params))
    assert p.id == "Kerupuk Bintan"


def test_empty_docx_is_an_error(params: Parameters) -> None:
    from docx import Document

    buf = io.BytesIO()
    Document().save(buf)
    assert _error(read_bytes("kosong.docx", buf.getvalue(), params=params)) == "dokumen tidak berisi teks"


def test_pdf_with_unicode_text(params: Parameters) -> None:
    rec = _by_id(ARCHIVE, "arsip-014")
    body = rec["bagian"]["ringkasan"] + " Kopi Gayo – “Kualitas Ekspor” naik 30 %."
    data = _pdf_bytes((["Judul: Klinik Kemasan – Café UMKM", "ID: uni-1"], [("Ringkasan", body)]), unicode_font=True)
    p = _only(read_bytes("uni.pdf", data, params=params))
    assert p.judul == "Klinik Kemasan – Café UMKM"
    assert _ws(p.bagian["ringkasan"]) == _ws(body)


def _encrypted_pdf(user_password: str) -> bytes:
    from pypdf import PdfReader, PdfWriter

    w = PdfWriter(clone_from=PdfReader(BATCH / "kabupaten-contoh-inovasi.pdf"))
    w.encrypt(user_password=user_password, owner_password="pemilik-rahasia")
    buf = io.BytesIO()
    w.write(buf)
    return buf.getvalue()


def test_encrypted_pdf(params: Parameters) -> None:
    reason = _error(read_bytes("terkunci.pdf", _encrypted_pdf("rahasia"), params=params))
    assert reason.startswith("PDF terenkripsi")
    # an owner password alone (restrictions, no user password) does not stop reading
    p = _only(read_bytes("terbatas.pdf", _encrypted_pdf(""), params=params))
    assert p.id == "usulan-2025-20"


def test_scanned_pdf_has_no_text_layer(params: Parameters) -> None:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.rect(20, 20, 150, 200, style="F")
    reason = _error(read_bytes("pindaian.pdf", bytes(pdf.output()), params=params))
    assert reason.startswith("PDF tidak memiliki lapisan teks (hasil pindaian?)")


def test_giant_document_is_refused(params: Parameters, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(readers, "MAX_TEXT_CHARS", 2000)
    reason = _error(read_bytes("panjang.docx", _docx_bytes(ARCHIVE[0]), params=params))
    assert reason.startswith("teks dokumen terlalu panjang")


# ---------------------------------------------------------------------------- files, folders and ZIP


def test_empty_and_unsupported_files(params: Parameters, tmp_path: Path) -> None:
    (tmp_path / "kosong.jsonl").write_bytes(b"")
    (tmp_path / "lama.doc").write_bytes(b"\xd0\xcf\x11\xe0 old Word")
    (tmp_path / ".tersembunyi.json").write_text("{}", encoding="utf-8")
    (tmp_path / "~$kunci.docx").write_bytes(b"lock")
    sub = tmp_path / "sub"
    sub.mkdir()
    (sub / "satu.json").write_text(json.dumps(ARCHIVE[0]), encoding="utf-8")
    res = read_path(tmp_path, params=params)
    assert [p.source for p in res.proposals] == ["sub/satu.json"]
    errors = {e.file: e.reason for e in res.errors}
    assert errors["kosong.jsonl"] == "berkas kosong"
    assert errors["lama.doc"].startswith("format berkas tidak didukung (.doc)")
    assert len(errors) == 2


def test_zip_members_are_read_with_their_names(params: Parameters) -> None:
    data = _zip_bytes(
        {
            "usulan/arsip.jsonl": "\n".join(json.dumps(r) for r in ARCHIVE[:2]).encode(),
            "usulan/sopir.docx": (BATCH / "kota-contoh-inovasi.docx").read_bytes(),
            "usulan/rusak.pdf": (BATCH / "rusak.pdf").read_bytes(),
            "usulan/dalam.zip": _zip_bytes({"x.json": b"{}"}),
            "usulan/catatan.doc": b"old word",
            "__MACOSX/usulan/._sopir.docx": b"resource fork",
        }
    )
    res = read_bytes("kiriman.zip", data, params=params)
    assert sorted(p.id for p in res.proposals) == sorted([ARCHIVE[0]["id"], ARCHIVE[1]["id"], "usulan-2025-19"])
    assert {p.source for p in res.proposals} == {"kiriman.zip/usulan/arsip.jsonl", "kiriman.zip/usulan/sopir.docx"}
    errors = {e.file: e.reason for e in res.errors}
    assert set(errors) == {
        "kiriman.zip/usulan/rusak.pdf",
        "kiriman.zip/usulan/dalam.zip",
        "kiriman.zip/usulan/catatan.doc",
    }
    assert errors["kiriman.zip/usulan/dalam.zip"].startswith("ZIP di dalam ZIP tidak dibuka")


def test_zip_from_a_folder(params: Parameters, tmp_path: Path) -> None:
    (tmp_path / "kiriman.zip").write_bytes(_zip_bytes({"a.json": json.dumps(ARCHIVE[0]).encode()}))
    res = read_path(tmp_path, params=params)
    assert [p.source for p in res.proposals] == ["kiriman.zip/a.json"]


@pytest.mark.parametrize("bad", ["../luar.jsonl", "/etc/usulan.json", "a/../../b.json", "C:\\usulan.json"])
def test_zip_path_traversal_is_refused(params: Parameters, bad: str) -> None:
    data = _zip_bytes({"baik.json": json.dumps(ARCHIVE[0]).encode(), bad: json.dumps(ARCHIVE[1]).encode()})
    res = read_bytes("jahat.zip", data, params=params)
    assert not res.proposals
    assert _error(res).startswith("ZIP ditolak: nama berkas tidak aman")


def test_zip_bomb_is_refused(params: Parameters) -> None:
    data = _zip_bytes({"bom.jsonl": b"\0" * (8 * 2**20), "baik.json": json.dumps(ARCHIVE[0]).encode()})
    assert len(data) < 100_000
    res = read_bytes("bom.zip", data, params=params)
    assert not res.proposals
    assert "bom zip" in _error(res)


def test_zip_limits_on_size_and_members(params: Parameters, monkeypatch: pytest.MonkeyPatch) -> None:
    members = {f"{r['id']}.json": json.dumps(r).encode() for r in ARCHIVE[:4]}
    data = _zip_bytes(members, compression=zipfile.ZIP_STORED)
    monkeypatch.setattr(readers, "MAX_ZIP_MEMBERS", 3)
    assert "terlalu banyak berkas" in _error(read_bytes("banyak.zip", data, params=params))
    monkeypatch.setattr(readers, "MAX_ZIP_MEMBERS", 5000)
    monkeypatch.setattr(readers, "MAX_ZIP_TOTAL_BYTES", 5000)
    assert "terlalu besar setelah diekstrak" in _error(read_bytes("besar.zip", data, params=params))


# ---------------------------------------------------------------------------- robustness (fuzz)

_VALID: dict[str, bytes] = {
    ".json": json.dumps(ARCHIVE[0]).encode(),
    ".jsonl": "\n".join(json.dumps(r) for r in ARCHIVE[:2]).encode(),
    ".csv": _csv_text(ARCHIVE[:2]).encode(),
    ".docx": (BATCH / "kota-contoh-inovasi.docx").read_bytes(),
    ".pdf": (BATCH / "kabupaten-contoh-inovasi.pdf").read_bytes(),
    ".txt": b"Judul: Contoh\n\n1. Ringkasan\nTeks ringkasan.\n2. Latar Belakang\nTeks.",
    ".zip": _zip_bytes({"a.json": json.dumps(ARCHIVE[0]).encode(), "b.txt": b"Ringkasan\nIsi."}),
}


def _xlsx_valid() -> bytes:
    from openpyxl import Workbook

    header, rows = _table_rows(ARCHIVE[:2], headings=False)
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(header)
    for row in rows:
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


_VALID[".xlsx"] = _xlsx_valid()
assert set(_VALID) == set(SUPPORTED_EXTENSIONS)


def _check(res: object) -> None:
    assert isinstance(res, ReadResult)
    for e in res.errors:
        assert readers._INTERNAL not in e.reason, e
        assert e.reason and e.reason_en


@pytest.mark.parametrize("ext", SUPPORTED_EXTENSIONS)
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=4096))
def test_fuzz_random_bytes(params: Parameters, ext: str, data: bytes) -> None:
    _check(read_bytes(f"acak{ext}", data, params=params))


@st.composite
def _mutated(draw: st.DrawFn, ext: str) -> bytes:
    base = bytearray(_VALID[ext])
    for _ in range(draw(st.integers(1, 6))):
        kind = draw(st.sampled_from(["flip", "cut", "insert", "delete"]))
        pos = draw(st.integers(0, max(len(base) - 1, 0)))
        if kind == "flip" and base:
            base[pos] = draw(st.integers(0, 255))
        elif kind == "cut":
            del base[pos:]
        elif kind == "insert":
            base[pos:pos] = draw(st.binary(min_size=1, max_size=64))
        elif kind == "delete":
            del base[pos : pos + draw(st.integers(1, 64))]
    return bytes(base)


@pytest.mark.parametrize("ext", SUPPORTED_EXTENSIONS)
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_fuzz_mutated_valid_files(params: Parameters, ext: str, data: st.DataObject) -> None:
    _check(read_bytes(f"ubah{ext}", data.draw(_mutated(ext)), params=params))


def _docx_with_xml(xml: bytes) -> bytes:
    """The sample DOCX with its main part replaced: valid container, arbitrary content."""
    src = zipfile.ZipFile(io.BytesIO(_VALID[".docx"]))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as out:
        for info in src.infolist():
            out.writestr(info.filename, xml if info.filename == "word/document.xml" else src.read(info))
    return buf.getvalue()


_DOCX_XML = zipfile.ZipFile(io.BytesIO(_VALID[".docx"])).read("word/document.xml")


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cut=st.integers(0, len(_DOCX_XML)), junk=st.binary(max_size=200), keep=st.booleans())
def test_fuzz_docx_content_inside_a_valid_container(params: Parameters, cut: int, junk: bytes, keep: bool) -> None:
    xml = _DOCX_XML[:cut] + junk + (_DOCX_XML[cut:] if keep else b"")
    _check(read_bytes("isi.docx", _docx_with_xml(xml), params=params))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.binary(max_size=4096))
def test_fuzz_pdf_header_then_random_bytes(params: Parameters, body: bytes) -> None:
    _check(read_bytes("acak.pdf", b"%PDF-1.7\n" + body, params=params))


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=2000))
def test_fuzz_detect_sections_never_fails(text: str) -> None:
    from screening.params import default_parameters

    params = default_parameters()
    sections, unassigned = detect_sections(text, params=params)
    assert set(sections) <= set(INPUT_KEYS)
    assert all(v.strip() for v in sections.values())
    assert isinstance(unassigned, str)
