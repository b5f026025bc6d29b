"""Admin pages for campaigns: list and create, upload a list of people (errors by row),
start / pause / resume, live progress, the results table with filters, export."""

from __future__ import annotations

import asyncio
import dataclasses
import io
import logging
import tempfile
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from aiohttp import web

from bot.campaigns.dialing import trial_call
from bot.campaigns.results import export
from bot.campaigns.results import export_layout as layout
from bot.console import campaigns as camps
from bot.console import dialogs, live, people_upload, retries
from bot.console.context import console
from bot.console.i18n import local_time
from bot.console.labels import N_, word
from bot.console.page import audit_event, audit_view, client, db, gettext, labeller, render, require
from bot.console.scripts import script_labels
from bot.console.security import query_int
from storage.models import Campaign, PersonState, Role

log = logging.getLogger("veribot.console.campaigns")


def _id(request: web.Request) -> int:
    return int(request.match_info["campaign_id"])


async def _campaign(request: web.Request) -> Campaign:
    try:
        return await db(request, camps.get, _id(request))
    except LookupError as exc:
        raise web.HTTPNotFound(text=str(exc)) from exc


async def _scripts(request: web.Request) -> list[dialogs.DialogEntry]:
    """The scripts a campaign can run: the valid files under dialogs/ and the published versions."""
    files = await asyncio.to_thread(dialogs.script_files, console(request).dialogs_dir)
    entries = await db(request, dialogs.list_dialogs, files)
    return [e for e in entries if e.file or e.active_version]


def _default_slug(request: web.Request, scripts: list[dialogs.DialogEntry]) -> str:
    default = Path(str(console(request).campaigns_config.get("dialog_path") or "verification.zh-CN.yaml")).name
    return next((e.slug for e in scripts if e.file and Path(e.file).name == default), "")


async def list_page(request: web.Request, error: str = "", status: int = 200, chosen: str = "") -> web.Response:
    await require(request, Role.ADMIN)
    rows = await db(request, camps.list_campaigns)
    scripts = await _scripts(request)
    chosen = chosen or _default_slug(request, scripts)
    return render(request, "campaigns.html", status=status, rows=rows, error=error, scripts=scripts, chosen=chosen)


async def create(request: web.Request) -> web.Response:
    user = await require(request, Role.ADMIN)
    form = await request.post()
    section = dict(console(request).campaigns_config)
    scripts = await _scripts(request)
    choice = str(form.get("dialog", "")) or _default_slug(request, scripts)  # the form always names one
    script = next((e for e in scripts if e.slug == choice), None)
    if script is None:
        return await list_page(request, error=gettext(request)(N_("Choose the script the campaign runs.")),
                               status=400)
    section["dialog_path"] = script.file or str(console(request).dialogs_dir / f"{script.slug}.yaml")
    section["dialog_name"] = script.name
    try:
        camp = await db(request, camps.create, str(form.get("name", "")), section, user.username, client(request))
    except camps.CampaignError as exc:
        return await list_page(request, error=gettext(request)(str(exc)), status=400, chosen=choice)
    raise web.HTTPSeeOther(f"/campaigns/{camp.id}")


ACTION_LABELS = {"start": N_("Start"), "pause": N_("Pause"), "resume": N_("Resume"), "cancel": N_("Cancel")}


def _why(request: web.Request, why: camps.Why) -> dict[str, Any]:
    _ = gettext(request)
    return {"text": _(why.msgid) % why.params, "dialling": why.dialling, "ok": why.ok, "next_call": why.next_call}


async def detail_page(request: web.Request, upload: people_upload.UploadReport | None = None,
                      error: str = "", status: int = 200, test_target: str = "") -> web.Response:
    await require(request, Role.ADMIN)
    camp = await _campaign(request)
    counts = await db(request, camps.counts, camp)
    why = await db(request, camps.explain, camp, counts)
    attempts = await db(request, camps.latest_attempts, _id(request))
    await audit_view(request, "campaign.view", "campaign", camp.id or "", detail=f"attempts={len(attempts)}")
    _ = gettext(request)
    return render(request, "campaign.html", status=status, camp=camp, counts=counts, upload=upload,
                  error=error, actions=camps.TRANSITIONS, why=_why(request, why), attempts=attempts,
                  action_labels={k: _(v) for k, v in ACTION_LABELS.items()}, retry_rows=retries.rows(camp),
                  reason=lambda a: camps.failure_reason(a, _), test_target=test_target,
                  test_call=request.query.get("test_call", "").isdigit(),
                  is_test=camp.name.endswith(trial_call.SUFFIX))


async def upload(request: web.Request) -> web.Response:
    user = await require(request, Role.ADMIN)
    camp = await _campaign(request)
    form = await request.post()
    field = form.get("file")
    if not isinstance(field, web.FileField):
        return await detail_page(request, error="Choose a file to upload.", status=400)
    data = field.file.read()
    report = await people_upload.import_upload(console(request), camp, field.filename or "people.csv", data,
                                               actor=user.username)
    if not report.ok:  # an accepted file is audited by the import itself (people.import)
        await audit_event(request, "people.import_rejected", "campaign", camp.id or "",
                          detail=f"errors={len(report.errors)}")
    return await detail_page(request, upload=report, status=200 if report.ok else 422)


async def change_state(request: web.Request) -> web.Response:
    user = await require(request, Role.ADMIN)
    action = request.match_info["action"]
    try:
        camp = await db(request, camps.change_state, _id(request), action, user.username, client(request))
    except LookupError as exc:
        raise web.HTTPNotFound(text=str(exc)) from exc
    except camps.CampaignError as exc:
        return await detail_page(request, error=str(exc), status=409)
    raise web.HTTPSeeOther(f"/campaigns/{camp.id}")


async def progress_json(request: web.Request) -> web.Response:
    await require(request, Role.ADMIN)
    camp = await _campaign(request)
    counts = await db(request, camps.counts, camp)
    why = _why(request, await db(request, camps.explain, camp, counts))
    attempts = await db(request, camps.latest_attempts, _id(request))  # 最近通话 refreshes with the progress
    return web.json_response({"status": camp.status, "status_label": word(camp.status, gettext(request)),
                              "why": why["text"], "dialling": why["dialling"], "ok": why["ok"], "counts": counts,
                              "attempts": _latest(request, attempts, camp.timezone)})


async def live_json(request: web.Request) -> web.Response:
    """Calls in progress: who, state, step, duration and the last turns (read from the database,
    which every worker writes as the call goes; see bot/console/live.py)."""
    await require(request, Role.ADMIN)
    camp = await _campaign(request)
    calls = await db(request, live.live_calls, camp.id)
    await audit_view(request, "campaign.live_view", "campaign", camp.id or "", detail=f"calls={len(calls)}",
                     every=60.0)  # the campaign page polls it every few seconds
    labels = labeller(request, await _script_labels(request, camp))
    _ = labels._
    return web.json_response({"calls": [{
        "attempt_id": c["attempt_id"], "name": c["name"], "state": word(c["state"], _),
        "step": labels.step(c["step"]) if c["step"] else "", "duration": f"{c['seconds'] // 60}:{c['seconds'] % 60:02d}",
        "turns": [{"who": word(t["speaker"], _), "text": labels.turn_text(SimpleNamespace(**t))} for t in c["turns"]],
    } for c in calls], "empty": _("No call in progress.")})


async def test_call(request: web.Request) -> web.Response:
    """Phone a number or a local softphone now with the campaign's script; the call shows live on
    the companion test campaign's page (bot/campaigns/dialing/trial_call.py)."""
    user = await require(request, Role.ADMIN)
    camp = await _campaign(request)
    form = await request.post()
    raw = str(form.get("target", ""))[:64]
    cons = console(request)
    _ = gettext(request)
    if cons.call_runner is None:
        return await detail_page(request, error=_(N_(
            "No telephone line here: run `veribot serve` with the SIP endpoint on ([serve] sip = true).")),
            status=409, test_target=raw)
    try:
        target = trial_call.target_of(raw, str(cons.campaigns_config.get("region") or "CN"))
        trial = await db(request, trial_call.prepare, camp.id, target, user.username, client(request))
    except trial_call.TrialError as exc:
        return await detail_page(request, error=_(str(exc)), status=400, test_target=raw)
    task = asyncio.create_task(trial_call.run(cons.database, cons.call_runner, trial, cons.variables,
                                              cons.call_parser))
    cons.test_calls.add(task)
    task.add_done_callback(cons.test_calls.discard)
    raise web.HTTPSeeOther(f"/campaigns/{trial.campaign_id}?test_call={trial.claim.attempt_id}")


async def _script_labels(request: web.Request, camp: Campaign) -> Any:
    return await db(request, script_labels, camp, None, None, console(request).dialogs_dir)


async def settings(request: web.Request) -> web.Response:
    user = await require(request, Role.ADMIN)
    form = {k: str(v) for k, v in (await request.post()).items()}
    try:
        await db(request, camps.update_settings, _id(request), form, user.username, client(request))
    except LookupError as exc:
        raise web.HTTPNotFound(text=str(exc)) from exc
    except camps.CampaignError as exc:
        return await detail_page(request, error=gettext(request)(str(exc)), status=400)
    except retries.RetryFormError as exc:
        _ = gettext(request)
        msgid, outcome = (*exc.args, "")[:2]
        label = _(retries.OUTCOMES[outcome]) if outcome in retries.OUTCOMES else ""
        return await detail_page(request, error=_(msgid) % {"outcome": label}, status=400)
    raise web.HTTPSeeOther(f"/campaigns/{_id(request)}")


def _filter(request: web.Request, who: str = "") -> camps.ResultFilter:
    q = request.query
    state = q.get("state", "")
    health = q.get("health_code", "")
    if state and state not in set(PersonState):
        raise web.HTTPBadRequest(text="unknown state")
    if health and health not in ("green", "yellow", "red"):
        raise web.HTTPBadRequest(text="health_code: green, yellow or red")
    offset = query_int(request, "offset", 0) or 0
    return camps.ResultFilter(state=state, health_code=health, offset=offset, who=who[:100])


async def results_page(request: web.Request) -> web.Response:
    """The results table; a search by name or phone is POSTed, so it never lands in a URL or log."""
    await require(request, Role.ADMIN)
    camp = await _campaign(request)
    who = str((await request.post()).get("who", "")) if request.method == "POST" else ""
    f = _filter(request, who)
    rows = await db(request, camps.results, _id(request), f)
    await audit_event(request, "campaign.results_view", "campaign", camp.id or "",
                      detail=f"state={f.state} health_code={f.health_code} offset={f.offset} search={bool(f.who)} "
                             f"rows={len(rows)}")
    # contacts' phones masked in the list as the person's is (the case page shows them in full)
    labels = dataclasses.replace(labeller(request, await _script_labels(request, camp)), mask_phones=True)
    return render(request, "results.html", camp=camp, rows=rows, f=f, slots=[x.slot for x in labels.fields],
                  states=camps.states(), page=camps.PAGE, labels=labels, layouts=await _layouts(),
                  default_layout=layout.DEFAULT_LAYOUT)


async def _layouts() -> list[tuple[str, str]]:
    """(choice, name shown) of the export layouts: the shipped files, by their `name:`."""
    def read() -> list[tuple[str, str]]:
        out = []
        for stem, path in layout.layout_choices().items():
            try:
                out.append((stem, layout.load_layout(path).name))
            except layout.LayoutError:
                continue
        return out
    return await asyncio.to_thread(read)


def _export_rows(s: Any, camp: Campaign) -> tuple[list[dict[str, Any]], Any]:
    script = export.campaign_script(s, camp)
    return export.collect(s, camp, slots=export.slot_order(script) if script is not None else []), script


async def export_file(request: web.Request) -> web.Response:
    """The results as CSV or XLSX in the chosen layout (default: Chinese headers, values and local times)."""
    await require(request, Role.ADMIN)
    camp = await _campaign(request)
    fmt = request.match_info["fmt"]
    choice = request.query.get("layout", layout.DEFAULT_LAYOUT)
    shipped = await asyncio.to_thread(layout.layout_choices)
    if choice != "plain" and choice not in shipped:
        raise web.HTTPBadRequest(text=gettext(request)(N_("Unknown export layout.")))
    rows, script = await db(request, _export_rows, camp)
    chosen = None
    if choice != "plain":
        chosen = (await asyncio.to_thread(layout.load_layout, shipped[choice], fmt)).for_campaign(
            script, rows, camp.timezone)
    body = await asyncio.to_thread(_export_body, fmt, rows, chosen)
    await audit_event(request, "campaign.export", "campaign", camp.id or "",
                      detail=f"rows={len(rows)} layout={choice} format={fmt}")
    name = f"campaign-{camp.id}-results-{camps.stamp()}.{fmt}"
    kind = "text/csv" if fmt == "csv" else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return web.Response(body=body, content_type=kind, charset="utf-8" if fmt == "csv" else None,
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})


def _export_body(fmt: str, rows: list[dict[str, Any]], chosen: layout.Layout | None) -> bytes:
    if fmt == "csv":
        buf = io.StringIO()
        chosen.write("csv", rows, buf) if chosen else export.write_csv(rows, buf)
        return buf.getvalue().encode("utf-8")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "results.xlsx"
        chosen.write("xlsx", rows, path) if chosen else export.write_xlsx(rows, path)
        return path.read_bytes()


async def call_page(request: web.Request) -> web.Response:
    """One call's transcript, reached from the results table and the latest calls (admins; audited)."""
    await require(request, Role.ADMIN)
    attempt_id = int(request.match_info["attempt_id"])
    try:
        view = await db(request, camps.call, attempt_id)
    except LookupError as exc:
        raise web.HTTPNotFound(text=gettext(request)(N_("no such call"))) from exc
    await audit_view(request, "call.view", "attempt", attempt_id)
    labels = labeller(request, await db(request, script_labels, view["camp"], view["attempt"].dialog_name,
                                        view["attempt"].dialog_version, console(request).dialogs_dir))
    return render(request, "call.html", labels=labels, tz=view["camp"].timezone,
                  why=camps.failure_reason(view["attempt"], labels._), **view)


def _latest(request: web.Request, attempts: list[Any], tz: str) -> list[dict[str, Any]]:
    _ = gettext(request)
    return [{"id": a.id, "name": name, "started": local_time(a.started_at or a.ended_at, tz) if (a.started_at or a.ended_at)
             else "", "result": word(a.outcome or a.network_outcome or a.state, _),
             "why": camps.failure_reason(a, _)} for a, name in attempts]


def setup(app: web.Application) -> None:
    r = app.router
    r.add_get("/campaigns", list_page)
    r.add_post("/campaigns", create)
    r.add_get(r"/campaigns/{campaign_id:\d+}", detail_page)
    r.add_post(r"/campaigns/{campaign_id:\d+}/upload", upload)
    r.add_post(r"/campaigns/{campaign_id:\d+}/{action:start|pause|resume|cancel}", change_state)
    r.add_get(r"/campaigns/{campaign_id:\d+}/progress.json", progress_json)
    r.add_get(r"/calls/{attempt_id:\d+}", call_page)
    r.add_get(r"/campaigns/{campaign_id:\d+}/live.json", live_json)
    r.add_post(r"/campaigns/{campaign_id:\d+}/test-call", test_call)
    r.add_post(r"/campaigns/{campaign_id:\d+}/settings", settings)
    r.add_get(r"/campaigns/{campaign_id:\d+}/results", results_page)
    r.add_post(r"/campaigns/{campaign_id:\d+}/results", results_page)
    r.add_get(r"/campaigns/{campaign_id:\d+}/export.{fmt:csv|xlsx}", export_file)
