"""`veribot call` (one call through the real speech pipeline, offline) and
`veribot models list|fetch|path`."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from pathlib import Path


def register(sub) -> None:
    p = sub.add_parser("call", help="run one call through the speech pipeline with recorded caller audio")
    p.add_argument("--dialog", required=True, type=Path)
    p.add_argument("--person", required=True, help="JSON object or a path to a JSON file")
    p.add_argument("--caller-audio", required=True, type=Path,
                   help="directory: one file per caller turn in name order (.wav, .dtmf, .silence)")
    p.add_argument("--json", action="store_true", help="print the call record as JSON")
    p.add_argument("--out", type=Path, help="where to write bot.wav, caller.wav, record.json and clips/")
    p.add_argument("--config", type=Path)
    p.add_argument("--chunk", type=int, default=160, help="caller audio chunk in samples (default 160 = 20 ms)")
    p.set_defaults(func=cmd_call)

    m = sub.add_parser("models", help="speech models: list, fetch, path")
    msub = m.add_subparsers(dest="models_command", required=True)
    ml = msub.add_parser("list", help="known models and whether they are installed")
    ml.add_argument("--config", type=Path)
    ml.set_defaults(func=cmd_models_list)
    mf = msub.add_parser("fetch", help="download, verify (size, SHA-256) and unpack a model")
    mf.add_argument("locale")
    mf.add_argument("--url", help="download from here instead of the official URL (a mirror, file://)")
    mf.add_argument("--sha256", help="expected SHA-256 (overrides the pinned one)")
    mf.add_argument("--size", type=int, help="expected size in bytes")
    mf.add_argument("--config", type=Path)
    mf.set_defaults(func=cmd_models_fetch)
    mp = msub.add_parser("path", help="print the directory of an installed model")
    mp.add_argument("locale")
    mp.add_argument("--config", type=Path)
    mp.set_defaults(func=cmd_models_path)


def _settings(config_path):
    from bot.config import load_config
    from bot.pipeline.resources import SpeechSettings

    config = load_config(config_path)
    return config, SpeechSettings.from_config(config)


def cmd_models_list(args: argparse.Namespace) -> int:
    from audio import models

    _, s = _settings(args.config)
    for locale, spec in models.MODELS.items():
        state = "installed" if models.installed(locale, s.models_dir) else "missing"
        source = spec.url or f"pip package {spec.package}"
        print(f"{locale}\t{spec.name}\t{state}\t{source}")
    return 0


def cmd_models_fetch(args: argparse.Namespace) -> int:
    from audio import models

    _, s = _settings(args.config)
    try:
        path = models.fetch(args.locale, s.models_dir, url=args.url, sha256=args.sha256, size=args.size)
    except (models.FetchError, models.ModelMissing) as exc:
        print(f"veribot models fetch: {exc}", file=sys.stderr)
        return 1
    print(path)
    return 0


def cmd_models_path(args: argparse.Namespace) -> int:
    from audio import models

    _, s = _settings(args.config)
    try:
        print(models.model_path(args.locale, s.models_dir))
    except models.ModelMissing as exc:
        print(f"veribot models path: {exc}", file=sys.stderr)
        return 1
    return 0


def load_turns(directory: Path):
    """Caller turns from DIR, in name order: .wav speech, .dtmf keys, .silence no input."""
    from audio.wav import read_caller_recording
    from bot.pipeline.offline import CallerTurn

    if not directory.is_dir():
        raise ValueError(f"--caller-audio {directory}: not a directory")
    turns = []
    for f in sorted(p for p in directory.iterdir() if p.is_file() and not p.name.startswith(".")):
        ext = f.suffix.lower()
        if ext == ".wav":
            turns.append(CallerTurn("speech", pcm=read_caller_recording(f), name=f.name))
        elif ext == ".dtmf":
            keys = "".join(f.read_text(encoding="utf-8").split())
            turns.append(CallerTurn("dtmf", keys=keys, name=f.name))
        elif ext == ".silence":
            turns.append(CallerTurn("silence", name=f.name))
        else:
            raise ValueError(f"{f}: unknown caller turn type {ext!r} (use .wav, .dtmf or .silence)")
    return turns


def cmd_call(args: argparse.Namespace) -> int:
    from audio.models import ModelMissing
    from audio.wav import AudioFormatError, write_wav
    from bot.dialog.script import ScriptError, load_script
    from bot.simulate import load_person
    from bot.worker import configure_worker_process

    try:
        config, settings = _settings(args.config)
        script = load_script(args.dialog)
        person = load_person(args.person)
        turns = load_turns(args.caller_audio)
    except ScriptError as exc:
        print(exc, file=sys.stderr)
        return 2
    except (OSError, ValueError, AudioFormatError) as exc:
        print(f"veribot call: {exc}", file=sys.stderr)
        return 2
    configure_worker_process()
    out = args.out or settings.audio_dir / time.strftime(f"call-%Y%m%d-%H%M%S-{os.getpid()}")
    try:
        out.mkdir(parents=True, exist_ok=True)
        (out / "clips").mkdir(exist_ok=True)
        record, transport = asyncio.run(_call(config, script, person, turns, out, args.chunk))
    except ModelMissing as exc:
        print(f"veribot call: {exc}", file=sys.stderr)
        return 2
    write_wav(out / "bot.wav", bytes(transport.output().track))
    write_wav(out / "caller.wav", bytes(transport.input().track))
    (out / "record.json").write_text(json.dumps(record, ensure_ascii=False, indent=2), encoding="utf-8")
    text = json.dumps(record, ensure_ascii=False, indent=None if args.json else 2)
    print(text)
    print(f"veribot call: bot audio in {out / 'bot.wav'}", file=sys.stderr)
    return 0


async def _call(config, script, person, turns, out: Path, chunk: int):
    from audio.models import ModelMissing
    from bot.attempt.offline import OfflineAttempt
    from bot.dialog.speakable import with_sample_code
    from bot.pipeline.offline import LineTransport
    from bot.pipeline.resources import SpeechResources
    from bot.pipeline.run import run_call

    loop = asyncio.get_running_loop()
    resources = await loop.run_in_executor(None, SpeechResources.load, config, [script.locale])
    try:
        ear = resources.ear(script.locale)
        if not ear.hears:  # a call through the speech pipeline that could not hear: say why
            raise ModelMissing(ear.detail)
        transport = LineTransport(turns, chunk_samples=chunk)
        attempt = OfflineAttempt(out.name, person, script, out / "clips")  # placed as every call is
        request = attempt.request(with_sample_code(config.variables))  # never "{call_code}" spoken
        record = await run_call(transport, request, resources, audio_dir=attempt.clip_dir)
        return record.to_json(), transport
    finally:
        resources.close()
