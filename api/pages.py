"""Web pages for the secretariat and the judges: server-rendered Jinja2, all user-facing text in Bahasa Indonesia.

The pages call the same application objects as the API (`Saring`, `JobRunner`) and log in with the same
API keys and roles: `/masuk` checks a key and starts a server-side session whose random id (stored hashed,
expiring after 12 hours, ended by logging out or by revoking the key) goes in the httponly cookie
`saring_session`; `api.deps.get_principal` accepts it like an `Authorization` header (so the pages' scripts can
also poll the API). The key itself is never put in a cookie. Portal keys belong to the submission portal and
open no page.

CSRF: the cookie is SameSite=Strict, and every state-changing page request whose Origin (or Referer) is another
site is refused (`install`'s middleware), so the forms carry no token.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlsplit

from fastapi import APIRouter, Depends, FastAPI, File, Form, HTTPException, Query, Request, UploadFile, status
from fastapi.concurrency import run_in_threadpool
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader
from markupsafe import Markup
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.deps import COOKIE, RunnerDep, SaringDep, get_principal
from api.routes import BATCH_STATE_LABELS, summarise, unreadable_upload
from api.schemas import ProposalSummary
from corpus.store import BatchInfo
from saring.auth import Principal, authenticate, end_session, start_session
from saring.service import Saring, saring_version
from screening.errors import InputError
from screening.proposal import KEY_HEADINGS, Proposal
from screening.readers import SUPPORTED_EXTENSIONS
from screening.render import (
    MATCH_LABELS,
    RECOMMENDATION_LABELS,
    RELATION_LABELS,
    SECTION_STATUS_LABELS,
    SEVERITY_LABELS,
    SOURCE_LABELS,
    _passage_spans,
    anchor_id,
    evidence_anchor,
    fmt_num,
    fmt_pct,
    fmt_when,
    highlight,
    match_types,
    own_text_spans,
    parts_label,
    segment_count,
    segment_parts,
    similar_level,
    similar_terms,
    source_label,
    status_label,
    when_filter,
)
from screening.replication import origins
from screening.results import NO_SIMILAR_TEXT, Comparison, Duplicate, ProposalResult

HERE = Path(__file__).parent
TEMPLATES_DIR = HERE / "templates"
STATIC_DIR = HERE / "static"
UPLOAD_PATH = "/halaman/unggah"
"""The upload form's target (also listed in api.app.UPLOAD_PATHS, whose middleware checks its size)."""
COOKIE_MAX_AGE_S = 12 * 3600
"""How long a login lasts in the browser."""

STAFF = ("admin", "secretariat", "judge")
WRITERS = ("admin", "secretariat")
ROLE_LABELS: dict[str, str] = {"admin": "Admin", "secretariat": "Sekretariat", "judge": "Juri", "portal": "Portal"}
STATE_LABELS: dict[str, str] = BATCH_STATE_LABELS
ARCHIVE_STATUS_LABELS: dict[str, str] = {"top99": "Top 99", "top45": "Top 45", "peserta": "Peserta"}
KLASTER_LABELS: dict[str, str] = {
    "kementerian": "Kementerian",
    "lembaga": "Lembaga",
    "provinsi": "Provinsi",
    "kabupaten": "Kabupaten",
    "kota": "Kota",
    "bumn": "BUMN",
    "bumd": "BUMD",
}
PROPOSAL_LIST_LIMIT = 2000
"""Most proposals listed on one page (the table filters and sorts them in the browser)."""

router = APIRouter(include_in_schema=False)


# ---------------------------------------------------------------- templates


def flag_label(code: str) -> str:
    """A reason code as a short flag: `salinan_daerah_lain` → `Salinan daerah lain`."""
    return code.replace("_", " ").strip().capitalize()


def _templates() -> Jinja2Templates:
    # autoescape=True for every template: select_autoescape() would skip the `.html.j2` names.
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES_DIR)), autoescape=True, trim_blocks=True, lstrip_blocks=True
    )
    t = Jinja2Templates(env=env)
    t.env.filters.update(pct=fmt_pct, num=fmt_num, when=when_filter, flag=flag_label)
    t.env.globals.update(
        RECOMMENDATION_LABELS=RECOMMENDATION_LABELS,
        RELATION_LABELS=RELATION_LABELS,
        MATCH_LABELS=MATCH_LABELS,
        SECTION_STATUS_LABELS=SECTION_STATUS_LABELS,
        SEVERITY_LABELS=SEVERITY_LABELS,
        SOURCE_LABELS=SOURCE_LABELS,
        source_label=source_label,
        ROLE_LABELS=ROLE_LABELS,
        STATE_LABELS=STATE_LABELS,
        KLASTER_LABELS=KLASTER_LABELS,
        ARCHIVE_STATUS_LABELS=ARCHIVE_STATUS_LABELS,
        status_label=status_label,
        similar_level=similar_level,
        similar_terms=similar_terms,
        NO_SIMILAR_TEXT=NO_SIMILAR_TEXT,
        match_types=match_types,
        segment_count=segment_count,
        version=saring_version(),
        UPLOAD_PATH=UPLOAD_PATH,
        REC_ORDER={k: i for i, k in enumerate(("indikasi_duplikasi", "tidak_lengkap", "perlu_klarifikasi", "lanjut"))},
    )
    return t


TEMPLATES = _templates()


def render(
    request: Request, name: str, who: Principal | None, *, status_code: int = 200, **context: Any
) -> HTMLResponse:
    """A page from api/templates; every page gets the caller (`who`) for its header."""
    saring = getattr(request.app.state, "saring", None)
    zone = saring.settings.timezone if saring is not None else "WIB"
    resp = TEMPLATES.TemplateResponse(request, name, {"who": who, "timezone": zone, **context}, status_code=status_code)
    resp.headers["Cache-Control"] = "no-store"
    return resp


# ---------------------------------------------------------------- who is calling


class LoginRequired(Exception):
    """No valid key: the browser is sent to the login form."""


class PageError(Exception):
    """An error shown as a page in Indonesian (403, 404, ...)."""

    def __init__(self, status_code: int, title: str, message: str, who: Principal | None = None) -> None:
        super().__init__(message)
        self.status_code, self.title, self.message, self.who = status_code, title, message, who


def _principal(request: Request, saring: Saring) -> Principal | None:
    """The caller by the API's own rules (Bearer, X-API-Key or the cookie), or None."""
    try:
        return get_principal(request, saring, request.headers.get("authorization"), request.headers.get("x-api-key"))
    except HTTPException:
        return None


def page_role(*roles: str) -> Callable[[Request, Saring], Principal]:
    """A dependency for pages: no key → the login form; a key of another role → a 403 page."""

    def check(request: Request, saring: SaringDep) -> Principal:
        p = _principal(request, saring)
        if p is None:
            raise LoginRequired()
        if p.role not in roles:
            allowed = ", ".join(ROLE_LABELS.get(r, r) for r in roles)
            raise PageError(
                status.HTTP_403_FORBIDDEN,
                "Akses ditolak",
                f"Kunci Anda berperan {ROLE_LABELS.get(p.role, p.role)}; halaman ini hanya untuk {allowed}.",
                p,
            )
        return p

    return check


Staff = Annotated[Principal, Depends(page_role(*STAFF))]
Writers = Annotated[Principal, Depends(page_role(*WRITERS))]


def _safe_next(target: str | None) -> str:
    """Only a path on this site (never `//host` or a full URL) may follow the login."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


def _not_found(what: str, who: Principal) -> PageError:
    return PageError(status.HTTP_404_NOT_FOUND, "Tidak ditemukan", what, who)


# ---------------------------------------------------------------- login


@router.get("/masuk", response_class=HTMLResponse)
def login_form(request: Request, saring: SaringDep, next: str = "/", keluar: bool = False) -> Response:
    """The login form; a caller already logged in goes straight on."""
    who = _principal(request, saring)
    if who is not None and who.role in STAFF and not keluar:
        return RedirectResponse(_safe_next(next), status.HTTP_303_SEE_OTHER)
    return render(request, "login.html.j2", None, next=_safe_next(next), logged_out=keluar)


@router.post("/masuk", response_class=HTMLResponse)
def login(
    request: Request,
    saring: SaringDep,
    kunci: Annotated[str, Form(max_length=500)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    """Check the key and start a web session: its random id goes in the httponly, SameSite=Strict cookie
    (the key itself never does)."""
    target = _safe_next(next)
    key = kunci.strip()
    p = authenticate(saring.store, key) if key else None
    if p is None:
        error = "Masukkan kunci API Anda." if not key else "Kunci tidak dikenal atau sudah dicabut."
        return render(request, "login.html.j2", None, status_code=401, next=target, error=error)
    if p.role not in STAFF:
        return render(
            request,
            "login.html.j2",
            None,
            status_code=403,
            next=target,
            error="Kunci portal hanya dipakai melalui API; halaman ini untuk sekretariat dan juri.",
        )
    resp = RedirectResponse(target, status.HTTP_303_SEE_OTHER)
    resp.set_cookie(
        COOKIE,
        start_session(saring.store, p, ttl_s=COOKIE_MAX_AGE_S),
        max_age=COOKIE_MAX_AGE_S,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/",
    )
    return resp


@router.api_route("/keluar", methods=["GET", "POST"])
def logout(request: Request, saring: SaringDep) -> Response:
    """End the web session (on the server too: the old cookie no longer works) and clear the cookie."""
    end_session(saring.store, request.cookies.get(COOKIE))
    resp = RedirectResponse("/masuk?keluar=1", status.HTTP_303_SEE_OTHER)
    resp.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict")
    return resp


# ---------------------------------------------------------------- dashboard and batches


def _batch_view(b: BatchInfo, *, zone: str = "WIB") -> dict[str, Any]:
    failed = len(b.errors) + b.failed_items
    return {
        "b": b,
        "state": STATE_LABELS.get(b.state, b.state),
        "failed": failed,
        "percent": round(100 * b.done / b.total) if b.total else (100 if b.state == "done" else 0),
        "created": fmt_when(b.created_at.isoformat(timespec="seconds"), zone=zone),
        "finished": fmt_when(b.finished_at.isoformat(timespec="seconds"), zone=zone) if b.finished_at else None,
        "message": b.message or b.stage or "",
    }


def _dashboard(request: Request, saring: Saring, who: Principal, *, status_code: int = 200, **ctx: Any) -> Response:
    show_hidden = request.query_params.get("tampilkan_tersembunyi") == "1"
    listed = saring.store.list_batches(limit=50, include_hidden=show_hidden)
    batches = [_batch_view(b, zone=saring.settings.timezone) for b in listed]
    just_hidden = request.query_params.get("disembunyikan", "")[:100]  # after the hide form: name the batch
    hidden_now = saring.store.get_batch(just_hidden) if just_hidden else None
    return render(
        request,
        "dashboard.html.j2",
        who,
        status_code=status_code,
        batches=batches,
        show_hidden=show_hidden,
        hidden_now=hidden_now if hidden_now is not None and hidden_now.hidden_at is not None else None,
        can_upload=who.role in WRITERS,
        extensions=", ".join(sorted(SUPPORTED_EXTENSIONS)),
        max_mb=saring.settings.max_upload_mb,
        **ctx,
    )


@router.get("/", response_class=HTMLResponse)
def dashboard(request: Request, saring: SaringDep, who: Staff) -> Response:
    """Batches, newest first, and (secretariat) the upload form."""
    return _dashboard(request, saring, who)


@router.post(UPLOAD_PATH, response_class=HTMLResponse)
async def upload(
    request: Request,
    saring: SaringDep,
    runner: RunnerDep,
    who: Writers,
    berkas: Annotated[UploadFile | None, File()] = None,
    nama: Annotated[str, Form(max_length=200)] = "",
    tanggal: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    """Upload a batch from the dashboard; the same job runner as the API screens it in the background."""

    def fail(message: str, code: int = status.HTTP_400_BAD_REQUEST) -> Response:
        return _dashboard(request, saring, who, status_code=code, upload_error=message, form={"nama": nama})

    name = Path(berkas.filename or "").name if berkas is not None else ""
    if berkas is None or not name:
        return fail("Pilih berkas batch yang akan diunggah.")
    ext = Path(name).suffix.lower()
    if ext not in SUPPORTED_EXTENSIONS:
        return fail(
            f"Jenis berkas {ext or '(tanpa ekstensi)'} tidak didukung; unggah salah satu dari "
            f"{', '.join(sorted(SUPPORTED_EXTENSIONS))}.",
            status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
        )
    today: dt.date | None = None
    if tanggal.strip():
        try:
            today = dt.date.fromisoformat(tanggal.strip())
        except ValueError:
            return fail(f"Tanggal acuan {tanggal!r} tidak valid; gunakan format TTTT-BB-HH.")
    limit_mb = saring.settings.max_upload_mb
    data = bytearray()
    while chunk := await berkas.read(1 << 20):
        data += chunk
        if len(data) > limit_mb * 1024 * 1024:
            return fail(f"Berkas lebih besar dari {limit_mb} MB.", status.HTTP_413_CONTENT_TOO_LARGE)
    if not data:
        return fail(f"Berkas {name} kosong.")
    try:
        res = await run_in_threadpool(saring.read_bytes, name, bytes(data))
    except InputError as e:
        return fail(f"{e.file or name}: {e.reason_id}")
    if not res.proposals:
        return fail(unreadable_upload(name, res.errors))
    try:
        batch_id = await run_in_threadpool(
            runner.submit, res, name=nama.strip() or name, today=today, created_by=who.key_id
        )
    except ValueError as e:  # e.g. the same proposal id twice in one upload
        return fail(f"Batch tidak dapat dibuat: {e}")
    return RedirectResponse(f"/batch/{quote(batch_id)}", status.HTTP_303_SEE_OTHER)


@router.post("/batch/{batch_id}/sembunyikan", response_class=HTMLResponse)
def hide_batch_page(request: Request, batch_id: str, saring: SaringDep, who: Writers) -> Response:
    """The secretariat hides a failed batch from the dashboard (nothing is deleted; the batch stays reachable)."""
    if not saring.store.hide_batch(batch_id, actor_key_id=who.key_id):
        b = saring.store.get_batch(batch_id)
        if b is None:
            raise _not_found(f"Batch {batch_id} tidak ada.", who)
        raise PageError(
            status.HTTP_409_CONFLICT,
            "Batch tidak dapat disembunyikan",
            f"Batch {batch_id} berstatus {STATE_LABELS.get(b.state, b.state)}; hanya batch yang gagal yang dapat "
            "disembunyikan.",
            who,
        )
    return RedirectResponse(f"/?disembunyikan={quote(batch_id)}", status.HTTP_303_SEE_OTHER)


@dataclass
class Row:
    """One row of a proposal table: the API's summary plus what the page shows of the reasons."""

    s: ProposalSummary
    flags: list[tuple[str, str, str]] = field(default_factory=list)
    """(code, label, message) of each distinct reason."""
    top_relation: str | None = None


def make_rows(results: Sequence[tuple[ProposalResult, str | None]]) -> list[Row]:
    rows = []
    for r, batch_id in results:
        seen: dict[str, tuple[str, str, str]] = {}
        for reason in r.reasons:
            if reason.code in seen:
                code, label, msg = seen[reason.code]
                seen[reason.code] = (code, label, f"{msg} {reason.message}")
            else:
                seen[reason.code] = (reason.code, flag_label(reason.code), reason.message)
        real = [d for d in r.duplicates if d.relation != "boilerplate"]
        top = max(real, key=lambda d: d.share, default=None)
        rows.append(Row(summarise(r, batch_id), list(seen.values()), top.relation if top else None))
    return rows


@dataclass
class TableFilter:
    """The table's filters; the same filtering runs in the browser (static/saring.js) without a reload."""

    q: str = ""
    rekomendasi: str = ""
    tanda: str = ""
    lengkap: str = ""
    klaster: str = ""
    wilayah: str = ""

    def keep(self, row: Row) -> bool:
        s = row.s
        text = " ".join((s.id, s.judul, s.instansi, s.wilayah)).lower()
        return (
            (not self.q or self.q.lower() in text)
            and (not self.rekomendasi or s.recommendation == self.rekomendasi)
            and (not self.tanda or any(code == self.tanda for code, _, _ in row.flags))
            and (not self.lengkap or (self.lengkap == "ya") == s.complete)
            and (not self.klaster or s.klaster == self.klaster)
            and (not self.wilayah or s.wilayah == self.wilayah)
        )


def _table_context(rows: list[Row], f: TableFilter) -> dict[str, Any]:
    shown = [r for r in rows if f.keep(r)]
    flags = sorted({(code, label) for r in rows for code, label, _ in r.flags}, key=lambda x: x[1])
    counts = {k: sum(r.s.recommendation == k for r in rows) for k in RECOMMENDATION_LABELS}
    return {
        "rows": shown,
        "total": len(rows),
        "f": f,
        "flag_options": flags,
        "klaster_options": sorted({r.s.klaster for r in rows if r.s.klaster}),
        "wilayah_options": sorted({r.s.wilayah for r in rows if r.s.wilayah}),
        "counts": counts,
    }


FilterDep = Annotated[TableFilter, Depends()]


@router.get("/batch/{batch_id}", response_class=HTMLResponse)
def batch_page(request: Request, batch_id: str, saring: SaringDep, who: Staff, f: FilterDep) -> Response:
    """A batch: live progress while it runs, then its proposals in a sortable, filterable table."""
    b = saring.store.get_batch(batch_id)
    if b is None:
        raise _not_found(f"Batch {batch_id} tidak ada.", who)
    rows = make_rows([(r, batch_id) for r in saring.store.batch_results(batch_id)])
    exports = {}
    if b.state == "done":
        base = f"/api/v1/batches/{quote(batch_id)}/report?format="
        exports = {
            "xlsx": base + "xlsx",
            "csv": base + "csv",
            "json": base + "json",
            "html": base + "html",
        }
    return render(
        request,
        "batch.html.j2",
        who,
        batch=_batch_view(b, zone=saring.settings.timezone),
        exports=exports,
        item_errors=saring.store.batch_item_errors(batch_id),
        **_table_context(rows, f),
    )


@router.get("/usulan", response_class=HTMLResponse)
def proposals_page(request: Request, saring: SaringDep, who: Staff, f: FilterDep) -> Response:
    """Every screened proposal (batches and portal submissions), newest first."""
    results, total = saring.store.results_page(limit=PROPOSAL_LIST_LIMIT)
    return render(request, "proposals.html.j2", who, stored=total, **_table_context(make_rows(results), f))


# ---------------------------------------------------------------- one proposal


def _evidence(p: ProposalResult, pointer: str | None) -> str | None:
    """The id of the element on the proposal page that a reason's evidence pointer names."""
    if not pointer:
        return None
    tokens = pointer.strip("/").split("/")
    if tokens[0] == "duplicates" and len(tokens) > 2:
        pointer = "/" + "/".join(tokens[:2])  # passages are shown on the comparison page
    return evidence_anchor(p, pointer)


@router.get("/usulan/{proposal_id}", response_class=HTMLResponse)
def proposal_page(request: Request, proposal_id: str, saring: SaringDep, who: Staff) -> Response:
    """A proposal: metadata, completeness, recommendation and reasons, overlaps, similar past innovations."""
    found = saring.store.get_result_with_batch(proposal_id)
    if found is None:
        raise _not_found(f"Usulan {proposal_id} belum disaring atau tidak ada.", who)
    p, batch_id = found
    stored: Proposal | None = saring.store.get_proposal(proposal_id)
    dups = list(enumerate(p.duplicates))
    return render(
        request,
        "proposal.html.j2",
        who,
        p=p,
        stored=stored,
        batch=saring.store.get_batch(batch_id) if batch_id else None,
        anchor=anchor_id(p.id),
        reasons=[(r, _evidence(p, r.evidence)) for r in p.reasons],
        dups=[(j, d) for j, d in dups if d.relation != "boilerplate"],
        template_dups=[(j, d) for j, d in dups if d.relation == "boilerplate"],
        versions=saring.store.result_versions(proposal_id),
        flag=saring.store.open_duplicate_flag(proposal_id),
        resolutions=saring.store.resolutions(proposal_id),
        can_resolve=who.role in ("admin", "secretariat"),
        resolved=request.query_params.get("ditangani") == "1",
        own_text=_own_text(p),
        origins=origins(p),
    )


def _own_text(p: ProposalResult) -> Markup:
    spans, attrs = own_text_spans(p)
    return highlight(p.text, spans, attrs=attrs)


@router.post("/usulan/{proposal_id}/tangani", response_class=HTMLResponse)
def resolve_page(
    request: Request,
    proposal_id: str,
    saring: SaringDep,
    who: Annotated[Principal, Depends(page_role("admin", "secretariat"))],
    catatan: Annotated[str, Form()] = "",
) -> Response:
    """The secretariat resolves the proposal's duplication flag with a written note (the audit trail)."""
    try:
        saring.store.resolve_duplicate_flag(proposal_id, note=catatan, actor_key_id=who.key_id)
    except KeyError:
        raise _not_found(f"Usulan {proposal_id} belum disaring atau tidak ada.", who) from None
    except ValueError:
        raise PageError(
            status.HTTP_400_BAD_REQUEST,
            "Catatan diperlukan",
            "Tulis catatan penanganan (paling sedikit 10 karakter): apa yang diperiksa dan apa kesimpulannya.",
            who,
        ) from None
    return RedirectResponse(f"/usulan/{quote(proposal_id)}?ditangani=1", status.HTTP_303_SEE_OTHER)


# ---------------------------------------------------------------- side by side


@dataclass
class CompareView:
    cmp: Comparison
    left: Markup
    right: Markup
    passages: list[dict[str, Any]]


def compare_view(cmp: Comparison) -> CompareView:
    """Both texts in full, each passage in the same colour and number on both sides, template text greyed.

    A passage of several segments is one numbered unit with its segments marked inside it on both sides
    (ids `c-d0-a<i>s<k>` / `c-d0-b<i>s<k>`); the table lists each segment as a link to both places.
    """
    left_spans, right_spans, attrs = _passage_spans(
        "c", 0, cmp.passages, cmp.template_passages, texts=(cmp.a.text, cmp.b.text)
    )
    passages = []
    for i, ps in enumerate(cmp.passages):
        a, b = f"c-d0-a{i}", f"c-d0-b{i}"
        attrs[a]["data-match"] = attrs[b]["data-match"] = ps.match_type
        parts = parts_label(ps)
        if parts:
            badge = f"{i + 1} · {MATCH_LABELS.get(ps.match_type, ps.match_type)} · {len(ps.segments)} segmen"
            attrs[a]["data-badge"] = attrs[b]["data-badge"] = badge
        passages.append(
            {
                "n": i + 1,
                "css": f"m{i % 8}",
                "a": a,
                "b": b,
                "match": ps.match_type,
                "parts": parts,
                "segments": [
                    {"n": f"{i + 1}.{k + 1}", "a": f"{a}s{k}", "b": f"{b}s{k}", "match": s.match_type}
                    for k, s in enumerate(segment_parts(ps))
                ],
                "words": ps.words,
                "score": ps.score,
                "excerpt": _excerpt(cmp.a.text, ps.start, ps.end),
            }
        )
    return CompareView(
        cmp,
        highlight(cmp.a.text, left_spans, attrs=attrs),
        highlight(cmp.b.text, right_spans, attrs=attrs),
        passages,
    )


def _excerpt(text: str, start: int, end: int, limit: int = 160) -> str:
    piece = " ".join(text[start:end].split())
    return piece if len(piece) <= limit else piece[: limit - 1].rstrip() + "…"


@router.get("/bandingkan", response_class=HTMLResponse)
def compare_page(
    request: Request,
    saring: SaringDep,
    who: Staff,
    a: Annotated[str, Query(max_length=200)] = "",
    b: Annotated[str, Query(max_length=200)] = "",
    ulang: bool = False,
) -> Response:
    """Two documents (proposals or archive entries) side by side with their matching passages.

    When a's screening result lists b, its stored passages are shown (the evidence behind a's recommendation);
    otherwise, or with `ulang=1`, the two stored texts are aligned now with the current parameters.
    """
    a, b = a.strip(), b.strip()
    if not a or not b:
        return render(request, "compare.html.j2", who, view=None, a=a, b=b)
    stored = None if ulang else saring.stored_comparison(a, b)
    if stored is not None:
        cmp, batch_id = stored
    else:
        try:
            cmp, batch_id = saring.compare(a, b, fresh=True), None
        except KeyError as e:
            raise _not_found(f"Dokumen tidak ditemukan: {e.args[0]}", who) from None
    return render(
        request,
        "compare.html.j2",
        who,
        view=compare_view(cmp),
        a=a,
        b=b,
        from_result=stored is not None,
        batch=saring.store.get_batch(batch_id) if batch_id else None,
    )


# ---------------------------------------------------------------- archive


@router.get("/arsip", response_class=HTMLResponse)
def archive_page(
    request: Request,
    saring: SaringDep,
    who: Staff,
    q: Annotated[str, Query(max_length=20_000)] = "",
    tahun: Annotated[str, Query(max_length=4)] = "",
    klaster: Annotated[str, Query(max_length=50)] = "",
    status_: Annotated[str, Query(alias="status", max_length=20)] = "",
    k: Annotated[int, Query(ge=1, le=100)] = 20,
) -> Response:
    """Free-text search of past innovations (or, without text, the list), filtered by year, cluster, outcome."""
    entries = saring.archive_context().entries
    meta = {e.id: e for e in entries}
    year = int(tahun) if tahun.isdigit() else None
    error = None
    hits: list[dict[str, Any]] = []
    novelty = None
    query = q.strip()
    if query and len(query) < 2:
        error = "Tulis sedikitnya 2 karakter untuk mencari."
    elif query:
        items, novelty = saring.similar(query, k=k, tahun=year, klaster=klaster or None, status=status_ or None)
        hits = [{"s": s, "e": meta.get(s.id)} for s in items]
    else:
        chosen = [
            e
            for e in entries
            if (year is None or e.tahun == year)
            and (not klaster or e.klaster == klaster)
            and (not status_ or e.status == status_)
        ]
        chosen.sort(key=lambda e: (-(e.tahun or 0), e.judul.lower()))
        hits = [{"s": None, "e": e} for e in chosen]
    return render(
        request,
        "archive.html.j2",
        who,
        q=query,
        tahun=tahun,
        klaster=klaster,
        status=status_,
        k=k,
        hits=hits,
        novelty=novelty,
        novelty_min_words=saring.params.similarity.novelty_min_words,
        error=error,
        total=len(entries),
        years=sorted({e.tahun for e in entries if e.tahun}, reverse=True),
        klasters=sorted({e.klaster for e in entries if e.klaster}),
        statuses=sorted({e.status for e in entries if e.status}),
        headings=KEY_HEADINGS,
    )


@router.get("/replikasi", response_class=HTMLResponse)
def replication_page(request: Request, saring: SaringDep, who: Staff, hanya_terkait: bool = False) -> Response:
    """The replication map: each past top innovation and the later proposals that followed it."""
    m = saring.replication_map(only_linked=hanya_terkait)
    links = [x for e in m.entries for x in e.links]
    return render(
        request,
        "replication.html.j2",
        who,
        m=m,
        only_linked=hanya_terkait,
        n_declared=sum(1 for x in links if x.relation == "declared_replication"),
        n_shared=sum(1 for x in links if x.relation != "declared_replication"),
    )


@router.get("/arsip/{entry_id}", response_class=HTMLResponse)
def archive_entry_page(request: Request, entry_id: str, saring: SaringDep, who: Staff) -> Response:
    """A past innovation: its text by section, outcome and year, and the screened proposals that resemble,
    copy or declare to replicate it (each with a side-by-side link)."""
    entry = saring.store.get_archive(entry_id)
    if entry is None:
        raise _not_found(f"Inovasi {entry_id} tidak ada di arsip.", who)
    related = saring.store.findings_about(entry_id)
    return render(
        request,
        "archive_entry.html.j2",
        who,
        e=entry,
        related=related,
        replications=[r for r in related if r[1] == "declared_replication"],
        headings=KEY_HEADINGS,
    )


# ---------------------------------------------------------------- wiring


def duplicate_compare_url(p: ProposalResult, d: Duplicate) -> str:
    return f"/bandingkan?a={quote(p.id)}&b={quote(d.other_id)}"


TEMPLATES.env.globals["compare_url"] = duplicate_compare_url


async def _login_required(request: Request, exc: Exception) -> Response:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if request.method != "GET":
        target = "/"
    return RedirectResponse(f"/masuk?next={quote(target, safe='')}", status.HTTP_303_SEE_OTHER)


async def _page_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, PageError)
    return render(request, "error.html.j2", exc.who, status_code=exc.status_code, title=exc.title, message=exc.message)


async def _unknown_page(request: Request, exc: Exception) -> Response:
    """An unknown page address gets an Indonesian page; the JSON API keeps its JSON errors."""
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == status.HTTP_404_NOT_FOUND and not request.url.path.startswith(("/api/", "/static/")):
        return render(
            request,
            "error.html.j2",
            None,
            status_code=status.HTTP_404_NOT_FOUND,
            title="Halaman tidak ditemukan",
            message=f"Alamat {request.url.path} tidak ada di saring. Kembali ke beranda atau periksa tautannya.",
        )
    return await http_exception_handler(request, exc)


SECURITY_HEADERS = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}
PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
"""The pages use only their own vendored script and stylesheet (inline style attributes for widths);
the interactive API docs (/docs, /redoc) load their own assets and are left out."""
_NO_CSP = ("/docs", "/redoc", "/openapi.json")


def _cross_site(request: Request) -> bool:
    """A state-changing page request whose Origin (or, without one, Referer) is another site. Requests
    that carry neither (non-browser clients) are left to the SameSite=Strict cookie."""
    source = request.headers.get("origin") or request.headers.get("referer")
    if not source or source == "null":
        return bool(source)
    parts = urlsplit(source)
    return f"{parts.scheme}://{parts.netloc}" != f"{request.url.scheme}://{request.headers.get('host', '')}"


def install(app: FastAPI) -> None:
    """Add the pages, their static files (/static) and their error pages to the app, with security
    headers on every response and a same-origin check on every state-changing page request (CSRF)."""

    @app.middleware("http")
    async def hardening(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        if request.method not in ("GET", "HEAD", "OPTIONS") and not request.url.path.startswith("/api/"):
            if _cross_site(request):
                response: Response = render(
                    request,
                    "error.html.j2",
                    None,
                    status_code=status.HTTP_403_FORBIDDEN,
                    title="Permintaan ditolak",
                    message="Formulir ini dikirim dari situs lain. Buka halaman saring lalu kirim ulang dari sana.",
                )
            else:
                response = await call_next(request)
        else:
            response = await call_next(request)
        for k, v in SECURITY_HEADERS.items():
            response.headers.setdefault(k, v)
        if not request.url.path.startswith(_NO_CSP):
            response.headers.setdefault("Content-Security-Policy", PAGE_CSP)
        return response

    app.include_router(router)
    app.mount("/static", StaticFiles(directory=str(STATIC_DIR)), name="static")
    app.add_exception_handler(LoginRequired, _login_required)
    app.add_exception_handler(PageError, _page_error)
    app.add_exception_handler(StarletteHTTPException, _unknown_page)
