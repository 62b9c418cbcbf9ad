"""Who had it first, and declared replications, on the bundled sample data (real Indonesian proposal text):
the earlier side of a copy between regions is asked to clarify, the later side is flagged; a declared
replication is linked to its source even without shared text, and never worsens the recommendation."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from models.embedder import CachedEmbedder, Embedder, load_embedder
from screening.params import Parameters
from screening.pipeline import ArchiveContext, BatchScreener, build_archive_context
from screening.proposal import Proposal
from screening.recommend import recommend, who_first
from screening.results import Completeness, Duplicate, Passage, ProposalResult, Reason

SAMPLE = Path(__file__).resolve().parents[2] / "corpus" / "sample"
TODAY = dt.date(2025, 6, 1)


def _read(path: Path) -> dict[str, Proposal]:
    rows = (Proposal.model_validate(json.loads(line)) for line in path.read_text(encoding="utf-8").splitlines())
    return {p.id: p for p in rows}


@pytest.fixture(scope="module")
def batch() -> dict[str, Proposal]:
    return _read(SAMPLE / "batch" / "proposals.jsonl")


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    """The default packaged model (no torch), with an in-memory cache: the variants below re-embed little."""
    return CachedEmbedder(load_embedder(None))


@pytest.fixture(scope="module")
def archive(embedder: Embedder, params: Parameters) -> ArchiveContext:
    return build_archive_context(list(_read(SAMPLE / "archive.jsonl").values()), embedder=embedder, params=params)


def _screen(
    proposals: list[Proposal], archive: ArchiveContext, embedder: Embedder, params: Parameters
) -> dict[str, ProposalResult]:
    s = BatchScreener.prepare(proposals, archive=archive, embedder=embedder, params=params, today=TODAY)
    return {p.id: s.screen(p.id) for p in proposals}


def _dup(r: ProposalResult, other_id: str) -> tuple[int, Duplicate]:
    return next((i, d) for i, d in enumerate(r.duplicates) if d.other_id == other_id)


def _reason(r: ProposalResult, code: str) -> Reason:
    found = [x for x in r.reasons if x.code == code]
    assert len(found) == 1, (code, [(x.code, x.message) for x in r.reasons])
    return found[0]


def _codes(r: ProposalResult) -> set[str]:
    return {x.code for x in r.reasons}


# Case b of the sample: usulan-2025-06 (Donggala, implemented 2023) copies three sections verbatim from
# usulan-2025-05 (Palu, implemented 2021).
SOURCE, COPY = "usulan-2025-05", "usulan-2025-06"


def test_earlier_side_is_asked_to_clarify_and_later_copy_is_flagged(
    batch: dict[str, Proposal], archive: ArchiveContext, embedder: Embedder, params: Parameters
) -> None:
    assert (batch[SOURCE].tahun_implementasi, batch[COPY].tahun_implementasi) == (2021, 2023)
    res = _screen([batch[SOURCE], batch[COPY]], archive, embedder, params)
    src, cp = res[SOURCE], res[COPY]

    i, d = _dup(src, COPY)
    assert d.relation == "other_region" and d.share >= params.recommendation.duplicate_share
    assert src.recommendation == "perlu_klarifikasi", [(x.code, x.message) for x in src.reasons]
    reason = _reason(src, "kemungkinan_sumber_salinan")
    assert reason.evidence == f"/duplicates/{i}"
    for name in (COPY, batch[COPY].judul, batch[COPY].instansi):
        assert name in reason.message, "the reason names the later copy"
    assert "aslinya" in reason.message and "diverifikasi" in reason.message
    assert "salinan_daerah_lain" not in _codes(src)

    j, d = _dup(cp, SOURCE)
    assert cp.recommendation == "indikasi_duplikasi"
    reason = next(x for x in cp.reasons if x.evidence == f"/duplicates/{j}")
    assert reason.code == "salinan_daerah_lain"
    assert f"{SOURCE} lebih dahulu" in reason.message and "2021" in reason.message
    assert "kemungkinan_sumber_salinan" not in _codes(cp)


@pytest.mark.parametrize("years", [(2022, 2022), (None, 2023), (None, None)])
def test_neither_clearly_earlier_flags_both(
    batch: dict[str, Proposal],
    archive: ArchiveContext,
    embedder: Embedder,
    params: Parameters,
    years: tuple[int | None, int | None],
) -> None:
    a = batch[SOURCE].model_copy(update={"tahun_implementasi": years[0]})
    b = batch[COPY].model_copy(update={"tahun_implementasi": years[1]})
    res = _screen([a, b], archive, embedder, params)
    for pid, other in ((SOURCE, COPY), (COPY, SOURCE)):
        i, _ = _dup(res[pid], other)
        assert res[pid].recommendation == "indikasi_duplikasi", pid
        assert next(x for x in res[pid].reasons if x.evidence == f"/duplicates/{i}").code == "salinan_daerah_lain"
        assert "kemungkinan_sumber_salinan" not in _codes(res[pid])


def test_copy_of_an_earlier_archive_entry_is_flagged(
    batch: dict[str, Proposal], archive: ArchiveContext, embedder: Embedder, params: Parameters
) -> None:
    """usulan-2025-07 (2025, implemented 2022) copies arsip-009 (Top 99 2022, implemented 2020), with edits.
    Claiming an earlier start than the archive entry does not make the proposal the original: the archive
    held the text in 2022, so the years contradict each other and the copy stays flagged."""
    p = batch["usulan-2025-07"]
    for variant, said in [
        (p, "arsip-009 lebih dahulu"),
        (
            p.model_copy(update={"tahun_implementasi": None}),
            "tahun pengajuan: proposal ini 2025, arsip-009 di arsip 2022",
        ),
        (p.model_copy(update={"tahun_implementasi": 2018}), "saling bertentangan"),
    ]:
        r = _screen([variant], archive, embedder, params)[p.id]
        i, d = _dup(r, "arsip-009")
        assert (d.relation, d.other_source) == ("other_region", "archive")
        assert r.recommendation == "indikasi_duplikasi", variant.tahun_implementasi
        reason = next(x for x in r.reasons if x.evidence == f"/duplicates/{i}")
        assert reason.code == "salinan_daerah_lain" and said in reason.message


def _water_ambulance_replicating_sayang_ibu(batch: dict[str, Proposal]) -> Proposal:
    """usulan-2025-02 (Ambulans Air Perbatasan, Kalimantan Utara: emergency referral by speedboat) entered in
    the replication group: it declares arsip-009 (SAYANG IBU, Lombok Timur: village cadres keep a register of
    high-risk pregnancies) as its source, but its text is its own and shares nothing with SAYANG IBU's."""
    p = batch["usulan-2025-02"]
    bagian = dict(p.bagian)
    # The source is named in `replikasi_dari` only: quoting its title in the text would share those words.
    bagian["inspirasi"] = (
        "Pendataan sasaran persalinan oleh kader di setiap desa, yang kami pelajari dari Kabupaten Lombok Timur, "
        "dipakai untuk menyiapkan jadwal penjemputan perahu sebelum waktu bersalin. Surat pernyataan replikasi "
        "telah ditandatangani kedua pemerintah daerah."
    )
    bagian["proses_replikasi"] = (
        "Pada awal 2022 petugas Dinas Kesehatan Kalimantan Utara mengikuti pertemuan daring dengan pengelola "
        "program di Lombok Timur. Daftar sasaran kemudian disusun bersama bidan puskesmas tepi sungai dan dikirim "
        "setiap bulan ke pusat komando, sehingga perahu dapat disiagakan di dermaga terdekat menjelang hari "
        "perkiraan lahir."
    )
    bagian["faktor_pembeda"] = (
        "Berbeda dengan daerah asalnya yang memakai kendaraan darat, rujukan di Kalimantan Utara dilakukan dengan "
        "speedboat berperlengkapan medis melalui sungai."
    )
    replikasi_dari = (
        "SAYANG IBU: Pendampingan Ibu Hamil Risiko Tinggi oleh Kader Desa, Pemerintah Kabupaten Lombok Timur"
    )
    return p.model_copy(update={"replikasi_dari": replikasi_dari, "bagian": bagian})


def test_declared_replication_without_shared_text_is_linked_and_harmless(
    batch: dict[str, Proposal], archive: ArchiveContext, embedder: Embedder, params: Parameters
) -> None:
    p = _water_ambulance_replicating_sayang_ibu(batch)
    r = _screen([p], archive, embedder, params)[p.id]
    assert r.completeness.form == "replikasi"
    i, d = _dup(r, "arsip-009")
    assert (d.relation, d.other_source, d.share, d.passages) == ("declared_replication", "archive", 0.0, [])
    reason = _reason(r, "replikasi_dinyatakan")
    assert reason.evidence == f"/duplicates/{i}" and "tidak ditemukan teks yang sama" in reason.message
    assert r.recommendation == "lanjut", [(x.code, x.message) for x in r.reasons]
    without = recommend(
        completeness=r.completeness,
        duplicates=[x for x in r.duplicates if x.relation != "declared_replication"],
        similar=r.similar,
        novelty=r.novelty,
        params=params.recommendation,
        tahun_implementasi=p.tahun_implementasi,
        tahun=p.tahun,
    )[0]
    assert without == r.recommendation, "the link to the declared source never worsens the recommendation"


def test_source_in_the_batch_sees_who_declares_replicating_it(
    batch: dict[str, Proposal], embedder: Embedder, params: Parameters
) -> None:
    """SAYANG IBU entered again this year (with an archive without it), next to the Kalimantan Utara proposal
    that declares it as its source: both reports show the pair, and neither is worsened by it."""
    entries = [e for e in _read(SAMPLE / "archive.jsonl").values() if e.id != "arsip-009"]
    archive = build_archive_context(entries, embedder=embedder, params=params)
    source = _read(SAMPLE / "archive.jsonl")["arsip-009"].model_copy(
        update={"id": "usulan-2025-21", "tahun": 2025, "status": None}
    )
    replica = _water_ambulance_replicating_sayang_ibu(batch)
    alone = _screen([source], archive, embedder, params)[source.id]
    res = _screen([source, replica], archive, embedder, params)

    i, d = _dup(res[source.id], replica.id)
    assert (d.relation, d.passages) == ("declared_replication", [])
    reason = _reason(res[source.id], "sumber_replikasi")
    assert reason.evidence == f"/duplicates/{i}"
    assert "menyatakan inovasi ini sebagai sumber replikasinya" in reason.message
    assert res[source.id].recommendation == alone.recommendation
    assert [x.code for x in res[source.id].reasons if x.code != "sumber_replikasi"] == [x.code for x in alone.reasons]

    i, d = _dup(res[replica.id], source.id)
    assert (d.relation, d.other_source) == ("declared_replication", "batch")
    assert _reason(res[replica.id], "replikasi_dinyatakan").evidence == f"/duplicates/{i}"
    assert res[replica.id].recommendation == "lanjut"


def _d(**kw: object) -> Duplicate:
    base: dict[str, object] = {
        "other_id": "usulan-lain",
        "other_judul": "SIAGA ZONA",
        "other_instansi": "Pemerintah Kota Palu",
        "relation": "other_region",
        "match_type": "identical",
        "share": 0.45,
        "longest_passage_words": 120,
        "passages": [Passage(start=0, end=10, other_start=0, other_end=10, match_type="identical", words=120)],
    }
    return Duplicate.model_validate(base | kw)


@pytest.mark.parametrize(
    ("own", "other", "expected"),
    [
        (
            {"tahun_implementasi": 2019, "tahun": 2025},
            {"other_tahun_implementasi": 2022, "other_tahun": 2025},
            "earlier",
        ),
        ({"tahun_implementasi": 2022, "tahun": 2025}, {"other_tahun_implementasi": 2019}, "later"),
        ({"tahun_implementasi": 2020, "tahun": 2025}, {"other_tahun_implementasi": 2020}, "unknown"),
        ({"tahun_implementasi": None, "tahun": 2025}, {"other_tahun_implementasi": 2020}, "unknown"),
        # batch proposals' tahun is the competition year, not evidence of who wrote first
        ({"tahun_implementasi": None, "tahun": 2025}, {"other_tahun": 2024}, "unknown"),
        # an archive entry submitted earlier existed earlier; one submitted later did not
        ({"tahun_implementasi": None, "tahun": 2025}, {"other_tahun": 2023, "other_source": "archive"}, "later"),
        ({"tahun_implementasi": None, "tahun": 2021}, {"other_tahun": 2023, "other_source": "archive"}, "earlier"),
        (
            {"tahun_implementasi": 2018, "tahun": 2025},
            {"other_tahun_implementasi": 2020, "other_tahun": 2022, "other_source": "archive"},
            "unknown",
        ),
    ],
)
def test_who_first(own: dict[str, int | None], other: dict[str, object], expected: str) -> None:
    assert who_first(_d(**other), **own)[0] == expected


def test_weak_overlap_stays_a_question_on_both_sides() -> None:
    """Below the thresholds the earlier side gets no new code: both sides are asked, as before."""
    from screening.params import RecommendationParams

    rp = RecommendationParams()
    weak = _d(share=0.05, longest_passage_words=30, other_tahun_implementasi=2022)
    empty = Completeness(form="2023-umum", complete=True)
    rec, reasons = recommend(
        completeness=empty, duplicates=[weak], similar=[], novelty=None, params=rp, tahun_implementasi=2019
    )
    assert rec == "perlu_klarifikasi" and [r.code for r in reasons] == ["kemiripan_daerah_lain"]
