"""Log in / log out, first-run set-up, and the admin's account list."""

from __future__ import annotations

import logging
import secrets

from aiohttp import web

from bot.console import audit, auth
from bot.console.context import PRE_CSRF, console
from bot.console.labels import N_, word
from bot.console.page import (
    audit_as,
    audit_event,
    client,
    current_user,
    db,
    degradable,
    gettext,
    render,
    require,
    start_session,
)
from bot.console.security import PRE_CSRF_COOKIE, SESSION_COOKIE, set_cookie
from storage.models import Role

log = logging.getLogger("veribot.console.auth")


def _anonymous_form(request: web.Request, template: str, status: int = 200, **ctx: object) -> web.Response:
    """Render a pre-login form with a double-submit CSRF token (cookie + hidden field)."""
    token = request.cookies.get(PRE_CSRF_COOKIE) or secrets.token_urlsafe(32)
    request[PRE_CSRF] = token
    response = render(request, template, status=status, **ctx)
    set_cookie(response, console(request).settings, PRE_CSRF_COOKIE, token)
    return response


def _logged_in(request: web.Request, user_id: int, token: str, target: str) -> web.Response:
    response = web.Response(status=303, headers={"Location": target})
    set_cookie(response, console(request).settings, SESSION_COOKIE, token)
    response.del_cookie(PRE_CSRF_COOKIE, path="/")
    return response


async def home(request: web.Request) -> web.Response:
    user = current_user(request)
    raise web.HTTPFound("/queue" if user.can_work_cases else "/dashboard")


async def login_page(request: web.Request) -> web.Response:
    if await db(request, auth.user_count) == 0:
        raise web.HTTPFound("/setup")
    return _anonymous_form(request, "login.html", error="")


async def login_submit(request: web.Request) -> web.Response:
    """The attempt is counted before the password is checked (auth.LoginThrottle.attempt); the
    account is read without a write transaction and the password checked in the hashing threads,
    so a login burst never holds the database's write lock nor the thread that stores calls."""
    form = await request.post()
    username = str(form.get("username", ""))[:100]
    password = str(form.get("password", ""))[:1024]
    throttle = console(request).throttle
    source = client(request)
    _ = gettext(request)
    if not throttle.attempt(username, source):
        log.warning("login throttled from %s", source)
        await audit_event(request, "login.throttled", "user", "", detail="too many failures")
        return _anonymous_form(request, "login.html", status=429,
                               error=_(N_("Too many failed attempts. Wait a few minutes and try again.")))
    candidate = await console(request).database.arun(lambda s: auth.find_login(s, username), write=False)
    try:
        matches, new_hash = await auth.check_login_password(candidate, password)
    except auth.HashingBusy:
        log.warning("login refused from %s: too many logins waiting", source)
        response = _anonymous_form(request, "login.html", status=503,
                                   error=_(N_("The console is busy. Try again in a few seconds.")))
        response.headers["Retry-After"] = "5"
        return response
    if not matches or candidate.id is None:
        log.warning("failed login from %s", source)
        await audit_event(request, "login.failed", "user", "", detail="bad credentials")
        return _anonymous_form(request, "login.html", status=401, error=_(N_("Wrong username or password.")))
    throttle.succeeded(username, source)
    user_id = candidate.id
    await degradable(request, auth.record_login, user_id, new_hash)
    old = request.cookies.get(SESSION_COOKIE)
    if old:
        await degradable(request, auth.end_session, old)
    token = await start_session(request, user_id, source)
    await audit_as(request, candidate.username, "login", "user", user_id)
    log.info("user id %s logged in", user_id)
    return _logged_in(request, user_id, token, "/")


async def logout(request: web.Request) -> web.Response:
    user = current_user(request)
    await db(request, auth.end_session, user.token)
    await audit_event(request, "logout", "user", user.id)
    response = web.Response(status=303, headers={"Location": "/login"})
    response.del_cookie(SESSION_COOKIE, path="/")
    return response


async def setup_page(request: web.Request) -> web.Response:
    if await db(request, auth.user_count) > 0:
        raise web.HTTPFound("/login")
    return _anonymous_form(request, "setup.html", error="")


async def setup_submit(request: web.Request) -> web.Response:
    form = await request.post()
    username = str(form.get("username", ""))
    password = str(form.get("password", ""))
    if password != str(form.get("password2", "")):
        return _anonymous_form(request, "setup.html", status=400, error=gettext(request)(N_("The two passwords differ.")))
    try:
        user = await db(request, auth.add_user, username, Role.ADMIN, password, only_if_none=True)
    except auth.AccountError as exc:
        return _anonymous_form(request, "setup.html", status=400, error=gettext(request)(str(exc)))
    assert user.id is not None
    token = await db(request, auth.start_session, user.id, client(request))
    await db(request, audit.record, user.username, "setup.admin_created", "user", user.id, client(request))
    return _logged_in(request, user.id, token, "/")


async def users_page(request: web.Request) -> web.Response:
    await require(request, Role.ADMIN)
    users = await db(request, auth.list_users)
    throttle = console(request).throttle
    locked = {u.id for u in users if throttle.locked_until(u.username) is not None}
    added = next((u for u in users if str(u.id) == request.query.get("added", "")), None)
    notice = gettext(request)(N_("User %(name)s added as %(role)s: they can log in now.")) % {
        "name": added.username, "role": word(added.role, gettext(request))} if added else ""
    return render(request, "users.html", users=users, roles=list(Role), error="", form={"role": Role.OPERATOR},
                  locked=locked, notice=notice)


async def users_add(request: web.Request) -> web.Response:
    await require(request, Role.ADMIN)
    form = await request.post()
    kept = {k: str(form.get(k, "")) for k in ("username", "role")}  # never the passwords
    try:
        if str(form.get("password", "")) != str(form.get("password2", "")):
            raise auth.AccountError(N_("The two passwords differ."))
        user = await db(request, auth.add_user, kept["username"], kept["role"], str(form.get("password", "")))
    except auth.AccountError as exc:
        users = await db(request, auth.list_users)
        return render(request, "users.html", status=400, users=users, roles=list(Role),
                      error=gettext(request)(str(exc)), form=kept, notice="")
    await audit_event(request, "user.add", "user", user.id or "", detail=f"role={user.role}")
    raise web.HTTPSeeOther(f"/users?added={user.id}")


async def users_toggle(request: web.Request) -> web.Response:
    admin = await require(request, Role.ADMIN)
    user_id = int(request.match_info["user_id"])
    form = await request.post()
    disable = form.get("disabled") == "1"
    if disable and user_id == admin.id:
        raise web.HTTPBadRequest(text=gettext(request)(N_("you cannot disable your own account")))
    try:
        await db(request, auth.set_disabled, user_id, disable)
    except auth.AccountError as exc:
        raise web.HTTPNotFound(text=str(exc)) from exc
    await audit_event(request, "user.disable" if disable else "user.enable", "user", user_id)
    raise web.HTTPSeeOther("/users")


async def users_unlock(request: web.Request) -> web.Response:
    """An admin lifts a login lock-out (audited, with whether there was one)."""
    await require(request, Role.ADMIN)
    user_id = int(request.match_info["user_id"])
    try:
        username = await db(request, auth.username_of, user_id)
    except auth.AccountError as exc:
        raise web.HTTPNotFound(text=str(exc)) from exc
    was_locked = console(request).throttle.unlock(username)
    await audit_event(request, "user.unlock", "user", user_id, detail=f"had failures: {was_locked}")
    raise web.HTTPSeeOther("/users")


def setup(app: web.Application) -> None:
    r = app.router
    r.add_get("/", home)
    r.add_get("/login", login_page)
    r.add_post("/login", login_submit)
    r.add_post("/logout", logout)
    r.add_get("/setup", setup_page)
    r.add_post("/setup", setup_submit)
    r.add_get("/users", users_page)
    r.add_post("/users", users_add)
    r.add_post(r"/users/{user_id:\d+}/disabled", users_toggle)
    r.add_post(r"/users/{user_id:\d+}/unlock", users_unlock)
