"""Throw-away Redis servers for the tests (a pytest plugin, loaded by tests/conftest.py).

`redis_url` starts one server per test session from the machine's `redis-server` binary: a free port
on 127.0.0.1, a temporary working directory, no persistence (no RDB snapshots, no AOF), stopped and
removed at the end. Each test that asks for `redis_url` gets an emptied database on it.

When no redis-server can be found, tests that need it are skipped with a loud message (and the header
of the run says so); with SARING_REQUIRE_REDIS=1 (CI) they fail instead. `.ci/redis-deps` installs
Debian's redis-server.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import port_for
import pytest

MISSING = (
    "NO REDIS SERVER BINARY (redis-server) FOUND: the multi-worker tests are SKIPPED. "
    "Install one with `sudo .ci/redis-deps` (Debian's redis-server package) or point SARING_REDIS_SERVER at it."
)


@cache
def find_redis_server() -> str | None:
    """The redis-server to use: $SARING_REDIS_SERVER, PATH, or Debian's /usr/bin and /usr/sbin."""
    explicit = os.environ.get("SARING_REDIS_SERVER")
    if explicit:
        return explicit if os.access(explicit, os.X_OK) else None
    found = shutil.which("redis-server")
    if found:
        return found
    return next((c for c in ("/usr/bin/redis-server", "/usr/sbin/redis-server") if os.access(c, os.X_OK)), None)


def _missing() -> None:
    if os.environ.get("SARING_REQUIRE_REDIS") == "1":
        pytest.fail(MISSING + " (SARING_REQUIRE_REDIS=1)", pytrace=False)
    pytest.skip(MISSING)


def pytest_report_header(config: pytest.Config) -> str:
    found = find_redis_server()
    return f"redis: {found}" if found else "redis: " + MISSING


@dataclass
class RedisServer:
    """A running throw-away server; `url(db)` is a redis:// URL for one of its numbered databases."""

    process: subprocess.Popen[bytes]
    port: int
    root: Path

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def flush(self) -> None:
        """Empty every database (each test starts with no queued task)."""
        import redis

        redis.Redis.from_url(self.url()).flushall()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)


def start_redis(binary: str, *, timeout_s: float = 20.0) -> RedisServer:
    """Start redis-server on a free port in a fresh temporary directory, without persistence."""
    import redis

    root = Path(tempfile.mkdtemp(prefix="saring-redis-"))
    port = port_for.select_random()
    args = [
        binary,
        "--port",
        str(port),
        "--bind",
        "127.0.0.1",
        "--dir",
        str(root),
        "--save",
        "",
        "--appendonly",
        "no",
        "--daemonize",
        "no",
        "--logfile",
        str(root / "redis.log"),
    ]
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    server = RedisServer(process, port, root)
    client = redis.Redis(host="127.0.0.1", port=port, socket_connect_timeout=1)
    end = time.monotonic() + timeout_s
    while True:
        try:
            if client.ping():
                return server
        except redis.exceptions.ConnectionError:
            pass
        if process.poll() is not None or time.monotonic() > end:
            log = root / "redis.log"
            detail = log.read_text(encoding="utf-8", errors="replace")[-2000:] if log.exists() else ""
            server.stop()
            shutil.rmtree(root, ignore_errors=True)
            raise RuntimeError(f"redis-server did not start from {binary}:\n{detail}")
        time.sleep(0.05)


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    """One Redis server for the whole test session (skipped loudly when there is no binary)."""
    binary = find_redis_server()
    if binary is None:
        _missing()
        raise AssertionError("unreachable")
    server = start_redis(binary)
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(server.root, ignore_errors=True)


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    """The session server's URL, emptied for this test."""
    redis_server.flush()
    return redis_server.url()
