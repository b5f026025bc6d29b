"""One typed settings class per section of config.toml. `bot.config.load_config` fills them
(unknown keys and wrong types are errors naming the file and the key; `bot.config.SECTIONS`
names each section's class); code and tests may also build them directly. A relative path
written in the config is resolved against the config file's folder; a default path (a key
left out) stays relative to the working directory.

Adding a key: add a field here (with its default) and a commented line in config.toml;
`tests/test_config.py` checks that every key config.toml mentions is known here."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, ConfigDict, ValidationInfo, field_validator
from pydantic.dataclasses import dataclass

from bot.privacy import Secret

STRICT = ConfigDict(extra="forbid", arbitrary_types_allowed=True)


def _resolve(value: Path, info: ValidationInfo) -> Path:
    base = (info.context or {}).get("base")
    return value if base is None or value.is_absolute() else base / value


ConfigPath = Annotated[Path, AfterValidator(_resolve)]  # relative: against the config file's folder


def _secret(value: Any) -> Secret:
    if isinstance(value, Secret):
        return value
    if not isinstance(value, str):
        raise ValueError("expected a string")
    return Secret(value)


SecretText = Annotated[Secret, BeforeValidator(_secret)]


@dataclass(frozen=True, config=STRICT)
class AgencySettings:
    """[agency]: who the desk is. `names` gives the desk's name per locale or language
    ({"en": "Lanzhou Public Security Bureau", "ko-KR": ...}); `name` is the fallback.
    `badge`: the staff/badge number the greeting gives so a resident can check the call."""

    name: str = "兰州市公安局"
    caller_id: str = "96110"
    callback_number: str = "96110"
    badge: str = ""
    names: dict[str, str] | None = None
    code_valid_days: float = 14.0  # how long a call's code proves the call (and the callback)
    # wrong call codes a caller's number (E.164) may key: per hour, per day, per code over its validity
    code_guesses_per_hour: int = 3
    code_guesses_per_day: int = 10
    code_guesses_per_code: int = 20
    callback_minutes: int = 120  # a resident who asks for a person and gets none is called back within this

    @property
    def variables(self) -> dict[str, str]:
        """What every dialog may say: {agency}, {caller_id}, {callback_number}, {badge}; plus
        `agency.<locale>` entries that `localised` turns into {agency} for a script's locale."""
        out = {"agency": self.name, "caller_id": self.caller_id, "callback_number": self.callback_number,
               "badge": self.badge, **self.callback_variables}
        out.update({f"agency.{k}": v for k, v in (self.names or {}).items()})
        return out

    @property
    def callback_variables(self) -> dict[str, str]:
        """{callback_minutes}: when staff call a resident back ({callback_within}, the same in the
        words of the script's locale, is made from it by bot.dialog.catalogue)."""
        return {"callback_minutes": str(self.callback_minutes)}


def localised(variables: dict[str, str], locale: str) -> dict[str, str]:
    """`variables` for a script in `locale`: {agency} is the desk's name in that locale
    (`agency.zh-CN`, else `agency.zh`, else `agency` as given)."""
    lang = locale.split("-")[0]
    name = variables.get(f"agency.{locale}") or variables.get(f"agency.{lang}")
    return {**variables, "agency": name} if name else dict(variables)


@dataclass(frozen=True, config=STRICT)
class ServiceSettings:
    host: str = "127.0.0.1"
    port: int = 8080
    var_dir: ConfigPath = Path("var")

    def __post_init__(self) -> None:
        if not 0 <= self.port <= 65535:
            raise ValueError(f"[service] port must be 0..65535, got {self.port}")


@dataclass(frozen=True, config=STRICT)
class NluSettings:
    """The area a district name is placed in when several places share it (城关区); "" = none."""

    default_province: str = "甘肃省"
    default_city: str = "兰州市"

    @property
    def area(self) -> tuple[str | None, str | None]:
        return self.default_province or None, self.default_city or None


@dataclass(frozen=True, config=STRICT)
class ConsoleSettings:
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


@dataclass(frozen=True, config=STRICT)
class ServeSettings:
    """What `veribot serve` runs besides the web console."""

    dialer: bool = True
    sip: bool = True
    locales: tuple[str, ...] = ("zh-CN",)
    dialogs_dir: ConfigPath = Path("dialogs")


@dataclass(frozen=True, config=STRICT)
class SpeechSettings:
    """[speech]. A path left out lives under [service] var_dir (bot/pipeline/resources.py's
    SpeechSettings.from_config fills them in for the process that loads the models)."""

    models_dir: ConfigPath | None = None
    prompt_cache: ConfigPath | None = None
    audio_dir: ConfigPath | None = None
    tts_engine: str = ""  # "": each locale's default voice
    tts_timeout: float = 20.0
    threads: int = 2
    vad_threshold: float = 0.5
    energy_floor: float = 120.0
    watchdog_secs: float = 30.0
    fallback_ear: str = "whisper"  # for a locale whose Vosk model is absent: "whisper" (Whisper base) or "none"


@dataclass(frozen=True, config=STRICT)
class DatabaseSettings:
    url: str = ""  # default: sqlite:///<var_dir>/veribot.db
    durable: bool = True

    @field_validator("url")
    @classmethod
    def _sqlite_path(cls, url: str, info: ValidationInfo) -> str:
        """sqlite:///relative.db is relative to the config file's folder too."""
        base = (info.context or {}).get("base")
        prefix = "sqlite:///"
        if base is None or not url.startswith(prefix) or url == prefix + ":memory:":
            return url
        path = Path(url[len(prefix):])
        return url if path.is_absolute() else prefix + str(base / path)


@dataclass(frozen=True, config=STRICT)
class RetryRule:
    delays: tuple[float, ...] = ()
    max_attempts: int = 1


@dataclass(frozen=True, config=STRICT)
class CampaignsSettings:
    """Defaults of a campaign created by `veribot people import` (see bot/campaigns/store.py)."""

    dialog_path: ConfigPath = Path("dialogs/verification.zh-CN.yaml")
    dialog_name: str = "verification"
    window_start: str = "09:00"
    window_end: str = "20:00"
    timezone: str = "Asia/Shanghai"
    concurrency: int = 4
    retention_days: int = 30
    region: str = "CN"
    purge_every_hours: float = 6.0
    suppression_days: float = 30.0  # a wrong number is not dialled by another campaign for this long
    audio_roots: tuple[ConfigPath, ...] = ()
    retry: dict[str, RetryRule] | None = None
    columns: dict[str, str | list[str]] | None = None

    @field_validator("region")
    @classmethod
    def _known_region(cls, value: str) -> str:
        import phonenumbers

        if value.upper() not in phonenumbers.SUPPORTED_REGIONS:
            raise ValueError(f"unknown region {value!r} (a two-letter country code such as CN)")
        return value.upper()


@dataclass(frozen=True, config=STRICT)
class DialerSettings:
    worker_id: str = ""  # default host:pid
    max_calls: int = 50
    claim_ttl: float = 600.0
    poll_seconds: float = 1.0
    drain_seconds: float = 120.0
    start_rate: float = 5.0  # calls this worker starts a second (0: no limit); see bot/campaigns/dialing/dialer.py

    def __post_init__(self) -> None:
        if self.start_rate < 0:
            raise ValueError("[dialer] start_rate must be 0 (no limit) or more calls a second")


@dataclass(frozen=True, config=STRICT)
class WorkerSettings:
    """[worker]: admission control (bot/pipeline/headroom.py). The worker stops starting and
    accepting new calls when one sign of its headroom, over the last `window_seconds`, reaches its
    `*_stop` level (0: that sign is not watched), and takes calls again once every sign has stayed at
    or below its `*_resume` level for `resume_after_seconds`. Calls in progress are never touched."""

    admission: bool = True  # false: the signs are still measured, but no call is ever held back
    lag_stop_ms: float = 60.0  # event-loop lag, p99 of a 10 ms timer's lateness
    lag_resume_ms: float = 25.0
    queue_wait_stop_ms: float = 400.0  # the longest wait of a caller's turn end for a recognition thread
    queue_wait_resume_ms: float = 150.0
    late_frames_stop: float = 25.0  # frames sent late on the line (all calls) within the window
    late_frames_resume: float = 0.0
    recognition_stop_ms: float = 300.0  # p95 of a turn end's recognition turnaround (queue + CPU)
    recognition_resume_ms: float = 150.0
    cpu_wait_stop_ms: float = 800.0  # ms a second the worker's threads waited for a core (0: not watched)
    cpu_wait_resume_ms: float = 400.0
    window_seconds: float = 2.0
    resume_after_seconds: float = 5.0
    # A worker with fewer calls in progress than this always takes one more: with (almost) nothing to
    # protect, a hold only makes the desk wait, and lag on a box busy with other work (an upload, a
    # build) must not stop a desk's first calls.
    min_calls: int = 4
    # Starting calls count (a new call's load shows only seconds later): at most `starts_per_second`
    # new calls a second, evenly spaced, and `ramp_per_second` while a sign is at `near` of its stop
    # level or more (0: no limit).
    starts_per_second: float = 5.0
    ramp_per_second: float = 1.0
    near: float = 0.5
    # Slow start: calls started within `young_seconds` (their first prompt and answer: load the signs
    # do not show yet) may be at most `young_share` times the older calls in progress (or min_calls).
    young_seconds: float = 6.0
    young_share: float = 1.0

    def __post_init__(self) -> None:
        if self.min_calls < 0:
            raise ValueError("[worker] min_calls must be 0 or more")
        if self.young_seconds < 0 or self.young_share <= 0:
            raise ValueError("[worker] young_seconds must be 0 or more and young_share positive")
        if self.starts_per_second < 0 or self.ramp_per_second < 0 or not 0 < self.near <= 1:
            raise ValueError("[worker] starts_per_second and ramp_per_second must be 0 or more, near in (0, 1]")
        for stop, resume in (("lag_stop_ms", "lag_resume_ms"), ("queue_wait_stop_ms", "queue_wait_resume_ms"),
                             ("late_frames_stop", "late_frames_resume"),
                             ("recognition_stop_ms", "recognition_resume_ms"), ("cpu_wait_stop_ms", "cpu_wait_resume_ms")):
            hi, lo = getattr(self, stop), getattr(self, resume)
            if hi < 0 or lo < 0 or (hi and lo >= hi):
                raise ValueError(f"[worker] {resume} must be below {stop} (both 0 or more; {stop} = 0: not watched)")
        if self.window_seconds <= 0 or self.resume_after_seconds < 0:
            raise ValueError("[worker] window_seconds must be positive and resume_after_seconds 0 or more")


@dataclass(frozen=True, config=STRICT)
class WebhookSettings:
    """[webhook]. TODO(lead): bot/campaigns/webhook.WebhookSettings still reads the raw section."""

    url: str = ""
    secret: SecretText = Secret("")  # or env VERIBOT_WEBHOOK_SECRET
    max_tries: int = 8
    backoff: float = 30.0
    max_backoff: float = 3600.0
    timeout: float = 15.0


@dataclass(frozen=True, config=STRICT)
class TwilioSettings:
    """[twilio]: `veribot serve` serves the Media Streams websocket at `path` on its own
    listener `listen` (what a reverse proxy exposes to Twilio; the console stays inside) when
    enabled. Every upgrade request must carry Twilio's X-Twilio-Signature made with
    `auth_token` over `public_url` + the request's path and query (the URL Twilio was given)."""

    enabled: bool = False
    listen: Annotated[tuple[str, int], BeforeValidator(lambda v: _host_port(v, 8081))] = ("127.0.0.1", 8081)
    auth_token: SecretText = Secret("")  # or env VERIBOT_TWILIO_AUTH_TOKEN
    public_url: str = ""  # e.g. wss://bot.example.org (as Twilio reaches this service)
    path: str = "/twilio/media"

    def __post_init__(self) -> None:
        if not self.path.startswith("/"):
            raise ValueError("[twilio] path must start with /")


@dataclass(frozen=True, config=STRICT)
class EvidenceSettings:
    """[evidence]: the Ed25519 key that signs evidence bundles; generated on first use
    (mode 0600). Default: <var_dir>/evidence/signing.key."""

    key_path: ConfigPath | None = None


def _host_port(value: Any, default_port: int = 5080) -> Any:
    """"host:port" -> (host, port); a bare host gets port 5080."""
    if not isinstance(value, str):
        return value
    host, _, port = value.rpartition(":")
    if not host:
        return (value, default_port)
    if not port.isdigit() or int(port) > 65535:
        raise ValueError(f"bad address {value!r}: port must be a number 0..65535")
    return (host, int(port))


def _port_range(value: Any) -> Any:
    """"30000-31000" -> (30000, 31000)."""
    if not isinstance(value, str):
        return value
    lo, _, hi = value.partition("-")
    if not (lo.strip().isdigit() and (hi or lo).strip().isdigit()):
        raise ValueError(f"expected LOW-HIGH port numbers, got {value!r}")
    return (int(lo), int(hi or lo))


@dataclass(frozen=True, config=STRICT)
class TelephonySettings:
    """[telephony]: the SIP endpoint of this worker. caller_id defaults to [agency] caller_id."""

    listen: Annotated[tuple[str, int], BeforeValidator(_host_port)] = ("127.0.0.1", 5080)
    public_address: str = ""  # advertised in SDP/Contact (NAT); default: the listen host
    trunk: str = ""  # sip:host[:port] of the PBX / carrier trunk; empty = dial URIs directly
    caller_id: str = "96110"
    auth_user: str = ""
    auth_password: SecretText = Secret("")
    register: bool = False
    rtp_ports: Annotated[tuple[int, int], BeforeValidator(_port_range)] = (30000, 31000)
    codecs: tuple[str, ...] = ("PCMA", "PCMU")
    capacity: int = 50
    ring_timeout: float = 40.0
    max_call_seconds: float = 600.0
    media_inactivity: float = 15.0
    retry_after: int = 30
    max_message_bytes: int = 8192
    rate_limit_per_second: float = 20.0
    rate_limit_burst: int = 60
    rate_limit_ban_seconds: float = 60.0
    trusted_sources: tuple[str, ...] = ()  # addresses or networks (the trunk, Kamailio): no rate limit, may call in
    inbound_sources: tuple[str, ...] = ()  # further addresses/networks that may call in (rate-limited, capped)
    media_networks: tuple[str, ...] = ()  # where the trunk's media may be, besides the signalling source
    max_calls_per_source: int = 10  # concurrent inbound calls of one untrusted source (always below capacity)
    # share of `capacity` inbound calls may hold, trunk's included: the rest is kept for the campaign's calls
    inbound_share: float = 0.5
    operator_uri: str = ""  # sip:operator@pbx — blind transfer target on escalation
    amd_enabled: bool = False
    amd_greeting_seconds: float = 3.5  # continuous speech longer than this = machine
    amd_machine_message: str = ""
    carrier_detect: bool = False  # screen the opening for carrier announcements / SIT even without AMD
    early_media: bool = True  # listen to a ringing call's 180/183 audio for carrier announcements (early_media.py)
    inbound_dialog: str = "dialogs/verification.zh-CN.yaml"
    unknown_caller_message: str = ""  # {agency} {callback_number}; empty: built-in per language

    @field_validator("inbound_dialog")
    @classmethod
    def _inbound_path(cls, value: str, info: ValidationInfo) -> str:
        return str(_resolve(Path(value), info)) if value else value

    def __post_init__(self) -> None:
        lo, hi = self.rtp_ports
        if not (1024 <= lo < hi <= 65535):
            raise ValueError(f"[telephony] rtp_ports must be two ports 1024..65535 (low < high), got {lo}-{hi}")
        if self.capacity < 1:
            raise ValueError("[telephony] capacity must be at least 1")
        bad = [c for c in self.codecs if c not in ("PCMA", "PCMU")]
        if bad or not self.codecs:
            raise ValueError(f"[telephony] codecs must be PCMA and/or PCMU, got {list(self.codecs)}")
        for name in ("ring_timeout", "max_call_seconds", "media_inactivity"):
            if getattr(self, name) <= 0:
                raise ValueError(f"[telephony] {name} must be positive")
        if self.max_calls_per_source < 1:
            raise ValueError("[telephony] max_calls_per_source must be at least 1")
        if not 0 < self.inbound_share <= 1:
            raise ValueError("[telephony] inbound_share must be more than 0 and at most 1 (a share of capacity)")
        for name in ("trusted_sources", "inbound_sources", "media_networks"):
            for value in getattr(self, name):
                try:
                    ipaddress.ip_network(str(value).strip(), strict=False)
                except ValueError:
                    raise ValueError(f"[telephony] {name}: {value!r} is not an IP address or network") from None

    @property
    def per_source_limit(self) -> int:
        """Concurrent inbound calls one untrusted source may hold: below capacity."""
        return max(1, min(self.max_calls_per_source, self.capacity - 1))

    @property
    def inbound_lines(self) -> int:
        """Lines inbound calls may hold (at least one)."""
        return max(1, int(self.capacity * self.inbound_share))

    @property
    def media_host(self) -> str:
        return self.public_address or self.listen[0]

    @classmethod
    def from_config(cls, config: Any) -> TelephonySettings:
        return config.telephony
