"""Failed logins, counted per normalised account and per address, with exponential back-off.
An attempt is counted before its password is checked (`attempt`), so a burst cannot race it."""

from __future__ import annotations

import time
import unicodedata
from dataclasses import dataclass, field


def normalise_username(name: str) -> str:
    """The one form of a login name (NFKC, trimmed, case-folded); bot.console.auth uses the same."""
    return unicodedata.normalize("NFKC", name).strip().casefold()


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

    def attempt(self, username: str, source: str, now: float | None = None) -> bool:
        """Count a login attempt BEFORE its password is checked: False (refuse it) while the account
        or the address is locked; else it is counted as a failure at once and `succeeded` takes it
        back. One synchronous step on the event loop, so concurrent guesses cannot all pass the
        check before any is counted (99 at once: the limit's worth checked, the rest refused)."""
        now = time.monotonic() if now is None else now
        if self.blocked(username, source, now):
            return False
        self.failed(username, source, now)
        return True

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

    def succeeded(self, username: str, source: str = "") -> None:
        """The password was right: the account's failures are forgotten (its lock too, if this very
        attempt set it) and the address gets its counted attempt back."""
        account, address = self._keys(username, source)
        self._entries.pop(account, None)
        e = self._entries.get(address)
        if e is not None and e.times:
            e.times.pop()

    def locked_until(self, username: str, now: float | None = None) -> float | None:
        """When the account's lock ends (monotonic clock), or None when it is not locked."""
        now = time.monotonic() if now is None else now
        e = self._entries.get(self._keys(username, "")[0])
        return e.until if e is not None and now < e.until else None

    def unlock(self, username: str) -> bool:
        """An admin lifts the account's lock and forgets its failures; True if it had any."""
        return self._entries.pop(self._keys(username, "")[0], None) is not None
