"""Service configuration from `config.toml`. Each area reads its own section."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_PATH = Path("config.toml")


class ConfigError(ValueError):
    pass


@dataclass(frozen=True)
class Config:
    path: Path | None
    data: dict[str, Any] = field(default_factory=dict)

    def section(self, name: str) -> dict[str, Any]:
        value = self.data.get(name, {})
        if not isinstance(value, dict):
            raise ConfigError(f"{self.path}: [{name}] must be a table")
        return value

    @property
    def agency(self) -> dict[str, str]:
        """Variables every dialog may use: agency, caller_id, callback_number."""
        a = self.section("agency")
        return {
            "agency": str(a.get("name", "")),
            "caller_id": str(a.get("caller_id", "")),
            "callback_number": str(a.get("callback_number", "")),
        }

    @property
    def var_dir(self) -> Path:
        return Path(self.section("service").get("var_dir", "var"))


def load_config(path: str | os.PathLike[str] | None = None) -> Config:
    """Load config.toml (or VERIBOT_CONFIG). A missing default file gives built-in defaults."""
    explicit = path is not None or "VERIBOT_CONFIG" in os.environ
    p = Path(path or os.environ.get("VERIBOT_CONFIG", DEFAULT_PATH))
    if not p.exists():
        if explicit:
            raise ConfigError(f"config file not found: {p}")
        return Config(None, dict(DEFAULTS))
    try:
        with p.open("rb") as fh:
            data = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{p}: {exc}") from exc
    merged = {k: dict(v) for k, v in DEFAULTS.items()}
    for k, v in data.items():
        if isinstance(v, dict) and isinstance(merged.get(k), dict):
            merged[k].update(v)
        else:
            merged[k] = v
    return Config(p, merged)


DEFAULTS: dict[str, Any] = {
    "agency": {"name": "兰州市公安局", "caller_id": "96110", "callback_number": "96110"},
    "service": {"host": "127.0.0.1", "port": 8080, "var_dir": "var"},
}
