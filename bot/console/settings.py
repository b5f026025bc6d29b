"""The `[console]` section of config.toml."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ConsoleSettings:
    """The `[console]` section of config.toml, with defaults."""

    secure_cookies: bool = True
    idle_minutes: float = 30.0
    absolute_hours: float = 12.0
    claim_minutes: float = 15.0
    max_body_kb: int = 256
    max_upload_mb: int = 5
    login_max_failures: int = 5
    login_lockout_seconds: float = 300.0
    public_origin: str = ""

    def __post_init__(self) -> None:
        for name in ("idle_minutes", "absolute_hours", "claim_minutes", "login_lockout_seconds"):
            if getattr(self, name) <= 0:
                raise ValueError(f"[console] {name} must be positive")

    @classmethod
    def from_section(cls, section: dict[str, Any]) -> ConsoleSettings:
        known = set(cls.__dataclass_fields__)
        unknown = set(section) - known
        if unknown:
            raise ValueError(f"[console] unknown keys: {', '.join(sorted(unknown))}")
        return cls(**section)
