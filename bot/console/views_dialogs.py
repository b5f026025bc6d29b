"""Admin pages for dialog scripts: list with versions, the YAML editor with live lint,
the simulator panel, publish and roll back."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from aiohttp import web

from bot.console import dialogs, views_recordings
from bot.console.context import console
from bot.console.labels import N_, Labeller, ScriptLabels, word
from bot.console.page import audit_event, db, gettext, labeller, render, require
from bot.console.simulator import ChatError
from storage.models import Role


async def _json_body(request: web.Request) -> dict[str, Any]:
    """The JSON object of an editor/simulator request, at most `[console] max_body_kb`."""
    cap = console(request).settings.max_body_kb * 1024
    raw = await request.content.read(cap + 1)
    if len(raw) > cap:
        raise web.HTTPRequestEntityTooLarge(max_size=cap, actual_size=len(raw))
    try:
        body = json.loads(raw or b"{}")
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:
        raise web.HTTPBadRequest(text=f"request is not JSON: {exc}") from exc
    if not isinstance(body, dict):
        raise web.HTTPBadRequest(text="request must be a JSON object")
    return body


async def _files(request: web.Request) -> dict:
    return await asyncio.to_thread(dialogs.script_files, console(request).dialogs_dir)


async def list_page(request: web.Request) -> web.Response:
    await require(request, Role.ADMIN)
    entries = await db(request, dialogs.list_dialogs, await _files(request))
    return render(request, "dialogs.html", entries=entries)


async def editor_page(request: web.Request, slug: str = "", errors: list[dict[str, object]] | None = None,
                      source: str = "") -> web.Response:
    """The editor; after a refused publish (`errors`), with the draft as typed and why, status 422."""
    await require(request, Role.ADMIN)
    key = slug or request.match_info["slug"]
    name, _, locale = key.rpartition(".")
    rows = await db(request, dialogs.versions, name, locale)
    active = next((r for r in rows if r.active), None)
    files = await _files(request)
    if not source and active is not None:
        source = active.yaml_text
    elif not source and key in files:
        source = files[key][1]
    elif not source:
        raise web.HTTPNotFound(text=gettext(request)(N_("no such dialog")))
    script = await views_recordings.script_of(request, name, locale, active.version if active else None)
    recordings = await views_recordings.coverage(request, script) if script is not None else None
    published = request.query.get("published", "")
    notice = ""
    if active is not None and published == active.version:
        notice = gettext(request)(N_("Version %(v)s is published and active: new calls use it.")) % {"v": published}
    return render(request, "editor.html", status=422 if errors else 200, slug=key, name=name, locale=locale,
                  source=source, versions=rows, active=active, recordings=recordings, notice=notice,
                  refused=errors or [],
                  labels=labeller(request, ScriptLabels.of(script) if script is not None else None))  # step titles


SPEAKABLE = {"unknown": N_("It says {%(var)s}, which nothing fills (unknown variable): set %(key)s."),
             "empty": N_("It says {%(var)s}, but %(key)s is empty: set it first."),
             "language": N_("It says {%(var)s} in another language than the script's: give that name in %(key)s "
                            "first.")}
# where an admin sets what a prompt says: the Agency page for the official number and badge
SET_ON_AGENCY_PAGE = {"badge": N_("the badge (Agency page)"), "callback_number": N_("the official number (Agency page)")}


def spoken_problems(request: web.Request, script: Any, variables: dict[str, Any],
                    source: str = "") -> list[dict[str, object]]:
    """What `script` would say empty or unknown with the desk's `variables` (bot.dialog.speakable,
    as `dialogs lint --config` and `serve` check), line-numbered in `source`, in the reader's words."""
    from bot.dialog.speakable import problems

    _ = gettext(request)
    lines = source.splitlines()
    templates = dict(script.prompt_templates())
    out: list[dict[str, object]] = []
    for p in problems(script, variables):
        line = _line_of(lines, "{" + p.var + "}", templates.get(p.where, ""))
        key = _(SET_ON_AGENCY_PAGE[p.var]) if p.var in SET_ON_AGENCY_PAGE else p.key
        out.append({"line": line, "message": _(SPEAKABLE[p.kind]) % {"var": p.var, "key": key},
                    "var": p.var})
    return out


def _line_of(lines: list[str], var: str, template: str) -> int:
    """The line of the prompt saying `var` (not a comment naming it), else 1."""
    said = [i for i, text in enumerate(lines, 1) if var in text and not text.lstrip().startswith("#")]
    return next((i for i in said if template[:8] in lines[i - 1]), said[0] if said else 1)


async def _checked(request: web.Request, source: str) -> tuple[Any, list[dict[str, object]]]:
    """The script and its problems: lint's, then what it would say empty or unknown."""
    script, errors = await dialogs.lint_off_loop(source)
    if script is not None:
        errors = spoken_problems(request, script, console(request).variables, source)
    return script, errors


async def lint(request: web.Request) -> web.Response:
    await require(request, Role.ADMIN)
    body = await _json_body(request)
    script, errors = await _checked(request, str(body.get("source", "")))
    return web.json_response({"ok": script is not None and not errors, "errors": errors,
                              "version": script.version if script else None})


async def simulate_start(request: web.Request) -> web.Response:
    user = await require(request, Role.ADMIN)
    body = await _json_body(request)
    script, errors = await dialogs.lint_off_loop(str(body.get("source", "")))
    if script is None:
        return web.json_response({"ok": False, "errors": errors}, status=422)
    person = {"name": str(body.get("person_name") or gettext(request)(N_("Test Person")))[:100]}
    sim = console(request).simulator
    chat_id, state = sim.start(user.id, script, person, console(request).variables)
    return web.json_response({"ok": True, "chat": chat_id, **_labelled(request, state, script)})


async def simulate_answer(request: web.Request) -> web.Response:
    user = await require(request, Role.ADMIN)
    body = await _json_body(request)
    sim = console(request).simulator
    chat = sim.chats.get(str(body.get("chat", "")))
    script = chat.conversation.script if chat is not None else None  # its titles label the result
    try:
        state = sim.answer(user.id, str(body.get("chat", "")), str(body.get("answer", "")))
    except ChatError as exc:
        return web.json_response({"ok": False, "message": str(exc)}, status=404)
    return web.json_response({"ok": True, **_labelled(request, state, script)})


SYSTEM_LINES = {"listen": N_("Listening: %(step)s"), "escalate": N_("Escalated to an operator (%(reason)s) at %(step)s"),
                "end": N_("Call ended: %(outcome)s"), "pause": N_("Pause: %(seconds)s s")}


def _line(labels: Labeller, line: dict[str, Any]) -> dict[str, Any]:
    """A simulator system line in the reader's language (the engine's own words otherwise)."""
    event = line.get("event")
    if event not in SYSTEM_LINES:
        return line
    params = {"step": labels.step(line.get("step")), "reason": word(line.get("reason"), labels._),
              "outcome": word(line.get("outcome"), labels._), "seconds": f"{line.get('seconds', 0):g}"}
    return {**line, "text": labels._(SYSTEM_LINES[event]) % params}


def _labelled(request: web.Request, state: dict[str, Any], script: Any = None) -> dict[str, Any]:
    """The chat state, and for a finished call its outcome, and its slots as the script titles them."""
    labels = labeller(request, ScriptLabels.of(script) if script is not None else None)
    state = {**state, "lines": [_line(labels, line) for line in state.get("lines", [])]}
    record = state.get("record")
    if not record:
        return state
    slots = {k: [labels.slot(k), labels.value(k, v)] for k, v in (record.get("slots") or {}).items()}
    return {**state, "labels": {"outcome": word(record.get("outcome"), labels._), "slots": slots}}


async def publish(request: web.Request) -> web.Response:
    user = await require(request, Role.ADMIN)
    form = await request.post()
    script, errors = await _checked(request, str(form.get("source", "")))
    if script is None:
        return web.json_response({"ok": False, "errors": errors}, status=422)
    if errors:  # it would say "{badge}" or "工号，" to residents: refused, naming the key
        return await editor_page(request, slug=dialogs.slug(script.name, script.locale), errors=errors,
                                 source=str(form.get("source", "")))
    row = await db(request, dialogs.publish, script, user.username)
    await audit_event(request, "dialog.publish", "dialog_version", row.id or "",
                      detail=f"{row.name}.{row.locale} version {row.version}")
    raise web.HTTPSeeOther(f"/dialogs/{dialogs.slug(row.name, row.locale)}?published={row.version}")


async def activate(request: web.Request) -> web.Response:
    await require(request, Role.ADMIN)
    version_id = int(request.match_info["version_id"])
    try:
        row = await db(request, dialogs.activate, version_id)
    except LookupError as exc:
        raise web.HTTPNotFound(text=str(exc)) from exc
    await audit_event(request, "dialog.activate", "dialog_version", version_id,
                      detail=f"{row.name}.{row.locale} version {row.version}")
    raise web.HTTPSeeOther(f"/dialogs/{dialogs.slug(row.name, row.locale)}")


def setup(app: web.Application) -> None:
    r = app.router
    r.add_get("/dialogs", list_page)
    r.add_post("/dialogs/lint", lint)
    r.add_post("/dialogs/simulate", simulate_start)
    r.add_post("/dialogs/simulate/answer", simulate_answer)
    r.add_post("/dialogs/publish", publish)
    r.add_post(r"/dialogs/versions/{version_id:\d+}/activate", activate)
    r.add_get(r"/dialogs/{slug:[A-Za-z0-9_.-]+}", editor_page)
    views_recordings.setup(app)
