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
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from sqlalchemy import delete
from sqlmodel import Session, func, select

from bot.console import hashing
from bot.console.throttle import LoginThrottle, normalise_username  # noqa: F401  (re-exported)
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


@dataclass(frozen=True)
class LoginCandidate:
    """What a login checks a password against, read without a write transaction."""

    id: int | None  # None: no such user (checked against a dummy hash all the same)
    username: str
    password_hash: str
    disabled: bool


def find_login(s: Session, username: str) -> LoginCandidate:
    """The account a login names (a read: no write lock is taken before the password is proved)."""
    user = s.exec(select(User).where(User.username == normalise_username(username))).first()
    if user is None:
        return LoginCandidate(None, "", _DUMMY_HASH, True)
    return LoginCandidate(user.id, user.username, user.password_hash, user.disabled)


def verify_password(hashed: str, password: str) -> tuple[bool, str | None]:
    """(matches, a new hash when the stored one's parameters are out of date). CPU-heavy (argon2):
    the console runs it in the hashing process (`check_login_password`)."""
    return hashing.verify(hashed, password)


HashingBusy = hashing.HashingBusy


async def check_login_password(candidate: LoginCandidate, password: str) -> tuple[bool, str | None]:
    """The password checked in the hashing process (bot.console.hashing), never on the event loop
    or the database's threads; HashingBusy when too many logins are already waiting."""
    matches, rehash = await hashing.check(candidate.password_hash, password)
    return matches and candidate.id is not None and not candidate.disabled, rehash


def record_login(s: Session, user_id: int, new_hash: str | None) -> None:
    """The last-login time (and an updated hash): a short write after the password is proved.
    Optional: a login still succeeds when the database refuses it (full disk)."""
    user = s.get(User, user_id)
    if user is None:
        return
    if new_hash:
        user.password_hash = new_hash
    user.last_login_at = utcnow()
    s.add(user)


def verify_login(s: Session, username: str, password: str) -> User | None:
    """The user when the password matches and the account is enabled; None otherwise. For
    scripts and tests: the console checks passwords with `find_login` + `check_password`."""
    candidate = find_login(s, username)
    matches, new_hash = verify_password(candidate.password_hash, password)
    if not matches or candidate.id is None or candidate.disabled:
        return None
    record_login(s, candidate.id, new_hash)
    s.flush()
    return s.get(User, candidate.id)


def start_session(s: Session, user_id: int, source: str) -> str:
    """A fresh session (a new id on every login); returns the cookie token."""
    token = secrets.token_urlsafe(32)
    s.add(WebSession(token_hash=hash_token(token), user_id=user_id,
                     csrf_token=secrets.token_urlsafe(32), source=source[:64]))
    return token


@dataclass
class _HeldSession:
    user_id: int
    csrf: str
    created: datetime
    last_seen: datetime


# Sessions started while the database refused writes (a full disk): held in this process's memory,
# still server-side (logout and disabling end them; the user row is read on every request), lost on
# restart. Capped: the oldest go first.
HELD: dict[str, _HeldSession] = {}
MAX_HELD = 1000


def start_held_session(user_id: int) -> str:
    """A session kept in memory, for a login while the database takes no writes."""
    token = secrets.token_urlsafe(32)
    while len(HELD) >= MAX_HELD:
        HELD.pop(next(iter(HELD)))
    now = utcnow()
    HELD[hash_token(token)] = _HeldSession(user_id, secrets.token_urlsafe(32), now, now)
    return token


def end_session(s: Session, token: str) -> None:
    HELD.pop(hash_token(token), None)
    s.exec(delete(WebSession).where(WebSession.token_hash == hash_token(token)))  # type: ignore[call-overload]


@dataclass(frozen=True)
class SessionCheck:
    """`find_session`'s answer: the user (or None), and the write it calls for, if any."""

    user: SessionUser | None
    expired: bool = False  # delete the session row
    touch: bool = False  # record activity (at most every 30 s)


def find_session(s: Session, token: str, idle: timedelta, absolute: timedelta) -> SessionCheck:
    """The session's user, read only (an unauthenticated request with any cookie never takes the
    write lock); the caller applies `expired`/`touch` as a separate, optional write."""
    now = utcnow()
    key = hash_token(token)
    ws = s.exec(select(WebSession).where(WebSession.token_hash == key)).first()
    held = HELD.get(key) if ws is None else None
    if ws is None and held is None:
        return SessionCheck(None)
    user_id, csrf = (ws.user_id, ws.csrf_token) if ws is not None else (held.user_id, held.csrf)  # type: ignore[union-attr]
    seen, created = (ws.last_seen_at, ws.created_at) if ws is not None else (held.last_seen, held.created)  # type: ignore[union-attr]
    user = s.get(User, user_id)
    if user is None or user.disabled or now - seen > idle or now - created > absolute:
        HELD.pop(key, None)
        return SessionCheck(None, expired=ws is not None)
    if held is not None:
        held.last_seen = now
    assert user.id is not None
    return SessionCheck(SessionUser(user.id, user.username, user.role, token, csrf),
                        touch=ws is not None and (now - seen).total_seconds() > 30)


def touch_session(s: Session, token: str, expired: bool) -> None:
    """Apply what `find_session` asked for: delete an expired session, or record its activity."""
    ws = s.exec(select(WebSession).where(WebSession.token_hash == hash_token(token))).first()
    if ws is None:
        return
    if expired:
        s.delete(ws)
    else:
        ws.last_seen_at = utcnow()
        s.add(ws)


def resume_session(s: Session, token: str, idle: timedelta, absolute: timedelta,
                   touch: bool = True) -> SessionUser | None:
    """The session's user if the token is live; expired sessions are deleted. `touch=False`
    checks without counting as activity (a live stream must not keep a session from idling)."""
    check = find_session(s, token, idle, absolute)
    if check.expired or (touch and check.touch):
        touch_session(s, token, check.expired)
    return check.user
