"""Personal data and secrets kept out of logs and pages: phone numbers masked
('+86138****5678'), passwords wrapped so that repr and str never show them."""

from __future__ import annotations

import logging
import re


def mask_phone(number: str) -> str:
    """'+8613812345678' -> '+86138****5678'; SIP URIs keep their host, user masked."""
    m = re.match(r"^(sips?:)?([^@;]*)(.*)$", number or "")
    if not m:
        return "***"
    scheme, user, rest = m.group(1) or "", m.group(2), m.group(3)
    digits = re.sub(r"\D", "", user)
    if len(digits) <= 4:
        masked = "*" * len(user)
    else:
        masked = user[: max(0, len(user) - 8)] + "****" + user[-4:] if len(user) > 8 else "****" + user[-4:]
    return f"{scheme}{masked}{rest}"


_DIGITS = re.compile(r"(?<![\w.])(\+?\d[\d-]{5,}\d)(\d{4})(?!\d)")


def mask_digits(text: str) -> str:
    """Mask every phone-like digit run in free text (log lines of libraries)."""
    return _DIGITS.sub(lambda m: "*" * min(len(m.group(1)), 6) + m.group(2), text)


class PhoneMaskFilter(logging.Filter):
    """Attached to loggers we do not own (aiosipua logs whole URIs at INFO)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = mask_digits(record.getMessage())
        record.args = None
        return True


class Secret:
    """A password that never shows in repr, str or logs."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __bool__(self) -> bool:
        return bool(self._value)

    def __repr__(self) -> str:
        return "Secret('***')" if self._value else "Secret('')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)
