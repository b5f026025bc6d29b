"""Accounts and server-side sessions: argon2 password hashes, login throttling, session
tokens (the cookie holds the token, the table only its SHA-256), idle and absolute
timeouts. Plain functions over a session; the web layer runs them through `Database.arun`.

Usernames are normalised (NFKC, trimmed, case-folded) before lookup and before throttling,
so `" Bf2"`, `"bf2\t"` and `"ｂｆ２"` are one account to both.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import time
import unicodedata
from dataclasses import dataclass, field
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete
from sqlmodel import Session, func, select

from storage.models import Role, User, WebSession, utcnow

log = logging.getLogger("veribot.console.auth")

_hasher = PasswordHasher()
MIN_PASSWORD = 10
USERNAME_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789._-·")  # besides letters of any script (王芳)
# verified against when the user does not exist, so timing does not reveal usernames
_DUMMY_HASH = _hasher.hash("not-a-real-password-000")


class AccountError(ValueError):
    """A refused account change, with a message fit for the admin."""


@dataclass(frozen=True)
class SessionUser:
    """The logged-in user as the web layer sees it."""

    id: int
    username: str
    role: str
    token: str  # the raw cookie value (kept in memory only)
    csrf: str

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    @property
    def can_work_cases(self) -> bool:
        return self.role in (Role.ADMIN, Role.OPERATOR)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def normalise_username(name: str) -> str:
    """The one form of a login name used for lookup, creation and throttling (NFKC, then casefold)."""
    return unicodedata.normalize("NFKC", name).strip().casefold()


def _name_char(c: str) -> bool:
    return c in USERNAME_CHARS or unicodedata.category(c) in ("Lo", "Ll", "Lm") or c.isdecimal() and c.isascii()


def check_username(name: str) -> str:
    """Letters of any script (王芳, zhang.wei), digits, '.', '_', '-', '·' (阿依·买买提); 2-64 of them."""
    name = normalise_username(name)
    if not 2 <= len(name) <= 64 or not all(_name_char(c) for c in name):
        raise AccountError("username: 2-64 letters (Chinese or a-z), digits, '.', '_', '-' or '·'")
    return name


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"password: at least {MIN_PASSWORD} characters")
    if len(password) > 1024:
        raise AccountError("password: at most 1024 characters")


def user_count(s: Session) -> int:
    return int(s.exec(select(func.count()).select_from(User)).one())


def add_user(s: Session, username: str, role: str, password: str, *, only_if_none: bool = False) -> User:
    """Create an account. `only_if_none` is the first-run set-up: refused once any user exists."""
    username = check_username(username)
    if role not in set(Role):
        raise AccountError(f"role must be one of {', '.join(Role)}")
    check_password(password)
    if only_if_none and s.exec(select(func.count()).select_from(User)).one():
        raise AccountError("set-up is already done: an account exists")
    if s.exec(select(User).where(User.username == username)).first():
        raise AccountError(f"user {username!r} already exists")
    user = User(username=username, role=role, password_hash=_hasher.hash(password))
    s.add(user)
    s.flush()
    return user


def username_of(s: Session, user_id: int) -> str:
    user = s.get(User, user_id)
    if user is None:
        raise AccountError("no such user")
    return user.username


def list_users(s: Session) -> list[User]:
    return list(s.exec(select(User).order_by(User.username)).all())


def set_disabled(s: Session, user_id: int, disabled: bool) -> None:
    """Disable (or re-enable) an account; disabling ends all its sessions at once."""
    user = s.get(User, user_id)
    if user is None:
        raise AccountError("no such user")
    user.disabled = disabled
    s.add(user)
    if disabled:
        s.exec(delete(WebSession).where(WebSession.user_id == user_id))  # type: ignore[call-overload]


def verify_login(s: Session, username: str, password: str) -> User | None:
    """The user when the password matches and the account is enabled; None otherwise."""
    user = s.exec(select(User).where(User.username == normalise_username(username))).first()
    if user is None:
        _verify(_DUMMY_HASH, password)
        return None
    if not _verify(user.password_hash, password) or user.disabled:
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    user.last_login_at = utcnow()
    s.add(user)
    s.flush()
    return user


def _verify(hashed: str, password: str) -> bool:
    try:
        return _hasher.verify(hashed, password)
    except (VerificationError, InvalidHashError):
        return False


def start_session(s: Session, user_id: int, source: str) -> str:
    """A fresh session (a new id on every login); returns the cookie token."""
    token = secrets.token_urlsafe(32)
    s.add(WebSession(token_hash=hash_token(token), user_id=user_id,
                     csrf_token=secrets.token_urlsafe(32), source=source[:64]))
    return token


def end_session(s: Session, token: str) -> None:
    s.exec(delete(WebSession).where(WebSession.token_hash == hash_token(token)))  # type: ignore[call-overload]


def resume_session(s: Session, token: str, idle: timedelta, absolute: timedelta,
                   touch: bool = True) -> SessionUser | None:
    """The session's user if the token is live; expired sessions are deleted. `touch=False`
    checks without counting as activity (a live stream must not keep a session from idling)."""
    now = utcnow()
    ws = s.exec(select(WebSession).where(WebSession.token_hash == hash_token(token))).first()
    if ws is None:
        return None
    user = s.get(User, ws.user_id)
    expired = now - ws.last_seen_at > idle or now - ws.created_at > absolute
    if user is None or user.disabled or expired:
        s.delete(ws)
        return None
    if touch and (now - ws.last_seen_at).total_seconds() > 30:  # avoid a write per request
        ws.last_seen_at = now
        s.add(ws)
    assert user.id is not None
    return SessionUser(user.id, user.username, user.role, token, ws.csrf_token)


@dataclass
class _Strikes:
    times: list[float] = field(default_factory=list)  # failures not yet counted into a lock
    locks: int = 0  # lock-outs so far: each one twice as long as the last
    until: float = 0.0
    last: float = 0.0


@dataclass
class LoginThrottle:
    """Failed logins, with exponential back-off, counted two ways:

    - per account (normalised name, from any address): `max_failures` failures within a day
      lock the account for `lockout` seconds, then 2x, 4x ... up to `max_lockout`;
    - per address, only against spraying: `source_factor * max_failures` failures within
      `lockout` seconds lock the address the same way. An office behind one NAT address is
      not locked out by a few colleagues' typos; a locked account does not lock its colleagues.

    An admin can lift an account's lock (`unlock`). Memory is capped; locked entries are kept
    longest."""

    max_failures: int = 5
    lockout: float = 300.0
    max_lockout: float = 3600.0
    source_factor: int = 10
    forget_after: float = 86400.0
    _entries: dict[str, _Strikes] = field(default_factory=dict)

    def _keys(self, username: str, source: str) -> tuple[str, str]:
        return f"u:{normalise_username(username)}", f"s:{source}"

    def blocked(self, username: str, source: str, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        return any(e is not None and now < e.until for e in map(self._entries.get, self._keys(username, source)))

    def failed(self, username: str, source: str, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        account, address = self._keys(username, source)
        self._strike(account, now, self.forget_after, self.max_failures)
        self._strike(address, now, self.lockout, self.max_failures * self.source_factor)
        if len(self._entries) > 10_000:  # cap memory under a spray of names: drop the idle first
            idle = sorted((e.until > now, e.last, k) for k, e in self._entries.items())
            for _, _, k in idle[:5_000]:
                self._entries.pop(k, None)

    def _strike(self, key: str, now: float, window: float, limit: int) -> None:
        e = self._entries.get(key)
        if e is None or now - e.last > self.forget_after:
            e = self._entries[key] = _Strikes()
        e.last = now
        e.times = [t for t in e.times if now - t < window] + [now]
        if len(e.times) >= limit:
            e.until = now + min(max(self.max_lockout, self.lockout), self.lockout * 2 ** e.locks)
            e.locks += 1
            e.times = []

    def succeeded(self, username: str) -> None:
        self._entries.pop(self._keys(username, "")[0], None)

    def locked_until(self, username: str, now: float | None = None) -> float | None:
        """When the account's lock ends (monotonic clock), or None when it is not locked."""
        now = time.monotonic() if now is None else now
        e = self._entries.get(self._keys(username, "")[0])
        return e.until if e is not None and now < e.until else None

    def unlock(self, username: str) -> bool:
        """An admin lifts the account's lock and forgets its failures; True if it had any."""
        return self._entries.pop(self._keys(username, "")[0], None) is not None
