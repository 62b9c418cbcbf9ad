"""Per-key rate limiting of portal keys, with the `limits` library (moving window).

Each portal key may make at most `SARING_PORTAL_RATE_LIMIT` requests (e.g. "60/minute"; "0" or empty: no
limit) to the API; beyond it the request gets 429 with `Retry-After` (seconds) and an Indonesian message.
Other roles are never limited: the secretariat's and the judges' keys belong to the operators.

Where the counters live: in the embedded default, in this process's memory (each process counts on its own,
and a restart forgets them). When `SARING_REDIS_URL` is set (several processes or machines sharing huey's
Redis broker) they live in that Redis, so every process shares one count per key (this needs the `redis`
package, as huey's Redis broker does). A Redis that cannot be reached lets the request through (logged): the
limit protects the service, it must not take the portal down.
"""

from __future__ import annotations

import logging
import math
import time

from fastapi import HTTPException, Request, status
from limits import RateLimitItem
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from saring.auth import Principal
from saring.config import Settings, parse_rate_limit

log = logging.getLogger("saring.api")

NAMESPACE = "saring-portal-key"
"""Counter names are `NAMESPACE/<key id>`; the key itself never reaches the storage."""

_UNITS_ID = {"second": "detik", "minute": "menit", "hour": "jam", "day": "hari", "month": "bulan", "year": "tahun"}


def describe(item: RateLimitItem) -> str:
    """The limit in Indonesian: "60 permintaan per menit", "100 permintaan per 2 jam"."""
    unit = _UNITS_ID.get(item.GRANULARITY.name, item.GRANULARITY.name)
    per = unit if item.multiples == 1 else f"{item.multiples} {unit}"
    return f"{item.amount} permintaan per {per}"


class PortalRateLimiter:
    """Counts each portal key's requests against one limit, in memory or in a shared Redis."""

    def __init__(self, limit: RateLimitItem, storage_uri: str = "memory://") -> None:
        self.limit = limit
        self.storage_uri = storage_uri
        self._limiter = MovingWindowRateLimiter(storage_from_string(storage_uri))

    @classmethod
    def from_settings(cls, settings: Settings) -> PortalRateLimiter | None:
        """The limiter the settings ask for, or None when the limit is switched off."""
        item = parse_rate_limit(settings.portal_rate_limit)
        if item is None:
            return None
        return cls(item, settings.redis_url or "memory://")

    def retry_after(self, key_id: int) -> int | None:
        """Count one request of this key: None while within the limit, else the whole seconds (at least 1)
        until the key may ask again."""
        name = str(key_id)
        try:
            if self._limiter.hit(self.limit, NAMESPACE, name):
                return None
            reset_at = self._limiter.get_window_stats(self.limit, NAMESPACE, name).reset_time
        except Exception as exc:  # the shared storage is down: let the request through
            log.warning("portal rate limit not checked (%s): %s", self.storage_uri.split("://")[0], exc)
            return None
        return max(1, math.ceil(reset_at - time.time()))


def enforce_portal_limit(request: Request, p: Principal) -> None:
    """429 with `Retry-After` when a portal key is over its limit; other roles and a switched-off limit pass."""
    limiter: PortalRateLimiter | None = getattr(request.app.state, "portal_limiter", None)
    if limiter is None or p.role != "portal":
        return
    wait = limiter.retry_after(p.key_id)
    if wait is not None:
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            f"Terlalu banyak permintaan dari kunci portal ini (batasnya {describe(limiter.limit)}). "
            f"Coba lagi dalam {wait} detik.",
            headers={"Retry-After": str(wait)},
        )
