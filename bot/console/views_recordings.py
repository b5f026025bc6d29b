"""Recorded prompts in the dialog editor: which prompts of the active version (or the file,
before anything is published) are recorded and which are spoken by TTS (coverage), upload
or record a take per fixed piece, listen to it, remove it. Takes belong to the version
(bot/campaigns/scripts/prompt_recordings.py); publishing carries the unchanged ones over."""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web
from sqlmodel import Session, select

from audio import wav
from audio.recordings import RecordingError, decode_upload
from bot.campaigns.scripts import prompt_recordings as pr
from bot.console import dialogs
from bot.console.context import console
from bot.console.labels import N_
from bot.console.page import audit_event, db, gettext, require
from storage.models import DialogVersion, PromptRecording, Role

ERRORS = {
    "too_large": N_("The file is too large (at most %(limit)s KB)."),
    "too_long": N_("The recording is too long (at most %(limit)s seconds)."),
    "too_short": N_("The recording is silent or too short."),
    "not_audio": N_("This is not a WAV or MP3 file."),
    "bad_wav": N_("The WAV file cannot be read."),
    "bad_mp3": N_("The MP3 file cannot be read."),
    "no_decoder": N_("MP3 files cannot be decoded on this server."),
}
STATES = {"recorded": N_("recorded"), "partly": N_("partly recorded"), "tts": N_("TTS")}


async def script_of(request: web.Request, name: str, locale: str, version: str | None) -> Any:
    """The script the editor shows recordings for: `version` (published or the file's), or
    without one the active version, else the file. None when there is no such script."""

    def find(s: Session) -> str | None:
        q = select(DialogVersion.yaml_text).where(DialogVersion.name == name, DialogVersion.locale == locale)
        q = q.where(DialogVersion.version == version) if version else q.where(DialogVersion.active == True)  # noqa: E712
        return s.exec(q).first()

    text = await db(request, find)
    if text is None:
        files = await asyncio.to_thread(dialogs.script_files, console(request).dialogs_dir)
        text = files.get(dialogs.slug(name, locale), (None, None))[1]
    if text is None:
        return None
    script, _ = await dialogs.lint_off_loop(text)
    if script is None or (version and script.version != version):
        return None
    return script


async def coverage(request: web.Request, script: Any) -> dict[str, Any]:
    """What the editor's "Recorded prompts" card shows."""
    takes = await db(request, pr.recorded_texts, script.name, script.locale, script.version)
    rows = pr.coverage(script, set(takes))
    _ = gettext(request)
    counts = {state: sum(r.state == state for r in rows) for state in STATES}
    return {"version": script.version, "rows": rows, "takes": takes, "counts": counts,
            "state_label": {k: _(v) for k, v in STATES.items()}}


def _slug(request: web.Request) -> tuple[str, str]:
    name, _, locale = request.match_info["slug"].rpartition(".")
    return name, locale


async def upload(request: web.Request) -> web.Response:
    """multipart: version, text (the fixed piece), file (WAV or MP3; the browser's own
    recordings arrive as WAV). JSON answer; a bad file is a 422 with a translated message."""
    user = await require(request, Role.ADMIN)
    _ = gettext(request)
    form = await request.post()  # bounded by client_max_size ([console] max_upload_mb): 413 past it
    field = form.get("file")
    if not isinstance(field, web.FileField):
        return web.json_response({"ok": False, "message": _("Choose a WAV or MP3 file.")}, status=422)
    name, locale = _slug(request)
    script = await script_of(request, name, locale, str(form.get("version", "")) or None)
    if script is None:
        raise web.HTTPNotFound(text=_("no such dialog"))
    data = field.file.read()
    try:
        pcm = await asyncio.to_thread(decode_upload, data)  # sox and numpy: off the event loop
    except RecordingError as exc:
        message = _(ERRORS.get(exc.code, N_("The recording was not accepted.")))
        return web.json_response({"ok": False, "message": message % {"limit": f"{exc.limit or 0:g}"}}, status=422)
    text = str(form.get("text", ""))
    try:
        row = await db(request, pr.save, script, text, pcm, user.username)
    except ValueError:
        return web.json_response({"ok": False, "message": _("This text is not a fixed part of any prompt.")},
                                 status=422)
    await audit_event(request, "recording.save", "prompt_recording", row.id or "",
                      detail=f"{name}.{locale} version {script.version}")
    return web.json_response({"ok": True, "seconds": round(len(pcm) / 2 / wav.CALL_RATE, 1)})


async def remove(request: web.Request) -> web.Response:
    await require(request, Role.ADMIN)
    form = await request.post()
    name, locale = _slug(request)
    script = await script_of(request, name, locale, str(form.get("version", "")) or None)
    if script is None:
        raise web.HTTPNotFound(text=gettext(request)("no such dialog"))
    n = await db(request, pr.remove, script, str(form.get("text", "")))
    await audit_event(request, "recording.remove", "prompt_recording", "",
                      detail=f"{name}.{locale} version {script.version}: {n} removed")
    raise web.HTTPSeeOther(f"/dialogs/{dialogs.slug(name, locale)}#recordings")


async def listen(request: web.Request) -> web.Response:
    """One take as a WAV file (8 kHz), for the editor's player."""
    await require(request, Role.ADMIN)
    name, locale = _slug(request)
    rid = int(request.match_info["rid"])
    row = await db(request, lambda s: s.get(PromptRecording, rid))
    if row is None or (row.dialog_name, row.locale) != (name, locale):
        raise web.HTTPNotFound(text=gettext(request)(N_("no such recording")))
    return web.Response(body=wav.wav_bytes(bytes(row.pcm)), content_type="audio/wav")


def setup(app: web.Application) -> None:
    r = app.router
    r.add_post(r"/dialogs/{slug:[A-Za-z0-9_.-]+}/recordings", upload)
    r.add_post(r"/dialogs/{slug:[A-Za-z0-9_.-]+}/recordings/remove", remove)
    r.add_get(r"/dialogs/{slug:[A-Za-z0-9_.-]+}/recordings/{rid:\d+}.wav", listen)
