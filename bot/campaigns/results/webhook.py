"""Results pushed to the health department's endpoint: an outbox with at-least-once delivery.

A WebhookDelivery row is written in the same commit as the call's final record (so no result is
lost between the two). `WebhookPusher` POSTs due rows:

    body       canonical JSON (UTF-8, sorted keys)
    headers    Idempotency-Key: attempt-<id>           the receiver drops repeats by this key
               X-Veribot-Timestamp: <unix seconds>
               X-Veribot-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>." + body)>

2xx = delivered. Network errors, 408, 429 and 5xx retry with exponential backoff; other 4xx, or
`max_tries` failures, move the row to the dead-letter list (status `dead`), which admins see with
`veribot results dead-letters` and send again with `veribot webhook resend [--all|ID…]`.
The body follows the JSON Schema schemas/result.v1.json (its `schema` field names the version).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, select

from storage.models import DeliveryStatus, WebhookDelivery, utcnow

log = logging.getLogger(__name__)
SCHEMA = "veribot.result/v1"  # the payload's JSON Schema: schemas/result.v1.json (versioned with it)


class Secret(str):
    """A string that never shows itself in repr/logs."""

    def __repr__(self) -> str:
        return "Secret('***')"


def canonical(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def sign(secret: str, timestamp: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def verify(secret: str, timestamp: str, body: bytes, signature: str) -> bool:
    """What a receiver does (and our tests): constant-time comparison."""
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


def enqueue(s: Session, campaign_id: int, attempt_id: int, payload: dict[str, Any], now: datetime,
            key: str | None = None) -> None:
    """Queue a delivery in the caller's transaction. `key` defaults to `attempt-<id>`; a later update
    about the same person (e.g. an operator's resolution) needs its own key, e.g. `resolution-<id>`.
    The payload is stamped with its schema version (schemas/result.v1.json)."""
    s.add(WebhookDelivery(campaign_id=campaign_id, attempt_id=attempt_id,
                          idempotency_key=key or f"attempt-{attempt_id}", payload={"schema": SCHEMA, **payload},
                          next_try_at=now,
                          created_at=now))


def dead_letters(s: Session) -> list[dict[str, Any]]:
    rows = s.exec(select(WebhookDelivery).where(WebhookDelivery.status == DeliveryStatus.DEAD)
                  .order_by(WebhookDelivery.id)).all()
    return [{"id": r.id, "campaign_id": r.campaign_id, "attempt_id": r.attempt_id, "key": r.idempotency_key,
             "tries": r.tries, "last_error": r.last_error, "created_at": r.created_at.isoformat()} for r in rows]


def requeue(s: Session, ids: list[int], now: datetime) -> int:
    n = 0
    for r in s.exec(select(WebhookDelivery).where(WebhookDelivery.id.in_(ids))).all():
        r.status, r.tries, r.next_try_at = DeliveryStatus.PENDING, 0, now
        s.add(r)
        n += 1
    return n


@dataclass
class WebhookSettings:
    url: str
    secret: Secret
    max_tries: int = 8
    backoff: float = 30.0  # seconds before the 2nd try; doubles each time
    max_backoff: float = 3600.0
    timeout: float = 15.0
    batch: int = 20

    @classmethod
    def from_section(cls, section: dict[str, Any]) -> WebhookSettings | None:
        """`[webhook] url, secret, max_tries, backoff`; None when no url is configured."""
        import os

        url = section.get("url")
        if not url:
            return None
        secret = section.get("secret") or os.environ.get("VERIBOT_WEBHOOK_SECRET", "")
        if not secret:
            raise ValueError("[webhook] url is set but no secret (config or VERIBOT_WEBHOOK_SECRET)")
        return cls(url=url, secret=Secret(secret), max_tries=int(section.get("max_tries", 8)),
                   backoff=float(section.get("backoff", 30)), max_backoff=float(section.get("max_backoff", 3600)),
                   timeout=float(section.get("timeout", 15)))


class WebhookPusher:
    def __init__(self, db: Any, settings: WebhookSettings, clock: Callable[[], datetime] = utcnow) -> None:
        self.db = db
        self.settings = settings
        self.clock = clock

    def _lease(self, s: Session, ids: list[int] | None = None) -> list[tuple[int, str, dict[str, Any], int]]:
        now = self.clock()
        q = select(WebhookDelivery).where(WebhookDelivery.status == DeliveryStatus.PENDING)
        if ids is None:
            q = q.where(WebhookDelivery.next_try_at <= now).order_by(WebhookDelivery.next_try_at).limit(self.settings.batch)
        else:  # these, due or not (`veribot webhook resend`)
            q = q.where(WebhookDelivery.id.in_(ids)).order_by(WebhookDelivery.id)
        if s.get_bind().dialect.name == "postgresql":
            q = q.with_for_update(skip_locked=True)
        out = []
        for r in s.exec(q).all():
            r.next_try_at = now + timedelta(seconds=self.settings.timeout * 2)  # lease while we send
            s.add(r)
            out.append((r.id, r.idempotency_key, r.payload, r.tries))
        return out

    async def push_due(self, http: Any, ids: list[int] | None = None) -> int:
        """Send every due delivery (or the pending ones of `ids`) once; returns how many were delivered."""
        due = await self.db.arun(lambda s: self._lease(s, ids))
        delivered = 0
        for rid, key, payload, tries in due:
            error, permanent = await self._send(http, key, payload)
            await self.db.arun(lambda s, r=rid, e=error, p=permanent, t=tries: self._settle(s, r, e, p, t))
            delivered += error is None
        return delivered

    async def _send(self, http: Any, key: str, payload: dict[str, Any]) -> tuple[str | None, bool]:
        import aiohttp

        body = canonical(payload)
        ts = str(int(time.time()))
        headers = {"Content-Type": "application/json; charset=utf-8", "Idempotency-Key": key,
                   "X-Veribot-Timestamp": ts, "X-Veribot-Signature": sign(self.settings.secret, ts, body)}
        try:
            async with http.post(self.settings.url, data=body, headers=headers,
                                 timeout=aiohttp.ClientTimeout(total=self.settings.timeout)) as resp:
                if 200 <= resp.status < 300:
                    return None, False
                permanent = 400 <= resp.status < 500 and resp.status not in (408, 425, 429)
                return f"HTTP {resp.status}", permanent
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            return f"{type(exc).__name__}", False

    def _settle(self, s: Session, rid: int, error: str | None, permanent: bool, tries: int) -> None:
        r = s.get(WebhookDelivery, rid)
        if r is None:
            return  # purged meanwhile
        now = self.clock()
        r.tries = tries + 1
        if error is None:
            r.status, r.delivered_at, r.last_error = DeliveryStatus.DELIVERED, now, ""
        else:
            r.last_error = error[:500]
            if permanent or r.tries >= self.settings.max_tries:
                r.status = DeliveryStatus.DEAD
                log.warning("webhook delivery %s dead after %d tries: %s", rid, r.tries, error)
            else:
                delay = min(self.settings.backoff * 2 ** (r.tries - 1), self.settings.max_backoff)
                r.next_try_at = now + timedelta(seconds=delay)
        s.add(r)

    async def run(self, stop: asyncio.Event, poll: float = 5.0) -> None:
        import aiohttp

        async with aiohttp.ClientSession() as http:
            while not stop.is_set():
                try:
                    await self.push_due(http)
                except Exception:
                    log.exception("webhook push failed; retrying")
                try:
                    await asyncio.wait_for(stop.wait(), poll)
                except TimeoutError:
                    pass
