"""Completeness, eligibility and recommendation rules on proposals filled with real Indonesian text."""

from __future__ import annotations

import datetime as dt

import pytest

from models.text import count_words, sentences
from screening.completeness import BatchContext, check_completeness
from screening.params import Parameters
from screening.proposal import Proposal
from screening.recommend import recommend
from screening.results import Duplicate, Passage

TODAY = dt.date(2025, 6, 1)
SECTIONS_2023 = [
    "ringkasan",
    "latar_belakang",
    "kebaruan",
    "implementasi",
    "signifikansi",
    "adaptabilitas",
    "sumber_daya",
    "keberlanjutan",
]


def _fill(seed_texts: list[str]) -> dict[str, str]:
    """Each 2023 section gets 4-5 consecutive real sentences (well over the minimum words)."""
    sents = [t[s.start : s.end] for t in seed_texts for s in sentences(t) if s.words >= 8]
    out: dict[str, str] = {}
    for i, key in enumerate(SECTIONS_2023):
        out[key] = " ".join(sents[i * 5 : i * 5 + 5])
    out["ringkasan"] = " ".join(out["ringkasan"].split()[:150])
    return out


def _proposal(seed_texts: list[str], **kw: object) -> Proposal:
    base: dict[str, object] = {
        "id": "P-1",
        "judul": "Layanan Kependudukan Keliling Desa",
        "instansi": "Pemerintah Kabupaten Pekalongan",
        "klaster": "kabupaten",
        "wilayah": "Jawa Tengah",
        "tahun": 2025,
        "tahun_implementasi": 2022,
        "video": "https://www.youtube.com/watch?v=abcdef12345",
        "sk": "SK Bupati Pekalongan Nomor 100 Tahun 2022",
        "bagian": _fill(seed_texts),
    }
    base.update(kw)
    return Proposal.model_validate(base)


def _codes(c) -> set[str]:  # type: ignore[no-untyped-def]
    return {f.code for f in c.findings}


def test_complete_proposal_passes(seed_texts: list[str], params: Parameters) -> None:
    p = _proposal(seed_texts)
    c = check_completeness(p, params, BatchContext.of([p]), today=TODAY)
    assert c.form == "2023-umum"
    assert c.complete, [s.message for s in c.sections if s.status != "ada"] + [f.message for f in c.findings]
    rec, reasons = recommend(completeness=c, duplicates=[], similar=[], novelty=0.8, params=params.recommendation)
    assert rec == "lanjut"
    assert reasons[0].code == "tidak_ada_temuan"


def test_missing_and_short_sections(seed_texts: list[str], params: Parameters) -> None:
    bag = _fill(seed_texts)
    del bag["kebaruan"]
    bag["adaptabilitas"] = "Dapat direplikasi daerah lain."
    p = _proposal(seed_texts, bagian=bag)
    c = check_completeness(p, params, BatchContext.of([p]), today=TODAY)
    by_key = {s.key: s for s in c.sections}
    assert by_key["kebaruan"].status == "tidak_ada"
    assert by_key["adaptabilitas"].status == "terlalu_pendek" and by_key["adaptabilitas"].words == 4
    assert not c.complete
    rec, reasons = recommend(completeness=c, duplicates=[], similar=[], novelty=None, params=params.recommendation)
    assert rec == "tidak_lengkap"
    assert {r.evidence for r in reasons} >= {"/completeness/sections/2", "/completeness/sections/5"}


def test_section_that_repeats_the_form_instructions_is_not_filled(seed_texts: list[str], params: Parameters) -> None:
    form = params.forms["2023-umum"]
    instr = next(s.instructions for s in form.sections if s.key == "kebaruan")
    bag = _fill(seed_texts)
    bag["kebaruan"] = instr + " " + instr.replace("Jelaskan", "Uraikan")
    c = check_completeness(_proposal(seed_texts, bagian=bag), params, BatchContext.of([]), today=TODAY)
    s = next(s for s in c.sections if s.key == "kebaruan")
    assert s.status == "hanya_instruksi" and s.instruction_share >= 0.5
    assert not c.complete


def test_word_limit_asks_for_clarification(seed_texts: list[str], params: Parameters) -> None:
    bag = _fill(seed_texts)
    bag["ringkasan"] = " ".join((bag["latar_belakang"] + " " + bag["signifikansi"]).split()[:230])
    c = check_completeness(_proposal(seed_texts, bagian=bag), params, BatchContext.of([]), today=TODAY)
    s = next(s for s in c.sections if s.key == "ringkasan")
    assert s.status == "melebihi_batas" and s.words == count_words(bag["ringkasan"]) > 200
    rec, _ = recommend(completeness=c, duplicates=[], similar=[], novelty=None, params=params.recommendation)
    assert rec == "perlu_klarifikasi"


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"klaster": "desa"}, "klaster_tidak_dikenal"),
        ({"tahun_implementasi": 2025}, "belum_cukup_lama"),
        ({"tahun_implementasi": 2027}, "tahun_implementasi_tidak_valid"),
        ({"tahun_implementasi": None}, "tahun_implementasi_kosong"),
        ({"video": None}, "video_tidak_ada"),
        ({"sk": None}, "sk_tidak_ada"),
        ({"instansi": ""}, "instansi_kosong"),
    ],
)
def test_metadata_rules(seed_texts: list[str], params: Parameters, changes: dict[str, object], code: str) -> None:
    p = _proposal(seed_texts, **changes)
    c = check_completeness(p, params, BatchContext.of([p]), today=TODAY)
    assert code in _codes(c)
    assert not c.complete
    assert all(f.message for f in c.findings)


def test_older_form_requires_two_years(seed_texts: list[str], params: Parameters) -> None:
    p = _proposal(seed_texts, tahun=2022, tahun_implementasi=2021)
    c = check_completeness(p, params, BatchContext.of([p]), today=TODAY)
    assert c.form == "2021-umum"
    assert "belum_cukup_lama" in _codes(c)


def test_replication_uses_the_replication_form(seed_texts: list[str], params: Parameters) -> None:
    p = _proposal(seed_texts, replikasi_dari="Kampung Kerupuk Modern, Pemkab Bintan")
    c = check_completeness(p, params, BatchContext.of([p]), today=TODAY)
    assert c.form == "replikasi"
    assert {"inspirasi", "proses_replikasi", "faktor_pembeda"} <= {s.key for s in c.sections}
    assert "replikasi_tanpa_inspirasi" in _codes(c)


def test_same_title_in_batch_and_past_winner(seed_texts: list[str], params: Parameters) -> None:
    a = _proposal(seed_texts)
    b = _proposal(seed_texts, id="P-2", instansi="Kota Tegal", judul="layanan kependudukan keliling  desa")
    winner = _proposal(seed_texts, id="ARS-1", tahun=2023, status="top45")
    ctx = BatchContext.of([a, b], archive=[winner])
    ca = check_completeness(a, params, ctx, today=TODAY)
    cb = check_completeness(b, params, ctx, today=TODAY)
    assert "judul_ganda" in _codes(ca) and "judul_ganda" in _codes(cb)
    assert "pemenang_sebelumnya" in _codes(ca), "same title and instansi as a past Top 45 winner"
    assert "pemenang_sebelumnya" not in _codes(cb), "another instansi's innovation of the same name is not a re-entry"


def _dup(relation: str, share: float, longest: int) -> Duplicate:
    return Duplicate(
        other_id="X",
        other_judul="Lain",
        other_instansi="Kota Lain",
        relation=relation,  # type: ignore[arg-type]
        match_type="edited",
        share=share,
        longest_passage_words=longest,
        passages=[Passage(start=0, end=10, other_start=0, other_end=10, match_type="edited", words=longest)],
    )


def test_recommendation_order_and_evidence(seed_texts: list[str], params: Parameters) -> None:
    p = _proposal(seed_texts, video=None)
    c = check_completeness(p, params, BatchContext.of([p]), today=TODAY)
    rp = params.recommendation
    rec, reasons = recommend(
        completeness=c, duplicates=[_dup("other_region", 0.4, 150)], similar=[], novelty=None, params=rp
    )
    assert rec == "indikasi_duplikasi", "copying from another region outranks incompleteness"
    assert {"salinan_daerah_lain", "video_tidak_ada"} <= {r.code for r in reasons}
    assert next(r for r in reasons if r.code == "salinan_daerah_lain").evidence == "/duplicates/0"

    ok = check_completeness(_proposal(seed_texts), params, BatchContext.of([]), today=TODAY)
    assert (
        recommend(
            completeness=ok, duplicates=[_dup("declared_replication", 0.6, 200)], similar=[], novelty=None, params=rp
        )[0]
        == "lanjut"
    ), "a declared replication is never copying"
    assert (
        recommend(completeness=ok, duplicates=[_dup("same_instansi", 0.7, 200)], similar=[], novelty=None, params=rp)[0]
        == "perlu_klarifikasi"
    )
    assert (
        recommend(completeness=ok, duplicates=[_dup("other_region", 0.06, 30)], similar=[], novelty=None, params=rp)[0]
        == "perlu_klarifikasi"
    ), "small overlap with another region: ask, don't accuse"


def test_nul_characters_and_overlong_klaster_are_cleaned_on_input() -> None:
    """Broken converters leave NULs (PostgreSQL refuses them); an overlong klaster is still reported unknown."""
    from screening.proposal import Proposal

    p = Proposal(id="usulan\x00-1", judul="Judul\x00", klaster="K" * 80, bagian={"ringkasan": "Teks\x00 ringkasan."})
    assert p.id == "usulan-1" and p.judul == "Judul" and p.bagian["ringkasan"] == "Teks ringkasan."
    assert "\x00" not in p.text and len(p.klaster) == 50
