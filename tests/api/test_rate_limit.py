"""Rate limiting of portal keys (issue 14): per key, set by SARING_PORTAL_RATE_LIMIT; over it, 429 with
Retry-After and an Indonesian message, while the secretariat's keys are never limited."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from api.app import create_app
from api.ratelimit import PortalRateLimiter, describe
from saring.config import Settings, parse_rate_limit
from saring.jobs import JobRunner, make_huey
from saring.service import Saring
from tests.api.conftest import Keys, auth

LIMIT = 3


@pytest.fixture
def limited(service: Saring, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    """A fresh app (fresh counters) on the module's store, started with a limit of LIMIT requests a minute."""
    monkeypatch.setattr(service, "settings", service.settings.model_copy(update={"portal_rate_limit": "3/minute"}))
    runner = JobRunner(service, huey=make_huey(service.settings, immediate=True))
    app = create_app(service.settings, saring=service, runner=runner, embedded_worker=False)
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def test_a_portal_key_over_its_limit_gets_429_with_retry_after(limited: TestClient, keys: Keys) -> None:
    for _ in range(LIMIT):
        r = limited.get("/api/v1/proposals", headers=auth(keys["portal"]))
        assert r.status_code == 200, r.text
    r = limited.get("/api/v1/proposals", headers=auth(keys["portal"]))
    assert r.status_code == 429, r.text
    assert 1 <= int(r.headers["retry-after"]) <= 60
    detail = r.json()["detail"]  # the API's error shape
    assert "Terlalu banyak permintaan" in detail and "3 permintaan per menit" in detail
    assert f"Coba lagi dalam {r.headers['retry-after']} detik" in detail
    # every route counts, and the key stays limited until its window moves on
    r = limited.post("/api/v1/proposals", json={}, headers=auth(keys["portal"]))
    assert r.status_code == 429


def test_the_limit_is_per_key_and_staff_keys_are_not_limited(limited: TestClient, keys: Keys) -> None:
    for _ in range(LIMIT + 1):
        limited.get("/api/v1/proposals", headers=auth(keys["portal"]))
    assert limited.get("/api/v1/proposals", headers=auth(keys["portal"])).status_code == 429
    assert limited.get("/api/v1/proposals", headers=auth(keys["portal_other"])).status_code == 200
    for role in ("secretariat", "admin", "judge"):
        for _ in range(3 * LIMIT):
            r = limited.get("/api/v1/proposals", headers=auth(keys[role]))
            assert r.status_code == 200, f"{role}: {r.status_code} {r.text[:200]}"


def test_429_is_documented(limited: TestClient) -> None:
    op = limited.get("/openapi.json").json()["paths"]["/api/v1/proposals"]["post"]
    assert "Retry-After" in op["responses"]["429"]["headers"]


@pytest.mark.parametrize("off", ["0", "", " off "])
def test_the_limit_can_be_switched_off(tmp_path: object, off: str) -> None:
    s = Settings(data_dir=tmp_path, portal_rate_limit=off)  # type: ignore[arg-type]
    assert s.portal_rate_limit == "0"
    assert PortalRateLimiter.from_settings(s) is None


def test_limits_are_read_and_checked_at_start(tmp_path: object, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SARING_PORTAL_RATE_LIMIT", "100 per 2 hours")
    s = Settings(data_dir=tmp_path)  # type: ignore[arg-type]
    item = parse_rate_limit(s.portal_rate_limit)
    assert item is not None and describe(item) == "100 permintaan per 2 jam"
    assert Settings(data_dir=tmp_path).portal_rate_limit == "100 per 2 hours"  # type: ignore[arg-type]
    monkeypatch.delenv("SARING_PORTAL_RATE_LIMIT")
    assert Settings(data_dir=tmp_path).portal_rate_limit == "60/minute"  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        Settings(data_dir=tmp_path, portal_rate_limit="banyak sekali")  # type: ignore[arg-type]


def test_processes_sharing_a_redis_share_each_keys_count(redis_url: str) -> None:
    """With SARING_REDIS_URL set, two API processes (two limiters) count one key's requests together in that
    Redis, and keep other keys' counts apart."""
    item = parse_rate_limit("3/minute")
    assert item is not None
    first, second = PortalRateLimiter(item, redis_url), PortalRateLimiter(item, redis_url)
    assert [first.retry_after(41), second.retry_after(41), first.retry_after(41)] == [None, None, None]
    wait = second.retry_after(41)
    assert wait is not None and 1 <= wait <= 60
    assert first.retry_after(42) is None, "another key has its own count"
