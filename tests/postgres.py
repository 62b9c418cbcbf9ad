"""Throw-away PostgreSQL servers for the tests (a pytest plugin, loaded by tests/conftest.py).

A session server is started from the PostgreSQL binaries on the machine with pytest-postgresql's
executor (initdb + pg_ctl, a temporary data directory, a free port); every test that asks for the
`store_url` fixture's "postgresql" case gets a fresh database on it. Tests that restart a server use
`pg_server_factory` for a private one.

When no pg_ctl can be found at all, PostgreSQL cases are skipped with a loud message (and the header
of the run says so); with SARING_REQUIRE_POSTGRES=1 (CI) they fail instead. `.ci/postgres-deps`
installs Debian's server. PostgreSQL refuses to run as root, so as root the server runs as the
`postgres` system user (runuser).
"""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import port_for
import pytest
from pytest_postgresql.executors import PostgreSQLExecutor
from pytest_postgresql.janitor import DatabaseJanitor

SUPERUSER = "postgres"
RUN_AS = "postgres"
"""The system user the server runs as when the tests run as root."""
SERVER_OPTIONS = "-c fsync=off -c full_page_writes=off -c max_connections=200"
"""Throw-away data: no need to survive a power cut (a clean restart still keeps everything)."""

_db_numbers = itertools.count(1)


@cache
def find_pg_ctl() -> str | None:
    """The pg_ctl to use: $SARING_PG_CTL, PATH, `pg_config --bindir`, or Debian's versioned directories."""
    explicit = os.environ.get("SARING_PG_CTL")
    if explicit:
        return explicit if os.access(explicit, os.X_OK) else None
    found = shutil.which("pg_ctl")
    if found:
        return found
    try:
        bindir = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True, timeout=30).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        bindir = ""
    candidates = [os.path.join(bindir, "pg_ctl")] if bindir else []

    def major(path: str) -> int:
        part = Path(path).parts[-3]
        return int(part) if part.isdigit() else 0

    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=major, reverse=True)
    candidates += ["/usr/local/pgsql/bin/pg_ctl"]
    return next((c for c in candidates if os.access(c, os.X_OK)), None)


MISSING = (
    "NO POSTGRESQL SERVER BINARY (pg_ctl) FOUND: the PostgreSQL cases are SKIPPED. "
    "Install one with `sudo .ci/postgres-deps` (Debian's postgresql package) or point SARING_PG_CTL at pg_ctl."
)


def _missing() -> None:
    if os.environ.get("SARING_REQUIRE_POSTGRES") == "1":
        pytest.fail(MISSING + " (SARING_REQUIRE_POSTGRES=1)", pytrace=False)
    pytest.skip(MISSING)


def pytest_report_header(config: pytest.Config) -> str:
    pg_ctl = find_pg_ctl()
    if pg_ctl is None:
        return "postgresql: " + MISSING
    return f"postgresql: {pg_ctl}"


@dataclass
class PgServer:
    """A running throw-away server; `url(db)` is a SQLAlchemy URL for one of its databases."""

    executor: PostgreSQLExecutor
    root: Path

    @property
    def host(self) -> str:
        return str(self.executor.host)

    @property
    def port(self) -> int:
        return int(self.executor.port)

    def url(self, dbname: str) -> str:
        return f"postgresql+psycopg://{SUPERUSER}@{self.host}:{self.port}/{dbname}"

    def janitor(self, dbname: str) -> DatabaseJanitor:
        return DatabaseJanitor(user=SUPERUSER, host=self.host, port=self.port, dbname=dbname)

    def new_database(self) -> str:
        """Create an empty database; returns its name."""
        name = f"saring_t{os.getpid()}_{next(_db_numbers)}"
        self.janitor(name).init()
        return name

    def drop_database(self, name: str) -> None:
        self.janitor(name).drop()

    def wait_ready(self) -> None:
        """Until the server accepts sessions (its port opens while it is still starting up)."""
        with self.janitor("postgres").cursor() as cur:
            cur.execute("SELECT 1")

    def stop(self) -> None:
        self.executor.stop()

    def start(self) -> None:
        self.executor.start()
        self.wait_ready()

    def restart(self) -> None:
        self.stop()
        self.start()


def start_server(pg_ctl: str) -> PgServer:
    """initdb and start a server in a fresh temporary directory on a free port."""
    root = Path(tempfile.mkdtemp(prefix="saring-pg-"))
    executable = pg_ctl
    if os.geteuid() == 0:
        try:
            user = pwd.getpwnam(RUN_AS)
        except KeyError:
            shutil.rmtree(root, ignore_errors=True)
            pytest.skip(f"running as root and there is no {RUN_AS!r} user to run PostgreSQL as")
        os.chown(root, user.pw_uid, user.pw_gid)
        wrapper = root / "pg_ctl"
        wrapper.write_text(f'#!/bin/sh\nexec runuser -u {RUN_AS} -- "{pg_ctl}" "$@"\n', encoding="utf-8")
        wrapper.chmod(0o755)
        executable = str(wrapper)
    port = port_for.select_random()
    executor = PostgreSQLExecutor(
        executable=executable,
        host="127.0.0.1",
        port=port,
        datadir=str(root / "data"),
        unixsocketdir=str(root),
        logfile=str(root / "postgresql.log"),
        startparams="-w",
        dbname="saring",
        user=SUPERUSER,
        postgres_options=SERVER_OPTIONS,
    )
    try:
        executor.start()
    except Exception:
        log = root / "postgresql.log"
        detail = log.read_text(encoding="utf-8", errors="replace")[-2000:] if log.exists() else ""
        shutil.rmtree(root, ignore_errors=True)
        raise RuntimeError(f"PostgreSQL did not start from {pg_ctl}:\n{detail}") from None
    server = PgServer(executor, root)
    server.wait_ready()
    return server


def stop_server(server: PgServer) -> None:
    try:
        if server.executor.running():
            server.executor.stop()
    finally:
        shutil.rmtree(server.root, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """One PostgreSQL server for the whole test session (skipped loudly when there is no binary)."""
    pg_ctl = find_pg_ctl()
    if pg_ctl is None:
        _missing()
        raise AssertionError("unreachable")
    server = start_server(pg_ctl)
    yield server
    stop_server(server)


@pytest.fixture
def pg_url(pg_server: PgServer) -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    name = pg_server.new_database()
    yield pg_server.url(name)
    pg_server.drop_database(name)


@pytest.fixture
def pg_server_factory() -> Iterator[Callable[[], PgServer]]:
    """Start private servers (for tests that stop or restart them); all are removed afterwards."""
    started: list[PgServer] = []

    def make() -> PgServer:
        pg_ctl = find_pg_ctl()
        if pg_ctl is None:
            _missing()
        assert pg_ctl is not None
        server = start_server(pg_ctl)
        started.append(server)
        return server

    yield make
    for server in started:
        stop_server(server)


BACKENDS = ("sqlite", "postgresql")


@pytest.fixture(params=BACKENDS)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty store URL per test, once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/saring.sqlite3"
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture(scope="module", params=BACKENDS)
def module_store_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Like `store_url`, for module-scoped services (one fresh store per module and backend)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('store')}/saring.sqlite3"
        return
    server: PgServer = request.getfixturevalue("pg_server")
    name = server.new_database()
    yield server.url(name)
    server.drop_database(name)
