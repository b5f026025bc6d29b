"""A raw SIP client on a loopback UDP socket for attack tests: it sends what it is told
(any source address on 127/8, any To tag, any SDP) and collects every reply."""

from __future__ import annotations

import asyncio
import socket
import uuid


def sdp_body(media_host: str, media_port: int) -> str:
    return (
        f"v=0\r\no=x 1 1 IN IP4 {media_host}\r\ns=x\r\nc=IN IP4 {media_host}\r\nt=0 0\r\n"
        f"m=audio {media_port} RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\n"
        "a=rtpmap:101 telephone-event/8000\r\na=sendrecv\r\n"
    )


class RawSip:
    def __init__(self, host: str = "127.0.0.1") -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((host, 0))
        self.sock.setblocking(False)
        self.host, self.port = self.sock.getsockname()
        self.replies: list[bytes] = []

    def close(self) -> None:
        self.sock.close()

    def request(self, method: str, target: tuple[str, int], *, call_id: str | None = None, to_tag: str = "",
                branch: str | None = None, cseq: int = 1, caller: str = "13812345678", body: str = "",
                cseq_method: str | None = None) -> tuple[str, str]:
        """Send one request; returns (Call-ID, branch)."""
        call_id = call_id or uuid.uuid4().hex
        branch = branch or "z9hG4bK" + uuid.uuid4().hex[:12]
        to = f"<sip:bot@{target[0]}>" + (f";tag={to_tag}" if to_tag else "")
        head = (
            f"{method} sip:bot@{target[0]}:{target[1]} SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP {self.host}:{self.port};rport;branch={branch}\r\n"
            f"From: <sip:{caller}@{self.host}>;tag=f{call_id[:6]}\r\nTo: {to}\r\n"
            f"Call-ID: {call_id}\r\nCSeq: {cseq} {cseq_method or method}\r\nMax-Forwards: 70\r\n"
            f"Contact: <sip:{caller}@{self.host}:{self.port}>\r\n"
        )
        if body:
            head += "Content-Type: application/sdp\r\n"
        self.sock.sendto((head + f"Content-Length: {len(body.encode())}\r\n\r\n" + body).encode(), target)
        return call_id, branch

    def invite(self, target: tuple[str, int], media: tuple[str, int] | None = None, **kw) -> tuple[str, str]:
        media = media or (self.host, 4000)
        return self.request("INVITE", target, body=sdp_body(*media), **kw)

    def drain(self) -> list[bytes]:
        while True:
            try:
                self.replies.append(self.sock.recv(65536))
            except BlockingIOError:
                return self.replies

    def statuses(self, call_id: str, method: str = "INVITE") -> list[int]:
        """Status codes received for (Call-ID, CSeq method), in arrival order."""
        out = []
        for r in self.drain():
            if f"Call-ID: {call_id}".encode() in r and f" {method}\r\n".encode() in r.split(b"CSeq:", 1)[-1][:40]:
                out.append(int(r.split(b" ", 2)[1]))
        return out

    async def wait_for(self, predicate, seconds: float = 5.0) -> None:
        for _ in range(int(seconds / 0.02)):
            self.drain()
            if predicate():
                return
            await asyncio.sleep(0.02)
        raise AssertionError("condition not reached")
