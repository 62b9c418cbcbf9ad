"""The relational store: archive, screened proposals, results, chunk ids and cached embeddings.

SQLAlchemy 2.0 ORM over SQLite (default, embedded) or PostgreSQL; the schema is owned by the
Alembic migrations in `corpus/migrations`, applied automatically by `Store.open`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import wraps
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeVar

import numpy as np
from sqlalchemy import (
    JSON,
    Date,
    DateTime,
    Engine,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    create_engine,
    delete,
    event,
    exists,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, IntegrityError, InternalError, OperationalError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

from screening.proposal import UNASSIGNED, Proposal
from screening.results import FileError, ProposalResult

log = logging.getLogger("saring.store")

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
"""Alembic script directory (shipped as package data)."""

IN_BATCH = 500
"""Most bound parameters in one `IN (...)` query (well below SQLite's and PostgreSQL's limits)."""

T = TypeVar("T")
P = ParamSpec("P")

RECONNECT_S = 30.0
"""How long a call keeps retrying while a server database (PostgreSQL) is unreachable, e.g. restarting."""
MIGRATION_LOCK = 0x5A21_0001
"""PostgreSQL advisory lock key taken while migrating, so processes starting together migrate once."""


class StoreError(RuntimeError):
    """The database cannot be used (read-only, disk full, unreachable, bad URL); the message says which."""


# ---------------------------------------------------------------------------------------------- schema

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
"""Deterministic constraint names, so migrations can name (and later drop) them on every backend."""


class Base(DeclarativeBase):
    """Declarative base; its metadata is Alembic's `target_metadata`."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


ID = String(200)
"""Proposal ids (Proposal.id has max_length=200)."""


class ArchiveEntry(Base):
    """A past innovation; `data` is the full Proposal, the other columns are copies for filtering."""

    __tablename__ = "archive_entries"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    judul: Mapped[str] = mapped_column(Text, default="")
    instansi: Mapped[str] = mapped_column(Text, default="")
    klaster: Mapped[str] = mapped_column(String(50), default="", index=True)
    wilayah: Mapped[str] = mapped_column(Text, default="")
    tahun: Mapped[int | None] = mapped_column(Integer)
    tahun_implementasi: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str | None] = mapped_column(String(50))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    content_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class ProposalRow(Base):
    """A proposal submitted for screening (the full Proposal in `data`)."""

    __tablename__ = "proposals"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    instansi: Mapped[str] = mapped_column(Text, default="")
    klaster: Mapped[str] = mapped_column(String(50), default="", index=True)
    wilayah: Mapped[str] = mapped_column(Text, default="")
    tahun: Mapped[int | None] = mapped_column(Integer)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    content_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class SectionRow(Base):
    """One section text of a screened proposal (for search and export without parsing `data`)."""

    __tablename__ = "sections"

    proposal_id: Mapped[str] = mapped_column(ID, ForeignKey("proposals.id", ondelete="CASCADE"), primary_key=True)
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    text: Mapped[str] = mapped_column(Text)


class ResultRow(Base):
    """The latest screening result of a proposal (a ProposalResult in `result`)."""

    __tablename__ = "results"

    proposal_id: Mapped[str] = mapped_column(ID, ForeignKey("proposals.id", ondelete="CASCADE"), primary_key=True)
    recommendation: Mapped[str] = mapped_column(String(32), index=True)
    result: Mapped[dict[str, Any]] = mapped_column(JSON)
    parameters_version: Mapped[str] = mapped_column(String(64), default="")
    model: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    batch_id: Mapped[str | None] = mapped_column(String(100), index=True)


class ResultVersionRow(Base):
    """Every screening result a proposal ever had, never deleted (issue 14): who caused it (the API key of the
    portal request or of the batch's upload), the batch, when, and the parameters and model it used."""

    __tablename__ = "result_versions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    proposal_id: Mapped[str] = mapped_column(ID, ForeignKey("proposals.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    recommendation: Mapped[str] = mapped_column(String(32))
    result: Mapped[dict[str, Any]] = mapped_column(JSON)
    parameters_version: Mapped[str] = mapped_column(String(64), default="")
    model: Mapped[str] = mapped_column(String(200), default="")
    batch_id: Mapped[str | None] = mapped_column(String(100))
    actor_key_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    cause: Mapped[str | None] = mapped_column(String(100))
    """For a re-screening caused by a later wave that copies this proposal: that batch's id, or "portal"."""


class ResolutionRow(Base):
    """A secretariat user's written resolution of a proposal's duplication flag (the audit trail)."""

    __tablename__ = "resolutions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    proposal_id: Mapped[str] = mapped_column(ID, ForeignKey("proposals.id", ondelete="CASCADE"), index=True)
    up_to_version: Mapped[int] = mapped_column(Integer)
    note: Mapped[str] = mapped_column(Text)
    actor_key_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class FindingRow(Base):
    """One duplicate found for a result, flattened so results can be filtered by relation."""

    __tablename__ = "findings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    proposal_id: Mapped[str] = mapped_column(ID, ForeignKey("results.proposal_id", ondelete="CASCADE"), index=True)
    other_id: Mapped[str] = mapped_column(ID)
    relation: Mapped[str] = mapped_column(String(32), index=True)
    match_type: Mapped[str] = mapped_column(String(32))
    share: Mapped[float] = mapped_column(Float)


class Chunk(Base):
    """A chunk of an archive entry or proposal; `id` is its FAISS id, never reused (AUTOINCREMENT)."""

    __tablename__ = "chunks"
    __table_args__ = (
        UniqueConstraint("kind", "owner_id", "seq"),
        Index("ix_chunks_kind_owner_id", "kind", "owner_id"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))
    owner_id: Mapped[str] = mapped_column(ID)
    seq: Mapped[int] = mapped_column(Integer)
    start: Mapped[int] = mapped_column(Integer)
    end: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))


class Embedding(Base):
    """A cached vector (little-endian float32 bytes) by model and content key."""

    __tablename__ = "embeddings"

    model: Mapped[str] = mapped_column(String(200), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    vector: Mapped[bytes] = mapped_column(LargeBinary)
    dim: Mapped[int] = mapped_column(Integer)


class IndexVersion(Base):
    """A counter bumped whenever a derived structure (e.g. the archive context) must be rebuilt."""

    __tablename__ = "index_versions"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, default=0)


class BatchRow(Base):
    """A batch screening job; progress counters are updated with each proposal's result."""

    __tablename__ = "batches"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    name: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[str] = mapped_column(String(16), index=True)
    total: Mapped[int] = mapped_column(Integer, default=0)
    done: Mapped[int] = mapped_column(Integer, default=0)
    failed_items: Mapped[int] = mapped_column(Integer, default=0)
    done_this_run: Mapped[int] = mapped_column(Integer, default=0)
    errors: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    today: Mapped[dt.date | None] = mapped_column(Date)
    stage: Mapped[str | None] = mapped_column(Text)
    message: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    started_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    heartbeat_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    hidden_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    """When the secretariat hid the (failed) batch from the batch list; None: listed."""
    hidden_by: Mapped[int | None] = mapped_column(Integer)
    blocks_total: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    """Blocks the batch is split into (0: screened as one job, the embedded default)."""
    blocks_done: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    blocks_done_this_run: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class BatchBlockRow(Base):
    """One block of a batch that any worker may take: phase 0 prepares texts (analysis, embeddings), phase 1
    screens proposals, phase 2 assembles the batch. A block is claimed with a heartbeat; a later phase opens
    when every block of the earlier ones is done."""

    __tablename__ = "batch_blocks"

    batch_id: Mapped[str] = mapped_column(String(100), ForeignKey("batches.id", ondelete="CASCADE"), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    phase: Mapped[int] = mapped_column(Integer)
    ids: Mapped[list[str]] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(16))
    worker: Mapped[str | None] = mapped_column(String(200))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    queued_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    started_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    heartbeat_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class TextFeatureRow(Base):
    """A text's analysis (corpus.features_cache.dump_features) by analysis fingerprint and content hash."""

    __tablename__ = "text_features"

    fingerprint: Mapped[str] = mapped_column(String(64), primary_key=True)
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class BatchItemRow(Base):
    """One proposal of a batch: its input, its state and (once screened) its result."""

    __tablename__ = "batch_items"
    __table_args__ = (Index("ix_batch_items_batch_id_seq", "batch_id", "seq"),)

    batch_id: Mapped[str] = mapped_column(String(100), ForeignKey("batches.id", ondelete="CASCADE"), primary_key=True)
    proposal_id: Mapped[str] = mapped_column(ID, primary_key=True)
    seq: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(16))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class ApiKeyRow(Base):
    """An API key: only the SHA-256 of the secret is kept."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(Text)
    role: Mapped[str] = mapped_column(String(32))
    instansi: Mapped[str | None] = mapped_column(Text)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class WebSessionRow(Base):
    """A web page login: the SHA-256 of a random session id (the cookie), the key it stands for, and when it
    expires. Revoking the key ends its sessions."""

    __tablename__ = "web_sessions"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    key_id: Mapped[int] = mapped_column(Integer, ForeignKey("api_keys.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


@dataclass(frozen=True)
class ResultVersion:
    """One stored screening result of a proposal, without the result itself."""

    version: int
    recommendation: str
    created_at: dt.datetime
    batch_id: str | None
    actor_key_id: int | None
    actor_name: str | None
    actor_role: str | None
    parameters_version: str
    model: str
    duplicates: int
    cause: str | None = None


@dataclass(frozen=True)
class Resolution:
    """A resolution of the duplication flag up to some version, with its note."""

    up_to_version: int
    note: str
    created_at: dt.datetime
    actor_key_id: int | None
    actor_name: str | None


@dataclass(frozen=True)
class BatchInfo:
    """A batch as the job runner and the API see it."""

    id: str
    name: str
    state: str
    total: int
    done: int
    failed_items: int
    done_this_run: int
    errors: list[FileError]
    today: dt.date | None
    stage: str | None
    message: str | None
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    hidden_at: dt.datetime | None = None
    blocks_total: int = 0
    blocks_done: int = 0
    blocks_done_this_run: int = 0


@dataclass(frozen=True)
class BlockInfo:
    """A block of a batch as the job runner sees it."""

    batch_id: str
    seq: int
    phase: int
    ids: list[str]
    state: str
    worker: str | None
    attempts: int
    queued_at: dt.datetime | None
    heartbeat_at: dt.datetime | None


def _block_info(b: BatchBlockRow) -> BlockInfo:
    return BlockInfo(
        batch_id=b.batch_id,
        seq=b.seq,
        phase=b.phase,
        ids=list(b.ids),
        state=b.state,
        worker=b.worker,
        attempts=b.attempts,
        queued_at=_utc(b.queued_at),
        heartbeat_at=_utc(b.heartbeat_at),
    )


@dataclass(frozen=True)
class ApiKeyInfo:
    id: int
    name: str
    role: str
    instansi: str | None
    created_at: dt.datetime
    revoked_at: dt.datetime | None


def _utc(t: dt.datetime | None) -> dt.datetime | None:
    """SQLite returns naive datetimes; everything stored is UTC."""
    return t.replace(tzinfo=dt.UTC) if t is not None and t.tzinfo is None else t


def _aware(t: dt.datetime) -> dt.datetime:
    return t.replace(tzinfo=dt.UTC) if t.tzinfo is None else t


def _key_info(k: ApiKeyRow) -> ApiKeyInfo:
    return ApiKeyInfo(
        id=k.id,
        name=k.name,
        role=k.role,
        instansi=k.instansi,
        created_at=_utc(k.created_at) or _now(),
        revoked_at=_utc(k.revoked_at),
    )


def _batch_info(b: BatchRow) -> BatchInfo:
    return BatchInfo(
        id=b.id,
        name=b.name,
        state=b.state,
        total=b.total,
        done=b.done,
        failed_items=b.failed_items,
        done_this_run=b.done_this_run,
        errors=[FileError.model_validate(e) for e in b.errors or []],
        today=b.today,
        stage=b.stage,
        message=b.message,
        created_at=_utc(b.created_at) or _now(),
        started_at=_utc(b.started_at),
        finished_at=_utc(b.finished_at),
        hidden_at=_utc(b.hidden_at),
        blocks_total=b.blocks_total or 0,
        blocks_done=b.blocks_done or 0,
        blocks_done_this_run=b.blocks_done_this_run or 0,
    )


@dataclass(frozen=True)
class ChunkRow:
    """A chunk as the index and the service see it (detached from any session)."""

    id: int
    kind: str
    owner_id: str
    seq: int
    start: int
    end: int
    hash: str


# ---------------------------------------------------------------------------------------------- helpers


def proposal_hash(data: Mapping[str, Any]) -> str:
    """Stable hash of a dumped proposal (key order and non-ASCII encoding do not matter)."""
    blob = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.blake2b(blob.encode("utf-8"), digest_size=20).hexdigest()


def _batches(items: Sequence[T], size: int = IN_BATCH) -> Iterator[Sequence[T]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _vector_bytes(v: np.ndarray) -> tuple[bytes, int]:
    a = np.ascontiguousarray(np.asarray(v, dtype="<f4").reshape(-1))
    return a.tobytes(), int(a.shape[0])


def _describe(exc: DBAPIError, url: str) -> str:
    """A clear English message for a database failure, naming the (password-masked) URL."""
    text = str(exc.orig if exc.orig is not None else exc).strip()
    low = text.lower()
    if "readonly" in low or "read-only" in low or "read only" in low:
        what = "the database is read-only (check file and directory permissions, or the server's read-only setting)"
    elif "disk is full" in low or "no space" in low or "disk full" in low:
        what = "the disk holding the database is full"
    elif "disk i/o error" in low:  # SQLite, e.g. when a full disk leaves no room for its shared-memory file
        what = "the database file cannot be written (disk full, removed or failing)"
    elif "password authentication failed" in low or "no pg_hba.conf entry" in low:
        what = "the database server refused the user name or password"
    elif 'database "' in low and "does not exist" in low:
        what = "the database does not exist on the server (create it first, e.g. with createdb)"
    elif "unable to open" in low or "could not connect" in low or "connection refused" in low or "timeout" in low:
        what = "the database cannot be opened or reached"
    elif any(p in low for p in _LOST_CONNECTION):
        what = "the connection to the database server was lost (restarting or unreachable)"
    elif "locked" in low or "busy" in low:
        what = "the database is locked by another process (try again)"
    elif "no such table" in low or "does not exist" in low:
        what = "the database schema is missing or outdated (run `alembic upgrade head`)"
    else:
        what = "the database reported an error"
    return f"{what}: {text} [{url}]"


_LOST_CONNECTION = (
    "connection refused",
    "could not connect",
    "server closed the connection",
    "terminating connection",
    "the database system is starting up",
    "the database system is shutting down",
    "the database system is in recovery mode",
    "consuming input failed",
    "connection is lost",
    "connection is closed",
    "timeout expired",
)
"""Messages of a server database that went away or is (re)starting: worth waiting for."""


def _is_transient(exc: BaseException | None) -> bool:
    """A server database (not SQLite) dropped or refused the connection; retrying later may succeed."""
    if not isinstance(exc, OperationalError):
        return False
    if exc.connection_invalidated:
        return True
    state = getattr(exc.orig, "sqlstate", None)
    if state:
        return str(state).startswith("08") or state in {"57P01", "57P02", "57P03"}
    low = str(exc.orig).lower()
    return any(p in low for p in _LOST_CONNECTION)


def _reconnecting(fn: Callable[Concatenate[Store, P], T]) -> Callable[Concatenate[Store, P], T]:
    """Retry a Store call, with backoff for up to `Store.reconnect_s`, while a server database is
    unreachable (restart, failover, network blip). Each call is one transaction, rolled back when the
    connection drops, and the batch writes are conditional (a result is accepted once), so a retry
    neither loses nor doubles work. SQLite never retries (locks already wait via busy_timeout)."""

    @wraps(fn)
    def wrapper(self: Store, /, *args: P.args, **kwargs: P.kwargs) -> T:
        if self.engine.dialect.name == "sqlite":
            return fn(self, *args, **kwargs)
        deadline = time.monotonic() + self.reconnect_s
        delay, attempt = 0.2, 0
        while True:
            try:
                result = fn(self, *args, **kwargs)
            except StoreError as exc:
                if not _is_transient(exc.__cause__) or time.monotonic() + delay > deadline:
                    raise
                attempt += 1
                (log.warning if attempt == 1 else log.debug)(
                    "%s: database unreachable, retrying for up to %.0f s: %s", fn.__name__, self.reconnect_s, exc
                )
                time.sleep(delay)
                delay = min(delay * 2, 2.0)
                continue
            if attempt:
                log.warning("%s: database reachable again after %d retries", fn.__name__, attempt)
            return result

    return wrapper


def _sqlite_path(url: URL) -> Path | None:
    db = url.database
    if url.get_backend_name() != "sqlite" or not db or db == ":memory:" or db.startswith("file:"):
        return None
    return Path(db).expanduser()


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        cur = dbapi_conn.cursor()
        try:
            cur.execute("PRAGMA busy_timeout = 30000")
            cur.execute("PRAGMA foreign_keys = ON")
            cur.execute("PRAGMA journal_mode = WAL")
            cur.execute("PRAGMA synchronous = NORMAL")
        finally:
            cur.close()


def alembic_config(connection: Any | None = None, url: str | None = None) -> Any:
    """An Alembic Config for the bundled migrations; `connection` (if given) is used by env.py."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def _heads_current(conn: Any) -> bool:
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    heads = set(ScriptDirectory.from_config(alembic_config()).get_heads())
    return set(MigrationContext.configure(conn).get_current_heads()) == heads


def _schema_is_current(engine: Engine) -> bool:
    with engine.connect() as conn:
        return _heads_current(conn)


def _upgrade(engine: Engine) -> None:
    """Bring the schema to the newest revision (a no-op when it already is)."""
    from alembic import command

    if _schema_is_current(engine):
        return
    try:
        with engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                # Processes starting together on a fresh database: one migrates, the others wait here
                # (the lock is released with the transaction) and then find the schema current.
                conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
                if _heads_current(conn):
                    return
            command.upgrade(alembic_config(conn), "head")
    except OperationalError:
        # Another process may have migrated the same fresh database at the same moment.
        if not _schema_is_current(engine):
            raise


# ---------------------------------------------------------------------------------------------- store


class Store:
    """All persistent state; one engine per process, a short session per call (thread-safe)."""

    def __init__(self, engine: Engine, url: str, *, reconnect_s: float = RECONNECT_S) -> None:
        self.engine = engine
        self.url = url
        self.reconnect_s = reconnect_s
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    @classmethod
    def open(cls, url: str) -> Store:
        """Connect to `url` and migrate the schema to the newest revision (fresh data dirs just work)."""
        try:
            parsed = make_url(url)
        except ArgumentError as exc:
            raise StoreError(f"invalid database URL {url!r}: {exc}") from exc
        shown = parsed.render_as_string(hide_password=True)
        path = _sqlite_path(parsed)
        if path is not None:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(f"cannot create the data directory {path.parent}: {exc}") from exc
        try:
            engine = create_engine(parsed, pool_pre_ping=path is None)
        except (ArgumentError, ImportError) as exc:
            raise StoreError(f"cannot use database URL {shown}: {exc}") from exc
        if parsed.get_backend_name() == "sqlite":
            _configure_sqlite(engine)
        try:
            _upgrade(engine)
        except DBAPIError as exc:
            engine.dispose()
            raise StoreError(_describe(exc, shown)) from exc
        return cls(engine, shown)

    def close(self) -> None:
        """Release all pooled connections."""
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session that commits on success and rolls back on error; DB failures become StoreError."""
        s = self._sessions()
        try:
            yield s
            s.commit()
        except (OperationalError, InternalError) as exc:  # InternalError: e.g. PostgreSQL read-only
            s.rollback()
            raise StoreError(_describe(exc, self.url)) from exc
        except BaseException:
            s.rollback()
            raise
        finally:
            s.close()

    # ------------------------------------------------------------------------------------------ archive

    @_reconnecting
    def upsert_archive(self, proposals: Sequence[Proposal]) -> list[str]:
        """Insert or update archive entries; returns the ids that were new or changed (re-import: [])."""
        latest: dict[str, Proposal] = {}
        for p in proposals:
            latest[p.id] = p  # the last occurrence of an id wins
        dumped = {pid: p.model_dump(mode="json") for pid, p in latest.items()}
        hashes = {pid: proposal_hash(d) for pid, d in dumped.items()}
        changed: list[str] = []
        now = _now()
        with self.session() as s:
            ids = list(latest)
            existing: dict[str, str] = {}
            for batch in _batches(ids):
                existing.update(
                    s.execute(select(ArchiveEntry.id, ArchiveEntry.content_hash).where(ArchiveEntry.id.in_(batch)))
                    .tuples()
                    .all()
                )
            for pid in ids:
                if existing.get(pid) == hashes[pid]:
                    continue
                p = latest[pid]
                fields: dict[str, Any] = {
                    "judul": p.judul,
                    "instansi": p.instansi,
                    "klaster": p.klaster,
                    "wilayah": p.wilayah,
                    "tahun": p.tahun,
                    "tahun_implementasi": p.tahun_implementasi,
                    "status": p.status,
                    "data": dumped[pid],
                    "content_hash": hashes[pid],
                    "updated_at": now,
                }
                if pid in existing:
                    s.execute(update(ArchiveEntry).where(ArchiveEntry.id == pid).values(**fields))
                else:
                    s.add(ArchiveEntry(id=pid, created_at=now, **fields))
                changed.append(pid)
        return changed

    @_reconnecting
    def archive_entries(self) -> list[Proposal]:
        """Every archive entry, ordered by id."""
        with self.session() as s:
            rows = s.scalars(select(ArchiveEntry.data).order_by(ArchiveEntry.id)).all()
        return [Proposal.model_validate(d) for d in rows]

    @_reconnecting
    def get_archive(self, id: str) -> Proposal | None:
        with self.session() as s:
            d = s.scalar(select(ArchiveEntry.data).where(ArchiveEntry.id == id))
        return None if d is None else Proposal.model_validate(d)

    @_reconnecting
    def archive_count(self) -> int:
        with self.session() as s:
            return int(s.scalar(select(func.count()).select_from(ArchiveEntry)) or 0)

    @_reconnecting
    def delete_archive(self, id: str) -> bool:
        """Remove an archive entry and its chunks; True if it existed. The caller bumps the index version."""
        with self.session() as s:
            s.execute(delete(Chunk).where(Chunk.kind == "archive", Chunk.owner_id == id))
            res = s.execute(delete(ArchiveEntry).where(ArchiveEntry.id == id))
            return bool(getattr(res, "rowcount", 0))

    # ------------------------------------------------------------------------------------------ versions

    @_reconnecting
    def index_version(self, name: str) -> int:
        """The current version of a derived structure (0 if never bumped)."""
        with self.session() as s:
            return int(s.scalar(select(IndexVersion.version).where(IndexVersion.name == name)) or 0)

    @_reconnecting
    def bump_index_version(self, name: str) -> int:
        """Atomically increment a version counter (creating it at 1) and return the new value."""
        for attempt in range(3):
            try:
                with self.session() as s:
                    res = s.execute(
                        update(IndexVersion).where(IndexVersion.name == name).values(version=IndexVersion.version + 1)
                    )
                    if not getattr(res, "rowcount", 0):
                        s.add(IndexVersion(name=name, version=1))
                        s.flush()
                    return int(s.scalar(select(IndexVersion.version).where(IndexVersion.name == name)) or 0)
            except IntegrityError:  # a concurrent first bump inserted the row: increment it instead
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    # ------------------------------------------------------------------------------------------ chunks

    @_reconnecting
    def replace_chunks(self, kind: str, owner_id: str, spans: Sequence[tuple[int, int, str]]) -> bool:
        """Set an owner's chunks to `spans` (start, end, hash). Unchanged spans keep their ids (and
        FAISS vectors); any change replaces them all with fresh, never-reused ids. True if changed."""
        want = [(int(a), int(b), str(h)) for a, b, h in spans]
        for attempt in range(2):
            try:
                with self.session() as s:
                    have = (
                        s.execute(
                            select(Chunk.start, Chunk.end, Chunk.hash)
                            .where(Chunk.kind == kind, Chunk.owner_id == owner_id)
                            .order_by(Chunk.seq)
                        )
                        .tuples()
                        .all()
                    )
                    if [tuple(r) for r in have] == want:
                        return False
                    s.execute(delete(Chunk).where(Chunk.kind == kind, Chunk.owner_id == owner_id))
                    s.add_all(
                        Chunk(kind=kind, owner_id=owner_id, seq=i, start=a, end=b, hash=h)
                        for i, (a, b, h) in enumerate(want)
                    )
                return True
            except IntegrityError:  # another process cut the same owner at the same moment: look again
                if attempt == 1:
                    raise
        raise AssertionError("unreachable")

    @_reconnecting
    def chunks_for(self, kind: str) -> list[ChunkRow]:
        """All chunks of a kind ("archive" or "proposal"), ordered by id."""
        with self.session() as s:
            rows = s.scalars(select(Chunk).where(Chunk.kind == kind).order_by(Chunk.id)).all()
            return [ChunkRow(r.id, r.kind, r.owner_id, r.seq, r.start, r.end, r.hash) for r in rows]

    # ------------------------------------------------------------------------------------------ embeddings

    @_reconnecting
    def get_embeddings(self, model: str, keys: Sequence[str]) -> dict[str, np.ndarray]:
        """Cached vectors for the keys that have one (missing keys are simply absent)."""
        out: dict[str, np.ndarray] = {}
        unique = list(dict.fromkeys(keys))
        with self.session() as s:
            for batch in _batches(unique):
                q = select(Embedding.key, Embedding.vector, Embedding.dim).where(
                    Embedding.model == model, Embedding.key.in_(batch)
                )
                for key, blob, dim in s.execute(q).tuples():
                    v = np.frombuffer(blob, dtype="<f4")
                    if v.shape[0] == dim:  # a truncated blob is treated as missing (re-embedded)
                        out[key] = v.astype(np.float32)
        return out

    @_reconnecting
    def put_embeddings(self, model: str, items: Mapping[str, np.ndarray]) -> None:
        """Insert vectors whose keys are not cached yet (existing ones are left as they are)."""
        if not items:
            return
        for attempt in range(2):
            try:
                with self.session() as s:
                    keys = list(items)
                    present: set[str] = set()
                    for batch in _batches(keys):
                        present.update(
                            s.scalars(
                                select(Embedding.key).where(Embedding.model == model, Embedding.key.in_(batch))
                            ).all()
                        )
                    rows = []
                    for k in keys:
                        if k not in present:
                            blob, dim = _vector_bytes(items[k])
                            rows.append({"model": model, "key": k, "vector": blob, "dim": dim})
                    if rows:
                        s.execute(insert(Embedding), rows)
                return
            except IntegrityError:  # another writer cached some of these keys meanwhile: re-check
                if attempt == 1:
                    raise

    # ------------------------------------------------------------------------------------------ proposals

    @_reconnecting
    def save_proposal(self, p: Proposal) -> None:
        """Insert or replace a proposal submitted for screening, with its section texts."""
        with self.session() as s:
            self._save_proposal(s, p)

    @staticmethod
    def _save_proposal(s: Session, p: Proposal) -> None:
        data = p.model_dump(mode="json")
        h = proposal_hash(data)
        now = _now()
        sections = {k: t for k, t in p.bagian.items() if t}
        if p.unassigned.strip():
            sections[UNASSIGNED] = p.unassigned.strip()
        row = s.get(ProposalRow, p.id)
        if row is None:
            row = ProposalRow(id=p.id, created_at=now)
            s.add(row)
        elif row.content_hash == h:
            return
        row.instansi, row.klaster, row.wilayah, row.tahun = p.instansi, p.klaster, p.wilayah, p.tahun
        row.data, row.content_hash, row.updated_at = data, h, now
        s.flush()
        s.execute(delete(SectionRow).where(SectionRow.proposal_id == p.id))
        s.add_all(SectionRow(proposal_id=p.id, key=k, text=t) for k, t in sections.items())

    @_reconnecting
    def get_proposal(self, id: str) -> Proposal | None:
        with self.session() as s:
            d = s.scalar(select(ProposalRow.data).where(ProposalRow.id == id))
        return None if d is None else Proposal.model_validate(d)

    @_reconnecting
    def save_result(
        self,
        r: ProposalResult,
        *,
        parameters_version: str = "",
        model: str = "",
        batch_id: str | None = None,
        actor_key_id: int | None = None,
        cause: str | None = None,
    ) -> None:
        """Store a proposal's result as its latest (with its duplicate findings) and as a new version (earlier
        versions are kept); save_proposal must come first. `cause`: the later wave (batch id or "portal") whose
        copy made this re-screening."""
        with self.session() as s:
            self._save_result(
                s,
                r,
                parameters_version=parameters_version,
                model=model,
                batch_id=batch_id,
                actor_key_id=actor_key_id,
                cause=cause,
            )

    @staticmethod
    def _save_result(
        s: Session,
        r: ProposalResult,
        *,
        parameters_version: str,
        model: str,
        batch_id: str | None,
        actor_key_id: int | None = None,
        cause: str | None = None,
    ) -> None:
        if s.get(ProposalRow, r.id) is None:
            raise StoreError(f"cannot save the result of {r.id!r}: save_proposal() it first")
        last = s.scalar(select(func.max(ResultVersionRow.version)).where(ResultVersionRow.proposal_id == r.id))
        s.add(
            ResultVersionRow(
                proposal_id=r.id,
                version=(last or 0) + 1,
                recommendation=r.recommendation,
                result=r.model_dump(mode="json"),
                parameters_version=parameters_version,
                model=model,
                batch_id=batch_id,
                actor_key_id=actor_key_id,
                created_at=_now(),
                cause=cause,
            )
        )
        s.execute(delete(FindingRow).where(FindingRow.proposal_id == r.id))
        row = s.get(ResultRow, r.id)
        if row is None:
            row = ResultRow(proposal_id=r.id)
            s.add(row)
        row.recommendation = r.recommendation
        row.result = r.model_dump(mode="json")
        row.parameters_version = parameters_version
        row.model = model
        row.created_at = _now()
        row.batch_id = batch_id
        s.flush()
        s.add_all(
            FindingRow(
                proposal_id=r.id, other_id=d.other_id, relation=d.relation, match_type=d.match_type, share=d.share
            )
            for d in r.duplicates
        )

    @_reconnecting
    def get_result(self, id: str) -> ProposalResult | None:
        with self.session() as s:
            d = s.scalar(select(ResultRow.result).where(ResultRow.proposal_id == id))
        return None if d is None else ProposalResult.model_validate(d)

    def list_results(
        self,
        *,
        recommendation: str | None = None,
        klaster: str | None = None,
        wilayah: str | None = None,
        instansi: str | None = None,
        relation: str | None = None,
        batch_id: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[ProposalResult]:
        """Stored results, newest first. recommendation/klaster match exactly; wilayah and instansi are
        case-insensitive substrings; relation keeps results with at least one duplicate of that relation."""
        page, _ = self.results_page(
            recommendation=recommendation,
            klaster=klaster,
            wilayah=wilayah,
            instansi=instansi,
            relation=relation,
            batch_id=batch_id,
            limit=limit,
            offset=offset,
        )
        return [r for r, _ in page]

    @_reconnecting
    def results_page(
        self,
        *,
        recommendation: str | None = None,
        klaster: str | None = None,
        wilayah: str | None = None,
        instansi: str | None = None,
        relation: str | None = None,
        batch_id: str | None = None,
        exact_instansi: bool = False,
        limit: int = 100,
        offset: int = 0,
    ) -> tuple[list[tuple[ProposalResult, str | None]], int]:
        """One page of filtered results with their batch ids, and the total count matching the filters."""
        q = select(ResultRow.result, ResultRow.batch_id).join(ProposalRow, ProposalRow.id == ResultRow.proposal_id)
        if recommendation == "indikasi_duplikasi":
            # an earlier version's flag that the secretariat has not resolved counts too (issue 14)
            resolved = (
                select(func.coalesce(func.max(ResolutionRow.up_to_version), 0))
                .where(ResolutionRow.proposal_id == ResultVersionRow.proposal_id)
                .scalar_subquery()
            )
            open_flag = exists().where(
                ResultVersionRow.proposal_id == ResultRow.proposal_id,
                ResultVersionRow.recommendation == recommendation,
                ResultVersionRow.version > resolved,
            )
            q = q.where((ResultRow.recommendation == recommendation) | open_flag)
        elif recommendation:
            q = q.where(ResultRow.recommendation == recommendation)
        if klaster:
            q = q.where(ProposalRow.klaster == klaster.strip().lower())
        if wilayah:
            q = q.where(func.lower(ProposalRow.wilayah).contains(wilayah.lower(), autoescape=True))
        if instansi and exact_instansi:
            q = q.where(ProposalRow.instansi == instansi)
        elif instansi:
            q = q.where(func.lower(ProposalRow.instansi).contains(instansi.lower(), autoescape=True))
        if relation:
            q = q.where(
                exists().where(FindingRow.proposal_id == ResultRow.proposal_id, FindingRow.relation == relation)
            )
        if batch_id:
            q = q.where(ResultRow.batch_id == batch_id)
        counted = select(func.count()).select_from(q.subquery())
        q = q.order_by(ResultRow.created_at.desc(), ResultRow.proposal_id).limit(max(0, limit)).offset(max(0, offset))
        with self.session() as s:
            total = s.scalar(counted) or 0
            rows = s.execute(q).all()
        return [(ProposalResult.model_validate(d), b) for d, b in rows], total

    @_reconnecting
    def result_versions(self, id: str) -> list[ResultVersion]:
        """Every result the proposal had, oldest first, with who caused each."""
        with self.session() as s:
            rows = s.execute(
                select(ResultVersionRow, ApiKeyRow.name, ApiKeyRow.role)
                .outerjoin(ApiKeyRow, ApiKeyRow.id == ResultVersionRow.actor_key_id)
                .where(ResultVersionRow.proposal_id == id)
                .order_by(ResultVersionRow.version)
            ).all()
            return [
                ResultVersion(
                    version=v.version,
                    recommendation=v.recommendation,
                    created_at=_aware(v.created_at),
                    batch_id=v.batch_id,
                    actor_key_id=v.actor_key_id,
                    actor_name=name,
                    actor_role=role,
                    parameters_version=v.parameters_version,
                    model=v.model,
                    duplicates=sum(1 for d in v.result.get("duplicates", []) if d.get("relation") != "boilerplate"),
                    cause=v.cause,
                )
                for v, name, role in rows
            ]

    @_reconnecting
    def get_result_version(self, id: str, version: int) -> ProposalResult | None:
        with self.session() as s:
            d = s.scalar(
                select(ResultVersionRow.result).where(
                    ResultVersionRow.proposal_id == id, ResultVersionRow.version == version
                )
            )
        return None if d is None else ProposalResult.model_validate(d)

    @_reconnecting
    def resolutions(self, id: str) -> list[Resolution]:
        with self.session() as s:
            rows = s.execute(
                select(ResolutionRow, ApiKeyRow.name)
                .outerjoin(ApiKeyRow, ApiKeyRow.id == ResolutionRow.actor_key_id)
                .where(ResolutionRow.proposal_id == id)
                .order_by(ResolutionRow.id)
            ).all()
            return [Resolution(r.up_to_version, r.note, _aware(r.created_at), r.actor_key_id, name) for r, name in rows]

    def open_duplicate_flag(self, id: str) -> ResultVersion | None:
        """The latest version that said `indikasi_duplikasi` and that no resolution covers yet: it stays in
        view, whatever later versions say, until the secretariat resolves it with a note."""
        resolved = max((r.up_to_version for r in self.resolutions(id)), default=0)
        flagged = [v for v in self.result_versions(id) if v.recommendation == "indikasi_duplikasi"]
        return flagged[-1] if flagged and flagged[-1].version > resolved else None

    @_reconnecting
    def resolve_duplicate_flag(self, id: str, *, note: str, actor_key_id: int | None) -> Resolution:
        """Record that the secretariat resolved every duplication flag up to the latest version."""
        if len(note.strip()) < 10:
            raise ValueError("a resolution needs a written note of at least 10 characters")
        with self.session() as s:
            last = s.scalar(select(func.max(ResultVersionRow.version)).where(ResultVersionRow.proposal_id == id))
            if last is None:
                raise KeyError(id)
            row = ResolutionRow(
                proposal_id=id, up_to_version=last, note=note.strip(), actor_key_id=actor_key_id, created_at=_now()
            )
            s.add(row)
            s.flush()
            return Resolution(last, row.note, _aware(row.created_at), actor_key_id, None)

    @_reconnecting
    def findings_about(self, other_id: str) -> list[tuple[Proposal, str, str, float]]:
        """Screened proposals whose latest result lists `other_id` (an archive entry or another proposal),
        template-only overlaps left out: (proposal, relation, match type, share), most shared first."""
        with self.session() as s:
            rows = s.execute(
                select(ProposalRow.data, FindingRow.relation, FindingRow.match_type, FindingRow.share)
                .join(ProposalRow, ProposalRow.id == FindingRow.proposal_id)
                .where(FindingRow.other_id == other_id, FindingRow.relation != "boilerplate")
                .order_by(FindingRow.share.desc(), FindingRow.proposal_id)
            ).all()
        return [(Proposal.model_validate(d), rel, mt, float(sh)) for d, rel, mt, sh in rows]

    @_reconnecting
    def archive_entries_with_status(self, statuses: Sequence[str]) -> list[Proposal]:
        """Archive entries whose status is one of `statuses` (e.g. the past top innovations)."""
        with self.session() as s:
            rows = s.execute(
                select(ArchiveEntry.data).where(ArchiveEntry.status.in_(list(statuses))).order_by(ArchiveEntry.id)
            ).scalars()
            return [Proposal.model_validate(d) for d in rows]

    @_reconnecting
    def replication_links(self, statuses: Sequence[str]) -> list[tuple[str, Proposal, str, str, float]]:
        """Every stored finding (template-only ones left out) about an archive entry with one of `statuses`:
        (archive id, screened proposal, relation, match type, share); what the replication map is built from."""
        with self.session() as s:
            rows = s.execute(
                select(
                    FindingRow.other_id, ProposalRow.data, FindingRow.relation, FindingRow.match_type, FindingRow.share
                )
                .join(ProposalRow, ProposalRow.id == FindingRow.proposal_id)
                .join(ArchiveEntry, ArchiveEntry.id == FindingRow.other_id)
                .where(ArchiveEntry.status.in_(list(statuses)), FindingRow.relation != "boilerplate")
                .order_by(FindingRow.other_id, FindingRow.proposal_id)
            ).all()
        return [(o, Proposal.model_validate(d), rel, mt, float(sh)) for o, d, rel, mt, sh in rows]

    @_reconnecting
    def screened_proposals_of_years(self, years: Iterable[int]) -> list[tuple[Proposal, str | None]]:
        """Every screened proposal of these competition years, with the batch it was screened in (None: sent
        through the portal): what a later wave of the same year is compared with."""
        wanted = sorted(set(years))
        if not wanted:
            return []
        with self.session() as s:
            rows = s.execute(
                select(ProposalRow.data, ResultRow.batch_id)
                .join(ResultRow, ResultRow.proposal_id == ProposalRow.id)
                .where(ProposalRow.tahun.in_(wanted))
                .order_by(ProposalRow.id)
            ).all()
        return [(Proposal.model_validate(d), b) for d, b in rows]

    @_reconnecting
    def get_result_with_batch(self, id: str) -> tuple[ProposalResult, str | None] | None:
        """A proposal's latest result and the batch it came from (None: submitted on its own)."""
        with self.session() as s:
            row = s.execute(select(ResultRow.result, ResultRow.batch_id).where(ResultRow.proposal_id == id)).first()
        return None if row is None else (ProposalResult.model_validate(row[0]), row[1])

    # ------------------------------------------------------------------------------------------ batches

    @_reconnecting
    def create_batch(
        self,
        batch_id: str,
        *,
        name: str,
        proposals: Sequence[Proposal],
        errors: Sequence[FileError],
        today: dt.date | None = None,
        created_by: int | None = None,
    ) -> None:
        """Store a batch and all its proposals (pending) in one transaction, before any work starts."""
        ids = [p.id for p in proposals]
        if len(set(ids)) != len(ids):
            dup = sorted({i for i in ids if ids.count(i) > 1})
            raise ValueError(f"proposal ids must be unique in a batch; repeated: {', '.join(dup[:10])}")
        now = _now()
        with self.session() as s:
            s.add(
                BatchRow(
                    id=batch_id,
                    name=name,
                    state="queued",
                    total=len(proposals),
                    done=0,
                    failed_items=0,
                    done_this_run=0,
                    errors=[e.model_dump(mode="json") for e in errors],
                    today=today,
                    created_by=created_by,
                    created_at=now,
                )
            )
            s.flush()
            s.add_all(
                BatchItemRow(
                    batch_id=batch_id,
                    proposal_id=p.id,
                    seq=i,
                    state="pending",
                    data=p.model_dump(mode="json"),
                    updated_at=now,
                )
                for i, p in enumerate(proposals)
            )

    @_reconnecting
    def get_batch(self, batch_id: str) -> BatchInfo | None:
        with self.session() as s:
            b = s.get(BatchRow, batch_id)
            return None if b is None else _batch_info(b)

    @_reconnecting
    def list_batches(self, *, limit: int = 50, include_hidden: bool = False) -> list[BatchInfo]:
        """The newest batches first; hidden ones only when asked for."""
        q = select(BatchRow)
        if not include_hidden:
            q = q.where(BatchRow.hidden_at.is_(None))
        with self.session() as s:
            rows = s.scalars(q.order_by(BatchRow.created_at.desc()).limit(limit)).all()
            return [_batch_info(b) for b in rows]

    @_reconnecting
    def hide_batch(self, batch_id: str, *, actor_key_id: int | None = None) -> bool:
        """Hide a failed batch from the list (its rows stay). False when the batch is not failed (or not
        there); hiding a batch already hidden keeps the first time and actor."""
        with self.session() as s:
            res = s.execute(
                update(BatchRow)
                .where(BatchRow.id == batch_id, BatchRow.state == "failed", BatchRow.hidden_at.is_(None))
                .values(hidden_at=_now(), hidden_by=actor_key_id)
            )
            if res.rowcount:  # type: ignore[attr-defined]
                return True
            return s.scalar(select(BatchRow.state).where(BatchRow.id == batch_id)) == "failed"

    @_reconnecting
    def claim_batch(self, batch_id: str, *, stale_after_s: float) -> bool:
        """Atomically take a queued batch, or a running one whose worker stopped beating; False if held or done."""
        now = _now()
        stale = now - dt.timedelta(seconds=stale_after_s)
        with self.session() as s:
            res = s.execute(
                update(BatchRow)
                .where(
                    BatchRow.id == batch_id,
                    (BatchRow.state == "queued") | ((BatchRow.state == "running") & (BatchRow.heartbeat_at < stale)),
                )
                .values(state="running", heartbeat_at=now, started_at=now, done_this_run=0, blocks_done_this_run=0)
            )
            return bool(res.rowcount)  # type: ignore[attr-defined]

    @_reconnecting
    def heartbeat_batch(self, batch_id: str) -> None:
        with self.session() as s:
            s.execute(update(BatchRow).where(BatchRow.id == batch_id).values(heartbeat_at=_now()))

    @_reconnecting
    def set_batch_stage(self, batch_id: str, stage: str) -> None:
        with self.session() as s:
            s.execute(update(BatchRow).where(BatchRow.id == batch_id).values(stage=stage, heartbeat_at=_now()))

    @_reconnecting
    def finish_batch(self, batch_id: str, *, state: str, message: str | None = None) -> None:
        with self.session() as s:
            s.execute(
                update(BatchRow)
                .where(BatchRow.id == batch_id)
                .values(state=state, message=message, finished_at=_now(), stage=None)
            )

    @_reconnecting
    def unfinished_batches(self, *, stale_after_s: float | None) -> list[str]:
        """Queued batches, and running ones whose heartbeat is older than `stale_after_s` (None: all running)."""
        q = select(BatchRow.id).where(BatchRow.state.in_(("queued", "running")))
        if stale_after_s is not None:
            stale = _now() - dt.timedelta(seconds=stale_after_s)
            q = q.where(
                (BatchRow.state == "queued") | (BatchRow.heartbeat_at < stale) | (BatchRow.heartbeat_at.is_(None))
            )
        with self.session() as s:
            return list(s.scalars(q.order_by(BatchRow.created_at)).all())

    @_reconnecting
    def batch_proposals(self, batch_id: str, ids: Sequence[str] | None = None) -> list[Proposal]:
        """The batch's proposals in upload order (`ids`: only these)."""
        with self.session() as s:
            q = select(BatchItemRow.data, BatchItemRow.seq).where(BatchItemRow.batch_id == batch_id)
            if ids is None:
                rows = list(s.execute(q.order_by(BatchItemRow.seq)).tuples().all())
            else:
                rows = []
                for batch in _batches(list(ids)):
                    rows += s.execute(q.where(BatchItemRow.proposal_id.in_(batch))).tuples().all()
                rows.sort(key=lambda r: r[1])
        return [Proposal.model_validate(d) for d, _ in rows]

    @_reconnecting
    def batch_done_ids(self, batch_id: str) -> set[str]:
        """Proposals of the batch that need no more work (screened, or failed)."""
        with self.session() as s:
            rows = s.scalars(
                select(BatchItemRow.proposal_id).where(
                    BatchItemRow.batch_id == batch_id, BatchItemRow.state != "pending"
                )
            ).all()
        return set(rows)

    @_reconnecting
    def save_item_result(
        self, batch_id: str, r: ProposalResult, *, parameters_version: str = "", model: str = ""
    ) -> bool:
        """Record a batch proposal's result once: the item, the counters and the latest-result tables in one
        transaction. Returns False (and changes nothing) when the item was already done."""
        now = _now()
        with self.session() as s:
            res = s.execute(
                update(BatchItemRow)
                .where(
                    BatchItemRow.batch_id == batch_id,
                    BatchItemRow.proposal_id == r.id,
                    BatchItemRow.state == "pending",
                )
                .values(state="done", result=r.model_dump(mode="json"), updated_at=now)
            )
            if not res.rowcount:  # type: ignore[attr-defined]
                return False
            s.execute(
                update(BatchRow)
                .where(BatchRow.id == batch_id)
                .values(done=BatchRow.done + 1, done_this_run=BatchRow.done_this_run + 1, heartbeat_at=now)
            )
            data = s.scalar(
                select(BatchItemRow.data).where(BatchItemRow.batch_id == batch_id, BatchItemRow.proposal_id == r.id)
            )
            self._save_proposal(s, Proposal.model_validate(data))
            creator = s.scalar(select(BatchRow.created_by).where(BatchRow.id == batch_id))
            self._save_result(
                s, r, parameters_version=parameters_version, model=model, batch_id=batch_id, actor_key_id=creator
            )
            return True

    @_reconnecting
    def fail_item(self, batch_id: str, proposal_id: str, *, reason: str) -> None:
        with self.session() as s:
            res = s.execute(
                update(BatchItemRow)
                .where(
                    BatchItemRow.batch_id == batch_id,
                    BatchItemRow.proposal_id == proposal_id,
                    BatchItemRow.state == "pending",
                )
                .values(state="failed", error=reason, updated_at=_now())
            )
            if res.rowcount:  # type: ignore[attr-defined]
                s.execute(
                    update(BatchRow).where(BatchRow.id == batch_id).values(failed_items=BatchRow.failed_items + 1)
                )

    @_reconnecting
    def batch_results(self, batch_id: str) -> list[ProposalResult]:
        """The batch's results in upload order."""
        with self.session() as s:
            rows = s.scalars(
                select(BatchItemRow.result)
                .where(BatchItemRow.batch_id == batch_id, BatchItemRow.state == "done")
                .order_by(BatchItemRow.seq)
            ).all()
        return [ProposalResult.model_validate(d) for d in rows]

    @_reconnecting
    def batch_item_errors(self, batch_id: str) -> list[FileError]:
        with self.session() as s:
            rows = s.execute(
                select(BatchItemRow.proposal_id, BatchItemRow.error)
                .where(BatchItemRow.batch_id == batch_id, BatchItemRow.state == "failed")
                .order_by(BatchItemRow.seq)
            ).all()
        return [FileError(file=pid, reason=err or "Gagal disaring.", reason_en="screening failed") for pid, err in rows]

    # ------------------------------------------------------------------------------------------ batch blocks

    @_reconnecting
    def create_blocks(self, batch_id: str, blocks: Sequence[tuple[int, Sequence[str]]]) -> bool:
        """Split a batch into blocks (phase, proposal ids), numbered in order, once: False (and nothing
        changes) when the batch already has its blocks, e.g. a second worker planned it at the same time."""
        try:
            with self.session() as s:
                if s.scalar(select(exists().where(BatchBlockRow.batch_id == batch_id))):
                    return False
                s.add_all(
                    BatchBlockRow(batch_id=batch_id, seq=i, phase=phase, ids=list(ids), state="pending", attempts=0)
                    for i, (phase, ids) in enumerate(blocks)
                )
                s.execute(
                    update(BatchRow)
                    .where(BatchRow.id == batch_id)
                    .values(blocks_total=len(blocks), blocks_done=0, blocks_done_this_run=0)
                )
            return True
        except IntegrityError:  # planned by another worker meanwhile
            return False

    @_reconnecting
    def batch_blocks(self, batch_id: str) -> list[BlockInfo]:
        """The batch's blocks in order (none for a batch screened as one job)."""
        with self.session() as s:
            rows = s.scalars(
                select(BatchBlockRow).where(BatchBlockRow.batch_id == batch_id).order_by(BatchBlockRow.seq)
            )
            return [_block_info(b) for b in rows]

    @_reconnecting
    def claim_block(self, batch_id: str, seq: int, *, worker: str, stale_after_s: float) -> BlockInfo | None:
        """Atomically take a block of the open phase (the earliest with blocks not done) that is pending, or
        running with a heartbeat older than `stale_after_s` (its worker died); None when it is done, held by a
        live worker, or its phase is not open yet."""
        now = _now()
        stale = now - dt.timedelta(seconds=stale_after_s)
        open_phase = (
            select(func.min(BatchBlockRow.phase))
            .where(BatchBlockRow.batch_id == batch_id, BatchBlockRow.state != "done")
            .scalar_subquery()
        )
        with self.session() as s:
            res = s.execute(
                update(BatchBlockRow)
                .where(
                    BatchBlockRow.batch_id == batch_id,
                    BatchBlockRow.seq == seq,
                    BatchBlockRow.phase <= open_phase,
                    (BatchBlockRow.state == "pending")
                    | ((BatchBlockRow.state == "running") & (BatchBlockRow.heartbeat_at < stale)),
                )
                .values(
                    state="running",
                    worker=worker,
                    heartbeat_at=now,
                    started_at=now,
                    attempts=BatchBlockRow.attempts + 1,
                )
                .execution_options(synchronize_session=False)
            )
            if not res.rowcount:  # type: ignore[attr-defined]
                return None
            s.execute(update(BatchRow).where(BatchRow.id == batch_id).values(heartbeat_at=now))
            row = s.get(BatchBlockRow, (batch_id, seq))
            assert row is not None
            return _block_info(row)

    @_reconnecting
    def heartbeat_block(self, batch_id: str, seq: int, *, worker: str) -> bool:
        """Prove the block's worker is alive (the batch's heartbeat too); False when another worker took it."""
        now = _now()
        with self.session() as s:
            res = s.execute(
                update(BatchBlockRow)
                .where(
                    BatchBlockRow.batch_id == batch_id,
                    BatchBlockRow.seq == seq,
                    BatchBlockRow.worker == worker,
                    BatchBlockRow.state == "running",
                )
                .values(heartbeat_at=now)
            )
            if not res.rowcount:  # type: ignore[attr-defined]
                return False
            s.execute(update(BatchRow).where(BatchRow.id == batch_id).values(heartbeat_at=now))
            return True

    @_reconnecting
    def finish_block(self, batch_id: str, seq: int) -> bool:
        """Mark a block done and count it once (a block finished by two workers counts once)."""
        now = _now()
        with self.session() as s:
            res = s.execute(
                update(BatchBlockRow)
                .where(BatchBlockRow.batch_id == batch_id, BatchBlockRow.seq == seq, BatchBlockRow.state != "done")
                .values(state="done", finished_at=now, heartbeat_at=now)
            )
            if not res.rowcount:  # type: ignore[attr-defined]
                return False
            s.execute(
                update(BatchRow)
                .where(BatchRow.id == batch_id)
                .values(
                    blocks_done=BatchRow.blocks_done + 1,
                    blocks_done_this_run=BatchRow.blocks_done_this_run + 1,
                    heartbeat_at=now,
                )
            )
            return True

    @_reconnecting
    def mark_blocks_queued(self, batch_id: str, seqs: Sequence[int]) -> None:
        """Remember when the blocks' tasks were (re)queued (a lost task is queued again later)."""
        with self.session() as s:
            for batch in _batches(list(seqs)):
                s.execute(
                    update(BatchBlockRow)
                    .where(BatchBlockRow.batch_id == batch_id, BatchBlockRow.seq.in_(batch))
                    .values(queued_at=_now())
                )

    # ------------------------------------------------------------------------------------------ text features

    @_reconnecting
    def get_text_features(self, fingerprint: str, keys: Sequence[str]) -> dict[str, bytes]:
        """Cached analyses (serialised) for the content keys that have one."""
        out: dict[str, bytes] = {}
        with self.session() as s:
            for batch in _batches(list(dict.fromkeys(keys))):
                q = select(TextFeatureRow.key, TextFeatureRow.data).where(
                    TextFeatureRow.fingerprint == fingerprint, TextFeatureRow.key.in_(batch)
                )
                out.update(s.execute(q).tuples().all())
        return out

    @_reconnecting
    def put_text_features(self, fingerprint: str, items: Mapping[str, bytes]) -> None:
        """Insert analyses not cached yet (another worker may have cached the same text meanwhile)."""
        if not items:
            return
        for attempt in range(2):
            try:
                with self.session() as s:
                    present: set[str] = set()
                    for batch in _batches(list(items)):
                        present.update(
                            s.scalars(
                                select(TextFeatureRow.key).where(
                                    TextFeatureRow.fingerprint == fingerprint, TextFeatureRow.key.in_(batch)
                                )
                            ).all()
                        )
                    rows = [
                        {"fingerprint": fingerprint, "key": k, "data": v} for k, v in items.items() if k not in present
                    ]
                    if rows:
                        s.execute(insert(TextFeatureRow), rows)
                return
            except IntegrityError:
                if attempt == 1:
                    raise

    # ------------------------------------------------------------------------------------------ api keys

    @_reconnecting
    def add_api_key(self, *, name: str, role: str, instansi: str | None, key_hash: str) -> int:
        with self.session() as s:
            row = ApiKeyRow(name=name, role=role, instansi=instansi, key_hash=key_hash, created_at=_now())
            s.add(row)
            s.flush()
            return row.id

    @_reconnecting
    def find_api_key(self, key_hash: str) -> ApiKeyInfo | None:
        with self.session() as s:
            k = s.scalar(select(ApiKeyRow).where(ApiKeyRow.key_hash == key_hash))
            return None if k is None else _key_info(k)

    @_reconnecting
    def list_api_keys(self) -> list[ApiKeyInfo]:
        with self.session() as s:
            return [_key_info(k) for k in s.scalars(select(ApiKeyRow).order_by(ApiKeyRow.id)).all()]

    @_reconnecting
    def add_web_session(self, *, id_hash: str, key_id: int, ttl_s: float) -> None:
        now = _now()
        with self.session() as s:
            s.execute(delete(WebSessionRow).where(WebSessionRow.expires_at < now))  # expired ones go
            s.add(
                WebSessionRow(
                    id_hash=id_hash, key_id=key_id, created_at=now, expires_at=now + dt.timedelta(seconds=ttl_s)
                )
            )

    @_reconnecting
    def find_web_session(self, id_hash: str) -> ApiKeyInfo | None:
        """The key behind a live session (not expired, key not revoked), or None."""
        with self.session() as s:
            row = s.execute(
                select(ApiKeyRow, WebSessionRow.expires_at)
                .join(WebSessionRow, WebSessionRow.key_id == ApiKeyRow.id)
                .where(WebSessionRow.id_hash == id_hash)
            ).first()
            if row is None or _aware(row[1]) <= _now() or row[0].revoked_at is not None:
                return None
            return _key_info(row[0])

    @_reconnecting
    def delete_web_session(self, id_hash: str) -> None:
        with self.session() as s:
            s.execute(delete(WebSessionRow).where(WebSessionRow.id_hash == id_hash))

    @_reconnecting
    def revoke_api_key(self, key_id: int) -> bool:
        """Revoke an active key; False when there is no such active key."""
        with self.session() as s:
            res = s.execute(
                update(ApiKeyRow)
                .where(ApiKeyRow.id == key_id, ApiKeyRow.revoked_at.is_(None))
                .values(revoked_at=_now())
            )
            return bool(res.rowcount)  # type: ignore[attr-defined]
