"""A live SIP call (either direction) as the rest of veribot sees it: its media stream,
how it ended, hang-up and blind transfer."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bot.telephony.media import MediaStream

log = logging.getLogger(__name__)


@dataclass
class SipCall:
    call_id: str
    direction: str  # "inbound" | "outbound"
    remote_number: str  # the other party's user part (mask before logging)
    media: MediaStream
    headers: dict[str, str] = field(default_factory=dict)
    started: float = field(default_factory=time.monotonic)
    ended: asyncio.Event = field(default_factory=asyncio.Event)
    end_reason: str = ""  # remote_bye | local_hangup | media_timeout | max_length | transferred
    _hangup: Callable[[], None] | None = None
    _refer: Callable[[str], None] | None = None
    _transfer_result: asyncio.Future[int] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def finish(self, reason: str) -> None:
        """Mark the call over (idempotent); media is closed by the endpoint."""
        if not self.ended.is_set():
            self.end_reason = reason
            self.ended.set()
            if reason == "remote_bye":
                self.media.stop_sending()  # no RTP after the far end's BYE
            else:
                self.media.clear()

    def hangup(self) -> None:
        if self.ended.is_set():
            return
        if self._hangup is not None:
            try:
                self._hangup()
            except (ValueError, OSError) as exc:
                log.debug("hang-up of %s: %s", self.call_id, exc)
        self.finish("local_hangup")

    async def transfer(self, target_uri: str, answer_within: float = 15.0) -> bool:
        """Blind transfer (REFER). True when the far end reports the target answered
        (final NOTIFY 2xx); our leg is then hung up."""
        if self._refer is None or self.ended.is_set():
            return False
        self._transfer_result = asyncio.get_running_loop().create_future()
        self._refer(target_uri)
        try:
            status = await asyncio.wait_for(asyncio.shield(self._transfer_result), answer_within)
        except TimeoutError:
            return False
        finally:
            self._transfer_result = None
        if 200 <= status < 300:
            if self._hangup is not None and not self.ended.is_set():
                self._hangup()
            self.finish("transferred")
            return True
        return False

    def transfer_progress(self, status: int) -> None:
        fut = self._transfer_result
        if fut is not None and not fut.done() and status >= 200:
            fut.set_result(status)


@dataclass(frozen=True)
class DialOutcome:
    """What `SipEndpoint.dial` got: a live call, or the final status that ended the attempt."""

    call: SipCall | None
    status: int | None  # final SIP status (200 when answered; None when nothing came back)
    reason: str = ""
    retry_after: float | None = None
