"""API keys and roles: keys are random secrets shown once; only their SHA-256 is stored.

A key has 256 bits of entropy, so a plain (unsalted) SHA-256 is enough to make a stolen table
useless and lets a request's key be found by an indexed lookup.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from typing import Literal, get_args

from corpus.store import Store
from screening.proposal import normalise_name

Role = Literal["admin", "secretariat", "judge", "portal"]
ROLES: tuple[str, ...] = get_args(Role)
KEY_PREFIX = "srg_"


@dataclass(frozen=True)
class Principal:
    """Who is calling: a key's id, name, role and (portal keys only) its instansi."""

    key_id: int
    name: str
    role: str
    instansi: str | None

    def owns(self, instansi: str) -> bool:
        """A portal key reads only its own instansi's proposals; other roles read all."""
        if self.role != "portal":
            return True
        return bool(self.instansi) and normalise_name(self.instansi or "") == normalise_name(instansi)


def hash_key(plaintext: str) -> str:
    return hashlib.sha256(plaintext.encode("utf-8")).hexdigest()


def create_key(store: Store, *, name: str, role: str, instansi: str | None = None) -> tuple[int, str]:
    """Make a key; returns (id, plaintext). The plaintext is never stored and cannot be shown again."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; use one of {', '.join(ROLES)}")
    if role == "portal" and not (instansi and instansi.strip()):
        raise ValueError("a portal key belongs to one instansi: give --instansi")
    if role != "portal" and instansi:
        raise ValueError("only portal keys belong to an instansi; leave --instansi out for this role")
    plaintext = KEY_PREFIX + secrets.token_urlsafe(32)
    key_id = store.add_api_key(
        name=name, role=role, instansi=instansi.strip() if instansi else None, key_hash=hash_key(plaintext)
    )
    return key_id, plaintext


SESSION_PREFIX = "srs_"
SESSION_TTL_S = 12 * 3600
"""A web login lasts a working day."""


def start_session(store: Store, p: Principal, *, ttl_s: float = SESSION_TTL_S) -> str:
    """A new web session for a logged-in key: a random id for the cookie; only its hash is stored."""
    token = SESSION_PREFIX + secrets.token_urlsafe(32)
    store.add_web_session(id_hash=hash_key(token), key_id=p.key_id, ttl_s=ttl_s)
    return token


def session_principal(store: Store, token: str | None) -> Principal | None:
    """The principal of a live web session (not expired, key not revoked), or None."""
    if not token or not token.startswith(SESSION_PREFIX) or len(token) > 200:
        return None
    row = store.find_web_session(hash_key(token))
    return None if row is None else Principal(key_id=row.id, name=row.name, role=row.role, instansi=row.instansi)


def end_session(store: Store, token: str | None) -> None:
    if token and token.startswith(SESSION_PREFIX) and len(token) <= 200:
        store.delete_web_session(hash_key(token))


def authenticate(store: Store, plaintext: str | None) -> Principal | None:
    """The principal of a presented key, or None when it is unknown or revoked."""
    if not plaintext or not plaintext.startswith(KEY_PREFIX) or len(plaintext) > 200:
        return None
    row = store.find_api_key(hash_key(plaintext))
    if row is None or row.revoked_at is not None:
        return None
    return Principal(key_id=row.id, name=row.name, role=row.role, instansi=row.instansi)
