"""Render a screening `Report` as report.json, report.xlsx, report.csv and a self-contained report.html.

Every output is rendered from the `Report` alone (the same JSON the API returns): evidence is data, and
the renderings are views of it. User-facing text is in Bahasa Indonesia; the reports present evidence
for the secretariat and the judges, never a verdict.
"""

from __future__ import annotations

import csv
import json
import os
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from difflib import SequenceMatcher
from functools import lru_cache
from itertools import pairwise
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, pass_context
from jinja2.runtime import Context
from markupsafe import Markup, escape
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from screening.proposal import KEY_HEADINGS
from screening.replication import ReplicationMap
from screening.results import (
    MATCH_LABELS,
    NO_SIMILAR_TEXT,
    RECOMMENDATION_LABELS,
    RELATION_LABELS,
    SIMILARITY_LEVEL_LABELS,
    Duplicate,
    Passage,
    ProposalResult,
    Report,
    Segment,
    Similar,
)

TEMPLATES_DIR = Path(__file__).with_name("templates")

SECTION_STATUS_LABELS: dict[str, str] = {
    "ada": "Ada",
    "tidak_ada": "Tidak ada",
    "terlalu_pendek": "Terlalu pendek",
    "melebihi_batas": "Melebihi batas",
    "hanya_instruksi": "Hanya instruksi",
}
SEVERITY_LABELS: dict[str, str] = {"error": "Kesalahan", "warning": "Peringatan", "info": "Info"}
SOURCE_LABELS: dict[str, str] = {"batch": "Proposal dalam batch ini", "archive": "Arsip inovasi terdahulu"}


def source_label(d: Duplicate) -> str:
    """Where the other document of a finding comes from; another wave names its batch (or the portal)."""
    if d.other_batch == "portal":
        return "Proposal tahun ini yang dikirim lewat portal"
    if d.other_batch:
        return f"Proposal tahun ini dari batch lain ({d.other_batch})"
    return SOURCE_LABELS.get(d.other_source, d.other_source)


STATUS_LABELS: dict[str, str] = {"top99": "Top 99", "top45": "Top 45"}

SUMMARY_COLUMNS: dict[str, str] = {
    "id": "ID",
    "judul": "Judul",
    "instansi": "Instansi",
    "klaster": "Klaster",
    "wilayah": "Wilayah",
    "tahun": "Tahun",
    "rekomendasi": "Rekomendasi",
    "alasan": "Alasan",
    "lengkap": "Lengkap",
    "jumlah_duplikasi": "Jumlah temuan duplikasi",
    "porsi_tertinggi": "Porsi tumpang tindih tertinggi",
    "mirip_teratas": "Inovasi mirip teratas",
    "mirip_teratas_id": "ID inovasi mirip teratas",
    "kebaruan": "Kebaruan",
    "berkas": "Berkas",
}
"""Keys of `summary_rows` and their Indonesian column headers (CSV, XLSX, web table)."""

PERCENT_KEYS = frozenset({"porsi_tertinggi"})
DEFAULT_CONTEXT_CHARS = 500
"""Characters of unhighlighted text kept around each passage in the side-by-side view."""

_EXCERPT_CHARS = 300
_XLSX_MAX_CELL = 32767
_CSV_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_ATTR_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_:-]*$")
_ANCHOR_SAFE = re.compile(r"[^A-Za-z0-9.-]")

Span = tuple[int, int, str, str]
"""(start, end, css_class, element_id): a half-open character range of a text to highlight."""


# --------------------------------------------------------------------------- highlighting


@dataclass
class _Mark:
    order: int
    start: int
    end: int
    css_class: str
    element_id: str
    opened: bool = False


def _attr_html(name: str, value: str) -> str:
    if not _ATTR_NAME.match(name):
        raise ValueError(f"invalid HTML attribute name {name!r}")
    return f' {name}="{escape(value)}"'


def _open_tag(mark: _Mark, extra: Mapping[str, str]) -> str:
    """The opening <mark> tag: the first fragment carries the id, continuations point back with data-of."""
    classes = mark.css_class if not mark.opened else f"{mark.css_class} cont".strip()
    html = "<mark"
    if classes:
        html += _attr_html("class", classes)
    if mark.element_id:
        html += _attr_html("id" if not mark.opened else "data-of", mark.element_id)
    for name, value in extra.items():
        if mark.opened and name in ("id", "data-n"):
            continue
        html += _attr_html(name, value)
    mark.opened = True
    return html + ">"


def highlight(
    text: str,
    spans: Sequence[Span],
    *,
    attrs: Mapping[str, Mapping[str, str]] | None = None,
) -> Markup:
    """HTML-escape `text` and wrap each span in a `<mark class=css_class id=element_id>`.

    Spans are half-open character ranges; offsets are clamped to the text and empty spans dropped.
    `attrs` adds attributes per element id (e.g. `data-twin`, `title`, `data-n`).

    Overlaps nest, and the HTML is always well formed: at every boundary the spans that open there
    (and any that must be reopened) are nested longest-remaining outermost, ties broken by earlier start,
    then by position in `spans`. When an inner span outlives the span around it, the inner one is closed
    at the outer one's end and reopened right after as a continuation fragment (class `cont`, attribute
    `data-of` naming the element id, no `id`). So the text of a span is exactly the concatenation of its
    fragments, the element with the id always starts at the span's start, and the result's text content
    equals `text`.
    """
    n = len(text)
    extra = attrs or {}
    marks: list[_Mark] = []
    for idx, (start, end, css_class, element_id) in enumerate(spans):
        s, e = max(0, min(start, n)), max(0, min(end, n))
        if e > s:
            marks.append(_Mark(idx, s, e, css_class, element_id))
    starting: dict[int, list[_Mark]] = defaultdict(list)
    for m in marks:
        starting[m.start].append(m)
    bounds = sorted({0, n, *(m.start for m in marks), *(m.end for m in marks)})

    out: list[str] = []
    stack: list[_Mark] = []
    for k, pos in enumerate(bounds):
        reopen: list[_Mark] = []
        low = next((i for i, m in enumerate(stack) if m.end == pos), None)
        if low is not None:
            out.extend("</mark>" for _ in stack[low:])
            reopen = [m for m in stack[low:] if m.end != pos]
            del stack[low:]
        for m in sorted(reopen + starting.get(pos, []), key=lambda m: (-m.end, m.start, m.order)):
            out.append(_open_tag(m, extra.get(m.element_id, {})))
            stack.append(m)
        if k + 1 < len(bounds):
            out.append(str(escape(text[pos : bounds[k + 1]])))
    return Markup("".join(out))


def _thousands(n: int) -> str:
    return f"{n:,}".replace(",", ".")


def _snap_start(text: str, pos: int, limit: int) -> int:
    """Move a window start forward to just after whitespace (not past `limit`) to avoid cut words."""
    if pos <= 0:
        return 0
    for i in range(pos, min(limit, pos + 60)):
        if text[i - 1].isspace():
            return i
    return pos


def _snap_end(text: str, pos: int, limit: int) -> int:
    """Move a window end back to whitespace (not before `limit`)."""
    if pos >= len(text):
        return len(text)
    for i in range(pos, max(limit, pos - 60), -1):
        if text[i].isspace():
            return i
    return pos


def highlight_excerpt(
    text: str,
    spans: Sequence[Span],
    *,
    context: int | None = DEFAULT_CONTEXT_CHARS,
    attrs: Mapping[str, Mapping[str, str]] | None = None,
) -> Markup:
    """Like `highlight`, but long stretches without any span are elided.

    Keeps `context` characters around every span (whole words where possible) and replaces what lies
    between by a marker saying how many characters were skipped. `context=None` keeps the whole text.
    """
    n = len(text)
    live = [(max(0, min(s, n)), max(0, min(e, n))) for s, e, _c, _i in spans]
    live = [(s, e) for s, e in live if e > s]
    if context is None or n <= 2 * context:
        return highlight(text, spans, attrs=attrs)
    if not live:
        windows = [(0, _snap_end(text, 2 * context, 0))]
    else:
        windows = []
        for s, e in sorted(live):
            ws, we = max(0, s - context), min(n, e + context)
            if windows and ws <= windows[-1][1]:
                windows[-1] = (windows[-1][0], max(windows[-1][1], we))
            else:
                windows.append((ws, we))
        first_start = {}  # window -> earliest span start / latest span end inside it, for snapping
        for ws, we in windows:
            inside = [(s, e) for s, e in live if ws <= s and e <= we]
            first_start[(ws, we)] = (min(s for s, _ in inside), max(e for _, e in inside))
        windows = [
            (_snap_start(text, ws, first_start[(ws, we)][0]), _snap_end(text, we, first_start[(ws, we)][1]))
            for ws, we in windows
        ]
    parts: list[str] = []
    prev = 0
    for ws, we in windows:
        if ws > prev:
            parts.append(_gap(ws - prev))
        inner = [(s - ws, e - ws, c, i) for s, e, c, i in spans if ws <= max(0, s) and min(e, n) <= we]
        parts.append(str(highlight(text[ws:we], inner, attrs=attrs)))
        prev = we
    if prev < n:
        parts.append(_gap(n - prev))
    return Markup("".join(parts))


def _gap(chars: int) -> str:
    return f'<span class="gap">[… {_thousands(chars)} karakter tidak ditampilkan …]</span>'


# --------------------------------------------------------------------------- anchors and formatting


def anchor_id(proposal_id: str) -> str:
    """The HTML id of a proposal's section: `p-<id>`, with characters outside [A-Za-z0-9.-] escaped
    as `_<hex>_` so that any id gives a valid, unique fragment."""
    return "p-" + _ANCHOR_SAFE.sub(lambda m: f"_{ord(m.group()):x}_", proposal_id)


def _mark_id(anchor: str, dup: int, side: str, i: int) -> str:
    return f"{anchor}-d{dup}-{side}{i}"


def evidence_anchor(proposal: ProposalResult, pointer: str | None) -> str:
    """Map a Reason's JSON pointer (e.g. `/duplicates/0`) to an element id inside the proposal's section.

    Unknown or out-of-range pointers fall back to the deepest known element, finally the section itself.
    """
    base = anchor_id(proposal.id)
    if not pointer:
        return base
    tokens = [t.replace("~1", "/").replace("~0", "~") for t in pointer.strip("/").split("/")]

    def idx(pos: int, length: int) -> int | None:
        if len(tokens) > pos and tokens[pos].isdigit() and int(tokens[pos]) < length:
            return int(tokens[pos])
        return None

    head = tokens[0]
    if head == "duplicates":
        j = idx(1, len(proposal.duplicates))
        if j is None:
            return f"{base}-duplicates"
        dup = proposal.duplicates[j]
        if len(tokens) > 2 and tokens[2] in ("passages", "template_passages"):
            plist = dup.passages if tokens[2] == "passages" else dup.template_passages
            i = idx(3, len(plist))
            if i is not None:
                mark = _mark_id(base, j, "a" if tokens[2] == "passages" else "ta", i)
                if tokens[2] == "passages" and len(tokens) > 4 and tokens[4] == "segments":
                    k = idx(5, len(segment_parts(plist[i])))
                    if k is not None:
                        return _segment_id(mark, k)
                return mark
        return f"{base}-dup-{j}"
    if head == "completeness":
        if len(tokens) > 1 and tokens[1] == "sections":
            i = idx(2, len(proposal.completeness.sections))
            if i is not None:
                return f"{base}-sec-{i}"
        if len(tokens) > 1 and tokens[1] == "findings":
            i = idx(2, len(proposal.completeness.findings))
            if i is not None:
                return f"{base}-find-{i}"
        return f"{base}-completeness"
    if head == "similar":
        i = idx(1, len(proposal.similar))
        return f"{base}-sim-{i}" if i is not None else f"{base}-similar"
    if head == "novelty":
        return f"{base}-novelty"
    return base


def fmt_pct(value: float | None, digits: int = 1) -> str:
    """A share 0..1 as an Indonesian percentage (`23,5 %`); `–` when missing."""
    if value is None:
        return "–"
    return f"{value * 100:.{digits}f}".replace(".", ",") + " %"


def similar_level(s: Similar) -> str:
    """The stated level of a similar past innovation ("Inovasi yang sama", "Terkait", "Kemiripan lemah");
    empty for results screened before the readable score existed."""
    return SIMILARITY_LEVEL_LABELS.get(s.level or "", "")


def similar_terms(s: Similar) -> str:
    """The key terms a similar past innovation shares with the text, comma separated."""
    return ", ".join(s.reason.terms) if s.reason else ""


def fmt_num(value: float | None, digits: int = 2) -> str:
    """A number with an Indonesian decimal comma; `–` when missing."""
    if value is None:
        return "–"
    return f"{value:.{digits}f}".replace(".", ",")


_MONTHS = (
    "Januari",
    "Februari",
    "Maret",
    "April",
    "Mei",
    "Juni",
    "Juli",
    "Agustus",
    "September",
    "Oktober",
    "November",
    "Desember",
)


TIME_ZONES: dict[str, int] = {"WIB": 7, "WITA": 8, "WIT": 9}
"""Indonesia's time zones and their offsets from UTC (hours)."""


def fmt_when(value: str | None, *, zone: str = "WIB") -> str:
    """An ISO timestamp as an Indonesian date and time in `zone` (`2 Maret 2026 16.15 WIB`); a timestamp
    without an offset is UTC (the store keeps UTC); other text as is."""
    if zone not in TIME_ZONES:
        raise ValueError(f"unknown time zone {zone!r}; use one of {', '.join(TIME_ZONES)}")
    if not value:
        return "–"
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        return value
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    local = when.astimezone(timezone(timedelta(hours=TIME_ZONES[zone])))
    return f"{local.day} {_MONTHS[local.month - 1]} {local.year} {local:%H.%M} {zone}"


@pass_context
def when_filter(ctx: Context, value: str | None) -> str:
    """The `when` filter: in the zone the page sets (`timezone`), else the one the report's settings echo."""
    zone = ctx.get("timezone")
    if not zone:
        report = ctx.get("report")
        zone = (getattr(report, "settings", None) or {}).get("timezone")
    return fmt_when(value, zone=zone or "WIB")


def status_label(status: str | None) -> str:
    """`top99` → `Top 99`; other statuses as given; empty when none."""
    if not status:
        return ""
    return STATUS_LABELS.get(status.lower(), status)


def _similar_label(judul: str, instansi: str, tahun: int | None, status: str | None) -> str:
    extra = ", ".join(x for x in (str(tahun) if tahun else "", status_label(status)) if x)
    label = " — ".join(x for x in (judul, instansi) if x)
    return f"{label} ({extra})" if extra and label else label or extra


# --------------------------------------------------------------------------- flat rows


def summary_rows(report: Report) -> list[dict[str, object]]:
    """One flat row per proposal (keys of `SUMMARY_COLUMNS`), shared by CSV, XLSX and the web table.

    `jumlah_duplikasi` counts the duplicate findings that are not template-only (relation `boilerplate`:
    text many proposals of the form share), `porsi_tertinggi` is the highest `share` (0..1) among them,
    None without any.
    """
    rows: list[dict[str, object]] = []
    for p in report.proposals:
        top = p.similar[0] if p.similar else None
        real = [d for d in p.duplicates if d.relation != "boilerplate"]
        rows.append(
            {
                "id": p.id,
                "judul": p.judul,
                "instansi": p.instansi,
                "klaster": p.klaster,
                "wilayah": p.wilayah,
                "tahun": p.tahun,
                "rekomendasi": RECOMMENDATION_LABELS.get(p.recommendation, p.recommendation),
                "alasan": "; ".join(r.message for r in p.reasons),
                "lengkap": "Ya" if p.completeness.complete else "Tidak",
                "jumlah_duplikasi": len(real),
                "porsi_tertinggi": max((d.share for d in real), default=None),
                "mirip_teratas": (
                    _similar_label(top.judul, top.instansi, top.tahun, top.status) or top.id if top else ""
                ),
                "mirip_teratas_id": top.id if top else "",
                "kebaruan": p.novelty,
                "berkas": p.source or "",
            }
        )
    return rows


def _excerpt(text: str | None, start: int, end: int, limit: int = _EXCERPT_CHARS) -> str:
    if not text:
        return ""
    piece = " ".join(text[start:end].split())
    return piece if len(piece) <= limit else piece[: limit - 1].rstrip() + "…"


def _duplicate_rows(report: Report) -> list[list[object]]:
    rows: list[list[object]] = []
    for p in report.proposals:
        for d in p.duplicates:
            first = d.passages[0] if d.passages else None
            rows.append(
                [
                    p.id,
                    d.other_id,
                    d.other_judul,
                    d.other_instansi,
                    d.other_tahun,
                    source_label(d),
                    RELATION_LABELS.get(d.relation, d.relation),
                    MATCH_LABELS.get(d.match_type, d.match_type),
                    d.share,
                    d.other_share,
                    d.longest_passage_words,
                    len(d.passages),
                    _excerpt(p.text, first.start, first.end) if first else "",
                    segment_count(d.passages),
                    ", ".join(MATCH_LABELS.get(t, t) for t in match_types(d.passages)),
                ]
            )
    return rows


DUPLICATE_HEADERS = [
    "ID proposal",
    "ID dokumen lain",
    "Judul dokumen lain",
    "Instansi dokumen lain",
    "Tahun dokumen lain",
    "Sumber dokumen lain",
    "Hubungan",
    "Jenis kecocokan",
    "Porsi (proposal ini)",
    "Porsi (dokumen lain)",
    "Kata bagian terpanjang",
    "Jumlah bagian",
    "Kutipan bagian pertama",
    "Jumlah segmen",
    "Jenis kecocokan dalam bagian",
]
COMPLETENESS_HEADERS = [
    "ID proposal",
    "Formulir",
    "Kunci bagian",
    "Bagian",
    "Status",
    "Wajib",
    "Jumlah kata",
    "Minimal kata",
    "Maksimal kata",
    "Porsi teks instruksi",
    "Pesan",
]
FINDING_HEADERS = ["ID proposal", "Kode", "Tingkat", "Isian", "Pesan"]
SIMILAR_HEADERS = [
    "ID proposal",
    "Peringkat",
    "ID inovasi",
    "Judul",
    "Instansi",
    "Tahun",
    "Status",
    "Skor kemiripan (0-100)",
    "Skor semantik",
    "Skor leksikal",
    "Tingkat",
    "Istilah bersama",
    "Bagian paling cocok",
]
ERROR_HEADERS = ["Berkas", "Alasan"]
PARAMETER_HEADERS = ["Kunci", "Nilai"]


def _completeness_rows(report: Report) -> list[list[object]]:
    return [
        [
            p.id,
            p.completeness.form_label or p.completeness.form,
            s.key,
            s.heading,
            SECTION_STATUS_LABELS.get(s.status, s.status),
            "Ya" if s.required else "Tidak",
            s.words,
            s.min_words,
            s.max_words,
            s.instruction_share,
            s.message,
        ]
        for p in report.proposals
        for s in p.completeness.sections
    ]


def _finding_rows(report: Report) -> list[list[object]]:
    return [
        [p.id, f.code, SEVERITY_LABELS.get(f.severity, f.severity), f.field or "", f.message]
        for p in report.proposals
        for f in p.completeness.findings
    ]


def _similar_rows(report: Report) -> list[list[object]]:
    return [
        [
            p.id,
            rank,
            s.id,
            s.judul,
            s.instansi,
            s.tahun,
            status_label(s.status),
            s.score,
            s.dense_score,
            s.lexical_score,
            similar_level(s),
            similar_terms(s),
            s.reason.passage if s.reason else "",
        ]
        for p in report.proposals
        for rank, s in enumerate(p.similar, start=1)
    ]


def flatten(data: Any, prefix: str = "") -> list[tuple[str, object]]:
    """Flatten nested dicts/lists to (dotted key, scalar) pairs; lists of scalars stay one JSON value."""
    if isinstance(data, Mapping):
        out: list[tuple[str, object]] = []
        for k, v in data.items():
            out.extend(flatten(v, f"{prefix}.{k}" if prefix else str(k)))
        return out
    if isinstance(data, list | tuple):
        if all(not isinstance(v, Mapping | list | tuple) for v in data):
            return [(prefix, json.dumps(list(data), ensure_ascii=False))]
        out = []
        for i, v in enumerate(data):
            out.extend(flatten(v, f"{prefix}.{i}"))
        return out
    return [(prefix, data)]


def _parameter_rows(report: Report) -> list[list[object]]:
    meta: list[tuple[str, object]] = [
        ("saring_version", report.saring_version),
        ("generated_at", report.generated_at),
        ("model", report.model),
        ("archive_size", report.archive_size),
    ]
    rows = meta + flatten(report.parameters, "parameters") + flatten(report.settings, "settings")
    return [[k, v if isinstance(v, str | int | float | bool) or v is None else str(v)] for k, v in rows]


# --------------------------------------------------------------------------- writers


def _atomic_target(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    return path.with_name(f".{path.name}.tmp")


def write_json(report: Report, path: Path) -> None:
    """Write report.json (UTF-8, indented): the source of truth the other renderings derive from.
    Written one proposal at a time (byte for byte what `report.model_dump_json(indent=2)` gives), so a
    national batch's report is never one string of hundreds of megabytes in memory."""
    tmp = _atomic_target(path)
    with tmp.open("w", encoding="utf-8") as fh:
        for part in _json_parts(report):
            fh.write(part)
    os.replace(tmp, path)


_PROPOSALS_SLOT = '"proposals": []'


def _json_parts(report: Report) -> Iterator[str]:
    """`report.model_dump_json(indent=2)` in pieces: the report without its proposals, with each
    proposal's own dump indented into the empty list (JSON strings hold no raw newlines, so indenting
    every line is exact)."""
    if not report.proposals:
        yield report.model_dump_json(indent=2)
        return
    shell = report.model_copy(update={"proposals": []}).model_dump_json(indent=2)
    head, tail = shell.split(_PROPOSALS_SLOT, 1)
    yield head + '"proposals": [\n'
    last = len(report.proposals) - 1
    for i, p in enumerate(report.proposals):
        yield "    " + p.model_dump_json(indent=2).replace("\n", "\n    ") + (",\n" if i < last else "\n")
    yield "  ]" + tail


def _csv_cell(value: object) -> object:
    """None → empty; text that spreadsheets would run as a formula gets a leading apostrophe."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(_CSV_FORMULA_START):
        return "'" + value
    return value


CSV_FORMATS = ("id", "international")
"""`id`: what spreadsheets set to Indonesian open directly (`;` between fields, decimal comma);
`international`: `,` between fields, decimal point."""


def write_csv(report: Report, path: Path, *, csv_format: str | None = None) -> None:
    """Write the summary (one row per proposal) as CSV, UTF-8 with BOM so spreadsheets read Indonesian text.

    Headers are the Indonesian labels of `SUMMARY_COLUMNS`; shares are fractions 0..1. `csv_format`
    (default: the report's `csv_format` setting, else `id`) is one of CSV_FORMATS.
    """
    fmt = csv_format or (report.settings or {}).get("csv_format") or "id"
    if fmt not in CSV_FORMATS:
        raise ValueError(f"unknown CSV format {fmt!r}; use one of {', '.join(CSV_FORMATS)}")
    indonesian = fmt == "id"

    def cell(value: object) -> object:
        value = _csv_cell(value)
        if indonesian and isinstance(value, float):
            return repr(value).replace(".", ",")
        return value

    tmp = _atomic_target(path)
    with tmp.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh, delimiter=";" if indonesian else ",")
        writer.writerow(list(SUMMARY_COLUMNS.values()))
        for row in summary_rows(report):
            writer.writerow([cell(row[k]) for k in SUMMARY_COLUMNS])
    os.replace(tmp, path)


def _xlsx_value(value: object) -> object:
    if isinstance(value, str):
        return ILLEGAL_CHARACTERS_RE.sub("", value)[:_XLSX_MAX_CELL]
    return value


def _add_sheet(
    wb: Workbook,
    title: str,
    headers: Sequence[str],
    rows: Iterable[Sequence[object]],
    *,
    percent_cols: Iterable[int] = (),
    number_cols: Iterable[int] = (),
    max_width: int = 60,
) -> None:
    # A write-only sheet streams its rows to the file (no cell objects kept): widths, frozen header
    # and filter must be set before the first row, so the rows' values are gathered first.
    ws = wb.create_sheet(title)
    values = [[_xlsx_value(v) for v in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in values:
        for c, value in enumerate(row):
            widths[c] = max(widths[c], min(len(str(value)) if value is not None else 0, max_width))
    for c, w in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(c)].width = min(max(w + 2, 8), max_width)
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(headers))}{len(values) + 1}"
    bold = Font(bold=True)
    header_cells = []
    for h in headers:
        cell = WriteOnlyCell(ws, value=h)
        cell.font = bold
        header_cells.append(cell)
    ws.append(header_cells)
    pct, num = set(percent_cols), set(number_cols)
    for row in values:
        cells = []
        for c, value in enumerate(row):
            cell = WriteOnlyCell(ws, value=value)
            if isinstance(value, str):
                cell.data_type = "s"  # never a formula, whatever the (untrusted) text starts with
            if c in pct:
                cell.number_format = "0.0%"
            elif c in num:
                cell.number_format = "0.000"
            cells.append(cell)
        ws.append(cells)


def write_xlsx(report: Report, path: Path) -> None:
    """Write report.xlsx: sheets Ringkasan, Duplikasi, Kelengkapan, Temuan, Mirip, Galat, Parameter.

    Each sheet has a bold, frozen header row and an autofilter; shares use a percent format.
    """
    wb = Workbook(write_only=True)
    keys = list(SUMMARY_COLUMNS)
    _add_sheet(
        wb,
        "Ringkasan",
        list(SUMMARY_COLUMNS.values()),
        ([row[k] for k in keys] for row in summary_rows(report)),
        percent_cols=[keys.index(k) for k in PERCENT_KEYS],
        number_cols=[keys.index("kebaruan")],
    )
    _add_sheet(wb, "Duplikasi", DUPLICATE_HEADERS, _duplicate_rows(report), percent_cols=[8, 9], max_width=80)
    _add_sheet(wb, "Kelengkapan", COMPLETENESS_HEADERS, _completeness_rows(report), percent_cols=[9])
    _add_sheet(wb, "Temuan", FINDING_HEADERS, _finding_rows(report))
    _add_sheet(wb, "Mirip", SIMILAR_HEADERS, _similar_rows(report), number_cols=[7, 8, 9])
    _add_sheet(wb, "Galat", ERROR_HEADERS, [[e.file, e.reason] for e in report.errors], max_width=100)
    _add_sheet(wb, "Parameter", PARAMETER_HEADERS, _parameter_rows(report), max_width=80)
    tmp = _atomic_target(path)
    wb.save(tmp)
    os.replace(tmp, path)


REPLICATION_HEADERS = [
    "ID arsip",
    "Judul inovasi terdahulu",
    "Instansi",
    "Tahun",
    "Capaian",
    "Replikasi dinyatakan",
    "Berbagi teks tanpa menyatakan",
    "Daerah",
    "Tahun usulan",
]
REPLICATION_LINK_HEADERS = [
    "ID arsip",
    "Judul inovasi terdahulu",
    "ID usulan",
    "Judul usulan",
    "Instansi usulan",
    "Wilayah",
    "Tahun usulan",
    "Hubungan",
    "Jenis kecocokan",
    "Porsi teks usulan",
]


def write_replication_xlsx(m: ReplicationMap, path: Path) -> None:
    """The replication map as XLSX: one row per past top innovation ("Peta replikasi") and one row per
    later proposal linked to it ("Tautan"), from the same JSON the API returns."""
    wb = Workbook(write_only=True)
    _add_sheet(
        wb,
        "Peta replikasi",
        REPLICATION_HEADERS,
        (
            [
                e.id,
                e.judul,
                e.instansi,
                e.tahun,
                status_label(e.status),
                e.declared,
                e.shared_text,
                ", ".join(e.regions),
                ", ".join(str(y) for y in e.years),
            ]
            for e in m.entries
        ),
        max_width=80,
    )
    _add_sheet(
        wb,
        "Tautan",
        REPLICATION_LINK_HEADERS,
        (
            [
                e.id,
                e.judul,
                x.proposal_id,
                x.judul,
                x.instansi,
                x.wilayah,
                x.tahun,
                RELATION_LABELS.get(x.relation, x.relation),
                MATCH_LABELS.get(x.match_type, x.match_type),
                x.share,
            ]
            for e in m.entries
            for x in e.links
        ),
        percent_cols=[9],
        max_width=80,
    )
    tmp = _atomic_target(path)
    wb.save(tmp)
    os.replace(tmp, path)


# --------------------------------------------------------------------------- HTML


def segment_parts(p: Passage) -> list[Segment]:
    """The segments marked inside a passage: none when it is its own single part (results written before
    segments existed have none; a single segment covering exactly the passage adds nothing to show)."""
    segs = p.segments
    if len(segs) == 1:
        s = segs[0]
        if (s.start, s.end, s.other_start, s.other_end) == (p.start, p.end, p.other_start, p.other_end):
            return []
    return list(segs)


def other_extent(p: Passage) -> tuple[int, int]:
    """The passage's extent in the other text: from its first to its last segment there (segments may be
    in any order on that side), or its own other offsets when it has no segments."""
    parts = segment_parts(p)
    if not parts:
        return p.other_start, p.other_end
    return min(s.other_start for s in parts), max(s.other_end for s in parts)


def is_reordered(p: Passage) -> bool:
    """Whether the passage's segments come in another order in the other text (reordered sentences)."""
    starts = [s.other_start for s in p.segments]
    return any(b < a for a, b in pairwise(starts))


def _type_order(match_type: str) -> int:
    order = list(MATCH_LABELS)
    return order.index(match_type) if match_type in order else len(order)


def parts_label(p: Passage) -> str:
    """`3 segmen (2 identik, 1 terjemahan) · urutan diubah` for a passage of several segments; empty for a
    passage that is its own single part."""
    n = len(p.segments)
    if n <= 1:
        return ""
    label = f"{n} segmen"
    counts = Counter(s.match_type for s in p.segments)
    if len(counts) > 1:
        ranked = sorted(counts.items(), key=lambda kv: (-kv[1], _type_order(kv[0])))
        label += " (" + ", ".join(f"{c} {MATCH_LABELS.get(t, t)}" for t, c in ranked) + ")"
    if is_reordered(p):
        label += " · urutan diubah"
    return label


def segment_count(passages: Iterable[Passage]) -> int:
    """Aligned parts over all passages (a passage without segments counts as one)."""
    return sum(max(1, len(p.segments)) for p in passages)


def match_types(passages: Iterable[Passage]) -> list[str]:
    """The match types present in passages and their segments, in the order of `MATCH_LABELS`."""
    found = {p.match_type for p in passages}
    found |= {s.match_type for p in passages for s in p.segments}
    return sorted(found, key=_type_order)


def _segment_id(passage_id: str, k: int) -> str:
    return f"{passage_id}s{k}"


@dataclass
class _DupView:
    dup: Duplicate
    anchor: str
    left: Markup
    right: Markup | None
    passages: list[dict[str, object]] = field(default_factory=list)
    other_anchor: str | None = None
    segments: int = 0
    has_parts: bool = False


_WORD_RE = re.compile(r"\S+")
_PUNCT = ".,;:!?\"'()[]{}«»“”‘’–—-"
DIFF_MAX_WORDS = 2000
"""Edited parts longer than this (in either text) are not diffed word by word (quadratic worst case)."""


def word_diff(
    a: str, a0: int, a1: int, b: str, b0: int, b1: int
) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """Character spans of the words that differ between a[a0:a1] and b[b0:b1]: those only in a (added or
    changed in this text) and those only in b (removed or changed), compared word for word ignoring case
    and surrounding punctuation, so a judge sees what an edit changed."""
    wa = [(m.start(), m.end()) for m in _WORD_RE.finditer(a, a0, a1)] if a1 > a0 else []
    wb = [(m.start(), m.end()) for m in _WORD_RE.finditer(b, b0, b1)] if b1 > b0 else []
    if not wa or not wb or len(wa) > DIFF_MAX_WORDS or len(wb) > DIFF_MAX_WORDS:
        return [], []

    def norm(text: str, span: tuple[int, int]) -> str:
        return text[span[0] : span[1]].strip(_PUNCT).lower()

    sm = SequenceMatcher(None, [norm(a, w) for w in wa], [norm(b, w) for w in wb], autojunk=False)
    only_a: list[tuple[int, int]] = []
    only_b: list[tuple[int, int]] = []
    for tag, i1, i2, j1, j2 in sm.get_opcodes():
        if tag == "equal":
            continue
        if i2 > i1:
            only_a.append((wa[i1][0], wa[i2 - 1][1]))
        if j2 > j1:
            only_b.append((wb[j1][0], wb[j2 - 1][1]))
    return only_a, only_b


_HEADING_LINE = re.compile(
    r"^(?:" + "|".join(re.escape(h) for h in sorted(KEY_HEADINGS.values(), key=len, reverse=True)) + r")[ \t]*$",
    re.MULTILINE,
)


def heading_spans(text: str, within: Sequence[tuple[int, int]] | None = None) -> list[Span]:
    """The form's section headings in a composed text (a line that is exactly a heading), as `sec-head`
    spans; with `within`, only those inside one of these ranges. A heading inside a copied passage is
    the form's, not copied text: the pages show it unhighlighted."""
    out: list[Span] = []
    for m in _HEADING_LINE.finditer(text):
        if within is None or any(s < m.end() and m.start() < e for s, e in within):
            out.append((m.start(), m.end(), "sec-head", ""))
    return out


def own_text_spans(p: ProposalResult) -> tuple[list[Span], dict[str, dict[str, str]]]:
    """The proposal's own text with its section headings and, in each finding's colour, the passages it
    shares with other documents (template-only findings left out); ids `<anchor>-own-d<j>p<i>`."""
    anchor = anchor_id(p.id)
    spans = heading_spans(p.text)
    attrs: dict[str, dict[str, str]] = {}
    for j, d in enumerate(p.duplicates):
        if d.relation == "boilerplate":
            continue
        for i, ps in enumerate(d.passages):
            if ps.end > len(p.text):
                continue  # written against another text (an older version): never mark the wrong words
            element = f"{anchor}-own-d{j}p{i}"
            label = MATCH_LABELS.get(ps.match_type, ps.match_type)
            spans.append((ps.start, ps.end, f"m{j % 8}", element))
            attrs[element] = {
                "title": f"Cocok dengan {d.other_id} · bagian {i + 1} · {label} · {ps.words} kata",
                "data-match": ps.match_type,
            }
    return spans, attrs


def _passage_spans(
    anchor: str,
    j: int,
    passages: Sequence[Passage],
    templates: Sequence[Passage],
    *,
    texts: tuple[str, str | None] | None = None,
) -> tuple[list[Span], list[Span], dict[str, dict[str, str]]]:
    """Spans for this side (a) and the other side (b) of one duplicate, and their attributes.

    A passage is one numbered mark in the same colour on both sides. A passage made of several segments
    gets the class `parts` (its gaps, inside the copy but not matched, are shown lighter) and, nested in
    it, one `seg` mark per segment with the segment's `data-match`, on this side at its start..end and on
    the other side at its other_start..other_end (there the passage spans its segments' extent, whatever
    their order). Segment ids are the passage's id plus `s<k>`; each segment's twin is the same segment on
    the other side. A passage without segments renders as it always did. With both `texts`,
    the words an edited part changed are marked inside it (`diff-add` here, `diff-del` in the other text).
    """
    left: list[Span] = []
    right: list[Span] = []
    attrs: dict[str, dict[str, str]] = {}
    for i, p in enumerate(passages):
        a, b = _mark_id(anchor, j, "a", i), _mark_id(anchor, j, "b", i)
        cls = f"m{i % 8}"
        label = MATCH_LABELS.get(p.match_type, p.match_type)
        title = f"Bagian {i + 1} · {label} · {p.words} kata"
        parts = segment_parts(p)
        extra = parts_label(p)
        if extra:
            title += f" · {extra}"
        pcls = f"{cls} parts" if parts else cls
        o_start, o_end = other_extent(p)
        left.append((p.start, p.end, pcls, a))
        right.append((o_start, o_end, pcls, b))
        attrs[a] = {"data-n": str(i + 1), "data-twin": b, "title": title}
        attrs[b] = {"data-n": str(i + 1), "data-twin": a, "title": title}
        if p.segments:
            attrs[a]["data-match"] = attrs[b]["data-match"] = p.match_type
        for k, s in enumerate(parts):
            sa, sb = _segment_id(a, k), _segment_id(b, k)
            stitle = (
                f"Bagian {i + 1} · segmen {k + 1} dari {len(parts)} · "
                f"{MATCH_LABELS.get(s.match_type, s.match_type)} · skor {fmt_num(s.score)}"
            )
            left.append((s.start, s.end, f"seg {cls}", sa))
            right.append((s.other_start, s.other_end, f"seg {cls}", sb))
            attrs[sa] = {"data-twin": sb, "data-match": s.match_type, "title": stitle}
            attrs[sb] = {"data-twin": sa, "data-match": s.match_type, "title": stitle}
        edited = [(s.start, s.end, s.other_start, s.other_end) for s in parts if s.match_type == "edited"]
        if not parts and p.match_type == "edited":
            edited = [(p.start, p.end, p.other_start, p.other_end)]
        if texts is not None and texts[1] is not None:
            for s0, s1, o0, o1 in edited:
                only_a, only_b = word_diff(texts[0], s0, s1, texts[1], o0, o1)
                left.extend((x, y, "diff-add", "") for x, y in only_a)
                right.extend((x, y, "diff-del", "") for x, y in only_b)
    if texts is not None:
        left.extend(heading_spans(texts[0], [(p.start, p.end) for p in passages]))
        if texts[1] is not None:
            right.extend(heading_spans(texts[1], [other_extent(p) for p in passages]))
    for i, p in enumerate(templates):
        a, b = _mark_id(anchor, j, "ta", i), _mark_id(anchor, j, "tb", i)
        left.append((p.start, p.end, "tpl", a))
        right.append((p.other_start, p.other_end, "tpl", b))
        title = "Teks templat (diabaikan)"
        attrs[a] = {"data-twin": b, "title": title}
        attrs[b] = {"data-twin": a, "title": title}
    return left, right, attrs


def _dup_view(p: ProposalResult, j: int, d: Duplicate, batch_ids: set[str], context: int | None) -> _DupView:
    anchor = anchor_id(p.id)
    left_spans, right_spans, attrs = _passage_spans(
        anchor, j, d.passages, d.template_passages, texts=(p.text, d.other_text)
    )
    left = highlight_excerpt(p.text, left_spans, context=context, attrs=attrs)
    right = (
        highlight_excerpt(d.other_text, right_spans, context=context, attrs=attrs) if d.other_text is not None else None
    )
    passages: list[dict[str, object]] = [
        {
            "n": i + 1,
            "css": f"m{i % 8}",
            "id": _mark_id(anchor, j, "b", i),
            "twin": _mark_id(anchor, j, "a", i),
            "match": MATCH_LABELS.get(ps.match_type, ps.match_type),
            "match_type": ps.match_type,
            "parts": parts_label(ps),
            "words": ps.words,
            "score": ps.score,
            "excerpt": _excerpt(p.text, ps.start, ps.end, limit=600),
        }
        for i, ps in enumerate(d.passages)
    ]
    other_anchor = anchor_id(d.other_id) if d.other_source == "batch" and d.other_id in batch_ids else None
    return _DupView(
        d,
        f"{anchor}-dup-{j}",
        left,
        right,
        passages,
        other_anchor,
        segments=segment_count(d.passages),
        has_parts=any(segment_parts(ps) for ps in d.passages),
    )


@lru_cache(maxsize=1)
def _env() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES_DIR)),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["pct"] = fmt_pct
    env.filters["num"] = fmt_num
    env.filters["when"] = when_filter
    env.globals.update(
        RECOMMENDATION_LABELS=RECOMMENDATION_LABELS,
        RELATION_LABELS=RELATION_LABELS,
        MATCH_LABELS=MATCH_LABELS,
        SECTION_STATUS_LABELS=SECTION_STATUS_LABELS,
        SEVERITY_LABELS=SEVERITY_LABELS,
        SOURCE_LABELS=SOURCE_LABELS,
        source_label=source_label,
        status_label=status_label,
        similar_level=similar_level,
        similar_terms=similar_terms,
        NO_SIMILAR_TEXT=NO_SIMILAR_TEXT,
        thousands=_thousands,
        match_types=match_types,
        segment_count=segment_count,
    )
    return env


def render_html(report: Report, *, context_chars: int | None = DEFAULT_CONTEXT_CHARS) -> str:
    """Render the self-contained report.html (inline CSS and JS, no network, print-friendly).

    In the side-by-side duplicate views, unhighlighted stretches farther than `context_chars` from any
    passage are elided (`None` shows the whole texts).
    """
    return "".join(_html_parts(report, context_chars=context_chars))


class _LazyDupViews:
    """A proposal's side-by-side duplicate views, built when the template reaches them: with the HTML
    written as it is generated, one proposal's views are in memory at a time, not a whole batch's."""

    def __init__(self, p: ProposalResult, batch_ids: set[str], context_chars: int | None) -> None:
        self.p, self.batch_ids, self.context_chars = p, batch_ids, context_chars

    def __iter__(self) -> Iterator[_DupView]:
        for j, d in enumerate(self.p.duplicates):
            yield _dup_view(self.p, j, d, self.batch_ids, self.context_chars)


def _html_parts(report: Report, *, context_chars: int | None = DEFAULT_CONTEXT_CHARS) -> Iterator[str]:
    batch_ids = {p.id for p in report.proposals}
    rows = summary_rows(report)
    proposals = []
    for p, row in zip(report.proposals, rows, strict=True):
        anchor = anchor_id(p.id)
        proposals.append(
            {
                "p": p,
                "row": row,
                "anchor": anchor,
                "reasons": [(r, evidence_anchor(p, r.evidence)) for r in p.reasons],
                "dups": _LazyDupViews(p, batch_ids, context_chars),
            }
        )
    params_version = report.parameters.get("version", "")
    return (
        _env()
        .get_template("report.html.j2")
        .generate(
            report=report,
            proposals=proposals,
            params_version=params_version,
            params_json=json.dumps(report.parameters, indent=2, ensure_ascii=False),
            settings_json=json.dumps(report.settings, indent=2, ensure_ascii=False) if report.settings else "",
            counts=_recommendation_counts(report),
        )
    )


def _recommendation_counts(report: Report) -> list[tuple[str, str, int]]:
    counts = {k: 0 for k in RECOMMENDATION_LABELS}
    for p in report.proposals:
        counts[p.recommendation] = counts.get(p.recommendation, 0) + 1
    return [(k, RECOMMENDATION_LABELS.get(k, k), v) for k, v in counts.items()]


def write_html(report: Report, path: Path) -> None:
    """Write report.html (UTF-8), as the template generates it."""
    tmp = _atomic_target(path)
    with tmp.open("w", encoding="utf-8") as fh:
        for part in _html_parts(report):
            fh.write(part)
    os.replace(tmp, path)


def write_report(report: Report, out_dir: Path) -> dict[str, Path]:
    """Write report.json, report.xlsx, report.csv and report.html into `out_dir` (created if needed).

    Returns the paths by format: {"json": ..., "xlsx": ..., "csv": ..., "html": ...}.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {fmt: out_dir / f"report.{fmt}" for fmt in ("json", "xlsx", "csv", "html")}
    write_json(report, paths["json"])
    write_xlsx(report, paths["xlsx"])
    write_csv(report, paths["csv"])
    write_html(report, paths["html"])
    return paths
