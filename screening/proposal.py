"""The proposal model: metadata plus the sections of the KIPP form, and its canonical full text.

Evidence offsets always point into `Proposal.text` (composed once, deterministically), which is
what reports show as a proposal's `text`.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from screening.params import INPUT_KEYS

KEY_HEADINGS: dict[str, str] = {
    "ringkasan": "Ringkasan",
    "latar_belakang": "Latar Belakang",
    "tujuan": "Tujuan",
    "kebaruan": "Kebaruan / Nilai Tambah",
    "implementasi": "Implementasi",
    "sumber_daya": "Sumber Daya",
    "signifikansi": "Signifikansi",
    "adaptabilitas": "Adaptabilitas",
    "keberlanjutan": "Strategi Keberlanjutan",
    "pemangku_kepentingan": "Keterlibatan Pemangku Kepentingan",
    "kontribusi_tpb": "Kontribusi terhadap TPB/SDGs",
    "inspirasi": "Inspirasi",
    "proses_replikasi": "Proses Replikasi",
    "faktor_pembeda": "Faktor Pembeda",
}
"""Headings written into the composed text for each input key (Bahasa Indonesia, shown to users)."""

UNASSIGNED = "unassigned"

Klaster = Literal["kementerian", "lembaga", "provinsi", "kabupaten", "kota", "bumn", "bumd"]


class Proposal(BaseModel):
    """One proposal (or, with `status`, one past archive entry), as read from any input format."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1, max_length=200)
    judul: str = ""
    instansi: str = ""
    klaster: str = ""
    wilayah: str = ""
    tahun: int | None = None
    tahun_implementasi: int | None = None
    replikasi_dari: str | None = None
    kontak: str | None = None
    video: str | None = None
    sk: str | None = None
    status: str | None = None
    bagian: dict[str, str] = Field(default_factory=dict)
    unassigned: str = ""
    source: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _no_nul(cls, data: Any) -> Any:
        """NUL characters are never text (they come from broken converters) and PostgreSQL refuses them."""
        if not isinstance(data, dict):
            return data

        def clean(v: Any) -> Any:
            if isinstance(v, str):
                return v.replace("\x00", "")
            if isinstance(v, dict):
                return {clean(k): clean(x) for k, x in v.items()}
            return v

        return {k: clean(v) for k, v in data.items()}

    @field_validator("bagian")
    @classmethod
    def _known_keys(cls, v: dict[str, str]) -> dict[str, str]:
        unknown = sorted(k for k in v if k not in INPUT_KEYS)
        if unknown:
            raise ValueError(f"unknown section key(s) {unknown}; allowed: {', '.join(INPUT_KEYS)}")
        return {k: (t or "").strip() for k, t in v.items()}

    @field_validator("klaster")
    @classmethod
    def _lower(cls, v: str) -> str:
        return v.strip().lower()[:50]  # longer is no known klaster anyway (the completeness check says so)

    @field_validator("replikasi_dari", "video", "sk", "kontak", "status")
    @classmethod
    def _blank_is_none(cls, v: str | None) -> str | None:
        return v.strip() or None if isinstance(v, str) else v

    @property
    def is_replication(self) -> bool:
        return bool(self.replikasi_dari)

    @cached_property
    def composed(self) -> ComposedText:
        return compose_text(self)

    @property
    def text(self) -> str:
        return self.composed.text


@dataclass(frozen=True)
class ComposedText:
    """A proposal's full text and where each section's body lies in it."""

    text: str
    spans: dict[str, tuple[int, int]]

    def section_at(self, offset: int) -> str | None:
        for key, (s, e) in self.spans.items():
            if s <= offset < e:
                return key
        return None


def compose_text(p: Proposal) -> ComposedText:
    """Title, then each non-empty section as `Heading\\nbody`, in canonical key order."""
    parts: list[str] = []
    spans: dict[str, tuple[int, int]] = {}
    pos = 0

    def add(s: str) -> None:
        nonlocal pos
        parts.append(s)
        pos += len(s)

    if p.judul:
        add(p.judul.strip() + "\n\n")
    if p.unassigned.strip():
        start = pos
        add(p.unassigned.strip())
        spans[UNASSIGNED] = (start, pos)
        add("\n\n")
    for key in INPUT_KEYS:
        body = p.bagian.get(key, "").strip()
        if not body:
            continue
        add(KEY_HEADINGS[key] + "\n")
        start = pos
        add(body)
        spans[key] = (start, pos)
        add("\n\n")
    return ComposedText(text="".join(parts).rstrip("\n"), spans=spans)


_WS = re.compile(r"\s+")


def normalise_name(s: str | None) -> str:
    """Case-, accent- and spacing-insensitive form of a name or title, for equality checks."""
    if not s:
        return ""
    s = unicodedata.normalize("NFKD", s)
    s = "".join(ch for ch in s if not unicodedata.combining(ch))
    s = re.sub(r"[^\w\s]", " ", s.lower())
    for pattern, repl in _NAME_ALIASES:
        s = pattern.sub(repl, s)
    return _WS.sub(" ", s).strip()


_NAME_ALIASES = [
    (re.compile(r"\b(pemkab|kab)\b"), "kabupaten"),
    (re.compile(r"\b(pemkot)\b"), "kota"),
    (re.compile(r"\b(pemprov|prov|propinsi)\b"), "provinsi"),
    (re.compile(r"\bkementrian\b"), "kementerian"),
    (re.compile(r"\b(pemerintah|pemda)\b"), ""),
]
"""Spelling variants of institution names: Pemkab Bintan == Pemerintah Kabupaten Bintan."""
