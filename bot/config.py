"""Service configuration: `config.toml` loaded in one place into one typed settings class per
section (bot/settings.py). Every mistake is a `ConfigError` naming the file and the key:

    config.toml: [telephony] unknown key 'trunkk'
    config.toml: [service] port: expected an integer, got 'abc'
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter, ValidationError

from bot.settings import (
    AgencySettings,
    CampaignsSettings,
    ConsoleSettings,
    DatabaseSettings,
    DialerSettings,
    EvidenceSettings,
    NluSettings,
    ServeSettings,
    ServiceSettings,
    SpeechSettings,
    TelephonySettings,
    TwilioSettings,
    WebhookSettings,
    WorkerSettings,
)

DEFAULT_PATH = Path("config.toml")

# section name -> its class, in config.toml's order
SECTIONS: dict[str, type] = {
    "agency": AgencySettings, "service": ServiceSettings, "nlu": NluSettings, "console": ConsoleSettings,
    "serve": ServeSettings, "speech": SpeechSettings, "database": DatabaseSettings,
    "campaigns": CampaignsSettings, "dialer": DialerSettings, "webhook": WebhookSettings,
    "telephony": TelephonySettings, "twilio": TwilioSettings, "evidence": EvidenceSettings,
    "worker": WorkerSettings,
}


class ConfigError(ValueError):
    """A configuration the user must fix; the message names the file and the key."""


@dataclass(frozen=True)
class Config:
    path: Path | None = None  # None: built-in defaults (no file)
    agency: AgencySettings = field(default_factory=AgencySettings)
    service: ServiceSettings = field(default_factory=ServiceSettings)
    nlu: NluSettings = field(default_factory=NluSettings)
    console: ConsoleSettings = field(default_factory=ConsoleSettings)
    serve: ServeSettings = field(default_factory=ServeSettings)
    speech: SpeechSettings = field(default_factory=SpeechSettings)
    database: DatabaseSettings = field(default_factory=DatabaseSettings)
    campaigns: CampaignsSettings = field(default_factory=CampaignsSettings)
    dialer: DialerSettings = field(default_factory=DialerSettings)
    webhook: WebhookSettings = field(default_factory=WebhookSettings)
    telephony: TelephonySettings = field(default_factory=TelephonySettings)
    twilio: TwilioSettings = field(default_factory=TwilioSettings)
    evidence: EvidenceSettings = field(default_factory=EvidenceSettings)
    worker: WorkerSettings = field(default_factory=WorkerSettings)
    written: dict[str, dict[str, Any]] = field(default_factory=dict)  # the file's own tables

    @property
    def variables(self) -> dict[str, str]:
        """Variables every dialog may use: agency, caller_id, callback_number, callback_within, and
        operator_line ("" when no operator is configured: a request for a person gets a callback)."""
        return {**self.agency.variables, "operator_line": "1" if self.telephony.operator_uri else ""}

    @property
    def var_dir(self) -> Path:
        return self.service.var_dir

    def section(self, name: str) -> dict[str, Any]:
        """The keys the file sets in [name], as written (paths resolved). For code not yet
        reading the typed attribute (`config.<name>`); those have the defaults as well."""
        if name not in SECTIONS:
            raise KeyError(name)
        typed = getattr(self, name)
        return {k: (str(getattr(typed, k)) if k in _PATH_KEYS.get(name, ()) else v)
                for k, v in self.written.get(name, {}).items()}


# keys whose written value is replaced by its resolved path in `Config.section()`
_PATH_KEYS = {"service": ("var_dir",), "serve": ("dialogs_dir",), "database": ("url",),
              "speech": ("models_dir", "prompt_cache", "audio_dir"), "campaigns": ("dialog_path",),
              "telephony": ("inbound_dialog",)}


def load_config(path: str | os.PathLike[str] | None = None) -> Config:
    """Load config.toml (or $VERIBOT_CONFIG). A missing default file gives built-in defaults;
    a missing file named on the command line or in $VERIBOT_CONFIG is an error."""
    explicit = path is not None or bool(os.environ.get("VERIBOT_CONFIG"))
    p = Path(path or os.environ.get("VERIBOT_CONFIG") or DEFAULT_PATH)
    if not p.exists():
        if explicit:
            raise ConfigError(f"{p}: config file not found")
        return Config()
    try:
        with p.open("rb") as fh:
            data = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{p}: not valid TOML: {exc}") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{p}: not UTF-8 text (byte {exc.start})") from exc
    except OSError as exc:
        raise ConfigError(f"{p}: cannot read: {exc.strerror or exc}") from exc
    return from_dict(data, p)


def from_dict(data: dict[str, Any], path: Path | None = None) -> Config:
    """Check and type a parsed config; `path` names it in errors and anchors relative paths."""
    where = str(path) if path is not None else "config"
    base = path.resolve().parent if path is not None else None
    for name, value in data.items():
        if not isinstance(value, dict):
            if name in SECTIONS:
                raise ConfigError(f"{where}: [{name}] must be a table, not a single value")
            raise ConfigError(f"{where}: unknown key {name!r} outside any [section]")
        if name not in SECTIONS:
            raise ConfigError(f"{where}: unknown section [{name}] (known: {', '.join(SECTIONS)})")
    written = {name: dict(value) for name, value in data.items()}
    telephony = dict(written.get("telephony", {}))
    agency_id = written.get("agency", {}).get("caller_id")
    if "caller_id" not in telephony and isinstance(agency_id, str):
        telephony["caller_id"] = agency_id  # the number shown defaults to the agency's
    typed: dict[str, Any] = {}
    for name, cls in SECTIONS.items():
        raw = telephony if name == "telephony" else written.get(name, {})
        try:
            typed[name] = from_section(cls, name, raw, base)
        except ValueError as exc:
            raise ConfigError(f"{where}: {exc}") from None
    return Config(path=path, written=written, **typed)


def from_section(cls: type, name: str, section: dict[str, Any], base: Path | None = None) -> Any:
    """`cls` from a [name] table; any problem is a ValueError naming the key (`describe`)."""
    try:
        return TypeAdapter(cls).validate_python(section, context={"base": base})
    except ValidationError as exc:
        raise ValueError(describe(name, exc)) from None


_EXPECTED = {
    "int": "an integer", "float": "a number", "bool": "true or false", "string": "a string in quotes",
    "list": "a list [...]", "tuple": "a list [...]", "dict": "a table", "dataclass": "a table",
}


def describe(section: str, exc: ValidationError) -> str:
    """The first problem of a section as one line: "[telephony] unknown key 'trunkk'"."""
    errors = exc.errors(include_url=False)
    err = errors[0]
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    loc = [str(x) for x in err["loc"]]
    kind, value = err["type"], err.get("input")
    if kind in ("unexpected_keyword_argument", "extra_forbidden"):
        return f"[{section}] unknown key {'.'.join(loc)!r}{more}"
    key = ".".join(x for x in loc if not x.isdigit()) or "?"
    if kind == "value_error":
        msg = err["msg"].removeprefix("Value error, ")
        return (msg if msg.startswith(f"[{section}]") or not loc else f"[{section}] {key}: {msg}") + more
    expected = next((v for k, v in _EXPECTED.items() if kind.startswith(k)), None)
    if expected is None:
        return f"[{section}] {key}: {err['msg']}{more}"
    return f"[{section}] {key}: expected {expected}, got {value!r}{more}"
