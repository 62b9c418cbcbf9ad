"""Advice for the human panel, never a decision: one recommendation with every reason behind it,
each reason pointing at its evidence in the same result (a JSON pointer).

Order when several apply: indikasi_duplikasi > tidak_lengkap > perlu_klarifikasi > lanjut. Copying
from another region comes first because it concerns another region's work too; the reasons list
still names every completeness problem.
"""

from __future__ import annotations

from collections.abc import Sequence

from screening.params import RecommendationParams
from screening.results import (
    MATCH_LABELS,
    Completeness,
    Duplicate,
    Reason,
    Recommendation,
    Similar,
)

_RANK: dict[str, int] = {"lanjut": 0, "perlu_klarifikasi": 1, "tidak_lengkap": 2, "indikasi_duplikasi": 3}


def _who(d: Duplicate) -> str:
    where = "arsip" if d.other_source == "archive" else "batch ini"
    year = f", {d.other_tahun}" if d.other_tahun else ""
    return f"{d.other_id} \u201c{d.other_judul}\u201d ({d.other_instansi}{year}; {where})"


def _who_first(own: int | None, d: Duplicate) -> str:
    """A hint (not a verdict) about which side is likely the original: the earlier implementation."""
    other = d.other_tahun_implementasi
    if own is None or other is None or own == other:
        return ""
    if own < other:
        return (
            f" Inovasi ini mulai diimplementasikan lebih awal ({own}) daripada {d.other_id} ({other}): "
            "kemungkinan proposal ini sumbernya; mohon diverifikasi."
        )
    return f" {d.other_id} mulai diimplementasikan lebih awal ({other}) daripada inovasi ini ({own})."


def recommend(
    *,
    completeness: Completeness,
    duplicates: Sequence[Duplicate],
    similar: Sequence[Similar],
    novelty: float | None,
    params: RecommendationParams,
    tahun_implementasi: int | None = None,
) -> tuple[Recommendation, list[Reason]]:
    """The recommendation and its reasons (in Indonesian)."""
    level = "lanjut"
    reasons: list[Reason] = []

    def add(rec: str, code: str, message: str, evidence: str | None) -> None:
        nonlocal level
        if _RANK[rec] > _RANK[level]:
            level = rec
        reasons.append(Reason(code=code, message=message, evidence=evidence))

    for i, d in enumerate(duplicates):
        ptr = f"/duplicates/{i}"
        kind = MATCH_LABELS[d.match_type]
        if d.relation == "other_region":
            strong = d.share >= params.duplicate_share or d.longest_passage_words >= params.duplicate_passage_words
            add(
                "indikasi_duplikasi" if strong else "perlu_klarifikasi",
                "salinan_daerah_lain" if strong else "kemiripan_daerah_lain",
                f"{d.share:.0%} teks ({kind}; bagian terpanjang {d.longest_passage_words} kata) sama dengan "
                f"{_who(d)} dari instansi lain." + _who_first(tahun_implementasi, d),
                ptr,
            )
        elif d.relation == "same_instansi":
            if d.share >= params.resubmission_share:
                add(
                    "perlu_klarifikasi",
                    "pengajuan_ulang",
                    f"{d.share:.0%} teks sama dengan {_who(d)} dari instansi yang sama: kemungkinan pengajuan "
                    "ulang; mohon pastikan ada pembaruan yang berarti.",
                    ptr,
                )
            else:
                reasons.append(
                    Reason(
                        code="kemiripan_instansi_sama",
                        message=f"{d.share:.0%} teks sama dengan {_who(d)} dari instansi yang sama.",
                        evidence=ptr,
                    )
                )
        elif d.relation == "declared_replication":
            reasons.append(
                Reason(
                    code="replikasi_dinyatakan",
                    message=f"{d.share:.0%} teks sama dengan {_who(d)}, yang dinyatakan sebagai sumber replikasi: "
                    "replikasi yang sah, bukan penjiplakan.",
                    evidence=ptr,
                )
            )

    for i, s in enumerate(completeness.sections):
        ptr = f"/completeness/sections/{i}"
        if s.status in ("tidak_ada", "terlalu_pendek", "hanya_instruksi") and s.required:
            add("tidak_lengkap", f"bagian_{s.status}", s.message, ptr)
        elif s.status == "melebihi_batas":
            add("perlu_klarifikasi", "bagian_melebihi_batas", s.message, ptr)
    for i, f in enumerate(completeness.findings):
        ptr = f"/completeness/findings/{i}"
        if f.severity == "error":
            add("tidak_lengkap", f.code, f.message, ptr)
        elif f.severity == "warning":
            add("perlu_klarifikasi", f.code, f.message, ptr)

    if novelty is not None and novelty < params.low_novelty and similar:
        top = similar[0]
        add(
            "perlu_klarifikasi",
            "kebaruan_rendah",
            f"Sangat mirip dengan inovasi terdahulu {top.id} \u201c{top.judul}\u201d ({top.instansi}, {top.tahun}, "
            f"{(top.status or '').upper()}); perkiraan kebaruan {novelty:.2f}. Mohon panel menilai kebaruannya.",
            "/similar/0",
        )

    if level == "lanjut":
        reasons.insert(
            0,
            Reason(
                code="tidak_ada_temuan",
                message="Semua bagian wajib terisi, metadata valid, dan tidak ditemukan indikasi penyalinan.",
                evidence="/completeness",
            ),
        )
    return level, reasons  # type: ignore[return-value]
