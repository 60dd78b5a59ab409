"""Logins, roles and the protections around them (issue 7, docs/access.md).

- Users live in the store's `users` table: username, argon2id password hash,
  role (viewer, analyst, admin) and, for analysts, their zones.
- Without any user the app is read-only: everyone sees aggregates, nobody can
  log in or import, and the header says so.
- With users, everything except /healthz and /login needs a login. Sessions are
  Flask's signed cookies; the key comes from ATLAS_SECRET_KEY, and the app
  refuses to start with users but without that key (a random key per process
  would log people out whenever a request reaches another worker).
- Forms (login, logout, users, upload) carry a per-session CSRF token. Dash's
  own callback POSTs are JSON, which a cross-site form cannot send, and every
  POST whose Origin header names another host is refused.
- Login failures are counted per username and address: the 6th attempt within
  5 minutes gets 429, whatever the password.
"""
from __future__ import annotations

import hashlib
import hmac
import logging
import os
import re
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit

import flask
import pandas as pd
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from dash import html

from geodata import schema
from geodata.store import TableWrite

ROLES = ("viewer", "analyst", "admin")
MIN_PASSWORD_LENGTH = 10
MIN_SECRET_LENGTH = 32
SESSION_LIFETIME = timedelta(hours=8)
MAX_FAILURES = 5
FAILURE_WINDOW_SECONDS = 300
PUBLIC_PATHS = {"/healthz", "/login"}
USERNAME = re.compile(r"[a-z0-9][a-z0-9_.@-]{1,63}")
EXTENSION = "atlas_auth"

audit = logging.getLogger("atlas.audit")
_hasher = PasswordHasher()

LABELS: dict[str, tuple[str, str]] = {
    "read_only": ("อ่านอย่างเดียว: ยังไม่ได้ตั้งค่าผู้ใช้", "read-only: no logins configured"),
    "log_in": ("เข้าสู่ระบบ", "Log in"),
    "log_out": ("ออกจากระบบ", "Log out"),
    "role_viewer": ("ผู้ดูข้อมูล", "viewer"),
    "role_analyst": ("นักวิเคราะห์", "analyst"),
    "role_admin": ("ผู้ดูแลระบบ", "admin"),
    "upload": ("นำเข้าข้อมูล", "Import data"),
    "users": ("ผู้ใช้", "Users"),
    "household_list": ("รายการครัวเรือนของตำบลนี้ (เฉพาะนักวิเคราะห์)", "Household list of this tambon (analysts only)"),
}


def label(key: str, lang: str = "th") -> str:
    thai, english = LABELS[key]
    return thai if lang == "th" else english


class AuthConfigError(RuntimeError):
    """The app cannot enable logins as configured."""


class UserError(ValueError):
    """A user cannot be added or removed as asked; the message says why."""


# -- users ----------------------------------------------------------------------------
@dataclass(frozen=True)
class User:
    username: str
    role: str
    zones: tuple[int, ...] = ()
    password_hash: str = field(default="", repr=False)

    @property
    def can_import(self) -> bool:
        return self.role in ("analyst", "admin")

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    def household_zones(self):
        """Zones whose household records the user may see: None for all (admin), () for none (viewer)."""
        if self.role == "admin":
            return None
        return self.zones if self.role == "analyst" else ()

    def session_stamp(self) -> str:
        # Changes with the password or role, so such a change ends the user's other sessions.
        return hashlib.sha256(f"{self.password_hash}|{self.role}|{self.zones}".encode()).hexdigest()[:24]


def parse_zones(text) -> tuple[int, ...]:
    """"1,3" or [1, 3] -> (1, 3); anything else is a UserError."""
    if text is None or (isinstance(text, float) and pd.isna(text)):
        return ()
    parts = text.split(",") if isinstance(text, str) else list(text)
    try:
        return tuple(sorted({int(str(part).strip()) for part in parts if str(part).strip()}))
    except ValueError:
        raise UserError(f"zones must be whole numbers separated by commas, got {text!r}") from None


def normalise_username(name: str) -> str:
    return (name or "").strip().lower()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


_DUMMY_HASH: list[str] = []


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when the password matches; an unknown user costs the same time as a wrong password."""
    if not password_hash:
        if not _DUMMY_HASH:
            _DUMMY_HASH.append(hash_password(secrets.token_hex(16)))
        password_hash = _DUMMY_HASH[0]
        password = password + "\x00never"
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def has_users_table(store) -> bool:
    return bool(store.scalar(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'users' AND table_schema = current_schema()"))


def ensure_users_table(store) -> None:
    """Create the users table in a store made before it existed (new stores have it)."""
    if has_users_table(store):
        return
    statement = schema.create_statement("users")
    # The store interface has no DDL call; both backends' own connections retry locks and close cleanly.
    if store.backend == "duckdb":
        with store._connect(read_only=False) as con:
            con.execute(statement)
    else:
        with store._connect() as conn:
            conn.execute(statement)


def list_users(store) -> list[User]:
    if not has_users_table(store):
        return []
    frame = store.query("SELECT username, role, zones, password_hash FROM users ORDER BY username")
    return [User(name, role, parse_zones(zones), password_hash)
            for name, role, zones, password_hash in zip(frame["username"], frame["role"], frame["zones"],
                                                        frame["password_hash"])]


def get_user(store, username: str) -> User | None:
    name = normalise_username(username)
    return next((user for user in list_users(store) if user.username == name), None)


def users_configured(store) -> bool:
    return has_users_table(store) and bool(store.scalar("SELECT count(*) FROM users"))


def check_new_user(username: str, password: str, role: str, zones) -> tuple[str, tuple[int, ...]]:
    name = normalise_username(username)
    if not USERNAME.fullmatch(name):
        raise UserError("a username has 2–64 characters: letters, digits and . _ @ - (starting with a letter or digit)")
    if role not in ROLES:
        raise UserError(f"role must be one of {', '.join(ROLES)}, got {role!r}")
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise UserError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")
    zones = parse_zones(zones)
    if role == "analyst" and not zones:
        raise UserError("an analyst needs --zones: the zones whose household records they may see")
    return name, zones if role == "analyst" else ()


def add_user(store, username: str, password: str, role: str, zones=(), replace: bool = False) -> User:
    """Add a user (or, with replace, change an existing one's password, role and zones)."""
    name, zones = check_new_user(username, password, role, zones)
    ensure_users_table(store)
    if not replace and get_user(store, name) is not None:
        raise UserError(f"user {name!r} exists already")
    user = User(name, role, zones, hash_password(password))
    row = pd.DataFrame([{"username": name, "password_hash": user.password_hash, "role": role,
                         "zones": ",".join(map(str, zones)),
                         "created_at": datetime.now(timezone.utc).replace(tzinfo=None)}])
    store.write([TableWrite("users", row, mode="append", delete_where={"username": name})])
    audit.info("user %s added or changed: role %s, zones %s", name, role, ",".join(map(str, zones)) or "-")
    return user


def remove_user(store, username: str) -> bool:
    name = normalise_username(username)
    if get_user(store, name) is None:
        return False
    empty = pd.DataFrame(columns=schema.columns("users"))
    store.write([TableWrite("users", empty, mode="append", delete_where={"username": name})])
    audit.info("user %s removed", name)
    return True


# -- login rate limit -----------------------------------------------------------------
class LoginLimiter:
    """Failed logins per key (username, address) in a sliding window, in this process's memory.

    Each gunicorn worker counts on its own, so with N workers an attacker gets at
    most N × MAX_FAILURES tries per window; still far too few to guess a password.
    """

    def __init__(self, max_failures: int = MAX_FAILURES, window_seconds: float = FAILURE_WINDOW_SECONDS,
                 clock=time.monotonic):
        self.max_failures = max_failures
        self.window = window_seconds
        self.clock = clock
        self._failures: dict[tuple, deque] = {}
        self._lock = threading.Lock()

    def _recent(self, key) -> deque:
        times = self._failures.setdefault(key, deque())
        while times and times[0] <= self.clock() - self.window:
            times.popleft()
        return times

    def blocked(self, key) -> bool:
        with self._lock:
            return len(self._recent(key)) >= self.max_failures

    def record_failure(self, key) -> None:
        with self._lock:
            self._recent(key).append(self.clock())
            if len(self._failures) > 10_000:  # forget keys whose failures have all expired
                for stale in [k for k, v in self._failures.items() if not v or v[-1] <= self.clock() - self.window]:
                    del self._failures[stale]

    def reset(self, key) -> None:
        with self._lock:
            self._failures.pop(key, None)


# -- the app's side --------------------------------------------------------------------
class Auth:
    """What the running app knows about logins; kept in server.extensions["atlas_auth"]."""

    def __init__(self, store, login_required: bool, limiter: LoginLimiter | None = None):
        self.store = store
        self.login_required = login_required
        self.limiter = limiter or LoginLimiter()
        self._users: tuple[str, dict[str, User]] | None = None
        self._lock = threading.Lock()

    def user(self, username: str | None) -> User | None:
        """The user by name, read once per store version (so a change is seen at once)."""
        if not username:
            return None
        version = self.store.version() if hasattr(self.store, "version") else ""
        with self._lock:
            cached = self._users
        if cached is None or cached[0] != version:
            cached = (version, {user.username: user for user in list_users(self.store)})
            with self._lock:
                self._users = cached
        return cached[1].get(username)


def secret_key(login_required: bool) -> str:
    configured = os.environ.get("ATLAS_SECRET_KEY", "").strip()
    if configured and len(configured) < MIN_SECRET_LENGTH:
        raise AuthConfigError(f"ATLAS_SECRET_KEY must have at least {MIN_SECRET_LENGTH} characters; make one with "
                              "`python -c \"import secrets; print(secrets.token_hex(32))\"`")
    if configured:
        return configured
    if login_required:
        raise AuthConfigError(
            "users are configured but ATLAS_SECRET_KEY is not set: logins need a fixed secret key to sign "
            "sessions. Set it (`python -c \"import secrets; print(secrets.token_hex(32))\"`) and start again, "
            "or remove every user (`python -m dashboard users remove NAME`) to run read-only.")
    # Read-only: sessions carry no privilege (only a CSRF token), so a per-process key is enough.
    return secrets.token_hex(32)


def get_auth() -> Auth:
    return flask.current_app.extensions[EXTENSION]


def current_user() -> User | None:
    """The logged-in user of this request, None for an anonymous visitor (read-only mode)."""
    return flask.g.get("atlas_user")


def csrf_token() -> str:
    token = flask.session.get("csrf")
    if not token:
        token = flask.session["csrf"] = secrets.token_urlsafe(32)
    return token


def check_csrf() -> None:
    sent = flask.request.form.get("csrf_token", "")
    expected = flask.session.get("csrf", "")
    if not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
        flask.abort(400, description="CSRF token missing or wrong / โทเคนของแบบฟอร์มไม่ถูกต้อง: reload the page and try again")


def require_role(*roles: str) -> User:
    """The current user when their role is one of `roles`; otherwise 403 (or a login page)."""
    user = current_user()
    if user is None and get_auth().login_required:
        flask.abort(flask.redirect(flask.url_for("atlas_login", next=flask.request.path)))
    if user is None or user.role not in roles:
        flask.abort(403, description="not allowed for your role / สิทธิ์ของคุณไม่อนุญาต")
    return user


def safe_next(target: str | None) -> str:
    # Only paths on this site: never "//other.host" or "https://…" (an open redirect).
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def same_origin(origin: str | None, host: str) -> bool:
    """Browsers send Origin with every POST; tools (curl, tests) may send none, and have no cookies to abuse.

    A reverse proxy that rewrites the Host header makes the app's own pages look
    foreign: pass the Host through, or list the public origin in ATLAS_ALLOWED_ORIGINS.
    """
    if not origin:
        return True
    allowed = os.environ.get("ATLAS_ALLOWED_ORIGINS", "").split()
    return origin != "null" and (urlsplit(origin).netloc == host or origin.rstrip("/") in allowed)


# -- pages ----------------------------------------------------------------------------
PAGE = """<!doctype html>
<html lang="th"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }} · Korat Development Atlas</title>
<style>
body { font-family: "Noto Sans Thai", "Noto Sans", Sarabun, Loma, sans-serif; margin: 2rem auto; max-width: 52rem;
       padding: 0 1rem; color: #222; }
h1 { font-size: 1.4rem; } label { display: block; margin-top: .8rem; } input, select { font-size: 1rem; padding: .3rem; }
button { margin-top: 1rem; font-size: 1rem; padding: .4rem 1rem; } .error { color: #b30000; }
.notice { background: #fff4d6; padding: .6rem 1rem; border-radius: 4px; }
table { border-collapse: collapse; margin-top: 1rem; font-size: .9rem; } td, th { border: 1px solid #ccc; padding: .25rem .5rem; }
pre { background: #f5f5f5; padding: .8rem; white-space: pre-wrap; }
</style></head><body>
<p><a href="/">← แผนที่ / Map</a>{% if user %} · {{ user.username }} ({{ role_label }}) · <a href="/logout">ออกจากระบบ / Log out</a>{% endif %}</p>
<h1>{{ title }}</h1>
__BODY__
</body></html>"""

LOGIN_BODY = """{% if read_only %}<p class="notice">อ่านอย่างเดียว: ยังไม่ได้ตั้งค่าผู้ใช้ / read-only: no logins configured.
ผู้ดูแลระบบเพิ่มผู้ใช้ได้ด้วย / an administrator adds users with <code>python -m dashboard users add NAME --role …</code></p>
{% else %}{% if error %}<p class="error">{{ error }}</p>{% endif %}
<form method="post" action="/login">
<input type="hidden" name="csrf_token" value="{{ csrf }}"><input type="hidden" name="next" value="{{ next }}">
<label>ชื่อผู้ใช้ / Username <input name="username" autocomplete="username" required autofocus></label>
<label>รหัสผ่าน / Password <input name="password" type="password" autocomplete="current-password" required></label>
<button type="submit">เข้าสู่ระบบ / Log in</button></form>{% endif %}"""

LOGOUT_BODY = """<form method="post" action="/logout"><input type="hidden" name="csrf_token" value="{{ csrf }}">
<button type="submit">ออกจากระบบ / Log out</button></form>"""

USERS_BODY = """{% if message %}<p class="{{ 'error' if failed else 'notice' }}">{{ message }}</p>{% endif %}
<table><tr><th>ชื่อผู้ใช้ / Username</th><th>บทบาท / Role</th><th>โซน / Zones</th><th></th></tr>
{% for row in users %}<tr><td>{{ row.username }}</td><td>{{ row.role }}</td><td>{{ row.zones|join(',') }}</td>
<td>{% if row.username != user.username %}<form method="post"><input type="hidden" name="csrf_token" value="{{ csrf }}">
<input type="hidden" name="action" value="remove"><input type="hidden" name="username" value="{{ row.username }}">
<button type="submit">ลบ / Remove</button></form>{% endif %}</td></tr>{% endfor %}</table>
<h2>เพิ่มผู้ใช้ / Add a user</h2>
<form method="post"><input type="hidden" name="csrf_token" value="{{ csrf }}"><input type="hidden" name="action" value="add">
<label>ชื่อผู้ใช้ / Username <input name="username" required></label>
<label>รหัสผ่าน (อย่างน้อย {{ min_password }} ตัวอักษร) / Password (at least {{ min_password }} characters)
<input name="password" type="password" autocomplete="new-password" required></label>
<label>บทบาท / Role <select name="role">{% for role in roles %}<option>{{ role }}</option>{% endfor %}</select></label>
<label>โซน (นักวิเคราะห์ เช่น 1,3) / Zones (analysts, e.g. 1,3) <input name="zones"></label>
<button type="submit">เพิ่ม / Add</button></form>
<p>การแบ่งโซนแก้ได้ที่หน้านำเข้าข้อมูล / Zones are edited on the <a href="/upload">import page</a>.</p>"""


def render_page(title: str, body: str, status: int = 200, **context) -> flask.Response:
    user = current_user()
    html_text = flask.render_template_string(
        PAGE.replace("__BODY__", body), title=title, user=user,
        role_label=f"{label('role_' + user.role)} / {label('role_' + user.role, 'en')}" if user else "", **context)
    return flask.Response(html_text, status=status, mimetype="text/html")


def _login_page(error: str = "", status: int = 200) -> flask.Response:
    return render_page("เข้าสู่ระบบ / Log in", LOGIN_BODY, status, read_only=not get_auth().login_required,
                       error=error, csrf=csrf_token(), next=safe_next(flask.request.values.get("next")))


def login():
    auth = get_auth()
    if flask.request.method == "GET":
        return _login_page()
    check_csrf()
    if not auth.login_required:
        return _login_page(status=403)
    username = normalise_username(flask.request.form.get("username", ""))
    key = (username, flask.request.remote_addr)
    if auth.limiter.blocked(key):
        audit.warning("login refused (rate limit): %s from %s", username, key[1])
        return _login_page("พยายามเข้าสู่ระบบผิดหลายครั้งเกินไป ลองใหม่ในอีก 5 นาที / "
                           "too many failed logins: try again in 5 minutes", status=429)
    user = auth.user(username)
    matches = verify_password(user.password_hash if user else None, flask.request.form.get("password", ""))
    if user is None or not matches:
        auth.limiter.record_failure(key)
        audit.warning("login failed: %s from %s", username, key[1])
        return _login_page("ชื่อผู้ใช้หรือรหัสผ่านไม่ถูกต้อง / wrong username or password", status=401)
    auth.limiter.reset(key)
    flask.session.clear()  # a fresh session: no fixation of one made before the login
    flask.session.permanent = True
    flask.session.update(user=user.username, stamp=user.session_stamp(), csrf=secrets.token_urlsafe(32))
    audit.info("login: %s (%s) from %s", user.username, user.role, key[1])
    return flask.redirect(safe_next(flask.request.form.get("next")))


def logout():
    if flask.request.method == "GET":
        return render_page("ออกจากระบบ / Log out", LOGOUT_BODY, csrf=csrf_token())
    check_csrf()
    user = current_user()
    flask.session.clear()
    if user:
        audit.info("logout: %s", user.username)
    return flask.redirect("/login" if get_auth().login_required else "/")


def manage_users():
    admin = require_role("admin")
    auth = get_auth()
    message, failed, status = "", False, 200
    if flask.request.method == "POST":
        check_csrf()
        form = flask.request.form
        try:
            if form.get("action") == "add":
                added = add_user(auth.store, form.get("username", ""), form.get("password", ""),
                                 form.get("role", ""), form.get("zones", ""))
                message = f"เพิ่มแล้ว / added: {added.username} ({added.role})"
            elif form.get("action") == "remove":
                name = normalise_username(form.get("username", ""))
                if name == admin.username:
                    raise UserError("you cannot remove yourself")
                if not remove_user(auth.store, name):
                    raise UserError(f"no user {name!r}")
                message = f"ลบแล้ว / removed: {name}"
            else:
                raise UserError("unknown action")
        except UserError as error:
            message, failed, status = str(error), True, 400
    return render_page("ผู้ใช้ / Users", USERS_BODY, status, users=list_users(auth.store), csrf=csrf_token(),
                       message=message, failed=failed, roles=ROLES, min_password=MIN_PASSWORD_LENGTH)


# -- request checks -------------------------------------------------------------------
def load_user() -> None:
    """Before every request: refuse cross-site POSTs, find the session's user, ask anonymous visitors to log in."""
    request = flask.request
    if request.method not in ("GET", "HEAD", "OPTIONS") and not same_origin(request.headers.get("Origin"), request.host):
        flask.abort(403, description="cross-site request refused")
    auth = get_auth()
    user = auth.user(flask.session.get("user")) if auth.login_required else None
    if user is not None and flask.session.get("stamp") != user.session_stamp():
        user = None  # password, role or zones changed, or the user was removed: log in again
    if user is None and "user" in flask.session:
        flask.session.pop("user", None)
        flask.session.pop("stamp", None)
    flask.g.atlas_user = user
    if auth.login_required and user is None and request.path not in PUBLIC_PATHS:
        if request.path.startswith("/_dash-") or request.method != "GET":
            return flask.Response('{"error": "login required"}', status=401, mimetype="application/json")
        return flask.redirect(flask.url_for("atlas_login", next=request.full_path.rstrip("?")))
    return None


def setup_audit_log() -> None:
    """The audit trail goes to ATLAS_AUDIT_LOG (a file) or standard error, once per process."""
    if audit.handlers:
        return
    path = os.environ.get("ATLAS_AUDIT_LOG", "").strip()
    handler = logging.FileHandler(path, encoding="utf-8") if path else logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s atlas.audit %(levelname)s %(message)s"))
    audit.addHandler(handler)
    audit.setLevel(logging.INFO)


def init_app(app, atlas) -> Auth:
    """Configure sessions, register the login pages and the checks on every request."""
    setup_audit_log()
    server = app.server
    auth = Auth(atlas.store, login_required=users_configured(atlas.store))
    server.secret_key = secret_key(auth.login_required)
    server.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=os.environ.get("ATLAS_SECURE_COOKIES", "").strip() in ("1", "true", "yes"),
        SESSION_COOKIE_NAME="atlas_session",
        PERMANENT_SESSION_LIFETIME=SESSION_LIFETIME,
    )
    server.extensions[EXTENSION] = auth
    server.before_request(load_user)
    server.add_url_rule("/login", "atlas_login", login, methods=["GET", "POST"])
    server.add_url_rule("/logout", "atlas_logout", logout, methods=["GET", "POST"])
    server.add_url_rule("/admin/users", "atlas_users", manage_users, methods=["GET", "POST"])
    return auth


# -- what the dashboard shows ---------------------------------------------------------
NOTICE_STYLE = {"background": "#fff3bf", "color": "#5c4a00", "padding": "2px 8px", "borderRadius": "3px",
                "fontWeight": 600}
BADGE_STYLE = {"border": "1px solid rgba(255,255,255,.6)", "padding": "2px 8px", "borderRadius": "3px"}
LINK_STYLE = {"marginLeft": "10px"}


def account_bar(user: User | None, login_required: bool, lang: str) -> list:
    """The header's account corner: role and log-out link, or the read-only notice."""
    if not login_required:
        return [html.Span(label("read_only", lang), className="read-only", id="read-only-notice", style=NOTICE_STYLE)]
    if user is None:
        return [html.A(label("log_in", lang), href="/login")]
    links = [html.Span(f"{user.username} · {label('role_' + user.role, lang)}", className="role", id="account-role",
                       style=BADGE_STYLE)]
    if user.can_import:
        links.append(html.A(label("upload", lang), href="/upload", style=LINK_STYLE))
    if user.is_admin:
        links.append(html.A(label("users", lang), href="/admin/users", style=LINK_STYLE))
    links.append(html.A(label("log_out", lang), href="/logout", style=LINK_STYLE))
    return links


def household_access(user: User | None, store, pcode: str | None, level_of, lang: str) -> list:
    """A link to the household list of the selected tambon, for users allowed to see it; else nothing."""
    from layers.privacy import may_see_households, tambon_zone

    if user is None or not pcode or level_of(pcode) != "tambon":
        return []
    zones = user.household_zones()
    if zones == () or not may_see_households(zones, tambon_zone(store, pcode)):
        return []
    return [html.A(label("household_list", lang), href=f"/households/{pcode}", className="household-link",
                   id="household-link")]
