"""Completeness and eligibility: every section of the applicable form present, long enough, within
its word limit and not just the form's own instructions; metadata valid; the proposal eligible."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from models.text import count_words
from screening.features import analyse, text_shingles
from screening.params import FormSpec, Parameters, SectionSpec
from screening.proposal import Proposal, normalise_name
from screening.results import Completeness, Finding, SectionCheck, SectionStatus


@dataclass(frozen=True)
class BatchContext:
    """What the checks need to know about the rest of the batch and the archive."""

    title_counts: dict[str, int]
    past: Mapping[tuple[str, str], Sequence[Proposal]] = field(default_factory=dict)
    """Archive entries by normalised (judul, instansi): see `past_by_name`."""

    @classmethod
    def of(
        cls,
        proposals: Sequence[Proposal],
        archive: Sequence[Proposal] = (),
        *,
        past: Mapping[tuple[str, str], Sequence[Proposal]] | None = None,
    ) -> BatchContext:
        """`past`: the archive already indexed with `past_by_name` (an application keeps it with the
        archive, so a one-proposal request does not normalise 10,000 names); else built from `archive`."""
        counts: dict[str, int] = {}
        for p in proposals:
            t = normalise_name(p.judul)
            if t:
                counts[t] = counts.get(t, 0) + 1
        return cls(title_counts=counts, past=past if past is not None else past_by_name(archive))


def past_by_name(archive: Iterable[Proposal]) -> dict[tuple[str, str], list[Proposal]]:
    """Archive entries by normalised (judul, instansi), for the rules on earlier winners and Top 99:
    looked up per proposal instead of normalising every archive name for every proposal."""
    out: dict[tuple[str, str], list[Proposal]] = {}
    for e in archive:
        title = normalise_name(e.judul)
        if title:
            out.setdefault((title, normalise_name(e.instansi)), []).append(e)
    return out


_INSTRUCTIONS: dict[tuple[int, str], frozenset[int]] = {}


def _instruction_shingles(params: Parameters, section: SectionSpec) -> frozenset[int]:
    """Shingles of a section's instructions plus the declared templates (cached per parameters)."""
    key = (id(params), section.instructions)
    if key not in _INSTRUCTIONS:
        texts = [section.instructions, *params.templates] if section.instructions else list(params.templates)
        _INSTRUCTIONS[key] = frozenset(text_shingles(texts, params))
    return _INSTRUCTIONS[key]


def instruction_share(body: str, section: SectionSpec, params: Parameters) -> float:
    """Share of the body's shingles that come from the form's instructions or declared templates."""
    sh = set(analyse("_", body, params).shingles.tolist())
    if not sh:
        return 0.0
    return len(sh & _instruction_shingles(params, section)) / len(sh)


def check_section(p: Proposal, section: SectionSpec, params: Parameters) -> SectionCheck:
    """Status of one form section, with a reason in Indonesian."""
    bodies = [p.bagian.get(k, "").strip() for k in section.input_keys]
    body = "\n".join(b for b in bodies if b)
    spans = [p.composed.spans[k] for k in section.input_keys if k in p.composed.spans]
    start = min((s for s, _ in spans), default=None)
    end = max((e for _, e in spans), default=None)
    words = count_words(body)
    min_words = section.min_words if section.min_words is not None else params.completeness.default_min_words
    base = {
        "key": section.key,
        "heading": section.heading,
        "required": section.required,
        "words": words,
        "min_words": min_words,
        "max_words": section.max_words,
        "start": start,
        "end": end,
    }
    status: SectionStatus
    share = 0.0
    if not body:
        status = "tidak_ada"
        msg = f"Bagian \u201c{section.heading}\u201d tidak diisi."
    else:
        share = instruction_share(body, section, params)
        if share >= params.completeness.instruction_share:
            status = "hanya_instruksi"
            msg = (
                f"Bagian \u201c{section.heading}\u201d sebagian besar ({share:.0%}) hanya menyalin petunjuk "
                "formulir atau teks templat, belum diisi dengan isi inovasi."
            )
        elif words < min_words:
            status = "terlalu_pendek"
            msg = f"Bagian \u201c{section.heading}\u201d terlalu pendek: {words} kata (minimal {min_words} kata)."
        elif section.max_words is not None and words > section.max_words:
            status = "melebihi_batas"
            msg = (
                f"Bagian \u201c{section.heading}\u201d melebihi batas: {words} kata "
                f"(maksimal {section.max_words} kata)."
            )
        else:
            status = "ada"
            msg = f"Bagian \u201c{section.heading}\u201d terisi ({words} kata)."
    return SectionCheck(status=status, instruction_share=round(share, 3), message=msg, **base)


def _finding(code: str, severity: str, message: str, field: str | None = None) -> Finding:
    return Finding(code=code, severity=severity, message=message, field=field)


def check_metadata(
    p: Proposal, form: FormSpec, params: Parameters, ctx: BatchContext, *, today: dt.date | None = None
) -> list[Finding]:
    """Metadata validity and eligibility rules, each finding with an Indonesian reason."""
    cp = params.completeness
    year_now = (today or dt.date.today()).year
    out: list[Finding] = []
    if not p.judul.strip():
        out.append(_finding("judul_kosong", "error", "Judul inovasi tidak diisi.", "judul"))
    if not p.instansi.strip():
        out.append(_finding("instansi_kosong", "error", "Nama instansi tidak diisi.", "instansi"))
    if not p.klaster:
        out.append(_finding("klaster_kosong", "error", "Klaster instansi tidak diisi.", "klaster"))
    elif p.klaster not in cp.klaster:
        out.append(
            _finding(
                "klaster_tidak_dikenal",
                "error",
                f"Klaster \u201c{p.klaster}\u201d tidak dikenal; gunakan salah satu: {', '.join(cp.klaster)}.",
                "klaster",
            )
        )
    if p.tahun is not None and not (cp.earliest_year <= p.tahun <= year_now + 1):
        out.append(_finding("tahun_tidak_valid", "error", f"Tahun pengajuan {p.tahun} tidak valid.", "tahun"))
    ti = p.tahun_implementasi
    if ti is None:
        out.append(
            _finding(
                "tahun_implementasi_kosong",
                "error",
                "Tahun mulai implementasi tidak diisi.",
                "tahun_implementasi",
            )
        )
    elif not (cp.earliest_year <= ti <= year_now):
        out.append(
            _finding(
                "tahun_implementasi_tidak_valid",
                "error",
                f"Tahun mulai implementasi {ti} tidak valid (harus antara {cp.earliest_year} dan {year_now}).",
                "tahun_implementasi",
            )
        )
    elif p.tahun is not None and ti > p.tahun:
        out.append(
            _finding(
                "tahun_implementasi_setelah_pengajuan",
                "error",
                f"Tahun mulai implementasi ({ti}) sesudah tahun pengajuan ({p.tahun}).",
                "tahun_implementasi",
            )
        )
    elif p.tahun is not None and p.tahun - ti < form.min_years_in_operation:
        out.append(
            _finding(
                "belum_cukup_lama",
                "error",
                f"Inovasi baru berjalan {p.tahun - ti} tahun; kelompok ini mensyaratkan minimal "
                f"{form.min_years_in_operation} tahun implementasi.",
                "tahun_implementasi",
            )
        )
    if form.requires_video:
        if not p.video:
            out.append(
                _finding("video_tidak_ada", "error", "Tautan video (YouTube, maks. 3 menit) tidak ada.", "video")
            )
        elif not re.match(cp.video_pattern, p.video.strip(), flags=re.IGNORECASE):
            out.append(
                _finding(
                    "video_tidak_valid",
                    "warning",
                    f"Tautan video \u201c{p.video}\u201d bukan tautan YouTube yang valid.",
                    "video",
                )
            )
    if form.requires_sk and not p.sk:
        out.append(
            _finding(
                "sk_tidak_ada",
                "error",
                "Surat keputusan (SK) penetapan inovator/tim inovasi tidak dilampirkan.",
                "sk",
            )
        )
    title = normalise_name(p.judul)
    if title and ctx.title_counts.get(title, 0) > 1:
        out.append(
            _finding(
                "judul_ganda",
                "warning",
                f"Judul yang sama dipakai oleh {ctx.title_counts[title] - 1} proposal lain dalam batch ini.",
                "judul",
            )
        )
    if title:
        inst = normalise_name(p.instansi)
        past = [e for e in ctx.past.get((title, inst), ()) if e.id != p.id]
        winners = [e for e in past if e.status in cp.ineligible_statuses]
        top99 = [e for e in past if e.status == "top99"]
        if winners:
            w = winners[0]
            out.append(
                _finding(
                    "pemenang_sebelumnya",
                    "error",
                    f"Inovasi ini pernah menjadi pemenang ({w.status.upper() if w.status else ''}, {w.tahun}, "
                    f"arsip {w.id}); pemenang tidak boleh mengikuti kompetisi lagi.",
                    "judul",
                )
            )
        elif len(top99) >= 2:
            out.append(
                _finding(
                    "dua_kali_top99",
                    "error",
                    "Inovasi ini sudah dua kali masuk Top 99 ("
                    + ", ".join(f"{e.tahun} ({e.id})" for e in top99)
                    + ") sehingga tidak boleh mengikuti kompetisi lagi.",
                    "judul",
                )
            )
    if p.is_replication and not p.bagian.get("inspirasi"):
        out.append(
            _finding(
                "replikasi_tanpa_inspirasi",
                "warning",
                "Proposal menyatakan replikasi tetapi bagian Inspirasi (sumber inovasi yang direplikasi) kosong.",
                "bagian.inspirasi",
            )
        )
    return out


def check_completeness(
    p: Proposal, params: Parameters, ctx: BatchContext, *, today: dt.date | None = None
) -> Completeness:
    """All completeness findings for one proposal against the form that applies to it."""
    form_name, form = params.form_for(tahun=p.tahun, replikasi=p.is_replication)
    sections = [check_section(p, s, params) for s in form.sections]
    findings = check_metadata(p, form, params, ctx, today=today)
    incomplete = any(s.required and s.status in ("tidak_ada", "terlalu_pendek", "hanya_instruksi") for s in sections)
    complete = not incomplete and not any(f.severity == "error" for f in findings)
    return Completeness(form=form_name, form_label=form.label, complete=complete, sections=sections, findings=findings)
