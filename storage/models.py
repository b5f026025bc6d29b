"""All veribot tables (sqlmodel). Times are timezone-aware UTC datetimes (`utcnow()`); sqlmodel
refuses naive ones on write and returns UTC-aware ones from SQLite and PostgreSQL alike.

Conventions shared by every area:
- `Person.priority`: smaller is called first (1 = close contact 密接, 2 = 次密接, 5 = default).
- An Attempt goes pending -> claimed -> dialling -> in_call -> ended (see `Attempt.outcome`) or
  interrupted (the worker died or the call broke before a result was written). The database refuses
  a second *active* attempt for the same phone number (partial unique index `uq_attempt_active_phone`).
- Personal data (names, phones, addresses, transcripts, audio) lives in Person, Attempt.phone, Turn,
  Result, Escalation.detail/resolution; `purge` removes it and keeps only `Tally` counts.
- Enum-like columns are plain strings (values from the StrEnums below) so migrations stay simple.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Index, LargeBinary, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    """Current time, timezone-aware UTC (the storage convention)."""
    return datetime.now(UTC)


class CampaignStatus(StrEnum):
    DRAFT = "draft"
    RUNNING = "running"
    PAUSED = "paused"
    CANCELLED = "cancelled"
    DONE = "done"


class PersonState(StrEnum):
    PENDING = "pending"  # waiting for (another) attempt at next_attempt_at
    IN_PROGRESS = "in_progress"  # an attempt is active
    COMPLETED = "completed"
    ESCALATED = "escalated"  # handed to an operator
    WRONG_NUMBER = "wrong_number"
    FAILED = "failed"  # gave up: attempts exhausted or number unusable
    DO_NOT_CALL = "do_not_call"
    DELETED = "deleted"  # erased on request / purged


class AttemptState(StrEnum):
    PENDING = "pending"
    CLAIMED = "claimed"
    DIALLING = "dialling"
    IN_CALL = "in_call"
    ENDED = "ended"
    INTERRUPTED = "interrupted"


ACTIVE_ATTEMPT_STATES = (
    AttemptState.PENDING,
    AttemptState.CLAIMED,
    AttemptState.DIALLING,
    AttemptState.IN_CALL,
)
_ACTIVE_SQL = "state IN ('pending', 'claimed', 'dialling', 'in_call')"


class EscalationStatus(StrEnum):
    OPEN = "open"
    CLAIMED = "claimed"
    RESOLVED = "resolved"
    RETURNED_TO_BOT = "returned_to_bot"


class Role(StrEnum):
    ADMIN = "admin"
    OPERATOR = "operator"
    VIEWER = "viewer"


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    DEAD = "dead"  # gave up after max tries: the dead-letter list


def _json(nullable: bool = True) -> Any:
    return Field(default=None, sa_column=Column(JSON, nullable=nullable))


class Campaign(SQLModel, table=True):
    __tablename__ = "campaign"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True, index=True, max_length=200)
    description: str = Field(default="", max_length=500)  # revision 0002
    status: str = Field(default=CampaignStatus.DRAFT, max_length=20)
    dialog_name: str = Field(default="verification", max_length=200)
    dialog_path: str = Field(default="dialogs/verification.zh-CN.yaml", max_length=500)
    concurrency: int = 4
    priority: int = 5  # smaller gets the worker's lines first when campaigns compete (revision 0003_desk)
    window_start: str = Field(default="09:00", max_length=5)  # HH:MM local time
    window_end: str = Field(default="20:00", max_length=5)
    timezone: str = Field(default="Asia/Shanghai", max_length=64)  # IANA
    retry_policy: dict[str, Any] | None = _json()  # see bot.campaigns.dialing.policy.RetryPolicy
    retention_days: int = 30
    created_at: datetime = Field(default_factory=utcnow)
    purged_at: datetime | None = None
    # keep each call whole as a stereo WAV beside its clips (audio/call_recording.py; revision 0011)
    record_calls: bool = False


class Person(SQLModel, table=True):
    __tablename__ = "person"
    __table_args__ = (
        UniqueConstraint("campaign_id", "phone", name="uq_person_campaign_phone"),
        Index("ix_person_due", "campaign_id", "state", "priority", "next_attempt_at"),
    )
    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id", index=True)
    name: str = Field(default="", max_length=200)
    phone: str = Field(index=True, max_length=32)  # E.164
    expected_address: str = Field(default="", max_length=500)
    risk_category: str = Field(default="", max_length=50)  # 密接, 次密接, ...
    priority: int = 5  # smaller first
    notes: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    state: str = Field(default=PersonState.PENDING, max_length=20)
    next_attempt_at: datetime | None = None  # None = as soon as the window allows
    attempt_count: int = 0
    last_outcome: str | None = Field(default=None, max_length=30)
    purged: bool = False
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class Attempt(SQLModel, table=True):
    __tablename__ = "attempt"
    __table_args__ = (
        Index(
            "uq_attempt_active_phone",
            "phone",
            unique=True,
            sqlite_where=text(_ACTIVE_SQL),
            postgresql_where=text(_ACTIVE_SQL),
        ),
        Index("ix_attempt_state_expiry", "state", "claim_expires_at"),
    )
    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    campaign_id: int = Field(foreign_key="campaign.id", index=True)
    phone: str = Field(max_length=32)
    state: str = Field(default=AttemptState.PENDING, max_length=20)
    claimed_by: str | None = Field(default=None, max_length=100)  # worker id
    claimed_at: datetime | None = None
    claim_expires_at: datetime | None = None
    started_at: datetime | None = None
    ended_at: datetime | None = None
    network_outcome: str | None = Field(default=None, max_length=20)  # bot.calls.NetworkOutcome
    sip_status: int | None = None
    retry_after: float | None = None
    dialog_name: str | None = Field(default=None, max_length=200)
    dialog_version: str | None = Field(default=None, max_length=80)
    outcome: str | None = Field(default=None, max_length=30)  # completed|escalated|...|busy|no_answer|...
    escalation_reason: str | None = Field(default=None, max_length=30)
    audio_dir: str | None = Field(default=None, max_length=500)
    detail: str = Field(default="", max_length=500)  # no personal data
    call_code: str | None = Field(default=None, max_length=12)  # said in the greeting; the resident keys it back
    # the answered call's SIP dialog (Call-ID, tags, URIs, remote target, route set, CSeq, where
    # to send): a restarted worker ends the dialog of a dead one with a BYE from it
    sip_dialog: dict[str, Any] | None = _json()


class InboundCall(SQLModel, table=True):
    """A call to the official number, recorded against the person its caller ID names (if any)
    whatever their state; `verified`: the caller keyed a code given to that number. An unverified
    row is a claim only: it changes no person."""

    __tablename__ = "inbound_call"
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    phone: str = Field(default="", max_length=32)  # the caller ID as given (E.164 when it parses)
    person_id: int | None = Field(default=None, foreign_key="person.id", index=True)
    campaign_id: int | None = Field(default=None, foreign_key="campaign.id")
    verified: bool = False
    code_attempt_id: int | None = Field(default=None, foreign_key="attempt.id")  # whose call code was keyed
    outcome: str = Field(default="", max_length=30)  # genuine | genuine_other_number | wrong_code | no_code | locked


class InboundLeg(SQLModel, table=True):
    """An inbound call in progress, by the worker that answered it: its SIP dialog (as
    `Attempt.sip_dialog`), written when the call is answered and deleted when it ends. A
    restarted worker ends a dead one's legs with a BYE from it, whether or not the caller was
    ever matched to a person (a matched call has the dialog on its attempt as well)."""

    __tablename__ = "inbound_leg"
    id: int | None = Field(default=None, primary_key=True)
    worker: str = Field(max_length=100, index=True)  # worker id, as Attempt.claimed_by
    started_at: datetime = Field(default_factory=utcnow)
    sip_dialog: dict[str, Any] = _json(nullable=False)


class CodeGuess(SQLModel, table=True):
    """One call-code guess from a caller's number (E.164; "anonymous" when the caller ID does not
    parse), counted before the code is checked and deleted again when it was not wrong, so the
    rows left are the wrong guesses: the lockout of bot/campaigns/inbound/call_codes.py `CodeGuard`, shared
    by every worker and kept across restarts. Erased with the number's people; pruned past the
    codes' validity."""

    __tablename__ = "code_guess"
    __table_args__ = (Index("ix_code_guess_phone_at", "phone", "at"),)
    id: int | None = Field(default=None, primary_key=True)
    phone: str = Field(max_length=32)
    at: datetime = Field(default_factory=utcnow, index=True)


class Turn(SQLModel, table=True):
    """One turn of the transcript, written as it happens."""

    __tablename__ = "turn"
    __table_args__ = (UniqueConstraint("attempt_id", "seq", name="uq_turn_attempt_seq"),)
    id: int | None = Field(default=None, primary_key=True)
    attempt_id: int = Field(foreign_key="attempt.id", index=True)
    seq: int
    speaker: str = Field(max_length=10)  # bot | caller
    text: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    step: str | None = Field(default=None, max_length=100)
    kind: str = Field(default="speech", max_length=20)
    parse: dict[str, Any] | None = _json()
    confidence: float | None = None
    at: datetime = Field(default_factory=utcnow)
    audio_path: str | None = Field(default=None, max_length=500)
    line_at: float | None = None  # seconds on the line since answer (the pipeline's line clock), when known


class Result(SQLModel, table=True):
    """A slot value a call established, with the dialog version that produced it."""

    __tablename__ = "result"
    __table_args__ = (UniqueConstraint("attempt_id", "slot", name="uq_result_attempt_slot"),)
    id: int | None = Field(default=None, primary_key=True)
    attempt_id: int = Field(foreign_key="attempt.id", index=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    campaign_id: int = Field(foreign_key="campaign.id", index=True)
    slot: str = Field(max_length=50)
    value: Any = _json()
    dialog_version: str | None = Field(default=None, max_length=80)
    source: str = Field(default="bot", max_length=20)  # bot | operator
    created_at: datetime = Field(default_factory=utcnow)


class Escalation(SQLModel, table=True):
    __tablename__ = "escalation"
    __table_args__ = (Index("ix_escalation_queue", "status", "priority", "created_at"),)
    id: int | None = Field(default=None, primary_key=True)
    attempt_id: int = Field(foreign_key="attempt.id", index=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    campaign_id: int = Field(foreign_key="campaign.id", index=True)
    reason: str = Field(max_length=30)  # uncooperative | requested_human | unresolved
    step: str | None = Field(default=None, max_length=100)
    detail: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    status: str = Field(default=EscalationStatus.OPEN, max_length=20)
    priority: int = 5  # copied from the person: smaller first
    created_at: datetime = Field(default_factory=utcnow)
    claimed_by: int | None = Field(default=None, foreign_key="app_user.id")
    claim_expires_at: datetime | None = None
    resolution: dict[str, Any] | None = _json()  # corrected slots
    note: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    resolved_by: int | None = Field(default=None, foreign_key="app_user.id")
    resolved_at: datetime | None = None


class User(SQLModel, table=True):
    __tablename__ = "app_user"
    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(unique=True, index=True, max_length=100)
    role: str = Field(default=Role.VIEWER, max_length=20)
    password_hash: str = Field(max_length=300)
    disabled: bool = False
    created_at: datetime = Field(default_factory=utcnow)
    last_login_at: datetime | None = None


class WebSession(SQLModel, table=True):
    """Server-side console session; the cookie holds the token, the table only its hash."""

    __tablename__ = "web_session"
    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(unique=True, index=True, max_length=128)
    user_id: int = Field(foreign_key="app_user.id", index=True)
    csrf_token: str = Field(max_length=128)
    created_at: datetime = Field(default_factory=utcnow)
    last_seen_at: datetime = Field(default_factory=utcnow)
    source: str = Field(default="", max_length=64)


class AuditEvent(SQLModel, table=True):
    """Append-only: who did what to which record, from where. Never the personal data itself."""

    __tablename__ = "audit_event"
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    actor: str = Field(max_length=100)  # username, or "system"/"dialer"/"purge"
    action: str = Field(max_length=100)
    target_type: str = Field(default="", max_length=50)
    target_id: str = Field(default="", max_length=100)
    source: str = Field(default="", max_length=64)  # client address or "cli"
    detail: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))


class DialogVersion(SQLModel, table=True):
    __tablename__ = "dialog_version"
    __table_args__ = (UniqueConstraint("name", "version", name="uq_dialog_name_version"),)
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(index=True, max_length=200)
    locale: str = Field(max_length=20)
    version: str = Field(max_length=80)  # content hash
    yaml_text: str = Field(sa_column=Column(Text, nullable=False))
    published_at: datetime = Field(default_factory=utcnow)
    published_by: str = Field(default="", max_length=100)
    active: bool = False


class PromptRecording(SQLModel, table=True):
    """A human recording of one fixed piece of a dialog version's prompts (audio/recordings.py):
    8 kHz 16-bit mono PCM, level-normalised. It belongs to a version; publishing a new version
    copies the recordings whose text the new version still says."""

    __tablename__ = "prompt_recording"
    __table_args__ = (UniqueConstraint("dialog_name", "locale", "dialog_version", "text",
                                       name="uq_prompt_recording_piece"),)
    id: int | None = Field(default=None, primary_key=True)
    dialog_name: str = Field(max_length=200)
    locale: str = Field(max_length=20)
    dialog_version: str = Field(max_length=80)  # DialogVersion.version (content hash)
    text: str = Field(sa_column=Column(Text, nullable=False))
    pcm: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    duration_ms: int = 0
    recorded_by: str = Field(default="", max_length=100)
    created_at: datetime = Field(default_factory=utcnow)


class WebhookDelivery(SQLModel, table=True):
    """One result pushed to the health department; status dead = the dead-letter list."""

    __tablename__ = "webhook_delivery"
    __table_args__ = (Index("ix_webhook_due", "status", "next_try_at"),)  # revision 0002
    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int | None = Field(default=None, foreign_key="campaign.id", index=True)
    attempt_id: int | None = Field(default=None, foreign_key="attempt.id", index=True)
    idempotency_key: str = Field(unique=True, max_length=100)
    payload: dict[str, Any] | None = _json(nullable=False)
    status: str = Field(default=DeliveryStatus.PENDING, max_length=20)
    tries: int = 0
    next_try_at: datetime = Field(default_factory=utcnow)
    last_error: str = Field(default="", max_length=500)
    created_at: datetime = Field(default_factory=utcnow)
    delivered_at: datetime | None = None


class DoNotCall(SQLModel, table=True):
    """A number no campaign dials: for good (`expires_at` None: the do-not-call list) or, after a
    wrong number, until `expires_at` in campaigns other than `campaign_id` (suppression; revision
    0006_desk). See bot/campaigns/people/suppression.py."""

    __tablename__ = "do_not_call"
    id: int | None = Field(default=None, primary_key=True)
    phone: str = Field(unique=True, index=True, max_length=32)  # E.164
    reason: str = Field(default="", max_length=200)
    created_at: datetime = Field(default_factory=utcnow)
    kind: str = Field(default="manual", max_length=20)  # manual | resident | wrong_number | import
    expires_at: datetime | None = None  # None = for good
    added_by: str = Field(default="", max_length=100)  # username, or "bot"
    campaign_id: int | None = None  # where it was said (no foreign key: outlives a purge)
    attempt_id: int | None = None


class Tally(SQLModel, table=True):
    """Anonymised counts kept after a purge: (campaign, metric, value) -> count."""

    __tablename__ = "tally"
    __table_args__ = (UniqueConstraint("campaign_id", "metric", "value", name="uq_tally"),)
    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id", index=True)
    metric: str = Field(max_length=60)  # "outcome", "slot:health_code", ...
    value: str = Field(max_length=100)
    count: int = 0


class FollowUpSource(SQLModel, table=True):
    """Who named a person of a follow-up (次密接) campaign: one row per (person, source person);
    a contact named by several people keeps every source (bot.campaigns.people.followups)."""

    __tablename__ = "followup_source"
    __table_args__ = (UniqueConstraint("person_id", "source_person_id", name="uq_followup_source"),)
    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)  # the contact
    source_person_id: int = Field(foreign_key="person.id", index=True)  # who named them
    source_attempt_id: int = Field(foreign_key="attempt.id")
    source_campaign_id: int = Field(foreign_key="campaign.id")
    relation: str = Field(default="", max_length=50)
    created_at: datetime = Field(default_factory=utcnow)
