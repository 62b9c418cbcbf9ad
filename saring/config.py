"""The one settings object, read from the environment (prefix SARING_) and validated at start-up."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

if TYPE_CHECKING:
    from limits import RateLimitItem


def _default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "saring"


AUTO_BLOCK_SIZE = 16
"""Proposals per screening block when workers share a Redis queue and no size is set (a block is then
about half a minute of one core's work: small enough that a killed worker loses little)."""


class Settings(BaseSettings):
    """Where saring keeps its data and which model and parameters it uses."""

    model_config = SettingsConfigDict(env_prefix="SARING_", extra="ignore")

    data_dir: Path = Field(default_factory=_default_data_dir, description="Embedded store, index and caches.")
    database_url: str | None = Field(None, description="SQLAlchemy URL; defaults to SQLite inside data_dir.")
    embedding_model: str | None = Field(
        None,
        description="A packaged model name (see `saring info`) or a local sentence-transformers directory.",
    )
    model_dir: Path | None = Field(
        None,
        description="Where the embedding model built from the installed weights is kept (default: the user's "
        "cache, ~/.cache/saring/models, shared by every data dir).",
    )
    params: Path | None = Field(None, description="Parameters file; defaults to the bundled one.")
    embed_batch_size: int = Field(32, ge=1, le=1024)
    index_kind: Literal["auto", "flat", "hnsw"] = Field(
        "auto",
        description="Nearest-neighbour search of the archive index and of a batch's own chunks: auto (exact "
        "below 250,000 archive / 100,000 batch chunks, HNSW above), flat (always exact) or hnsw.",
    )
    screen_workers: int = Field(
        default_factory=lambda: min(os.cpu_count() or 1, 8),
        ge=1,
        le=64,
        description="Processes that screen a batch read from files (CLI) in parallel; 1: in the calling process.",
    )
    features_in_memory: int = Field(
        3000,
        ge=0,
        le=100_000,
        description="Analysed proposals (with their vectors) a process keeps in memory between requests, least "
        "recently used dropped first: a portal proposal is compared with its year's proposals, which the next "
        "request needs again (about 150 KiB each). 0: always from the store's caches.",
    )
    batch_block_size: int = Field(
        0,
        ge=0,
        le=10_000,
        description="Proposals per screening block of an API batch, which any `saring worker` may take (texts "
        "are prepared in blocks twice as large). 0: automatic, one job per batch without SARING_REDIS_URL (the "
        "embedded default) and blocks of 16 with it.",
    )
    max_upload_mb: int = Field(200, ge=1, description="Largest accepted upload (API).")
    max_proposal_kb: int = Field(
        512, ge=1, description="Largest request body of one proposal sent to the API (the portal), in KiB."
    )
    max_proposal_words: int = Field(
        20_000,
        ge=100,
        description="Most words one proposal sent to the API may have (the form's word limits add up to 3,600; "
        "a larger text holds a core for minutes).",
    )
    redis_url: str | None = Field(
        None,
        description="Redis URL for the job queue when several machines run workers (also holds the portal "
        "rate-limit counters, so every process shares them).",
    )
    portal_rate_limit: str = Field(
        "60/minute",
        description="Most API requests one portal key may make, e.g. '60/minute' or '1000 per day' (moving "
        "window); '0' or empty: no limit. Beyond it: 429 with Retry-After.",
    )
    timezone: Literal["WIB", "WITA", "WIT"] = Field("WIB", description="Time zone of the times in pages and reports.")
    csv_format: Literal["id", "international"] = Field(
        "id", description="CSV reports: id (';' between fields, decimal comma) or international (',' and '.')."
    )
    log_level: str = "INFO"

    @field_validator("data_dir", "model_dir", mode="before")
    @classmethod
    def _expand(cls, v: Any) -> Any:
        return Path(v).expanduser() if isinstance(v, str | Path) else v

    @field_validator("portal_rate_limit", mode="before")
    @classmethod
    def _rate_limit(cls, v: Any) -> Any:
        """An unreadable limit is refused at start-up; every way of saying "no limit" becomes "0"."""
        text = "" if v is None else str(v).strip()
        return text if parse_rate_limit(text) is not None else "0"

    @property
    def db_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'saring.sqlite3'}"

    @property
    def block_size(self) -> int:
        """Proposals per screening block of a batch; 0: the batch is screened as one job."""
        if self.batch_block_size:
            return self.batch_block_size
        return AUTO_BLOCK_SIZE if self.redis_url else 0

    @property
    def index_dir(self) -> Path:
        return self.data_dir / "index"

    def public(self) -> dict[str, Any]:
        """Settings as echoed in reports (the database password is masked)."""
        d = self.model_dump(mode="json")
        d["database_url"] = _mask_password(self.db_url)
        return d


def parse_rate_limit(value: str | None) -> RateLimitItem | None:
    """A rate limit such as "60/minute" or "100 per 2 hours" (the `limits` library's notation); None for "",
    "0" or "off" (no limit). ValueError for anything unreadable, or a limit of 0 requests."""
    from limits import parse

    text = (value or "").strip()
    if text.lower() in ("", "0", "off", "none"):
        return None
    item = parse(text)
    if item.amount < 1:
        raise ValueError(f"rate limit {text!r} allows no request; use 0 to switch the limit off")
    return item


def _mask_password(url: str) -> str:
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "<invalid url>"
