"""Routes of /api/v1: thin wrappers that check who may do what and call the application."""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, BackgroundTasks, File, Form, HTTPException, Query, UploadFile, status
from fastapi import Path as FastAPIPath
from fastapi.responses import FileResponse, JSONResponse, Response
from starlette.background import BackgroundTask

from api.deps import PrincipalDep, Readers, RunnerDep, SaringDep, StaffReaders, Submitters, Writers
from api.schemas import (
    ArchiveImportCreate,
    ArchiveImportPublic,
    BatchPublic,
    ComparePublic,
    ErrorPublic,
    ProposalCreate,
    ProposalPage,
    ProposalPublic,
    ProposalSummary,
    ResolutionCreate,
    ResolutionPublic,
    SimilarPublic,
    VersionPublic,
)
from corpus.store import ResultVersion
from models.text import count_words
from saring.auth import Principal
from saring.jobs import batch_eta
from saring.service import Saring
from screening.errors import InputError
from screening.proposal import normalise_name
from screening.readers import SUPPORTED_EXTENSIONS
from screening.render import write_csv, write_html, write_replication_xlsx, write_xlsx
from screening.replication import ReplicationMap
from screening.results import FileError, ProposalResult, Recommendation, Relation, Report

router = APIRouter(prefix="/api/v1")

BATCH_STATE_LABELS: dict[str, str] = {
    "queued": "Menunggu",
    "running": "Sedang disaring",
    "done": "Selesai",
    "failed": "Gagal",
}
"""A batch's state as the pages and the Indonesian messages name it."""

ERRORS: dict[int | str, dict[str, object]] = {
    401: {"model": ErrorPublic, "description": "Missing, unknown or revoked API key."},
    403: {"model": ErrorPublic, "description": "This key's role may not do this."},
    429: {
        "model": ErrorPublic,
        "description": "A portal key made more requests than SARING_PORTAL_RATE_LIMIT allows.",
        "headers": {
            "Retry-After": {"description": "Seconds until the key may ask again.", "schema": {"type": "integer"}}
        },
    },
}
NOT_FOUND: dict[int | str, dict[str, object]] = {404: {"model": ErrorPublic, "description": "No such resource."}}
UPLOAD_ERRORS: dict[int | str, dict[str, object]] = {
    400: {"model": ErrorPublic, "description": "The upload cannot be read (e.g. unsafe ZIP)."},
    413: {"model": ErrorPublic, "description": "The upload is larger than SARING_MAX_UPLOAD_MB."},
    415: {"model": ErrorPublic, "description": "Unsupported file type."},
}


# ---------------------------------------------------------------- helpers


def _visible(p: Principal, instansi: str) -> bool:
    return p.owns(instansi)


OTHER_INSTANSI = "proposal dari instansi lain"
"""How a portal is told about another instansi's proposal (never its id, title or instansi)."""


def _for_principal(result: ProposalPublic, p: Principal) -> ProposalPublic:
    """Portal keys never see other documents' texts (only offsets into their own), and another instansi's
    proposal is named only as "proposal dari instansi lain", in the findings and in the reasons (archive
    entries are public past innovations and keep their names)."""
    if p.role != "portal":
        return result
    hidden: list[str] = []
    for n, d in enumerate(result.duplicates, start=1):
        d.other_text = None
        if d.other_source == "archive" or p.owns(d.other_instansi):
            continue
        hidden.extend(x for x in (d.other_judul, d.other_instansi, d.other_id) if x)
        d.other_id, d.other_judul, d.other_instansi = f"lain-{n}", OTHER_INSTANSI, OTHER_INSTANSI
    for r in result.reasons:
        for x in sorted(set(hidden), key=len, reverse=True):  # longest first: a title may contain an id
            r.message = r.message.replace(x, OTHER_INSTANSI)
    return result


def unreadable_upload(name: str, errors: Sequence[FileError]) -> str:
    """Why an upload holds no readable proposal, in Indonesian (the first reasons, then how many more)."""
    shown = "; ".join(f"{e.file}: {e.reason}" for e in errors[:5])
    more = f" (dan {len(errors) - 5} berkas lain)" if len(errors) > 5 else ""
    return f"{name}: tidak ada proposal yang dapat dibaca" + (f" — {shown}{more}" if shown else "")


async def _read_upload(upload: UploadFile, *, limit_mb: int) -> tuple[str, bytes]:
    name = Path(upload.filename or "").name
    if not name:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "the uploaded file has no name")
    ext = "".join(Path(name).suffixes[-1:]).lower()
    if ext not in SUPPORTED_EXTENSIONS:
        raise HTTPException(
            status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
            f"unsupported file type {ext or '(none)'!r}; send one of {', '.join(sorted(SUPPORTED_EXTENSIONS))}",
        )
    limit = limit_mb * 1024 * 1024
    data = bytearray()
    while chunk := await upload.read(1 << 20):
        data += chunk
        if len(data) > limit:
            raise HTTPException(
                status.HTTP_413_CONTENT_TOO_LARGE, f"upload larger than {limit_mb} MB (SARING_MAX_UPLOAD_MB)"
            )
    if not data:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, f"{name}: the file is empty")
    return name, bytes(data)


def summarise(r: ProposalResult, batch_id: str | None) -> ProposalSummary:
    """The dashboard row of a result."""
    real = [d for d in r.duplicates if d.relation != "boilerplate"]
    return ProposalSummary(
        id=r.id,
        judul=r.judul,
        instansi=r.instansi,
        klaster=r.klaster,
        wilayah=r.wilayah,
        tahun=r.tahun,
        batch_id=batch_id,
        recommendation=r.recommendation,
        complete=r.completeness.complete,
        max_share=max((d.share for d in real), default=0.0),
        relations=sorted({d.relation for d in r.duplicates}),
        novelty=r.novelty,
    )


def _batch_public(saring: SaringDep, batch_id: str) -> BatchPublic:
    b = saring.store.get_batch(batch_id)
    if b is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no batch {batch_id!r}")
    urls = {}
    if b.state == "done":
        urls = {f: f"/api/v1/batches/{b.id}/report?format={f}" for f in ("json", "xlsx", "csv", "html")}
    return BatchPublic(
        id=b.id,
        name=b.name,
        state=b.state,
        total=b.total,
        done=b.done,
        failed=len(b.errors) + b.failed_items,
        errors=b.errors,
        blocks_total=b.blocks_total,
        blocks_done=b.blocks_done,
        eta_seconds=batch_eta(b),
        created_at=b.created_at.isoformat(timespec="seconds"),
        started_at=b.started_at.isoformat(timespec="seconds") if b.started_at else None,
        finished_at=b.finished_at.isoformat(timespec="seconds") if b.finished_at else None,
        message=b.message or b.stage,
        report_urls=urls,
        hidden=b.hidden_at is not None,
        hidden_at=b.hidden_at.isoformat(timespec="seconds") if b.hidden_at else None,
    )


# ---------------------------------------------------------------- proposals (portal, secretariat)


@router.post(
    "/proposals",
    response_model=ProposalPublic,
    status_code=status.HTTP_201_CREATED,
    operation_id="createProposal",
    tags=["proposals"],
    responses={
        **ERRORS,
        409: {
            "model": ErrorPublic,
            "description": "The id belongs to another instansi, or a secretariat batch has already screened it.",
        },
        413: {
            "model": ErrorPublic,
            "description": "The request is larger than SARING_MAX_PROPOSAL_KB or the proposal has more words "
            "than SARING_MAX_PROPOSAL_WORDS.",
        },
    },
)
def create_proposal(
    body: ProposalCreate, saring: SaringDep, who: Submitters, background: BackgroundTasks
) -> ProposalPublic:
    """Screen one proposal against the archive and the same year's proposals now, store it, and return its
    result; earlier proposals it copies are screened again after the response is sent."""
    if not who.owns(body.instansi):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "a portal key may only submit for its own instansi")
    limit = saring.settings.max_proposal_words
    words = sum(count_words(t) for t in body.bagian.values())
    if words > limit:
        raise HTTPException(
            status.HTTP_413_CONTENT_TOO_LARGE,
            f"the proposal has {words} words; at most {limit} are accepted (SARING_MAX_PROPOSAL_WORDS; "
            "the form's sections allow 3,600 together)",
        )
    existing = saring.store.get_proposal(body.id)
    if existing is not None and normalise_name(existing.instansi) != normalise_name(body.instansi):
        if who.role == "portal":  # as for reading: another instansi's proposal is not there for a portal
            raise HTTPException(
                status.HTTP_404_NOT_FOUND, f"proposal id {body.id!r} cannot be used by this instansi; choose another id"
            )
        raise HTTPException(status.HTTP_409_CONFLICT, f"proposal id {body.id!r} is already used by another instansi")
    screened = saring.store.get_result_with_batch(body.id)
    if screened is not None and screened[1] is not None:
        # The secretariat's finding stands: a portal re-submission must not replace a batch's result.
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            f"Usulan {body.id!r} sudah disaring sekretariat dalam batch {screened[1]}; portal tidak dapat "
            "menggantinya. Hubungi sekretariat bila usulan perlu diperbarui.",
        )
    result = saring.screen_one(body.to_proposal(source="portal"), actor_key_id=who.key_id, defer=background.add_task)
    return _for_principal(_with_history(saring, ProposalPublic(**result.model_dump()), who), who)


@router.get(
    "/proposals/{proposal_id}",
    response_model=ProposalPublic,
    operation_id="getProposal",
    tags=["proposals"],
    responses={**ERRORS, **NOT_FOUND},
)
def get_proposal(proposal_id: str, saring: SaringDep, who: Readers) -> ProposalPublic:
    """A screened proposal's result (the latest screening), its version, and for the secretariat and judges
    any earlier duplication flag not resolved yet."""
    found = saring.store.get_result_with_batch(proposal_id)
    if found is None or not _visible(who, found[0].instansi):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no proposal {proposal_id!r}")
    result, batch_id = found
    return _for_principal(_with_history(saring, ProposalPublic(**result.model_dump(), batch_id=batch_id), who), who)


def _version_public(v: ResultVersion) -> VersionPublic:
    return VersionPublic(**{k: getattr(v, k) for k in VersionPublic.model_fields})


def _with_history(saring: Saring, p: ProposalPublic, who: Principal) -> ProposalPublic:
    versions = saring.store.result_versions(p.id)
    p.version = versions[-1].version if versions else None
    if who.role != "portal":
        flag = saring.store.open_duplicate_flag(p.id)
        p.open_duplicate_flag = _version_public(flag) if flag else None
    return p


@router.get(
    "/proposals/{proposal_id}/versions",
    response_model=list[VersionPublic],
    operation_id="listProposalVersions",
    tags=["proposals"],
    responses={**ERRORS, **NOT_FOUND},
)
def list_versions(proposal_id: str, saring: SaringDep, who: StaffReaders) -> list[VersionPublic]:
    """Every screening result the proposal had, oldest first (none is ever removed)."""
    versions = saring.store.result_versions(proposal_id)
    if not versions:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no proposal {proposal_id!r}")
    return [_version_public(v) for v in versions]


@router.get(
    "/proposals/{proposal_id}/versions/{version}",
    response_model=ProposalPublic,
    operation_id="getProposalVersion",
    tags=["proposals"],
    responses={**ERRORS, **NOT_FOUND},
)
def get_version(
    proposal_id: str,
    version: Annotated[int, FastAPIPath(ge=1, le=1_000_000, description="1 is the first screening.")],
    saring: SaringDep,
    who: StaffReaders,
) -> ProposalPublic:
    """One earlier screening result, as it was."""
    result = saring.store.get_result_version(proposal_id, version)
    if result is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"proposal {proposal_id!r} has no version {version}")
    return ProposalPublic(**result.model_dump(), version=version)


@router.post(
    "/proposals/{proposal_id}/resolution",
    response_model=ResolutionPublic,
    status_code=status.HTTP_201_CREATED,
    operation_id="resolveDuplicateFlag",
    tags=["proposals"],
    responses={**ERRORS, **NOT_FOUND},
)
def resolve_flag(proposal_id: str, body: ResolutionCreate, saring: SaringDep, who: Writers) -> ResolutionPublic:
    """The secretariat resolves the proposal's duplication flags up to its latest version, with a written
    note kept in the audit trail (the flag then leaves the proposal's view; the versions stay)."""
    try:
        r = saring.store.resolve_duplicate_flag(proposal_id, note=body.note, actor_key_id=who.key_id)
    except KeyError:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no proposal {proposal_id!r}") from None
    return ResolutionPublic(up_to_version=r.up_to_version, note=r.note, created_at=r.created_at, actor_name=who.name)


@router.get(
    "/proposals",
    response_model=ProposalPage,
    operation_id="listProposals",
    tags=["proposals"],
    responses=ERRORS,
)
def list_proposals(
    saring: SaringDep,
    who: Readers,
    recommendation: Recommendation | None = None,
    klaster: str | None = Query(None, max_length=50),
    wilayah: str | None = Query(None, max_length=200),
    relation: Relation | None = Query(None, description="Has a duplicate of this relation."),
    batch_id: str | None = Query(None, max_length=100),
    limit: int = Query(100, ge=1, le=1000),
    offset: int = Query(0, ge=0, le=10_000_000),
) -> ProposalPage:
    """Screened proposals, filtered; a portal key sees only its own instansi's."""
    portal = who.role == "portal"
    rows, total = saring.store.results_page(
        recommendation=recommendation,
        klaster=klaster,
        wilayah=wilayah,
        relation=relation,
        batch_id=batch_id,
        instansi=who.instansi if portal else None,
        exact_instansi=portal,
        limit=limit,
        offset=offset,
    )
    return ProposalPage(items=[summarise(r, b) for r, b in rows], total=total, limit=limit, offset=offset)


@router.get(
    "/proposals/{proposal_id}/similar",
    response_model=SimilarPublic,
    operation_id="similarToProposal",
    tags=["judges"],
    responses={**ERRORS, **NOT_FOUND},
)
def similar_to_proposal(
    proposal_id: str, saring: SaringDep, who: Readers, k: int = Query(5, ge=1, le=50)
) -> SimilarPublic:
    """Past innovations most like this proposal, and its novelty estimate."""
    found = saring.store.get_result_with_batch(proposal_id)
    if found is None or not _visible(who, found[0].instansi):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no proposal {proposal_id!r}")
    items, novelty = saring.similar(found[0].text, k=k, exclude_id=proposal_id)
    return SimilarPublic(items=items, novelty=novelty)


# ---------------------------------------------------------------- batches (secretariat)


@router.post(
    "/batches",
    response_model=BatchPublic,
    status_code=status.HTTP_202_ACCEPTED,
    operation_id="createBatch",
    tags=["batches"],
    responses={**ERRORS, **UPLOAD_ERRORS},
)
async def create_batch(
    saring: SaringDep,
    runner: RunnerDep,
    who: Writers,
    file: Annotated[UploadFile, File(description="ZIP of PDF/DOCX, or one XLSX/CSV/JSON/JSONL.")],
    name: Annotated[str | None, Form(max_length=200)] = None,
    today: Annotated[dt.date | None, Form(description="Reference date for eligibility rules.")] = None,
) -> BatchPublic:
    """Upload a batch; screening runs in the background. Poll the returned batch for progress."""
    fname, data = await _read_upload(file, limit_mb=saring.settings.max_upload_mb)
    try:
        res = saring.read_bytes(fname, data)
    except InputError as e:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, str(e)) from None
    if not res.proposals:  # nothing to screen: no batch (a green "0 / 0" would hide the reasons)
        raise HTTPException(status.HTTP_400_BAD_REQUEST, unreadable_upload(fname, res.errors))
    batch_id = runner.submit(res, name=name or fname, today=today, created_by=who.key_id)
    return _batch_public(saring, batch_id)


@router.get(
    "/batches",
    response_model=list[BatchPublic],
    operation_id="listBatches",
    tags=["batches"],
    responses=ERRORS,
)
def list_batches(
    saring: SaringDep,
    who: StaffReaders,
    limit: int = Query(50, ge=1, le=500),
    include_hidden: bool = Query(False, description="Also list the failed batches the secretariat hid."),
) -> list[BatchPublic]:
    """Batches, newest first; hidden (failed) batches only with `include_hidden`."""
    return [_batch_public(saring, b.id) for b in saring.store.list_batches(limit=limit, include_hidden=include_hidden)]


@router.post(
    "/batches/{batch_id}/hide",
    response_model=BatchPublic,
    operation_id="hideBatch",
    tags=["batches"],
    responses={**ERRORS, **NOT_FOUND, 409: {"model": ErrorPublic, "description": "Only a failed batch can be hidden."}},
)
def hide_batch(batch_id: str, saring: SaringDep, who: Writers) -> BatchPublic:
    """Hide a failed batch from the batch list (nothing is deleted; `include_hidden=true` still lists it)."""
    if not saring.store.hide_batch(batch_id, actor_key_id=who.key_id):
        b = saring.store.get_batch(batch_id)
        if b is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"no batch {batch_id!r}")
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            f"Batch {batch_id} berstatus {BATCH_STATE_LABELS.get(b.state, b.state)}; hanya batch yang gagal "
            "yang dapat disembunyikan.",
        )
    return _batch_public(saring, batch_id)


@router.get(
    "/batches/{batch_id}",
    response_model=BatchPublic,
    operation_id="getBatch",
    tags=["batches"],
    responses={**ERRORS, **NOT_FOUND},
)
def get_batch(batch_id: str, saring: SaringDep, who: StaffReaders) -> BatchPublic:
    """State and progress of a batch: done/total, failures so far, ETA."""
    return _batch_public(saring, batch_id)


MEDIA = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
    "html": "text/html; charset=utf-8",
}


@router.get(
    "/batches/{batch_id}/report",
    response_model=Report,
    operation_id="getBatchReport",
    tags=["batches"],
    responses={
        **ERRORS,
        **NOT_FOUND,
        409: {"model": ErrorPublic, "description": "The batch is not finished yet."},
        200: {"content": {m.split(";")[0]: {} for m in MEDIA.values()}, "description": "The report."},
    },
)
def get_batch_report(
    batch_id: str,
    saring: SaringDep,
    who: StaffReaders,
    format: Literal["json", "xlsx", "csv", "html"] = "json",
) -> Response | Report:
    """The batch's report as JSON (the source of truth) or rendered from it as XLSX, CSV or HTML."""
    b = saring.store.get_batch(batch_id)
    if b is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no batch {batch_id!r}")
    if b.state != "done":
        raise HTTPException(
            status.HTTP_409_CONFLICT, f"batch {batch_id} is {b.state}; the report comes when it is done"
        )
    report = saring.batch_report(batch_id)
    if format == "json":
        return JSONResponse(report.model_dump(mode="json"))
    writer = {"xlsx": write_xlsx, "csv": write_csv, "html": write_html}[format]
    return _temporary_file(f"laporan-{batch_id}.{format}", lambda path: writer(report, path), MEDIA[format])


def _temporary_file(name: str, write: Callable[[Path], None], media_type: str) -> FileResponse:
    """A file rendered for one download: written into a fresh temporary folder that is removed once the
    response has been sent (each download used to leave its folder behind)."""
    folder = Path(tempfile.mkdtemp(prefix="saring-download-"))
    try:
        write(folder / name)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return FileResponse(
        folder / name,
        media_type=media_type,
        filename=name,
        background=BackgroundTask(shutil.rmtree, folder, ignore_errors=True),
    )


# ---------------------------------------------------------------- judges


@router.get(
    "/replication-map",
    response_model=ReplicationMap,
    operation_id="getReplicationMap",
    tags=["judges"],
    responses={
        **ERRORS,
        200: {"content": {"application/json": {}, MEDIA["xlsx"]: {}}, "description": "The map."},
    },
)
def get_replication_map(
    saring: SaringDep,
    who: StaffReaders,
    only_linked: bool = Query(False, description="Only past innovations that some proposal followed."),
    format: Literal["json", "xlsx"] = "json",
) -> Response | ReplicationMap:
    """For each past top innovation: the later proposals that declared it as their source or share text with
    it, by region and year (replication monitoring), as JSON or as XLSX rendered from it."""
    m = saring.replication_map(only_linked=only_linked)
    if format == "json":
        return m
    return _temporary_file("peta-replikasi.xlsx", lambda path: write_replication_xlsx(m, path), MEDIA["xlsx"])


@router.get(
    "/compare",
    response_model=ComparePublic,
    operation_id="compareDocuments",
    tags=["judges"],
    responses={**ERRORS, **NOT_FOUND},
)
def compare(
    saring: SaringDep,
    who: StaffReaders,
    a: str = Query(min_length=1, max_length=200, description="Proposal id, or archive id."),
    b: str = Query(min_length=1, max_length=200, description="Proposal id, or archive id."),
) -> ComparePublic:
    """Aligned passages between two documents (proposals or archive entries), offsets into both texts."""
    try:
        return ComparePublic(**saring.compare(a, b).model_dump())
    except KeyError as e:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(e.args[0])) from None


# ---------------------------------------------------------------- archive


@router.post(
    "/archive",
    response_model=ArchiveImportPublic,
    operation_id="importArchive",
    tags=["archive"],
    responses={**ERRORS, 409: {"model": ErrorPublic, "description": "The same entry id occurs twice."}},
)
def import_archive(body: ArchiveImportCreate, saring: SaringDep, who: Writers) -> ArchiveImportPublic:
    """Add or update past innovations (idempotent: unchanged entries are left alone)."""
    dup = body.duplicate_ids()
    if dup:
        shown = ", ".join(dup[:10]) + (" …" if len(dup) > 10 else "")
        raise HTTPException(
            status.HTTP_409_CONFLICT, f"entry id(s) occur more than once in this request: {shown}; send each once"
        )
    s = saring.import_archive_proposals([e.to_proposal(source="api") for e in body.entries])
    return ArchiveImportPublic(read=s.read, new_or_changed=s.new_or_changed, total=s.total, errors=s.errors)


@router.post(
    "/archive/files",
    response_model=ArchiveImportPublic,
    operation_id="importArchiveFile",
    tags=["archive"],
    responses={**ERRORS, **UPLOAD_ERRORS},
)
async def import_archive_file(
    saring: SaringDep,
    who: Writers,
    file: Annotated[UploadFile, File(description="CSV, XLSX, JSON or JSONL of past innovations.")],
) -> ArchiveImportPublic:
    fname, data = await _read_upload(file, limit_mb=saring.settings.max_upload_mb)
    try:
        s = saring.import_archive_bytes(fname, data)
    except InputError as e:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, str(e)) from None
    return ArchiveImportPublic(read=s.read, new_or_changed=s.new_or_changed, total=s.total, errors=s.errors)


@router.get(
    "/archive/search",
    response_model=SimilarPublic,
    operation_id="searchArchive",
    tags=["archive"],
    responses=ERRORS,
)
def search_archive(
    saring: SaringDep,
    who: PrincipalDep,
    q: str = Query(min_length=2, max_length=20_000, description="Free text."),
    k: int = Query(10, ge=1, le=100),
    tahun: int | None = Query(None, ge=1990, le=2100),
    klaster: str | None = Query(None, max_length=50),
    status_: Literal["top99", "top45", "peserta"] | None = Query(None, alias="status"),
) -> SimilarPublic:
    """Past innovations most like a free text, optionally only of one year, cluster or outcome."""
    items, novelty = saring.similar(q, k=k, tahun=tahun, klaster=klaster, status=status_)
    return SimilarPublic(items=items, novelty=novelty)
