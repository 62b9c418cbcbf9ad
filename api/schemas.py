"""Request and response schemas of the HTTP API: one create/public pair per resource.

Public results reuse the screening core's result models, so the API returns exactly the JSON
that `report.json` holds and that every rendered report is made from.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from screening.proposal import Klaster, Proposal
from screening.results import Comparison, FileError, ProposalResult, Recommendation, Relation, Similar

SectionKey = Literal[
    "ringkasan",
    "latar_belakang",
    "tujuan",
    "kebaruan",
    "implementasi",
    "sumber_daya",
    "signifikansi",
    "adaptabilitas",
    "keberlanjutan",
    "pemangku_kepentingan",
    "kontribusi_tpb",
    "inspirasi",
    "proses_replikasi",
    "faktor_pembeda",
]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)]
HAS_TEXT = r"[0-9A-Za-z\u00c0-\u024f]"
"""At least one letter or digit (a character class every regex engine reads the same way)."""
SectionText = Annotated[str, StringConstraints(min_length=1, max_length=100_000, pattern=HAS_TEXT)]
"""A section's text: it must say something (leave an empty section out instead)."""
Name = Annotated[str, StringConstraints(min_length=1, max_length=500, pattern=HAS_TEXT)]


class _Strict(BaseModel):
    # Python's `re` semantics for patterns, as in the JSON Schema tools that clients generate from.
    model_config = ConfigDict(extra="forbid", regex_engine="python-re")


class ProposalCreate(_Strict):
    """One proposal as the portal submits it: metadata and the form's sections (see README)."""

    id: Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=r"^[\w.\-]+$")]
    judul: Name
    instansi: Name
    klaster: Klaster
    wilayah: ShortText = ""
    tahun: int = Field(ge=2000, le=2100, description="Year of submission.")
    tahun_implementasi: int | None = Field(None, ge=1950, le=2100, description="Year the innovation started.")
    replikasi_dari: ShortText | None = Field(None, description="The innovation and instansi it replicates, if any.")
    kontak: ShortText | None = None
    video: ShortText | None = None
    sk: ShortText | None = Field(None, description="Decree (SK) number establishing the innovation.")
    bagian: dict[SectionKey, SectionText] = Field(min_length=1, description="Section key to section text.")

    def to_proposal(self, *, source: str = "api") -> Proposal:
        d = self.model_dump()
        d["judul"], d["instansi"] = d["judul"].strip(), d["instansi"].strip()
        return Proposal(**d, source=source)


class ArchiveEntryCreate(ProposalCreate):
    """A past innovation for the archive: a proposal plus its competition outcome."""

    status: Literal["top99", "top45", "peserta"] = Field(description="Outcome in its year.")


class ArchiveImportCreate(_Strict):
    """Entry ids must be unique within one request (answered with 409 otherwise)."""

    entries: list[ArchiveEntryCreate] = Field(min_length=1, max_length=5000)

    def duplicate_ids(self) -> list[str]:
        counts = Counter(e.id for e in self.entries)
        return sorted(i for i, n in counts.items() if n > 1)


class ArchiveImportPublic(BaseModel):
    read: int
    new_or_changed: int
    total: int
    errors: list[FileError] = Field(default_factory=list)


class VersionPublic(BaseModel):
    """One screening result a proposal had (all are kept): when, by whose key, in which batch, with what."""

    version: int
    recommendation: Recommendation
    created_at: dt.datetime
    batch_id: str | None = Field(None, description="The batch it was screened in; None: sent through the portal.")
    actor_name: str | None = Field(None, description="The API key that caused it (portal request, batch upload).")
    actor_role: str | None = None
    parameters_version: str
    model: str
    duplicates: int = Field(description="Findings that are not template-only.")
    cause: str | None = Field(
        None,
        description="For a re-screening because a later wave copies this proposal: that batch's id, or 'portal'.",
    )


class ResolutionCreate(_Strict):
    """A secretariat user's written note that resolves a proposal's duplication flag."""

    note: Annotated[str, StringConstraints(min_length=10, max_length=5000, pattern=HAS_TEXT)]


class ResolutionPublic(BaseModel):
    up_to_version: int = Field(description="Every duplication flag up to this version is resolved.")
    note: str
    created_at: dt.datetime
    actor_name: str | None = None


class ProposalPublic(ProposalResult):
    """A screened proposal: the same object as one entry of report.json's `proposals`."""

    batch_id: str | None = None
    version: int | None = Field(None, description="The version of this result (earlier ones: .../versions).")
    open_duplicate_flag: VersionPublic | None = Field(
        None,
        description="A version that said indikasi_duplikasi and that the secretariat has not resolved yet: it "
        "stays in view whatever later versions say (secretariat and judges only).",
    )


class ProposalSummary(BaseModel):
    """One row of the proposal list (the dashboard table)."""

    id: str
    judul: str
    instansi: str
    klaster: str
    wilayah: str
    tahun: int | None
    batch_id: str | None = None
    recommendation: Recommendation
    complete: bool
    max_share: float = Field(description="Largest share of the text in non-template overlap with one document.")
    relations: list[Relation] = Field(default_factory=list)
    novelty: float | None = None


class ProposalPage(BaseModel):
    items: list[ProposalSummary]
    total: int
    limit: int
    offset: int


BatchState = Literal["queued", "running", "done", "failed"]


class BatchPublic(BaseModel):
    """A batch screening job and its progress."""

    id: str
    name: str
    state: BatchState
    total: int = Field(description="Proposals read from the upload.")
    done: int = Field(description="Proposals screened so far.")
    failed: int = Field(description="Files or rows that could not be read, and proposals that failed.")
    errors: list[FileError] = Field(default_factory=list)
    blocks_total: int = Field(0, description="Blocks the batch is split into for several workers (0: one job).")
    blocks_done: int = Field(0, description="Blocks finished so far, by all workers together.")
    eta_seconds: float | None = None
    created_at: str
    started_at: str | None = None
    finished_at: str | None = None
    message: str | None = None
    report_urls: dict[str, str] = Field(default_factory=dict)
    hidden: bool = Field(False, description="A failed batch the secretariat hid from the batch list.")
    hidden_at: str | None = None


class SimilarPublic(BaseModel):
    items: list[Similar]
    novelty: float | None = Field(None, description="1 = nothing like it among past top innovations.")


class SimilarQuery(_Strict):
    text: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=200_000)]
    k: int = Field(5, ge=1, le=50)


class ComparePublic(Comparison):
    """The aligned passages between two documents, with offsets into both texts."""


class HealthPublic(BaseModel):
    status: Literal["ok", "loading", "error"]
    detail: dict[str, Any] = Field(default_factory=dict)


class ErrorPublic(BaseModel):
    detail: Any
