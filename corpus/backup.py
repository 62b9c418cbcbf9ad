"""Portable backup and restore of a store: one gzip'd JSON-lines file, the same on SQLite and PostgreSQL.

The file holds a header line (format, schema revision, tables), one line per row (`{"t": table, "r": row}`,
timestamps in UTC ISO 8601, bytes in base64) and a closing line with the row counts, so a truncated or
altered file is refused instead of half restored. A restore runs in one transaction into an empty store,
whatever the backend the backup came from.

Backed up: the archive, screened proposals with their sections, results and findings, batches (every
column, so whether the secretariat hid a failed one too; a backup made before that column existed restores
with every batch listed) and their items, API keys (only their hashes exist) and, on request, the embedding
cache. Not backed up, because they are rebuilt from the rest: chunk rows (the FAISS ids; recut when the
archive is next loaded) and the index version counters (bumped by the restore so that running processes
reload the archive).
"""

from __future__ import annotations

import base64
import datetime as dt
import gzip
import json
import os
import zlib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import IO, Any

from sqlalchemy import Date, DateTime, LargeBinary, Table, func, insert, select, text
from sqlalchemy.exc import DBAPIError

from corpus.store import Base, Store, StoreError, _describe

FORMAT = "saring-backup"
VERSION = 1
TABLES: tuple[str, ...] = (
    "archive_entries",
    "proposals",
    "sections",
    "results",
    "result_versions",
    "resolutions",
    "findings",
    "batches",
    "batch_items",
    "api_keys",
)
"""Backed-up tables, parents before children (the order rows are written and restored in)."""
CACHE_TABLES: tuple[str, ...] = ("embeddings",)
"""Optional: the embedding cache (large; saves re-embedding the archive after a restore)."""
INSERT_BATCH = 500


class BackupError(ValueError):
    """A backup file that cannot be restored (not a backup, damaged, truncated, or a newer format)."""


def _table(name: str) -> Table:
    return Base.metadata.tables[name]


def _encode(table: Table, row: Mapping[Any, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for col in table.columns:
        v = row[col.name]
        if v is None:
            out[col.name] = None
        elif isinstance(col.type, DateTime):
            out[col.name] = (v.astimezone(dt.UTC) if v.tzinfo else v.replace(tzinfo=dt.UTC)).isoformat()
        elif isinstance(col.type, Date):
            out[col.name] = v.isoformat()
        elif isinstance(col.type, LargeBinary):
            out[col.name] = base64.b64encode(bytes(v)).decode("ascii")
        else:
            out[col.name] = v
    return out


def _decode(table: Table, row: Any) -> dict[str, Any]:
    if not isinstance(row, dict):
        raise BackupError(f"a row of {table.name} is not an object")
    unknown = set(row) - set(table.columns.keys())
    if unknown:
        raise BackupError(
            f"{table.name} has column(s) {', '.join(sorted(unknown))} that this version of saring does not know; "
            "restore with the saring version that made the backup, or a newer one"
        )
    out: dict[str, Any] = {}
    for name, v in row.items():
        col = table.columns[name]
        try:
            if v is None:
                out[name] = None
            elif isinstance(col.type, DateTime):
                out[name] = dt.datetime.fromisoformat(v)
            elif isinstance(col.type, Date):
                out[name] = dt.date.fromisoformat(v)
            elif isinstance(col.type, LargeBinary):
                out[name] = base64.b64decode(v, validate=True)
            else:
                out[name] = v
        except (TypeError, ValueError) as exc:
            raise BackupError(f"{table.name}.{name} holds an unreadable value: {exc}") from exc
    return out


def _schema_revision(store: Store) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with store.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def backup(store: Store, path: Path, *, embeddings: bool = False) -> dict[str, int]:
    """Write the store to `path` (gzip'd JSON lines, written beside it and renamed when complete).
    On PostgreSQL the rows come from one consistent snapshot. Returns the row count per table."""
    path = Path(path)
    names = TABLES + (CACHE_TABLES if embeddings else ())
    header = {
        "format": FORMAT,
        "version": VERSION,
        "schema": _schema_revision(store),
        "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "tables": list(names),
    }
    counts = dict.fromkeys(names, 0)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        with store.engine.connect() as conn, gzip.open(tmp, "wt", encoding="utf-8") as f:
            if conn.dialect.name == "postgresql":
                conn = conn.execution_options(isolation_level="REPEATABLE READ")
            f.write(json.dumps(header) + "\n")
            for name in names:
                t = _table(name)
                q = select(t).order_by(*t.primary_key.columns)
                for row in conn.execution_options(yield_per=1000).execute(q).mappings():
                    f.write(json.dumps({"t": name, "r": _encode(t, row)}, ensure_ascii=False) + "\n")
                    counts[name] += 1
            f.write(json.dumps({"end": counts}) + "\n")
        os.replace(tmp, path)
    except DBAPIError as exc:
        raise StoreError(_describe(exc, store.url)) from exc
    finally:
        tmp.unlink(missing_ok=True)
    return counts


def _lines(f: IO[str]) -> Iterator[dict[str, Any]]:
    for n, line in enumerate(f, 1):
        try:
            obj = json.loads(line)
        except ValueError as exc:
            raise BackupError(f"line {n} is not JSON: {exc}") from exc
        if not isinstance(obj, dict):
            raise BackupError(f"line {n} is not a JSON object")
        yield obj


def read_header(path: Path) -> dict[str, Any]:
    """The header of a backup file (BackupError if it is not one this version can restore)."""
    try:
        with gzip.open(path, "rt", encoding="utf-8") as f:
            header = next(_lines(f), None)
    except (OSError, EOFError, UnicodeDecodeError, zlib.error) as exc:
        raise BackupError(f"{path} is not a saring backup (gzip'd JSON lines): {exc}") from exc
    if not header or header.get("format") != FORMAT:
        raise BackupError(f"{path} is not a saring backup")
    if header.get("version") != VERSION:
        raise BackupError(f"{path} is backup format {header.get('version')}; this saring reads format {VERSION}")
    return header


def _tables_with_rows(store: Store, names: list[str]) -> list[str]:
    with store.session() as s:
        return [n for n in names if s.scalar(select(func.count()).select_from(_table(n)))]


def restore(store: Store, path: Path) -> dict[str, int]:
    """Load a backup into an empty store in one transaction (nothing is written if any line is bad or the
    file is truncated), then bump the archive version. Returns the row count per table."""
    path = Path(path)
    header = read_header(path)
    tables = header.get("tables")
    if not isinstance(tables, list) or not set(tables) <= set(TABLES + CACHE_TABLES):
        raise BackupError(f"{path} names tables this version of saring does not know: {tables}")
    busy = _tables_with_rows(store, tables)
    if busy:
        raise BackupError(f"restore needs an empty store, but {', '.join(busy)} already hold rows ({store.url})")
    counts = dict.fromkeys(tables, 0)
    pending: dict[str, list[dict[str, Any]]] = {}
    end: Any = None
    try:
        with store.session() as s, gzip.open(path, "rt", encoding="utf-8") as f:

            def flush(name: str) -> None:
                rows = pending.pop(name, [])
                if rows:
                    s.execute(insert(_table(name)), rows)

            lines = _lines(f)
            next(lines)  # the header, read above
            for obj in lines:
                if end is not None:
                    raise BackupError(f"{path} has lines after its closing line")
                if "end" in obj:
                    end = obj["end"]
                    continue
                name = obj.get("t")
                if not isinstance(name, str) or name not in counts:
                    raise BackupError(f"{path} has a row of an unexpected table {name!r}")
                if pending and name not in pending:
                    for other in list(pending):
                        flush(other)
                pending.setdefault(name, []).append(_decode(_table(name), obj.get("r")))
                counts[name] += 1
                if len(pending[name]) >= INSERT_BATCH:
                    flush(name)
            if end != counts:
                raise BackupError(f"{path} is incomplete (truncated or altered): expected {end}, found {counts}")
            for name in list(pending):
                flush(name)
            if s.get_bind().dialect.name == "postgresql":
                _reset_sequences(s, tables)
    except (OSError, EOFError, UnicodeDecodeError, zlib.error) as exc:
        raise BackupError(f"{path} cannot be read to the end (damaged?): {exc}") from exc
    except DBAPIError as exc:
        raise StoreError(_describe(exc, store.url)) from exc
    store.bump_index_version("archive")
    return counts


def _reset_sequences(s: Any, tables: list[str]) -> None:
    """Restored rows keep their integer ids; PostgreSQL's sequences must continue after the largest one."""
    for name in tables:
        t = _table(name)
        pk = list(t.primary_key.columns)
        if len(pk) == 1 and pk[0].autoincrement is True:
            s.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{name}', '{pk[0].name}'), "
                    f"COALESCE(MAX({pk[0].name}), 1), MAX({pk[0].name}) IS NOT NULL) FROM {name}"
                )
            )
