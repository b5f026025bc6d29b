"""Operators' pages: the live queue, claiming, the case page, resolving, caller audio."""

from __future__ import annotations

import asyncio
import json
import logging

from aiohttp import web

from bot.console import cases
from bot.console.context import console
from bot.console.page import audit_event, current_user, db, render, require, session_user
from storage.models import Role

log = logging.getLogger("veribot.console.cases")
WORKERS = (Role.ADMIN, Role.OPERATOR)
STREAM_POLL_SECONDS = 2.0


def _case_id(request: web.Request) -> int:
    return int(request.match_info["case_id"])


async def queue_page(request: web.Request) -> web.Response:
    await require(request, *WORKERS)
    rows = await db(request, cases.queue)
    return render(request, "queue.html", rows=rows)


async def queue_json(request: web.Request) -> web.Response:
    await require(request, *WORKERS)
    return web.json_response({"cases": await db(request, cases.queue)})


async def queue_stream(request: web.Request) -> web.StreamResponse:
    """Server-sent events: the queue whenever it changes (checked every couple of seconds).
    The stream ends as soon as the session does (logout, disabled account, timeout)."""
    await require(request, *WORKERS)
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-store",
                                           "X-Accel-Buffering": "no"})
    await response.prepare(request)
    last = None
    try:
        while await session_user(request, touch=False) is not None:
            rows = await db(request, cases.queue)
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
        await db(request, cases.claim, case_id, user.id, console(request).settings.claim_minutes)
    except cases.CaseError as exc:
        await audit_event(request, f"case.claim_refused.{exc.code}", "escalation", case_id)
        status = 404 if exc.code == "missing" else 409
        return web.json_response({"error": exc.code, "message": str(exc)}, status=status)
    await audit_event(request, "case.claim", "escalation", case_id)
    return web.json_response({"ok": True, "url": f"/cases/{case_id}"})


async def _check_access(request: web.Request, case_id: int) -> None:
    """Operators may not open a case another operator holds (403 + audit row)."""
    user = await require(request, *WORKERS)
    try:
        held_by = await db(request, cases.holder, case_id)
    except cases.CaseError as exc:
        raise web.HTTPNotFound(text=str(exc)) from exc
    if held_by is not None and held_by != user.id and user.role != Role.ADMIN:
        await audit_event(request, "denied.case", "escalation", case_id, detail="held by another operator")
        log.warning("denied case %s to user id %s: held by another operator", case_id, user.id)
        raise web.HTTPForbidden(text="another operator holds this case")


async def case_page(request: web.Request) -> web.Response:
    case_id = _case_id(request)
    await _check_access(request, case_id)
    view = await db(request, cases.load_case, case_id)
    await audit_event(request, "case.view", "escalation", case_id)
    return render(request, "case.html", case=view, slots=cases.SLOTS, error="")


async def resolve(request: web.Request) -> web.Response:
    case_id = _case_id(request)
    await _check_access(request, case_id)
    user = current_user(request)
    form = {k: str(v) for k, v in (await request.post()).items()}
    try:
        how = cases.Resolution(form.get("action", ""))
        slots = cases.parse_slots(form)
        await db(request, cases.resolve, case_id, user.id, slots, form.get("note", ""), how,
                 outbox=console(request).results_outbox)
    except (ValueError, cases.CaseError) as exc:
        view = await db(request, cases.load_case, case_id)
        return render(request, "case.html", status=400, case=view, slots=cases.SLOTS, error=str(exc))
    await audit_event(request, f"case.{how.value}", "escalation", case_id,
                      detail="slots corrected: " + ",".join(sorted(slots)) if slots else "")
    raise web.HTTPSeeOther("/queue")


async def release(request: web.Request) -> web.Response:
    user = await require(request, *WORKERS)
    case_id = _case_id(request)
    if not await db(request, cases.release, case_id, user.id):
        await audit_event(request, "case.release_refused", "escalation", case_id, detail="not held by this user")
        raise web.HTTPConflict(text="you do not hold this case")
    await audit_event(request, "case.release", "escalation", case_id)
    raise web.HTTPSeeOther("/queue")


async def audio(request: web.Request) -> web.StreamResponse:
    """Caller audio of one turn, from the call's own audio directory only."""
    case_id = _case_id(request)
    await _check_access(request, case_id)
    turn_id = int(request.match_info["turn_id"])
    view = await db(request, cases.load_case, case_id)
    turn = next((t for t in view.turns if t.id == turn_id), None)
    if turn is None or not turn.audio_path:
        raise web.HTTPNotFound(text="no audio for this turn")
    real = await asyncio.to_thread(cases.audio_file, turn.audio_path, view.attempt.audio_dir,
                                   console(request).var_dir)
    if real is None:
        raise web.HTTPNotFound(text="audio file not available")
    await audit_event(request, "case.audio_playback", "turn", turn_id)
    return web.FileResponse(real, headers={"Content-Type": "audio/wav", "Cache-Control": "no-store"})


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
