"""Operators' pages: the live queue, claiming, the case page, resolving, caller audio."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from typing import Any

from aiohttp import web

from bot.attempt.resolution import AuditEntry
from bot.console import cases
from bot.console.context import console
from bot.console.i18n import local_time
from bot.console.labels import N_, Labeller, word
from bot.console.page import (
    audit_event,
    audit_view,
    client,
    current_user,
    db,
    gettext,
    labeller,
    render,
    require,
    session_user,
)
from bot.console.scripts import script_labels
from bot.console.security import query_int
from bot.console.slots import list_text
from storage.models import Role

log = logging.getLogger("veribot.console.cases")
WORKERS = (Role.ADMIN, Role.OPERATOR)
STREAM_POLL_SECONDS = 2.0
PLAYBACK_SECONDS = 60.0
POLLED_VIEW_SECONDS = 60.0  # a view fetched again and again is audited once a minute per user


def _case_id(request: web.Request) -> int:
    return int(request.match_info["case_id"])


def _campaign_scripts(s: Any, ids: set[int], dialogs_dir: Any) -> dict[int, Any]:
    from storage.models import Campaign

    return {i: script_labels(s, camp, None, None, dialogs_dir) for i in ids if (camp := s.get(Campaign, i))}


def _labelled(request: web.Request, rows: list[dict[str, Any]], scripts: dict[int, Any]) -> list[dict[str, Any]]:
    """Queue rows with their reason and step in the reader's language (steps as the case's script names them)."""
    labels = labeller(request)
    _ = labels._
    out = []
    for r in rows:
        step = labeller(request, scripts.get(r["campaign_id"])).step(r["step"])
        row = {**r, "reason_label": word(r["reason"], _), "step_label": step,
               "wait_label": _wait(_, r["age_minutes"]), "overdue": r["callback"] and r["due_minutes"] < 0}
        if r["transferred"]:  # the operator who took the call claims and closes this case
            row["reason_label"] = _("Transferred to an operator: whoever took the call closes this case")
        if r["callback"]:  # the bot told the resident when staff would call back
            row["reason_label"] = _("Call back: asked for a person")
            due = r["due_minutes"]
            row["wait_label"] += " · " + (_("overdue by %(t)s") % {"t": _wait(_, -due)} if due < 0
                                          else _("due in %(t)s") % {"t": _wait(_, due)})
        out.append(row)
    return out


def _callback_minutes(request: web.Request) -> float:
    raw = console(request).variables.get("callback_minutes", "120")
    return float(raw) if str(raw).isdigit() else 120.0


async def _queue(request: web.Request) -> list[dict[str, Any]]:
    rows = await db(request, cases.queue, None, _callback_minutes(request))
    scripts = await db(request, _campaign_scripts, {r["campaign_id"] for r in rows}, console(request).dialogs_dir)
    return _labelled(request, rows, scripts)


def _wait(_: Callable[[str], str], minutes: int) -> str:
    if minutes < 60:
        return _("%(n)s min") % {"n": minutes}
    return _("%(h)s h %(m)s min") % {"h": minutes // 60, "m": minutes % 60}


async def queue_page(request: web.Request) -> web.Response:
    await require(request, *WORKERS)
    rows = await _queue(request)
    await audit_view(request, "queue.view", "queue", "", detail=f"rows={len(rows)}")
    return render(request, "queue.html", rows=rows, notice=await _handed_back_notice(request))


async def _handed_back_notice(request: web.Request) -> str:
    """"Case #5 is back with the bot: it calls at 2026-12-05 09:00 (Asia/Shanghai)"; after 办结, "Case #5 is closed"."""
    closed = query_int(request, "closed")
    if closed is not None:
        return gettext(request)(N_("Case #%(id)s is closed: the answers are saved.")) % {"id": closed}
    back = query_int(request, "back")
    if back is None:
        return ""
    raw = str(back)
    found = await db(request, cases.handed_back, back)
    if found is None:
        return ""
    camp, when = found
    _ = gettext(request)
    if when is None:
        return _("Case #%(id)s is back with the bot: it calls when the campaign is resumed.") % {"id": raw}
    return _("Case #%(id)s is back with the bot: it calls at %(time)s (%(zone)s).") % {
        "id": raw, "time": local_time(when, camp.timezone), "zone": camp.timezone}


async def queue_json(request: web.Request) -> web.Response:
    await require(request, *WORKERS)
    rows = await _queue(request)
    await audit_view(request, "queue.view", "queue", "json", detail=f"rows={len(rows)}", every=POLLED_VIEW_SECONDS)
    return web.json_response({"cases": rows})


async def queue_stream(request: web.Request) -> web.StreamResponse:
    """Server-sent events: the queue whenever it changes (checked every couple of seconds).
    The stream ends as soon as the session does (logout, disabled account, timeout)."""
    await require(request, *WORKERS)
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-store",
                                           "X-Accel-Buffering": "no"})
    await response.prepare(request)
    await audit_event(request, "queue.stream", "queue")  # one row per open stream, not per update
    last = None
    try:
        while await session_user(request, touch=False) is not None:
            rows = await _queue(request)
            body = json.dumps({"cases": rows}, ensure_ascii=False)
            if body != last:
                await response.write(f"event: queue\ndata: {body}\n\n".encode())
                last = body
            else:
                await response.write(b": keep-alive\n\n")
            await asyncio.sleep(STREAM_POLL_SECONDS)
    except (ConnectionResetError, asyncio.CancelledError):
        pass
    return response


async def claim(request: web.Request) -> web.Response:
    user = await require(request, *WORKERS)
    case_id = _case_id(request)
    try:
        await db(request, cases.claim, case_id, user.id, console(request).settings.claim_minutes,
                 audit=AuditEntry(user.username, client(request)))  # the audit row commits with the claim
    except cases.CaseError as exc:
        await audit_event(request, f"case.claim_refused.{exc.code}", "escalation", case_id)
        status = 404 if exc.code == "missing" else 409
        return web.json_response({"error": exc.code, "message": _message(request, exc)}, status=status)
    return web.json_response({"ok": True, "url": f"/cases/{case_id}"})


async def _check_access(request: web.Request, case_id: int) -> None:
    """Operators may not open a case another operator holds (403 + audit row)."""
    user = await require(request, *WORKERS)
    try:
        held_by = await db(request, cases.holder, case_id)
    except cases.CaseError as exc:
        raise web.HTTPNotFound(text=_message(request, exc)) from exc
    if held_by is not None and held_by != user.id and user.role != Role.ADMIN:
        await audit_event(request, "denied.case", "escalation", case_id, detail="held by another operator")
        log.warning("denied case %s to user id %s: held by another operator", case_id, user.id)
        raise web.HTTPForbidden(text=gettext(request)(N_("another operator holds this case")))


def _message(request: web.Request, exc: cases.CaseError, labels: Labeller | None = None) -> str:
    """A refused action's message in the reader's language, slots named by their labels."""
    labels = labels or labeller(request)
    params = {k: labels.slot(v) if k == "slot" else v for k, v in exc.params.items()}
    return labels._(exc.msgid) % params if params else labels._(exc.msgid)


async def _case_page(request: web.Request, case_id: int, error: str = "", status: int = 200,
                     form: dict[str, str] | None = None) -> web.Response:
    view = await db(request, cases.load_case, case_id)
    labels = await _labels(request, view)
    view.unresolved = [f.slot for f in labels.fields if view.slots.get(f.slot) in (None, "", {})]
    lists = {f.slot: list_text(f.expect, view.slots.get(f.slot), labels._) for f in labels.fields if f.is_list}
    whole_call = await asyncio.to_thread(cases.call_recording_file, view.attempt.audio_dir, console(request).var_dir)
    return render(request, "case.html", status=status, case=view, fields=labels.fields, lists=lists, error=error,
                  form=form or {}, labels=labels, whole_call=whole_call is not None,
                  asks_notice=cases.notice_missing(view.slots, labels.fields))


async def _labels(request: web.Request, view: cases.CaseView) -> Labeller:
    """The case's script (the version its call ran) for its slots and their words."""
    script = await db(request, script_labels, view.campaign, view.attempt.dialog_name,
                      view.attempt.dialog_version, console(request).dialogs_dir)
    return labeller(request, script)


async def case_page(request: web.Request) -> web.Response:
    case_id = _case_id(request)
    await _check_access(request, case_id)
    await audit_event(request, "case.view", "escalation", case_id)
    return await _case_page(request, case_id)


async def resolve(request: web.Request) -> web.Response:
    """Close the case or hand it back. Only fields the operator changed are corrections; a
    form with a bad value comes back with everything as typed; closing a case whose
    prevention notice was not acknowledged needs the reason in the note."""
    case_id = _case_id(request)
    await _check_access(request, case_id)
    user = current_user(request)
    form = {k: str(v) for k, v in (await request.post()).items()}
    _ = gettext(request)
    try:
        how = cases.Resolution(form.get("action", ""))
    except ValueError:
        return await _case_page(request, case_id, _("Choose Close case or Hand back to the bot."), 400, form)
    view = await db(request, cases.load_case, case_id)
    labels = await _labels(request, view)
    region = str(console(request).campaigns_config.get("region") or "CN")
    try:  # the address parser: off the loop
        entered = await asyncio.to_thread(cases.parse_slots, form, labels.fields, region, _)
        current = view.slots
        slots = cases.changed_only(entered, current)
        note = form.get("note", "").strip()
        if how == cases.Resolution.CLOSE and cases.notice_missing({**current, **slots}, labels.fields):
            reason = form.get("notice_reason", "").strip()
            if not reason:
                raise cases.CaseError("notice_reason", N_(
                    "The prevention notice was not acknowledged: give the reason before closing the case."))
            note = f"{note}\n[{_('notice not acknowledged')}] {reason}".strip()
        audit = AuditEntry(user.username, client(request),
                           detail="slots corrected: " + ",".join(sorted(slots)) if slots else "")
        await db(request, cases.resolve, case_id, user.id, slots, note, how,
                 outbox=console(request).results_outbox, audit=audit)  # the audit row commits with it
    except cases.CaseError as exc:
        return await _case_page(request, case_id, _message(request, exc, labels), 400, form)
    raise web.HTTPSeeOther(f"/queue?back={case_id}" if how == cases.Resolution.RETURN_TO_BOT else f"/queue?closed={case_id}")


async def release(request: web.Request) -> web.Response:
    user = await require(request, *WORKERS)
    case_id = _case_id(request)
    if not await db(request, cases.release, case_id, user.id, AuditEntry(user.username, client(request))):
        await audit_event(request, "case.release_refused", "escalation", case_id, detail="not held by this user")
        raise web.HTTPConflict(text=gettext(request)(N_("you do not hold this case")))
    raise web.HTTPSeeOther("/queue")


async def audio(request: web.Request) -> web.StreamResponse:
    """Caller audio of one turn, from the call's own audio directory only."""
    case_id = _case_id(request)
    await _check_access(request, case_id)
    turn_id = int(request.match_info["turn_id"])
    view = await db(request, cases.load_case, case_id)
    turn = next((t for t in view.turns if t.id == turn_id), None)
    if turn is None or not turn.audio_path:
        raise web.HTTPNotFound(text=gettext(request)(N_("no audio for this turn")))
    real = await asyncio.to_thread(cases.audio_file, turn.audio_path, view.attempt.audio_dir,
                                   console(request).var_dir)
    if real is None:
        raise web.HTTPNotFound(text=gettext(request)(N_("audio file not available")))
    if _first_request_of_a_playback(request, turn_id):
        await audit_event(request, "case.audio_playback", "turn", turn_id)
    return web.FileResponse(real, headers={"Content-Type": "audio/wav", "Cache-Control": "no-store"})


async def call_audio(request: web.Request) -> web.StreamResponse:
    """The whole call's stereo recording (bot left, resident right), when its campaign keeps one."""
    case_id = _case_id(request)
    await _check_access(request, case_id)
    view = await db(request, cases.load_case, case_id)
    real = await asyncio.to_thread(cases.call_recording_file, view.attempt.audio_dir, console(request).var_dir)
    if real is None:
        raise web.HTTPNotFound(text=gettext(request)(N_("audio file not available")))
    if _first_request_of_a_playback(request, -(view.attempt.id or 0)):  # keyed apart from the turns' ids
        await audit_event(request, "case.call_playback", "attempt", view.attempt.id or "")
    return web.FileResponse(real, headers={"Content-Type": "audio/wav", "Cache-Control": "no-store"})


def _first_request_of_a_playback(request: web.Request, turn_id: int) -> bool:
    """One audit row per playback: a browser fetches one clip in several range requests
    (and again when the operator seeks), so only a request from the start of the file
    that the same user has not made for this turn in the last minute counts."""
    start = request.headers.get("Range", "bytes=0-").removeprefix("bytes=").split("-")[0]
    if start not in ("", "0"):
        return False
    plays = console(request).recent_plays
    now = time.monotonic()
    for key in [k for k, t in plays.items() if now - t > PLAYBACK_SECONDS]:
        del plays[key]
    key = (current_user(request).id or 0, turn_id)
    if key in plays:
        return False
    plays[key] = now
    return True


def setup(app: web.Application) -> None:
    r = app.router
    r.add_get("/queue", queue_page)
    r.add_get("/queue.json", queue_json)
    r.add_get("/queue/stream", queue_stream)
    r.add_post(r"/cases/{case_id:\d+}/claim", claim)
    r.add_get(r"/cases/{case_id:\d+}", case_page)
    r.add_post(r"/cases/{case_id:\d+}/resolve", resolve)
    r.add_post(r"/cases/{case_id:\d+}/release", release)
    r.add_get(r"/cases/{case_id:\d+}/audio/{turn_id:\d+}", audio)
    r.add_get(r"/cases/{case_id:\d+}/audio/call", call_audio)
