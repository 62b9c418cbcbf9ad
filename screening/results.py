"""Screening results as data: the shape of `report.json`, the API's responses and every rendered report.

Field names are a stable contract with other tools: extend, never rename.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

MatchType = Literal["identical", "edited", "paraphrase", "translated"]
Relation = Literal["other_region", "same_instansi", "declared_replication", "boilerplate"]
Recommendation = Literal["lanjut", "perlu_klarifikasi", "tidak_lengkap", "indikasi_duplikasi"]
Severity = Literal["error", "warning", "info"]
SectionStatus = Literal["ada", "tidak_ada", "terlalu_pendek", "melebihi_batas", "hanya_instruksi"]
SimilarityLevel = Literal["sama", "terkait", "lemah"]

RECOMMENDATION_LABELS: dict[str, str] = {
    "lanjut": "Lanjut",
    "perlu_klarifikasi": "Perlu klarifikasi",
    "tidak_lengkap": "Tidak lengkap",
    "indikasi_duplikasi": "Indikasi duplikasi",
}
RELATION_LABELS: dict[str, str] = {
    "other_region": "Instansi/daerah lain",
    "same_instansi": "Instansi yang sama (pengajuan ulang)",
    "declared_replication": "Replikasi yang dinyatakan",
    "boilerplate": "Hanya teks templat",
}
SIMILARITY_LEVEL_LABELS: dict[str, str] = {
    "sama": "Inovasi yang sama",
    "terkait": "Terkait",
    "lemah": "Kemiripan lemah",
}
NO_SIMILAR_TEXT = "Tidak ada inovasi terdahulu yang mirip."
MATCH_LABELS: dict[str, str] = {
    "identical": "identik",
    "edited": "disunting",
    "paraphrase": "parafrasa",
    "translated": "terjemahan",
}


class Segment(BaseModel):
    """One aligned part of a merged passage: a run of shared shingles (identical / edited), a rewritten
    sentence (paraphrase) or a translated sentence (translated), with offsets in both texts."""

    start: int = Field(ge=0)
    end: int = Field(ge=0)
    other_start: int = Field(ge=0)
    other_end: int = Field(ge=0)
    match_type: MatchType
    score: float = 1.0


class Passage(BaseModel):
    """One aligned passage: character offsets in this proposal's text and in the other document's.

    A passage is one copied span: the aligned parts that lie close together in both texts are merged
    into it (`segments`, in this text's order; their other-side offsets may be in any order when the
    copy reordered sentences). Its match type is the type that covers most of its characters."""

    start: int = Field(ge=0)
    end: int = Field(ge=0)
    other_start: int = Field(ge=0)
    other_end: int = Field(ge=0)
    match_type: MatchType
    score: float = Field(1.0, description="Token overlap (lexical) or cosine (paraphrase) of the passage pair.")
    words: int = Field(0, ge=0, description="Words in this side of the passage.")
    segments: list[Segment] = Field(
        default_factory=list,
        description="The aligned parts merged into this passage, in this text's order (results written before "
        "2026.12 have none: the passage is then its own single part).",
    )


class Duplicate(BaseModel):
    other_id: str
    other_source: Literal["batch", "archive"] = "batch"
    other_judul: str = ""
    other_instansi: str = ""
    other_tahun: int | None = None
    other_tahun_implementasi: int | None = None
    relation: Relation
    match_type: MatchType
    share: float = Field(ge=0, le=1, description="Share of this proposal's characters in non-template passages.")
    other_share: float = Field(0, ge=0, le=1, description="The same share measured in the other document.")
    longest_passage_words: int = 0
    passages: list[Passage] = Field(default_factory=list)
    template_passages: list[Passage] = Field(
        default_factory=list, description="Overlap that is template text shared by many proposals (ignored)."
    )
    other_text: str | None = Field(None, description="The other document's text, for side-by-side views.")
    other_batch: str | None = Field(
        None,
        description="For a proposal screened earlier (another wave of the same year): the batch it came from, "
        "or 'portal' when it was sent through the portal.",
    )


class MatchReason(BaseModel):
    """Why a past innovation is listed as similar: the key terms both texts share and the best matching
    passage pair."""

    terms: list[str] = Field(
        default_factory=list, description="Shared key terms (lemmas), the most tf-idf-weighted first."
    )
    passage: str = Field("", description="The past innovation's passage that best matches the text.")
    passage_start: int | None = Field(None, ge=0, description="Its character offsets in the past innovation's text.")
    passage_end: int | None = Field(None, ge=0)
    query_passage: str = Field("", description="The passage of the searched text it matches.")


class Similar(BaseModel):
    id: str
    judul: str = ""
    instansi: str = ""
    tahun: int | None = None
    status: str | None = None
    score: float = Field(
        description="Readable similarity 0-100 (calibrated from the dense cosine and the lexical tf-idf cosine; "
        "eval/CALIBRATION.md). Results written before it existed (they have no `level`) hold the raw "
        "reciprocal-rank-fusion score here instead."
    )
    level: SimilarityLevel | None = Field(
        None, description="sama (the same innovation), terkait (related) or lemah (weak), from `score`."
    )
    rrf_score: float | None = Field(None, description="Reciprocal-rank-fusion score of the two retrievers.")
    dense_score: float | None = None
    lexical_score: float | None = None
    reason: MatchReason | None = None


class Finding(BaseModel):
    code: str
    severity: Severity
    message: str = Field(description="Reason in Bahasa Indonesia.")
    field: str | None = None


class SectionCheck(BaseModel):
    key: str
    heading: str
    status: SectionStatus
    required: bool = True
    words: int = 0
    min_words: int | None = None
    max_words: int | None = None
    start: int | None = None
    end: int | None = None
    instruction_share: float = 0.0
    message: str = ""


class Completeness(BaseModel):
    form: str
    form_label: str = ""
    complete: bool
    sections: list[SectionCheck] = Field(default_factory=list)
    findings: list[Finding] = Field(default_factory=list)


class Reason(BaseModel):
    code: str
    message: str = Field(description="Reason in Bahasa Indonesia.")
    evidence: str | None = Field(None, description="JSON pointer into this proposal's result, e.g. /duplicates/0.")


class ProposalResult(BaseModel):
    id: str
    judul: str = ""
    instansi: str = ""
    klaster: str = ""
    wilayah: str = ""
    tahun: int | None = None
    tahun_implementasi: int | None = None
    replikasi_dari: str | None = None
    source: str | None = None
    text: str
    recommendation: Recommendation
    reasons: list[Reason] = Field(default_factory=list)
    completeness: Completeness
    duplicates: list[Duplicate] = Field(default_factory=list)
    template_only_pairs: int = Field(
        0,
        ge=0,
        description="Documents sharing only template text with this one; the ones sharing the most are listed "
        "among `duplicates` (relation `boilerplate`), at most `template_pairs_listed` of the parameters.",
    )
    similar: list[Similar] = Field(default_factory=list)
    novelty: float | None = Field(None, ge=0, le=1)


class DocumentRef(BaseModel):
    """One side of a comparison: a stored proposal or archive entry, with its full text."""

    id: str
    source: Literal["proposal", "archive"]
    judul: str = ""
    instansi: str = ""
    tahun: int | None = None
    text: str


class Comparison(BaseModel):
    """The aligned passages between two documents; offsets point into `a.text` and `b.text`."""

    a: DocumentRef
    b: DocumentRef
    relation: Relation | None = None
    match_type: MatchType | None = None
    share_a: float = 0.0
    share_b: float = 0.0
    passages: list[Passage] = Field(default_factory=list)
    template_passages: list[Passage] = Field(default_factory=list)


class FileError(BaseModel):
    file: str
    reason: str = Field(description="Reason in Bahasa Indonesia.")
    reason_en: str = ""


class Report(BaseModel):
    saring_version: str = ""
    generated_at: str = ""
    parameters: dict[str, Any]
    settings: dict[str, Any] = Field(default_factory=dict)
    model: str
    archive_size: int = 0
    proposals: list[ProposalResult] = Field(default_factory=list)
    errors: list[FileError] = Field(default_factory=list)
