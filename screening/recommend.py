"""Advice for the human panel, never a decision: one recommendation with every reason behind it,
each reason pointing at its evidence in the same result (a JSON pointer).

Order when several apply: indikasi_duplikasi > tidak_lengkap > perlu_klarifikasi > lanjut. Copying
from another region comes first because it concerns another region's work too; the reasons list
still names every completeness problem.

Who had it first: when a strong copy from another region is found, the side that clearly started
earlier is the likely original. "Clearly earlier" rests only on the years both records carry: an
earlier `tahun_implementasi`, or, for an archive entry, an earlier `tahun` (the year it was submitted:
its text demonstrably existed then). When these signals agree, the earlier side gets
`perlu_klarifikasi` (`kemungkinan_sumber_salinan`, naming the later copy) and the later side
`indikasi_duplikasi`; when they are missing, equal or contradict each other, both sides get
`indikasi_duplikasi`. This is a hint to verify, not a finding about authorship.

A declared replication (`declared_replication`) never raises the recommendation, whether the two
documents share text or not, and whichever of them declares the other as its source.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Literal

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

Order = Literal["earlier", "later", "unknown"]
"""This proposal relative to the other document of a pair: clearly earlier, clearly later, or neither."""


def _who(d: Duplicate) -> str:
    where = "arsip" if d.other_source == "archive" else "batch ini"
    year = f", {d.other_tahun}" if d.other_tahun else ""
    return f"{d.other_id} \u201c{d.other_judul}\u201d ({d.other_instansi}{year}; {where})"


def who_first(d: Duplicate, *, tahun_implementasi: int | None, tahun: int | None) -> tuple[Order, list[str]]:
    """Whether this proposal clearly started before the other document of `d`, with the years behind it
    (in Indonesian). Signals: the two `tahun_implementasi` (strictly smaller = earlier); for an archive
    entry also the two `tahun` (an archive entry submitted in an earlier year existed before this
    proposal). Two batch proposals' `tahun` is the competition year, not evidence of who wrote first.
    Missing, equal or contradicting signals give "unknown"."""
    signs: list[Order] = []
    basis: list[str] = []
    own, other = tahun_implementasi, d.other_tahun_implementasi
    if own is not None and other is not None and own != other:
        signs.append("earlier" if own < other else "later")
        basis.append(f"tahun implementasi: proposal ini {own}, {d.other_id} {other}")
    if d.other_source == "archive" and tahun is not None and d.other_tahun is not None and tahun != d.other_tahun:
        signs.append("earlier" if tahun < d.other_tahun else "later")
        basis.append(f"tahun pengajuan: proposal ini {tahun}, {d.other_id} di arsip {d.other_tahun}")
    if len(set(signs)) != 1:
        return "unknown", basis
    return signs[0], basis


def _order_note(order: Order, basis: list[str], d: Duplicate) -> str:
    """One sentence for the reason: which side is likely the original, and why (empty when no years say)."""
    why = "; ".join(basis)
    if order == "earlier":
        return f" Inovasi ini lebih dahulu ({why}): kemungkinan proposal inilah sumbernya; mohon diverifikasi."
    if order == "later":
        return f" {d.other_id} lebih dahulu ({why}): kemungkinan proposal inilah salinannya."
    if basis:
        return f" Data tahun saling bertentangan ({why}): tidak dapat dipastikan mana yang lebih dahulu."
    return ""


def _declared_message(d: Duplicate, *, this_declares: bool) -> str:
    shared = (
        f"{d.share:.0%} teks sama ({MATCH_LABELS[d.match_type]}; bagian terpanjang {d.longest_passage_words} kata)"
        if d.passages
        else "tidak ditemukan teks yang sama"
    )
    if this_declares:
        return (
            f"{_who(d)} dinyatakan sebagai sumber replikasi inovasi ini; {shared}: replikasi yang sah, "
            "bukan penjiplakan."
        )
    return (
        f"{_who(d)} menyatakan inovasi ini sebagai sumber replikasinya; {shared}: replikasi yang sah, "
        "bukan penjiplakan."
    )


def recommend(
    *,
    completeness: Completeness,
    duplicates: Sequence[Duplicate],
    similar: Sequence[Similar],
    novelty: float | None,
    params: RecommendationParams,
    tahun_implementasi: int | None = None,
    tahun: int | None = None,
    declared_sources: Collection[tuple[str, str]] | None = None,
) -> tuple[Recommendation, list[Reason]]:
    """The recommendation and its reasons (in Indonesian).

    `tahun_implementasi`, `tahun`: this proposal's years, to tell which side of a copy started first
    (see the module docstring); without them every strong copy is `indikasi_duplikasi`.
    `declared_sources`: the (`other_source`, `other_id`) of the documents this proposal declares as its
    replication source; a `declared_replication` pair not among them is one where the other document
    names this proposal as its source. None: every such pair is read as declared by this proposal."""
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
            # A long passage alone is strong evidence when words were copied; a rewritten or translated
            # passage needs the share too (same-form proposals on one topic share rephrased sentences).
            lexical = d.match_type in ("identical", "edited")
            strong = d.share >= params.duplicate_share or (
                lexical and d.longest_passage_words >= params.duplicate_passage_words
            )
            order, basis = who_first(d, tahun_implementasi=tahun_implementasi, tahun=tahun)
            overlap = (
                f"{d.share:.0%} teks ({kind}; bagian terpanjang {d.longest_passage_words} kata) sama dengan "
                f"{_who(d)} dari instansi lain."
            )
            if strong and order == "earlier":
                add(
                    "perlu_klarifikasi",
                    "kemungkinan_sumber_salinan",
                    f"{overlap} Inovasi ini lebih dahulu ({'; '.join(basis)}): kemungkinan proposal inilah "
                    f"aslinya dan {d.other_id} \u201c{d.other_judul}\u201d ({d.other_instansi}) salinannya. "
                    "Mohon diverifikasi mana yang asli sebelum diteruskan.",
                    ptr,
                )
            else:
                add(
                    "indikasi_duplikasi" if strong else "perlu_klarifikasi",
                    "salinan_daerah_lain" if strong else "kemiripan_daerah_lain",
                    overlap + _order_note(order, basis, d),
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
            this_declares = declared_sources is None or (d.other_source, d.other_id) in declared_sources
            reasons.append(
                Reason(
                    code="replikasi_dinyatakan" if this_declares else "sumber_replikasi",
                    message=_declared_message(d, this_declares=this_declares),
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
