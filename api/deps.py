"""Dependencies shared by the routes: the application objects and who is calling."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Header, HTTPException, Request, status

from api.ratelimit import enforce_portal_limit
from saring.auth import Principal, authenticate, session_principal
from saring.jobs import JobRunner
from saring.service import Saring

COOKIE = "saring_session"
"""The web pages' login cookie: a session id (random, stored hashed, expiring), never the API key."""


def get_saring(request: Request) -> Saring:
    return request.app.state.saring


def get_runner(request: Request) -> JobRunner:
    return request.app.state.runner


SaringDep = Annotated[Saring, Depends(get_saring)]
_BEARER = {"WWW-Authenticate": "Bearer"}
RunnerDep = Annotated[JobRunner, Depends(get_runner)]


def _presented_key(authorization: str | None, x_api_key: str | None) -> str | None:
    if authorization:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() == "bearer" and token.strip():
            return token.strip()
    if x_api_key:
        return x_api_key.strip()
    return None


def get_principal(
    request: Request,
    saring: SaringDep,
    authorization: Annotated[str | None, Header(description="`Bearer <key>`")] = None,
    x_api_key: Annotated[str | None, Header(description="The API key (alternative to Authorization).")] = None,
) -> Principal:
    """The caller, from `Authorization: Bearer`, `X-API-Key` or the web pages' session cookie; 401 otherwise."""
    key = _presented_key(authorization, x_api_key)
    if not key:
        cookie = request.cookies.get(COOKIE)
        session = session_principal(saring.store, cookie) if cookie else None
        if session is not None:
            return session
        if cookie:
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED, "the web session has expired or ended; log in again", headers=_BEARER
            )
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "missing API key: send 'Authorization: Bearer <key>' or 'X-API-Key: <key>'",
            headers={"WWW-Authenticate": "Bearer"},
        )
    p = authenticate(saring.store, key)
    if p is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, "unknown or revoked API key", headers={"WWW-Authenticate": "Bearer"}
        )
    enforce_portal_limit(request, p)  # 429 for a portal key over SARING_PORTAL_RATE_LIMIT
    return p


PrincipalDep = Annotated[Principal, Depends(get_principal)]


def require(*roles: str) -> Callable[[Principal], Principal]:
    """A dependency that lets only these roles through (403 for the others)."""

    def check(p: PrincipalDep) -> Principal:
        if p.role not in roles:
            raise HTTPException(
                status.HTTP_403_FORBIDDEN, f"role '{p.role}' may not do this; allowed: {', '.join(roles)}"
            )
        return p

    return check


READERS = ("admin", "secretariat", "judge", "portal")
STAFF_READERS = ("admin", "secretariat", "judge")
WRITERS = ("admin", "secretariat")
Readers = Annotated[Principal, Depends(require(*READERS))]
StaffReaders = Annotated[Principal, Depends(require(*STAFF_READERS))]
Writers = Annotated[Principal, Depends(require(*WRITERS))]
Submitters = Annotated[Principal, Depends(require("admin", "secretariat", "portal"))]
