"""Readers: JSON, JSONL, CSV, XLSX, DOCX, PDF, TXT and ZIP inputs into proposals, one error per bad file or record.

Every problem with one file or record becomes a `FileError` (Indonesian reason plus English) and the rest of the
batch goes on; only a missing input path fails the whole call. No reader raises anything but `InputError`.
"""

from __future__ import annotations

import contextlib
import csv
import difflib
import io
import json
import logging
import os
import re
import threading
import unicodedata
import warnings
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from pydantic import ValidationError

from screening.errors import InputError
from screening.params import INPUT_KEYS, FormSpec, Parameters
from screening.proposal import KEY_HEADINGS, Proposal
from screening.results import FileError

log = logging.getLogger(__name__)

# openpyxl warns about workbook features it drops (data validation, conditional formatting); irrelevant here.
warnings.filterwarnings("ignore", category=UserWarning, module=r"openpyxl(\..*)?$")

SUPPORTED_EXTENSIONS: tuple[str, ...] = (".json", ".jsonl", ".csv", ".xlsx", ".docx", ".pdf", ".txt", ".zip")
"""File types read by `read_path` and `read_bytes` (by extension, case-insensitive)."""

MAX_FILE_BYTES = 100 * 1024 * 1024
"""Largest single document (not ZIP archive) read; larger files are reported, not read."""
MAX_ZIP_TOTAL_BYTES = 500 * 1024 * 1024
"""Largest total uncompressed size of a ZIP archive (and of a DOCX/XLSX container)."""
MAX_ZIP_RATIO = 100
"""Largest compression ratio of a ZIP member over 1 MiB: above it the archive is treated as a zip bomb."""
MAX_ZIP_MEMBERS = 5000
MAX_PDF_PAGES = 500
MAX_TEXT_CHARS = 2_000_000
"""Longest text taken from one DOCX/PDF/TXT document (a proposal is some 10-50 thousand characters)."""
MAX_ROWS = 100_000
"""Most data rows read from one CSV/XLSX sheet or JSONL file."""
FUZZY_RATIO = 0.85
"""Least difflib similarity for a misspelled heading or label ("Latar Belakng") to count as the known one
(compared only with entries of the same first letter and a compatible length, so large inputs stay fast)."""

_INTERNAL = "kesalahan internal pembaca"


# ---------------------------------------------------------------------------- results


@dataclass
class ReadResult:
    """Proposals read from an input, and one error per file or record that could not be read."""

    proposals: list[Proposal] = field(default_factory=list)
    errors: list[FileError] = field(default_factory=list)

    def extend(self, other: ReadResult) -> None:
        self.proposals.extend(other.proposals)
        self.errors.extend(other.errors)

    def error(self, file: str, exc: InputError) -> None:
        self.errors.append(FileError(file=file, reason=exc.reason_id, reason_en=exc.reason_en))


# ---------------------------------------------------------------------------- entry points


def read_path(path: Path, *, params: Parameters) -> ReadResult:
    """Read a folder (recursively, sorted, hidden files skipped), a ZIP archive or one file."""
    path = Path(path)
    if not path.exists():
        raise InputError(
            f"berkas atau folder tidak ditemukan: {path}", f"no such file or folder: {path}", file=str(path)
        )
    res = ReadResult()
    if path.is_dir():
        for rel in _walk(path):
            _read_file(path / rel, rel, params, res)
    elif path.is_file():
        _read_file(path, path.name, params, res)
    else:
        raise InputError(
            f"bukan berkas biasa atau folder: {path}", f"not a regular file or folder: {path}", file=str(path)
        )
    return _dedupe(res)


def read_bytes(name: str, data: bytes, *, params: Parameters) -> ReadResult:
    """Read one uploaded file (any supported extension, a ZIP included) from memory."""
    res = ReadResult()
    _read_one(name, data, params, res)
    return _dedupe(res)


def _walk(root: Path) -> Iterator[str]:
    """Relative POSIX names of the files under `root`, sorted, without hidden or temporary files."""
    found: list[str] = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames[:] = [d for d in dirnames if not d.startswith((".", "__MACOSX"))]
        for f in filenames:
            if _skipped_name(f):
                continue
            found.append(Path(dirpath, f).relative_to(root).as_posix())
    yield from sorted(found)


def _skipped_name(name: str) -> bool:
    """Hidden files, Office lock files and OS metadata files are not inputs."""
    return name.startswith((".", "~$")) or name.lower() in {"thumbs.db", "desktop.ini"}


def _read_file(path: Path, rel: str, params: Parameters, res: ReadResult) -> None:
    ext = path.suffix.lower()
    try:
        if ext not in SUPPORTED_EXTENSIONS:
            raise _unsupported(ext)
        size = path.stat().st_size
        if ext == ".zip":
            if size == 0:
                raise _empty()
            with zipfile.ZipFile(path) as zf:
                _read_zip(rel, zf, params, res)
            return
        if size > MAX_FILE_BYTES:
            raise _too_big(size)
        data = path.read_bytes()
    except InputError as exc:
        res.error(rel, exc)
        return
    except Exception as exc:  # unreadable file, or a ZIP whose directory is damaged
        res.error(rel, _unreadable(exc, ext))
        return
    _read_one(rel, data, params, res)


def _read_one(name: str, data: bytes, params: Parameters, res: ReadResult, *, in_zip: bool = False) -> None:
    """Read one file's bytes by its extension; its problems become errors in `res`."""
    ext = PurePosixPath(name).suffix.lower()
    try:
        if ext not in SUPPORTED_EXTENSIONS:
            raise _unsupported(ext)
        if not data or data.isspace():
            raise _empty()
        if ext == ".zip":
            if in_zip:
                raise InputError(
                    "ZIP di dalam ZIP tidak dibuka; ekstrak dulu atau unggah terpisah",
                    "nested ZIP archives are not opened; extract it or upload it separately",
                )
            try:
                zf = zipfile.ZipFile(io.BytesIO(data))
            except Exception as exc:
                raise _unreadable(exc, ext) from exc
            with zf:
                _read_zip(name, zf, params, res)
            return
        if len(data) > MAX_FILE_BYTES:
            raise _too_big(len(data))
        _READERS[ext](name, data, params, res)
    except InputError as exc:
        res.error(name, exc)
    except Exception as exc:  # a reader bug must not stop the batch; tests assert this never happens
        log.exception("reader failed on %s", name)
        res.error(name, InputError(f"{_INTERNAL} ({type(exc).__name__})", f"internal reader error: {exc!r}"))


def _dedupe(res: ReadResult) -> ReadResult:
    """Keep the first proposal of each id; later ones are errors (ids must be unique in a batch)."""
    seen: dict[str, str] = {}
    kept: list[Proposal] = []
    for p in res.proposals:
        if p.id in seen:
            where = seen[p.id]
            res.errors.append(
                FileError(
                    file=p.source or p.id,
                    reason=f"id '{p.id}' ganda: sudah dipakai oleh {where}; beri id yang unik",
                    reason_en=f"duplicate id '{p.id}': already used by {where}; give each proposal a unique id",
                )
            )
            continue
        seen[p.id] = p.source or p.id
        kept.append(p)
    res.proposals = kept
    return res


# ---------------------------------------------------------------------------- common errors


def _unsupported(ext: str) -> InputError:
    supported = ", ".join(SUPPORTED_EXTENSIONS)
    shown = ext or "tanpa ekstensi"
    return InputError(
        f"format berkas tidak didukung ({shown}); gunakan salah satu dari: {supported}",
        f"unsupported file format ({ext or 'no extension'}); use one of: {supported}",
    )


def _empty() -> InputError:
    return InputError("berkas kosong", "empty file")


def _too_big(size: int) -> InputError:
    mb, limit = size / 2**20, MAX_FILE_BYTES / 2**20
    return InputError(
        f"berkas terlalu besar ({mb:.0f} MB; batas {limit:.0f} MB)",
        f"file too large ({mb:.0f} MB; limit {limit:.0f} MB)",
    )


def _unreadable(exc: BaseException, ext: str) -> InputError:
    kind = ext.lstrip(".").upper() or "berkas"
    return InputError(
        f"{kind} rusak atau tidak dapat dibaca", f"corrupt or unreadable {kind} file ({type(exc).__name__}: {exc})"
    )


def _too_long(n: int) -> InputError:
    return InputError(
        f"teks dokumen terlalu panjang ({n} karakter; batas {MAX_TEXT_CHARS})",
        f"document text too long ({n} characters; limit {MAX_TEXT_CHARS})",
    )


# ---------------------------------------------------------------------------- ZIP


def _unsafe_member(name: str) -> bool:
    parts = re.split(r"[\\/]+", name)
    return (
        "\x00" in name
        or name.startswith(("/", "\\"))
        or bool(re.match(r"^[A-Za-z]:", name))
        or any(p == ".." for p in parts)
    )


def _check_container(zf: zipfile.ZipFile, *, what: str) -> list[zipfile.ZipInfo]:
    """Refuse archives that are too many, too large or too compressed to open safely (zip bombs)."""
    infos = zf.infolist()
    if len(infos) > MAX_ZIP_MEMBERS:
        raise InputError(
            f"{what} berisi terlalu banyak berkas ({len(infos)}; batas {MAX_ZIP_MEMBERS})",
            f"{what} holds too many members ({len(infos)}; limit {MAX_ZIP_MEMBERS})",
        )
    total = sum(i.file_size for i in infos)
    if total > MAX_ZIP_TOTAL_BYTES:
        mb, limit = total / 2**20, MAX_ZIP_TOTAL_BYTES / 2**20
        raise InputError(
            f"{what} terlalu besar setelah diekstrak ({mb:.0f} MB; batas {limit:.0f} MB)",
            f"{what} too large when extracted ({mb:.0f} MB; limit {limit:.0f} MB)",
        )
    for i in infos:
        if i.file_size > 2**20 and i.file_size > MAX_ZIP_RATIO * max(i.compress_size, 1):
            raise InputError(
                f"{what} ditolak: rasio kompresi {i.filename} mencurigakan (bom zip?)",
                f"{what} refused: suspicious compression ratio of {i.filename} (zip bomb?)",
            )
    return infos


def _read_zip(name: str, zf: zipfile.ZipFile, params: Parameters, res: ReadResult) -> None:
    """Read each member of a ZIP archive in memory, named `name.zip/member` in errors."""
    infos = _check_container(zf, what="ZIP")
    bad = [i.filename for i in infos if _unsafe_member(i.filename)]
    if bad:
        raise InputError(
            f"ZIP ditolak: nama berkas tidak aman ({bad[0]})", f"ZIP refused: unsafe member name ({bad[0]!r})"
        )
    for info in sorted(infos, key=lambda i: i.filename):
        if info.is_dir():
            continue
        parts = PurePosixPath(info.filename.replace("\\", "/")).parts
        if any(p.startswith(".") or p == "__MACOSX" for p in parts) or _skipped_name(parts[-1]):
            continue
        member = f"{name}/{info.filename}"
        ext = PurePosixPath(info.filename).suffix.lower()
        try:
            if ext not in SUPPORTED_EXTENSIONS:
                raise _unsupported(ext)
            if ext == ".zip":
                raise InputError(
                    "ZIP di dalam ZIP tidak dibuka; ekstrak dulu atau unggah terpisah",
                    "nested ZIP archives are not opened; extract it or upload it separately",
                )
            if info.flag_bits & 0x1:
                raise InputError("berkas dalam ZIP terenkripsi", "encrypted ZIP member")
            if info.file_size > MAX_FILE_BYTES:
                raise _too_big(info.file_size)
            try:
                with zf.open(info) as fh:
                    data = fh.read(MAX_FILE_BYTES + 1)
            except Exception as exc:
                raise _unreadable(exc, ".zip") from exc
        except InputError as exc:
            res.error(member, exc)
            continue
        _read_one(member, data, params, res, in_zip=True)


# ---------------------------------------------------------------------------- text helpers

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_LIGATURES = str.maketrans({"\ufb00": "ff", "\ufb01": "fi", "\ufb02": "fl", "\ufb03": "ffi", "\ufb04": "ffl"})


def _clean(text: str) -> str:
    """Unicode NFC, no control characters or ligatures, non-breaking spaces as spaces, Unix newlines."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u00a0", " ").replace("\u200b", "")
    text = _CONTROL.sub("", text.translate(_LIGATURES))
    return unicodedata.normalize("NFC", text)


def _norm(s: str) -> str:
    """Case-, accent- and punctuation-insensitive form of a heading, label or column name."""
    s = unicodedata.normalize("NFKD", s)
    s = "".join(ch for ch in s if not unicodedata.combining(ch)).lower()
    return " ".join(re.sub(r"[\W_]+", " ", s).split())


def _decode_text(data: bytes, *, what: str) -> str:
    """UTF-8 (with or without BOM) or UTF-16 with BOM; otherwise Windows-1252 if it looks like text."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise _undecodable(what) from exc
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("cp1252")
        except UnicodeDecodeError as exc:
            raise _undecodable(what) from exc
    controls = len(_CONTROL.findall(text))
    if "\x00" in text or controls > max(3, len(text) // 1000):
        raise _undecodable(what)
    return text


def _undecodable(what: str) -> InputError:
    return InputError(
        f"{what} bukan teks yang dapat dibaca (bukan UTF-8 atau Windows-1252); simpan ulang sebagai UTF-8",
        f"{what} is not readable text (neither UTF-8 nor Windows-1252); save it again as UTF-8",
    )


def _join_lines(lines: list[str]) -> str:
    """One paragraph from wrapped lines: single spaces, a line-end hyphen kept without a space."""
    out = ""
    for raw in lines:
        line = " ".join(raw.split())
        if not line:
            continue
        if not out:
            out = line
        elif out.endswith("-") and line[:1].islower():
            out += line
        else:
            out += " " + line
    return out


def _paragraphs(lines: list[str]) -> str:
    """Lines into paragraphs (blank lines separate them), joined by blank lines."""
    paras: list[str] = []
    cur: list[str] = []
    for line in [*lines, ""]:
        if line.strip():
            cur.append(line)
        elif cur:
            paras.append(_join_lines(cur))
            cur = []
    return "\n\n".join(p for p in paras if p)


# ---------------------------------------------------------------------------- section headings


@dataclass(frozen=True)
class _Heading:
    key: str
    also: tuple[str, ...] = ()
    """Later input keys the heading names too ("Latar Belakang dan Tujuan"), split off by sentence cues."""


_KEY_PHRASES: dict[str, tuple[str, ...]] = {k: (k.replace("_", " "),) for k in INPUT_KEYS}
_KEY_PHRASES["kontribusi_tpb"] = ("kontribusi tpb", "tpb", "sdgs", "sdg")

_SPLIT_CUES: dict[str, re.Pattern[str]] = {"tujuan": re.compile(r"(?:\S+\s+){0,5}?(?:ber)?tujuan\b", re.I)}
"""A sentence that starts (within its first words) with this cue begins the named later key's text."""

_OTHER_HEADINGS = frozenset(
    _norm(h)
    for h in (
        "Lampiran",
        "Daftar Lampiran",
        "Dokumen Pendukung",
        "Daftar Pustaka",
        "Referensi",
        "Data Pendukung",
        "Identitas Inovasi",
        "Profil Inovasi",
        "Data Umum",
        "Informasi Umum",
    )
)
"""Headings that are not form sections: their text goes to `unassigned` instead of the section above."""
_OTHER = _Heading(key="")

_TABLES: dict[tuple[int, str | None], tuple[Parameters, dict[str, _Heading]]] = {}


def _named_keys(heading: str) -> list[str]:
    """Input keys whose names occur as whole words in a normalised heading, in order of appearance."""
    hits: list[tuple[int, str]] = []
    padded = f" {heading} "
    for key, phrases in _KEY_PHRASES.items():
        pos = [padded.find(f" {p} ") for p in phrases if f" {p} " in padded]
        if pos:
            hits.append((min(pos), key))
    return [k for _, k in sorted(hits)]


def _heading_for(heading: str, input_keys: Iterable[str]) -> _Heading:
    """Which input key a form heading fills: the key it names, else the section's first input key."""
    keys = list(input_keys)
    for key, phrases in _KEY_PHRASES.items():
        if heading in phrases:
            return _Heading(key)
    named = [k for k in _named_keys(heading) if k in keys]
    if named:
        return _Heading(named[0], tuple(k for k in named[1:] if k in _SPLIT_CUES))
    return _Heading(keys[0])


def _heading_table(params: Parameters, form: str | None) -> dict[str, _Heading]:
    """Normalised heading -> input key: the given form's headings first, then the keys' own, then other forms."""
    cache_key = (id(params), form)
    hit = _TABLES.get(cache_key)
    if hit is not None and hit[0] is params:
        return hit[1]
    table: dict[str, _Heading] = {}

    def add_form(spec: FormSpec) -> None:
        for s in spec.sections:
            for h in (s.heading, *s.synonyms):
                n = _norm(h)
                if n and n not in table:
                    table[n] = _heading_for(n, s.input_keys)

    if form is not None and form in params.forms:
        add_form(params.forms[form])
    for key, heading in KEY_HEADINGS.items():
        for h in (heading, *_KEY_PHRASES[key]):
            n = _norm(h)
            if n not in table:
                table[n] = _heading_for(n, [key]) if n != _norm(heading) else _Heading(key, ())
    for name, spec in params.forms.items():
        if name != form:
            add_form(spec)
    _TABLES[cache_key] = (params, table)
    return table


_BULLETS = re.compile(r"^[\s#*•▪►◦·>\-–—]+")
_NUMBERING = (
    re.compile(r"^(?:bab|bagian)\s+(?:\d{1,3}|[ivxlc]{1,6}|[a-z])\b\s*[.):\-–]?\s*", re.I),
    re.compile(r"^(?:\d{1,3}(?:\.\d{1,3})*\.?|\(?\d{1,3}\)|\(?[a-z]\)|[a-z]\.|[ivxlc]{1,6}[.)])\s*", re.I),
)


def _strip_label(line: str) -> tuple[str, bool]:
    """A line without bullets, markdown emphasis and numbering ("1.", "A.", "IV.", "1)"); and whether it had any."""
    s = _BULLETS.sub("", line.replace("**", "").replace("__", "")).strip()
    numbered = False
    for pat in _NUMBERING:
        m = pat.match(s)
        if m and m.end() < len(s):
            s = s[m.end() :]
            numbered = True
    return s.strip(), numbered


def _lookup(label: str, table: dict[str, Any], *, min_len: int = 5) -> Any:
    """Exact match of a normalised label, else the closest entry with difflib ratio >= FUZZY_RATIO."""
    return _best(_norm(label), table, min_len=min_len)[0]


def _best(n: str, table: dict[str, Any], *, min_len: int = 5) -> tuple[Any, float]:
    """The entry for `n` and its similarity: exact (1.0), else the closest at or above FUZZY_RATIO."""
    if not n:
        return None, 0.0
    if n in table:
        return table[n], 1.0
    if len(n) < min_len:
        return None, 0.0
    index = _fuzzy_index(table)
    memo_key = (n, min_len)
    if memo_key in index.memo:
        return index.memo[memo_key]
    best, best_ratio = None, FUZZY_RATIO
    # ratio >= r needs the lengths within a factor (2 - r) / r; misspellings keep the first letter
    lo, hi = len(n) * FUZZY_RATIO / (2 - FUZZY_RATIO), len(n) * (2 - FUZZY_RATIO) / FUZZY_RATIO
    sm = difflib.SequenceMatcher(b=n, autojunk=False)
    for cand, value in index.by_first.get(n[0], ()):
        if len(cand) < min_len or not lo <= len(cand) <= hi:
            continue
        sm.set_seq1(cand)
        if sm.quick_ratio() < best_ratio:
            continue
        r = sm.ratio()
        if r >= best_ratio:
            best, best_ratio = value, r
    found = (best, best_ratio if best is not None else 0.0)
    if len(index.memo) > 20_000:
        index.memo.clear()
    index.memo[memo_key] = found
    return found


@dataclass
class _FuzzyIndex:
    by_first: dict[str, list[tuple[str, Any]]]
    memo: dict[tuple[str, int], tuple[Any, float]] = field(default_factory=dict)


_INDEXES: dict[int, tuple[dict[str, Any], _FuzzyIndex]] = {}


def _fuzzy_index(table: dict[str, Any]) -> _FuzzyIndex:
    """Candidates of a (long-lived, never mutated) table grouped by first letter, with a memo of lookups."""
    hit = _INDEXES.get(id(table))
    if hit is not None and hit[0] is table:
        return hit[1]
    by_first: dict[str, list[tuple[str, Any]]] = {}
    for cand, value in table.items():
        if cand:
            by_first.setdefault(cand[0], []).append((cand, value))
    index = _FuzzyIndex(by_first)
    _INDEXES[id(table)] = (table, index)
    return index


def _match_heading(line: str, table: dict[str, _Heading], *, para_start: bool) -> tuple[_Heading, str] | None:
    """The section a heading line starts and any text after "Heading:" on the same line; None for body text."""
    if len(line) > 2000:
        return None
    s, numbered = _strip_label(line)
    if not s:
        return None
    first_alpha = next((ch for ch in s if ch.isalpha()), "")
    if not first_alpha or not (first_alpha.isupper() or numbered or para_start):
        return None
    label, colon, rest = s.partition(":")
    if colon and rest.strip():
        head = _heading_line(label, table)
        return (head, rest.strip()) if head else None
    head = _heading_line(s.rstrip(" :"), table)
    return (head, "") if head else None


def _heading_line(s: str, table: dict[str, _Heading]) -> _Heading | None:
    s = s.strip()
    if not s or s[-1] in ".,;" or len(s) > 80 or len(s.split()) > 8:
        return None
    n = _norm(s)
    if n in _OTHER_HEADINGS:
        return _OTHER
    found, ratio = _best(n, table)
    if not isinstance(found, _Heading):
        return None
    if ratio < 1.0 and _best(n, _LABEL_TABLE, min_len=6)[1] >= ratio:
        return None  # closer to a metadata label ("Tahun Implementasi") than to a heading ("Tahapan Implementasi")
    return found


_SENTENCE_START = re.compile(r"(?:(?<=[.!?])[\"'”’)]?\s+|\n\n)(?=[\"'“‘(]?[A-Z0-9])")


def _split_by_cue(body: str, later: str) -> tuple[str, str]:
    """Cut a combined section's body at the first sentence (not the first) that opens with the later key's cue."""
    cue = _SPLIT_CUES[later]
    for m in _SENTENCE_START.finditer(body):
        start = m.end()
        if start > 0 and cue.match(body, start):
            return body[: m.start()].strip(), body[start:].strip()
    return body, ""


def detect_sections(text: str, *, params: Parameters, form: str | FormSpec | None = None) -> tuple[dict[str, str], str]:
    """Section texts by input key found under the form's headings (numbering, case and typos tolerated),
    and the text outside any section ("unassigned": what precedes the first heading, lines kept)."""
    if isinstance(form, FormSpec):
        form = next((k for k, v in params.forms.items() if v is form or v == form), None)
    table = _heading_table(params, form)
    preamble: list[str] = []
    other: list[str] = []
    blocks: list[tuple[_Heading, list[str]]] = []
    current: list[str] = preamble
    para_start = True
    for raw in _clean(text).split("\n"):
        line = raw.strip()
        if not line:
            current.append("")
            para_start = True
            continue
        found = _match_heading(line, table, para_start=para_start)
        para_start = False
        if found is None:
            current.append(line)
            continue
        head, rest = found
        if head is _OTHER:
            current = other
            other.extend([line, ""])
            continue
        current = []
        blocks.append((head, current))
        if rest:
            current.append(rest)
    sections: dict[str, list[str]] = {}
    for head, lines in blocks:
        body = _paragraphs(lines)
        parts = [(head.key, body)]
        for later in head.also:
            first_key, first_body = parts[-1]
            before, after = _split_by_cue(first_body, later)
            if after:
                parts[-1] = (first_key, before)
                parts.append((later, after))
        for key, part in parts:
            if part:
                sections.setdefault(key, []).append(part)
    unassigned = "\n".join(preamble).strip()
    if other:
        unassigned = (unassigned + "\n\n" + "\n".join(other)).strip()
    return {k: "\n\n".join(v) for k, v in sections.items()}, unassigned


# ---------------------------------------------------------------------------- metadata lines

_META_LABELS: dict[str, tuple[str, ...]] = {
    "id": ("id", "id usulan", "nomor usulan", "no usulan", "kode usulan", "kode inovasi", "id inovasi"),
    "judul": ("judul", "judul inovasi", "nama inovasi", "judul proposal", "judul usulan"),
    "instansi": ("instansi", "nama instansi", "instansi pengusul", "pengusul", "instansi pelaksana"),
    "klaster": ("klaster", "kluster", "cluster", "jenis instansi", "kategori instansi"),
    "wilayah": ("wilayah", "daerah", "lokasi", "lokasi inovasi"),
    "tahun": ("tahun", "tahun usulan", "tahun kompetisi", "tahun pengajuan", "tahun kipp"),
    "tahun_implementasi": (
        "tahun implementasi",
        "mulai diterapkan",
        "tahun mulai",
        "tahun mulai implementasi",
        "tahun mulai diterapkan",
        "mulai implementasi",
        "waktu implementasi",
        "tanggal mulai implementasi",
        "tahun penerapan",
    ),
    "replikasi_dari": ("replikasi dari", "direplikasi dari", "inovasi asal", "sumber replikasi"),
    "video": ("video", "tautan video", "link video", "url video", "video inovasi"),
    "sk": ("sk", "nomor sk", "sk inovasi", "sk inovator", "surat keputusan", "no sk"),
    "kontak": ("kontak", "narahubung", "kontak person", "email", "e mail", "telepon"),
    "status": ("status", "status inovasi"),
}
_LABEL_TABLE: dict[str, str] = {_norm(label): f for f, labels in _META_LABELS.items() for label in labels}
_YEAR = re.compile(r"\b(1[89]\d\d|20\d\d|21\d\d)\b")
_YEAR_FIELDS = ("tahun", "tahun_implementasi")


def _meta_field(label: str) -> str | None:
    s, _ = _strip_label(label)
    if not s or len(s) > 60 or len(s.split()) > 5:
        return None
    found = _lookup(s, _LABEL_TABLE, min_len=6)
    return found if isinstance(found, str) else None


def _parse_metadata(unassigned: str) -> tuple[dict[str, Any], str]:
    """Metadata from "Label: value" lines ("Judul Inovasi: ...", "Mulai diterapkan: 2022"); the rest as text."""
    meta: dict[str, Any] = {}
    rest: list[str] = []
    lines = unassigned.split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        label, colon, value = line.partition(":")
        f = _meta_field(label) if colon else None
        if f is None or f in meta:
            rest.append(line)
            i += 1
            continue
        value = value.strip()
        if not value:  # "Judul Inovasi:" with the value on the next line
            j = i + 1
            while j < len(lines) and not lines[j].strip():
                j += 1
            if j < len(lines) and not (":" in lines[j] and _meta_field(lines[j].partition(":")[0])):
                value, i = lines[j].strip(), j
        if f in _YEAR_FIELDS:
            m = _YEAR.search(value)
            if not m:
                rest.append(line)
                i += 1
                continue
            meta[f] = int(m.group(1))
        elif value:
            meta[f] = value[:500] if f != "id" else value[:200]
        i += 1
    return meta, _paragraphs(rest)


# ---------------------------------------------------------------------------- records -> proposals

_FIELDS = frozenset(Proposal.model_fields)
_ID_MESSAGES = {
    "missing": "wajib diisi",
    "string_type": "harus berupa teks",
    "int_type": "harus berupa bilangan bulat",
    "int_parsing": "harus berupa bilangan bulat",
    "int_from_float": "harus berupa bilangan bulat",
    "string_too_short": "tidak boleh kosong",
    "string_too_long": "terlalu panjang",
    "dict_type": "harus berupa objek",
    "extra_forbidden": "tidak dikenal",
}


def _where(prefix: str, id_text: str, en_text: str) -> InputError:
    if not prefix:
        return InputError(id_text, en_text)
    en_prefix = prefix.replace("baris", "line").replace("data ke-", "item ").replace("lembar", "sheet")
    return InputError(f"{prefix}: {id_text}", f"{en_prefix}: {en_text}")


def _validation_error(where: str, exc: ValidationError) -> InputError:
    ids, ens = [], []
    for e in exc.errors()[:5]:
        loc = ".".join(str(x) for x in e["loc"]) or "data"
        ids.append(f"kolom '{loc}' {_ID_MESSAGES.get(e['type'], 'tidak valid')}")
        ens.append(f"field '{loc}': {e['msg']}")
    return _where(where, "; ".join(ids), "; ".join(ens))


def _record_proposal(rec: Any, *, name: str, where: str) -> Proposal:
    """A JSON object as a proposal; unknown fields and section keys are errors that name them."""
    if not isinstance(rec, dict):
        raise _where(where, "harus berupa objek JSON {...}", "must be a JSON object {...}")
    unknown = sorted(str(k) for k in rec if k not in _FIELDS)
    if unknown:
        raise _where(
            where,
            f"kolom tidak dikenal: {', '.join(unknown)} (kolom yang diterima: {', '.join(sorted(_FIELDS))})",
            f"unknown field(s): {', '.join(unknown)} (accepted: {', '.join(sorted(_FIELDS))})",
        )
    bagian = rec.get("bagian", {})
    if bagian is None:
        bagian = {}
    if not isinstance(bagian, dict):
        raise _where(where, "'bagian' harus berupa objek {kunci: teks}", "'bagian' must be an object {key: text}")
    bad_keys = sorted(str(k) for k in bagian if k not in INPUT_KEYS)
    if bad_keys:
        raise _where(
            where,
            f"kunci bagian tidak dikenal: {', '.join(bad_keys)} (yang diterima: {', '.join(INPUT_KEYS)})",
            f"unknown section key(s): {', '.join(bad_keys)} (accepted: {', '.join(INPUT_KEYS)})",
        )
    not_text = sorted(k for k, v in bagian.items() if v is not None and not isinstance(v, str))
    if not_text:
        raise _where(
            where, f"isi bagian harus berupa teks: {', '.join(not_text)}", f"section text must be a string: {not_text}"
        )
    rec = {**rec, "bagian": {k: _clean(v) for k, v in bagian.items() if isinstance(v, str) and v.strip()}}
    if isinstance(rec.get("unassigned"), str):
        rec["unassigned"] = _clean(rec["unassigned"])
    if not rec.get("source"):
        rec["source"] = name
    if not isinstance(rec.get("id"), str) or not rec["id"].strip():
        raise _where(where, "id wajib diisi", "an id is required")
    rec["id"] = rec["id"].strip()
    try:
        p = Proposal.model_validate(rec)
    except ValidationError as exc:
        raise _validation_error(where, exc) from exc
    if not p.bagian and not p.unassigned.strip():
        raise _where(where, "tidak berisi teks", "holds no text")
    return p


def _read_json(name: str, data: bytes, params: Parameters, res: ReadResult) -> None:
    try:
        doc = json.loads(_decode_json_text(data))
    except (ValueError, RecursionError) as exc:
        raise InputError(f"JSON tidak valid ({_short(exc)})", f"invalid JSON ({_short(exc)})") from exc
    if isinstance(doc, dict):
        items, label = [doc], lambda i: ""
    elif isinstance(doc, list):
        items, label = doc, lambda i: f"data ke-{i + 1}"
    else:
        raise InputError("JSON harus berupa objek atau daftar objek", "JSON must be an object or a list of objects")
    if not items:
        raise InputError("JSON tidak berisi usulan (daftar kosong)", "the JSON holds no proposal (empty list)")
    for i, rec in enumerate(items):
        try:
            res.proposals.append(_record_proposal(rec, name=name, where=label(i)))
        except InputError as exc:
            res.error(name, exc)


def _read_jsonl(name: str, data: bytes, params: Parameters, res: ReadResult) -> None:
    text = _decode_json_text(data)
    n_records = 0
    for lineno, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        n_records += 1
        if n_records > MAX_ROWS:
            res.error(
                name, InputError(f"terlalu banyak baris (batas {MAX_ROWS})", f"too many lines (limit {MAX_ROWS})")
            )
            return
        where = f"baris {lineno}"
        try:
            try:
                rec = json.loads(line)
            except (ValueError, RecursionError) as exc:
                raise _where(where, f"JSON tidak valid ({_short(exc)})", f"invalid JSON ({_short(exc)})") from exc
            res.proposals.append(_record_proposal(rec, name=name, where=where))
        except InputError as exc:
            res.error(name, exc)


def _decode_json_text(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(
            "JSON harus berkodekan UTF-8; simpan ulang sebagai UTF-8", "JSON must be UTF-8 encoded; save it as UTF-8"
        ) from exc


def _short(exc: BaseException) -> str:
    s = str(exc)
    return s if len(s) <= 160 else s[:157] + "..."


# ---------------------------------------------------------------------------- tables (CSV, XLSX)

_TEXT_COLUMNS = frozenset({"teks", "text", "isi", "naskah", "isi proposal", "teks proposal"})
_IGNORED_COLUMNS = frozenset({"", "no", "nomor", "no urut", "nomor urut"})


@dataclass(frozen=True)
class _Column:
    kind: str  # "field", "section", "text" or "ignore"
    key: str = ""
    also: tuple[str, ...] = ()


def _column(header: str, table: dict[str, _Heading]) -> _Column | None:
    n = _norm(header)
    if n in _IGNORED_COLUMNS:
        return _Column("ignore")
    if n in _TEXT_COLUMNS:
        return _Column("text")
    for f in _FIELDS - {"bagian"}:
        if n == _norm(f):
            return _Column("field", f)
    for k in INPUT_KEYS:
        if n == _norm(k):
            return _Column("section", k)
    if n in _LABEL_TABLE:
        return _Column("field", _LABEL_TABLE[n])
    head = _heading_line(_strip_label(header)[0], table)
    if head is not None and head is not _OTHER:
        return _Column("section", head.key, head.also)
    return None


def _map_header(header: list[str], params: Parameters) -> list[_Column]:
    """Each column's meaning; unknown or repeated columns fail the whole sheet with their names."""
    table = _heading_table(params, None)
    cols: list[_Column] = []
    unknown: list[str] = []
    seen: dict[tuple[str, str], str] = {}
    for h in header:
        c = _column(h, table)
        if c is None:
            unknown.append(h)
            cols.append(_Column("ignore"))
            continue
        if c.kind in {"field", "section", "text"}:
            k = (c.kind, c.key)
            if k in seen:
                raise InputError(
                    f"kolom '{h}' dan '{seen[k]}' berisi data yang sama; hapus salah satunya",
                    f"columns '{h}' and '{seen[k]}' mean the same; remove one of them",
                )
            seen[k] = h
        cols.append(c)
    if ("field", "id") not in seen:
        raise _NoTable("kolom 'id' tidak ada; setiap baris perlu id usulan", "no 'id' column; every row needs an id")
    if unknown:
        accepted = ", ".join([*sorted(_FIELDS - {"bagian"}), *INPUT_KEYS])
        raise InputError(
            f"kolom tidak dikenal: {', '.join(repr(u) for u in unknown[:10])}; kolom yang diterima: {accepted} "
            "(atau judul bagian formulir)",
            f"unknown column(s): {', '.join(repr(u) for u in unknown[:10])}; accepted: {accepted} (or form headings)",
        )
    return cols


class _NoTable(InputError):
    """A sheet without a proposal table (no header row or no id column): other sheets may still hold one."""


def _cell_text(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return str(v)
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if hasattr(v, "isoformat"):
        return str(v.isoformat())
    return _clean(str(v)).strip()


def _row_proposal(cols: list[_Column], row: list[Any], *, name: str, where: str, params: Parameters) -> Proposal | None:
    """One table row as a proposal; None for an empty row."""
    values = [_cell_text(v) for v in row]
    if not any(values):
        return None
    rec: dict[str, Any] = {}
    bagian: dict[str, str] = {}
    unassigned: list[str] = []
    for c, v, cell in zip(cols, values, row, strict=False):
        if not v or c.kind == "ignore":
            continue
        if c.kind == "field":
            if c.key in _YEAR_FIELDS:
                raw = v
                if hasattr(cell, "year"):
                    v = str(cell.year)
                if not re.fullmatch(r"\d{4}(?:\.0+)?", v):
                    raise _where(where, f"{c.key} '{raw}' bukan tahun", f"{c.key} '{raw}' is not a year")
                rec[c.key] = int(float(v))
            else:
                rec[c.key] = v
        elif c.kind == "section":
            parts = {c.key: v}
            for later in c.also:
                before, after = _split_by_cue(v, later)
                if after:
                    parts = {c.key: before, later: after}
            for k, t in parts.items():
                bagian[k] = f"{bagian[k]}\n\n{t}" if k in bagian else t
        else:
            secs, rest = detect_sections(v, params=params)
            for k, t in secs.items():
                bagian[k] = f"{bagian[k]}\n\n{t}" if k in bagian else t
            if rest:
                unassigned.append(_paragraphs(rest.split("\n")))
    if not rec.get("id"):
        raise _where(where, "kolom id kosong", "the id column is empty")
    if not bagian and not unassigned and not rec.get("unassigned"):
        raise InputError(f"{where} tidak berisi teks", f"{where.replace('baris', 'row')} holds no section text")
    rec["bagian"] = bagian
    if unassigned:
        rec["unassigned"] = "\n\n".join([rec.get("unassigned", ""), *unassigned]).strip()
    rec.setdefault("source", name)
    try:
        return Proposal.model_validate(rec)
    except ValidationError as exc:
        raise _validation_error(where, exc) from exc


def _read_rows(name: str, rows: Iterable[list[Any]], params: Parameters, res: ReadResult, *, sheet: str = "") -> None:
    """Header row (the first non-empty one), then one proposal per row; errors per row."""
    prefix = f"lembar '{sheet}' " if sheet else ""
    cols: list[_Column] | None = None
    n_rows = n_read = 0
    for rowno, row in enumerate(rows, start=1):
        if cols is None:
            if not any(_cell_text(v) for v in row):
                continue
            try:
                cols = _map_header([_cell_text(v) for v in row], params)
            except InputError as exc:
                raise type(exc)(f"{prefix}{exc.reason_id}", exc.reason_en) from exc
            continue
        n_rows += 1
        if n_rows > MAX_ROWS:
            raise InputError(f"terlalu banyak baris (batas {MAX_ROWS})", f"too many rows (limit {MAX_ROWS})")
        try:
            p = _row_proposal(cols, list(row), name=name, where=f"{prefix}baris {rowno}", params=params)
        except InputError as exc:
            res.error(name, exc)
            n_read += 1
            continue
        if p is not None:
            res.proposals.append(p)
            n_read += 1
    if cols is None:
        raise _NoTable(f"{prefix}tidak berisi tabel (baris judul kolom tidak ada)".strip(), "no header row found")
    if n_read == 0:
        raise InputError(f"{prefix}tabel tidak berisi baris usulan".strip(), "the table holds no proposal row")


def _read_csv(name: str, data: bytes, params: Parameters, res: ReadResult) -> None:
    text = _decode_text(data, what="CSV")
    first = text.lstrip("\n").split("\n", 1)[0]
    delimiter = max(",;\t|", key=first.count) if any(d in first for d in ",;\t|") else ","
    try:
        csv.field_size_limit(MAX_TEXT_CHARS)
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        _read_rows(name, ([*r] for r in reader), params, res)
    except csv.Error as exc:
        raise InputError(f"CSV tidak valid ({_short(exc)})", f"invalid CSV ({_short(exc)})") from exc


def _read_xlsx(name: str, data: bytes, params: Parameters, res: ReadResult) -> None:
    from openpyxl import load_workbook

    _check_office_container(data, "XLSX")
    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:
        raise _unreadable(exc, ".xlsx") from exc
    try:
        sheets = list(wb.worksheets)
        tables = 0
        no_table: InputError | None = None
        for ws in sheets:  # every sheet with an id column is a table of proposals; others are skipped
            try:
                rows = ([*r] for r in ws.iter_rows(values_only=True))
                _read_rows(name, rows, params, res, sheet=ws.title if len(sheets) > 1 else "")
            except _NoTable as exc:
                no_table = no_table or exc
                continue
            except InputError as exc:
                res.error(name, exc)
            tables += 1
        if not tables:
            raise no_table or InputError("XLSX tidak berisi lembar kerja", "the workbook has no worksheet")
    except InputError:
        raise
    except Exception as exc:
        raise _unreadable(exc, ".xlsx") from exc
    finally:
        try:
            wb.close()
        except Exception:
            log.debug("closing workbook %s failed", name)


def _check_office_container(data: bytes, kind: str) -> None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            _check_container(zf, what=kind)
    except InputError:
        raise
    except Exception as exc:
        raise _unreadable(exc, "." + kind.lower()) from exc


# ---------------------------------------------------------------------------- documents (DOCX, PDF, TXT)


def _document_proposal(name: str, text: str, params: Parameters, res: ReadResult) -> None:
    """Metadata lines, then sections under the headings of the form that applies (found from the metadata)."""
    if len(text) > MAX_TEXT_CHARS:
        raise _too_long(len(text))
    text = _clean(text)
    if not text.strip():
        raise InputError("dokumen tidak berisi teks", "the document holds no text")
    _, unassigned = detect_sections(text, params=params)
    meta, _ = _parse_metadata(unassigned)
    form, _ = params.form_for(tahun=meta.get("tahun"), replikasi=bool(meta.get("replikasi_dari")))
    sections, unassigned = detect_sections(text, params=params, form=form)
    if not sections:
        raise InputError(
            "tidak ditemukan judul bagian formulir (mis. Ringkasan, Latar Belakang, Kebaruan); bukan berkas usulan?",
            "no form section heading found (e.g. Ringkasan, Latar Belakang, Kebaruan); is this a proposal?",
        )
    meta, rest = _parse_metadata(unassigned)
    stem = PurePosixPath(name.replace("\\", "/")).stem
    pid = str(meta.pop("id", "") or stem).strip()[:200] or "dokumen"
    try:
        p = Proposal.model_validate({**meta, "id": pid, "bagian": sections, "unassigned": rest, "source": name})
    except ValidationError as exc:
        raise _validation_error("", exc) from exc
    res.proposals.append(p)


def _read_txt(name: str, data: bytes, params: Parameters, res: ReadResult) -> None:
    _document_proposal(name, _decode_text(data, what="TXT"), params, res)


def _read_docx(name: str, data: bytes, params: Parameters, res: ReadResult) -> None:
    _check_office_container(data, "DOCX")
    try:
        lines = _docx_lines(data)
    except InputError:
        raise
    except Exception as exc:
        raise _unreadable(exc, ".docx") from exc
    _document_proposal(name, "\n".join(lines), params, res)


def _docx_lines(data: bytes) -> list[str]:
    """Body paragraphs and table cells in document order; blank lines between paragraphs."""
    from docx import Document
    from docx.oxml.ns import qn
    from docx.text.paragraph import Paragraph

    doc = Document(io.BytesIO(data))
    out: list[str] = []
    size = 0
    p_tag, tbl_tag, sdt_tag, content_tag = qn("w:p"), qn("w:tbl"), qn("w:sdt"), qn("w:sdtContent")
    tr_tag, tc_tag = qn("w:tr"), qn("w:tc")

    def para_text(el: Any) -> str:
        return str(Paragraph(el, doc).text)

    def cell_text(tc: Any) -> str:
        buf: list[str] = []
        walk(tc, buf)
        return "\n".join(x for x in buf if x.strip()).strip()

    def walk(el: Any, buf: list[str]) -> None:
        nonlocal size
        for child in el.iterchildren():
            if size > MAX_TEXT_CHARS:
                raise _too_long(size)
            if child.tag == p_tag:
                t = para_text(child)
                size += len(t)
                buf.extend([t, ""])
            elif child.tag == tbl_tag:
                for tr in child.iterchildren(tr_tag):
                    cells = [c for c in (cell_text(tc) for tc in tr.iterchildren(tc_tag)) if c]
                    cells = [c for i, c in enumerate(cells) if i == 0 or c != cells[i - 1]]  # merged cells
                    if len(cells) == 2 and "\n" not in cells[0] and len(cells[0]) <= 80:
                        label = cells[0].rstrip(" :")
                        if "\n" in cells[1]:
                            buf.extend([label + ":", cells[1], ""])
                        else:
                            buf.extend([f"{label}: {cells[1]}", ""])
                    else:
                        for c in cells:
                            buf.extend([c, ""])
            elif child.tag in (sdt_tag, content_tag):
                walk(child, buf)

    walk(doc.element.body, out)
    return out


_PAGE_NUMBER = re.compile(r"^\s*(?:halaman|hal\.?|page)?\s*\d{1,4}\s*(?:(?:dari|of|/)\s*\d{1,4})?\s*$", re.I)


def _read_pdf(name: str, data: bytes, params: Parameters, res: ReadResult) -> None:
    with _quiet("pypdf"):
        text = _pdf_text(data)
    _document_proposal(name, text, params, res)


_QUIET_LOCK = threading.Lock()
_quiet_depth: dict[str, tuple[int, int]] = {}


@contextlib.contextmanager
def _quiet(logger_name: str) -> Iterator[None]:
    """Silence a library's log warnings about damaged input while reading it (thread-safe): we report them."""
    lg = logging.getLogger(logger_name)
    with _QUIET_LOCK:
        depth, old = _quiet_depth.get(logger_name, (0, lg.level))
        if depth == 0:
            old = lg.level
            lg.setLevel(logging.ERROR)
        _quiet_depth[logger_name] = (depth + 1, old)
    try:
        yield
    finally:
        with _QUIET_LOCK:
            depth, old = _quiet_depth[logger_name]
            _quiet_depth[logger_name] = (depth - 1, old)
            if depth == 1:
                lg.setLevel(old)


def _pdf_text(data: bytes) -> str:
    """The text layer of a PDF, page by page, without page-number lines."""
    from pypdf import PdfReader

    corrupt = InputError("PDF rusak atau tidak dapat dibaca", "corrupt or unreadable PDF")
    if b"%PDF" not in data[:1024]:
        raise corrupt
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            try:
                ok = bool(reader.decrypt(""))
            except Exception:
                ok = False
            if not ok:
                raise InputError(
                    "PDF terenkripsi (dilindungi kata sandi); kirim PDF tanpa kata sandi",
                    "encrypted (password-protected) PDF; send it without a password",
                )
        n = len(reader.pages)
    except InputError:
        raise
    except Exception as exc:
        raise InputError(
            "PDF rusak atau tidak dapat dibaca", f"corrupt or unreadable PDF ({type(exc).__name__}: {_short(exc)})"
        ) from exc
    if n == 0:
        raise InputError("PDF tidak memiliki halaman", "the PDF has no pages")
    if n > MAX_PDF_PAGES:
        raise InputError(
            f"PDF terlalu panjang ({n} halaman; batas {MAX_PDF_PAGES})",
            f"PDF too long ({n} pages; limit {MAX_PDF_PAGES})",
        )
    pages: list[str] = []
    size = 0
    for i in range(n):
        try:
            t = reader.pages[i].extract_text() or ""
        except Exception as exc:
            raise InputError(
                f"PDF rusak: halaman {i + 1} tidak dapat dibaca",
                f"corrupt PDF: page {i + 1} cannot be read ({type(exc).__name__}: {_short(exc)})",
            ) from exc
        size += len(t)
        if size > MAX_TEXT_CHARS:
            raise _too_long(size)
        pages.append("\n".join(line for line in t.split("\n") if not _PAGE_NUMBER.match(line)))
    text = "\n".join(pages)
    if sum(ch.isalnum() for ch in text) < 40:
        raise InputError(
            "PDF tidak memiliki lapisan teks (hasil pindaian?); kirim PDF dengan teks atau DOCX",
            "the PDF has no text layer (scanned?); send a PDF with text, or a DOCX",
        )
    return text


_READERS: dict[str, Callable[[str, bytes, Parameters, ReadResult], None]] = {
    ".json": _read_json,
    ".jsonl": _read_jsonl,
    ".csv": _read_csv,
    ".xlsx": _read_xlsx,
    ".docx": _read_docx,
    ".pdf": _read_pdf,
    ".txt": _read_txt,
}
