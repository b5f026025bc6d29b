"""Accounts and server-side sessions: argon2 password hashes, login throttling, session
tokens (the cookie holds the token, the table only its SHA-256), idle and absolute
timeouts. Plain functions over a session; the web layer runs them through `Database.arun`.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import time
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
USERNAME_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789._-")
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


def check_username(name: str) -> str:
    name = name.strip().lower()
    if not 2 <= len(name) <= 64 or not set(name) <= USERNAME_CHARS:
        raise AccountError("username: 2-64 characters of a-z, 0-9, '.', '_' or '-'")
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
    user = s.exec(select(User).where(User.username == username.strip().lower())).first()
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
class LoginThrottle:
    """Counts failed logins per username and per client address; after `max_failures`
    within the window, further attempts are refused until `lockout` seconds pass."""

    max_failures: int = 5
    lockout: float = 300.0
    _failures: dict[str, list[float]] = field(default_factory=dict)

    def _recent(self, key: str, now: float) -> list[float]:
        kept = [t for t in self._failures.get(key, []) if now - t < self.lockout]
        if kept:
            self._failures[key] = kept
        else:
            self._failures.pop(key, None)
        return kept

    def blocked(self, username: str, source: str, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        return any(len(self._recent(k, now)) >= self.max_failures
                   for k in (f"u:{username.lower()}", f"s:{source}"))

    def failed(self, username: str, source: str, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        for k in (f"u:{username.lower()}", f"s:{source}"):
            self._failures.setdefault(k, []).append(now)
        if len(self._failures) > 10_000:  # cap memory under a spray of names
            for k in list(self._failures)[:5_000]:
                self._failures.pop(k, None)

    def succeeded(self, username: str) -> None:
        self._failures.pop(f"u:{username.lower()}", None)
