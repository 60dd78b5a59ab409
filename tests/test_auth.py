"""Logins, roles, sessions, CSRF, rate limit, uploads and the users command, through the real Flask app."""
from __future__ import annotations

import html
import io
import re
from pathlib import Path
from types import SimpleNamespace

import flask
import pytest

from dashboard import auth, uploads
from dashboard.app import create_app
from geodata import importer
from geodata.store import TableWrite, open_store
from tests.dash_client import call
from tests.test_privacy import household_rows

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "correct-horse-1"
SECRET = "s" * 64


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    store = open_store(tmp_path_factory.mktemp("auth") / "atlas.duckdb")
    tambons = store.query("SELECT t.pcode, z.zone FROM tambons t JOIN zones z ON z.district_pcode = t.district_pcode "
                          "ORDER BY t.pcode")
    store.zone1 = tambons.loc[tambons["zone"] == 1, "pcode"].iloc[0]
    store.zone2 = tambons.loc[tambons["zone"] == 2, "pcode"].iloc[0]
    store.write([TableWrite("households", household_rows({store.zone1: 12, store.zone2: 9}))])
    return store


@pytest.fixture(scope="module")
def read_only_app(store):
    assert not auth.users_configured(store)
    return create_app(store.location)


@pytest.fixture(scope="module")
def app(store, read_only_app):
    auth.add_user(store, "vera", PASSWORD, "viewer")
    auth.add_user(store, "anan", PASSWORD, "analyst", "1")
    auth.add_user(store, "adam", PASSWORD, "admin")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ATLAS_SECRET_KEY", SECRET)
        return create_app(store.location)


def csrf_of(client, path: str = "/login") -> str:
    page = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def log_in(client, username: str, password: str = PASSWORD, next_path: str = "/"):
    return client.post("/login", data={"username": username, "password": password, "next": next_path,
                                       "csrf_token": csrf_of(client)})


def client_as(app, username: str | None):
    client = app.server.test_client()
    if username:
        assert log_in(client, username).status_code == 302
    return client


def view_data(**changes):
    from dashboard.state import View

    return View().with_(**changes).to_dict()


# -- read-only mode --------------------------------------------------------------------
def test_without_users_the_app_is_read_only_and_says_so(read_only_app, store):
    client = read_only_app.server.test_client()
    assert client.get("/").status_code == 200, "anyone sees the aggregates"
    account = call(client, read_only_app, "account.children", {"ui-lang.data": "th"}).get_json()
    text = str(account["response"]["account"]["children"])
    assert "อ่านอย่างเดียว" in text
    account_en = call(client, read_only_app, "account.children", {"ui-lang.data": "en"}).get_json()
    assert "read-only: no logins configured" in str(account_en["response"]["account"]["children"])
    assert "read-only: no logins configured" in client.get("/login").get_data(as_text=True)
    assert client.post("/login", data={"username": "adam", "password": PASSWORD,
                                       "csrf_token": csrf_of(client, "/logout")}).status_code == 403
    assert client.get("/upload").status_code == 403, "nobody imports through the web"
    assert client.get(f"/households/{store.zone1}").status_code == 403
    assert client.get("/admin/users").status_code == 403


# -- starting with logins --------------------------------------------------------------
def test_logins_need_a_secret_key(app, store, monkeypatch):
    monkeypatch.delenv("ATLAS_SECRET_KEY", raising=False)
    with pytest.raises(auth.AuthConfigError, match="ATLAS_SECRET_KEY is not set"):
        create_app(store.location, warm=False)
    monkeypatch.setenv("ATLAS_SECRET_KEY", "short")
    with pytest.raises(auth.AuthConfigError, match="at least 32 characters"):
        create_app(store.location, warm=False)


def test_with_users_everything_but_health_and_login_needs_a_login(app):
    client = app.server.test_client()
    response = client.get("/about?lang=en")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login?next=/about")
    assert client.get("/_dash-layout").status_code == 401
    assert client.post("/_dash-update-component", json={}).status_code == 401
    assert client.get("/healthz").status_code == 200
    assert client.get("/login").status_code == 200


# -- logging in ---------------------------------------------------------------------------
def test_login_with_the_right_password_opens_the_app(app):
    client = app.server.test_client()
    response = log_in(client, "ANAN ", next_path="/about")
    assert response.status_code == 302 and response.headers["Location"] == "/about"
    cookie = client.get_cookie("atlas_session")
    assert cookie.http_only and cookie.same_site == "Lax"
    assert client.get("/").status_code == 200 and client.get("/_dash-layout").status_code == 200


def test_wrong_password_and_unknown_user_are_refused_alike(app):
    client = app.server.test_client()
    wrong = log_in(client, "vera", "not-the-password")
    unknown = log_in(client, "nobody", PASSWORD)
    assert wrong.status_code == unknown.status_code == 401
    assert "wrong username or password" in wrong.get_data(as_text=True)
    assert wrong.get_data() == unknown.get_data(), "nothing tells whether the user exists"
    assert client.get("/").status_code == 302, "still not logged in"


def test_an_outside_next_is_never_followed(app):
    client = app.server.test_client()
    for target in ("https://evil.example/", "//evil.example/x", "/\\evil.example"):
        assert log_in(client, "vera", next_path=target).headers["Location"] == "/"


def test_the_sixth_failed_login_within_five_minutes_gets_429_even_with_the_right_password(app):
    client = app.server.test_client()
    for _ in range(auth.MAX_FAILURES):
        assert log_in(client, "adam", "guess-guess-guess").status_code == 401
    assert log_in(client, "adam", "guess-again-guess").status_code == 429
    assert log_in(client, "adam", PASSWORD).status_code == 429, "blocked whatever the password"
    assert log_in(client, "anan", PASSWORD).status_code == 302, "another username is not blocked"
    app.server.extensions["atlas_auth"].limiter.reset(("adam", "127.0.0.1"))


def test_the_limit_counts_failures_in_a_sliding_window():
    now = [1000.0]
    limiter = auth.LoginLimiter(max_failures=5, window_seconds=300, clock=lambda: now[0])
    key = ("someone", "10.0.0.1")
    for _ in range(5):
        limiter.record_failure(key)
        now[0] += 10
    assert limiter.blocked(key)
    assert not limiter.blocked(("someone", "10.0.0.2")), "per address"
    now[0] += 300 - 45  # the first failure leaves the window
    assert not limiter.blocked(key)
    limiter.record_failure(key)
    assert limiter.blocked(key)
    limiter.reset(key)
    assert not limiter.blocked(key)


# -- sessions and CSRF -------------------------------------------------------------------
def test_a_tampered_session_cookie_is_rejected(app):
    client = client_as(app, "anan")
    value = client.get_cookie("atlas_session").value
    payload, _, signature = value.rpartition(".")
    flipped = signature[:-2] + ("AA" if signature[-2:] != "AA" else "BB")
    client.set_cookie("atlas_session", f"{payload}.{flipped}")
    assert client.get("/").status_code == 302, "a bad signature means no session"


def session_cookie(secret: str, data: dict) -> str:
    """A session cookie as Flask signs it, with `secret`."""
    signer = flask.Flask("signer")
    signer.secret_key = secret
    return signer.session_interface.get_signing_serializer(signer).dumps(data)


def test_a_session_signed_with_another_key_cannot_claim_a_user(app, store):
    claim = {"user": "adam", "stamp": auth.get_user(store, "adam").session_stamp()}
    client = app.server.test_client()
    client.set_cookie("atlas_session", session_cookie("another-key-" * 4, claim))
    assert client.get("/admin/users").status_code == 302
    client.set_cookie("atlas_session", session_cookie(SECRET, claim))
    assert client.get("/admin/users").status_code == 200, "the same claim signed with the app's key is accepted"


def test_a_changed_password_ends_the_other_sessions(app, store):
    auth.add_user(store, "tess", PASSWORD, "viewer")
    client = client_as(app, "tess")
    assert client.get("/").status_code == 200
    auth.add_user(store, "tess", "a-new-password-2", "viewer", replace=True)
    assert client.get("/").status_code == 302
    auth.remove_user(store, "tess")


def test_login_and_forms_need_the_csrf_token(app):
    client = app.server.test_client()
    csrf_of(client)  # the session now has a token, but the form below does not send it
    assert client.post("/login", data={"username": "anan", "password": PASSWORD}).status_code == 400
    assert client.post("/login", data={"username": "anan", "password": PASSWORD,
                                       "csrf_token": "guessed"}).status_code == 400
    assert client.post("/login", data={"username": "anan", "password": PASSWORD,
                                       "csrf_token": "โทเคน"}).status_code == 400
    analyst = client_as(app, "anan")
    upload = {"kind": "councils", "mode": "append", "file": (io.BytesIO(b"council_id\n"), "c.csv")}
    assert analyst.post("/upload", data=upload, content_type="multipart/form-data").status_code == 400
    admin = client_as(app, "adam")
    assert admin.post("/admin/users", data={"action": "remove", "username": "vera"}).status_code == 400
    assert auth.get_user(app.atlas.store, "vera") is not None
    assert analyst.post("/logout", data={}).status_code == 400


def test_cross_site_posts_are_refused(app):
    client = client_as(app, "vera")
    response = call_with_origin(client, app, "https://evil.example")
    assert response.status_code == 403
    assert call_with_origin(client, app, "http://localhost").status_code == 200


def test_a_proxied_public_origin_can_be_allowed(app, monkeypatch):
    client = client_as(app, "vera")
    assert call_with_origin(client, app, "https://atlas.example.org").status_code == 403
    monkeypatch.setenv("ATLAS_ALLOWED_ORIGINS", "https://atlas.example.org https://other.example.org")
    assert call_with_origin(client, app, "https://atlas.example.org").status_code == 200


def call_with_origin(client, app, origin):
    from tests.dash_client import find_key

    key = find_key(app, "account.children")
    payload = {"output": key, "outputs": {"id": "account", "property": "children"},
               "inputs": [{"id": "view", "property": "data", "value": view_data()}], "changedPropIds": ["view.data"]}
    return client.post("/_dash-update-component", json=payload, headers={"Origin": origin})


def test_logout_ends_the_session(app):
    client = client_as(app, "vera")
    assert client.post("/logout", data={"csrf_token": csrf_of(client, "/logout")}).status_code == 302
    assert client.get("/").status_code == 302


# -- roles -----------------------------------------------------------------------------------
def test_a_viewer_cannot_import_see_households_or_manage_users(app, store):
    client = client_as(app, "vera")
    assert client.get("/upload").status_code == 403
    assert client.post("/upload", data={"csrf_token": csrf_of(client, "/logout")}).status_code == 403
    for pcode in (store.zone1, store.zone2):
        assert client.get(f"/households/{pcode}").status_code == 403
        assert client.get(f"/households/{pcode}.csv").status_code == 403
    assert client.get("/admin/users").status_code == 403
    account = call(client, app, "account.children", {"ui-lang.data": "en"}).get_json()
    text = str(account["response"]["account"]["children"])
    assert "vera · viewer" in text and "/upload" not in text and "Log out" in text


def test_an_analyst_sees_household_lists_of_their_zones_only(app, store):
    client = client_as(app, "anan")
    page = client.get(f"/households/{store.zone1}")
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    assert len(re.findall(r"<td>HH0\d+</td>", page.get_data(as_text=True))) == 12
    csv = client.get(f"/households/{store.zone1}.csv").get_data(as_text=True)
    assert csv.lstrip("\ufeff").startswith("household_id,survey_year,members,income_month") and csv.count("HH0") == 12
    assert client.get(f"/households/{store.zone2}").status_code == 403
    assert client.get(f"/households/{store.zone2}.csv").status_code == 403
    assert client.get("/admin/users").status_code == 403
    inside = call(client, app, "household-access.children", {"view.data": view_data(area=store.zone1)}).get_json()
    outside = call(client, app, "household-access.children", {"view.data": view_data(area=store.zone2)}).get_json()
    assert f"/households/{store.zone1}" in str(inside["response"]["household-access"]["children"])
    assert outside["response"]["household-access"]["children"] == []


def test_household_csv_neutralises_formulas(app, store):
    rows = household_rows({store.zone1: 1}, start=900_000)
    rows["household_id"] = "=HYPERLINK(\"http://evil\",\"x\")"
    store.write([TableWrite("households", rows)])
    csv = client_as(app, "adam").get(f"/households/{store.zone1}.csv").get_data(as_text=True)
    import pandas as pd

    ids = pd.read_csv(io.StringIO(csv.lstrip("\ufeff")), dtype=str)["household_id"]
    assert "'=HYPERLINK(\"http://evil\",\"x\")" in set(ids) and not ids.str.startswith("=").any()
    store.write([TableWrite("households", rows.iloc[:0], delete_where={"household_id": rows["household_id"].iloc[0]})])


def test_an_admin_manages_users_and_sees_every_zone(app, store):
    client = client_as(app, "adam")
    assert client.get(f"/households/{store.zone2}").status_code == 200
    token = csrf_of(client, "/admin/users")
    added = client.post("/admin/users", data={"csrf_token": token, "action": "add", "username": "Noi",
                                              "password": PASSWORD, "role": "analyst", "zones": "2, 5"})
    assert added.status_code == 200 and "added: noi (analyst)" in added.get_data(as_text=True)
    assert auth.get_user(store, "noi").zones == (2, 5)
    assert client_as(app, "noi").get(f"/households/{store.zone2}").status_code == 200
    weak = client.post("/admin/users", data={"csrf_token": token, "action": "add", "username": "weak",
                                             "password": "short", "role": "viewer"})
    assert weak.status_code == 400 and auth.get_user(store, "weak") is None
    assert client.post("/admin/users", data={"csrf_token": token, "action": "remove",
                                             "username": "adam"}).status_code == 400, "not yourself"
    removed = client.post("/admin/users", data={"csrf_token": token, "action": "remove", "username": "noi"})
    assert removed.status_code == 200 and auth.get_user(store, "noi") is None


def test_passwords_are_stored_as_argon2id_hashes(store):
    stored = store.query("SELECT username, password_hash FROM users")
    assert stored["password_hash"].str.startswith("$argon2id$").all()
    assert not stored["password_hash"].str.contains(PASSWORD, regex=False).any()


# -- uploads ---------------------------------------------------------------------------------
def upload(client, name: str, content: bytes, kind: str = "councils", dry_run: bool = True):
    data = {"csrf_token": csrf_of(client, "/upload"), "kind": kind, "mode": "append",
            "file": (io.BytesIO(content), name)}
    if dry_run:
        data["dry_run"] = "1"
    return client.post("/upload", data=data, content_type="multipart/form-data")


def shown_lines(response) -> list[str]:
    found = re.search(r'<pre id="import-output">(.*?)</pre>', response.get_data(as_text=True), re.S)
    return html.unescape(found.group(1)).splitlines()


def without_times(lines):
    return [re.sub(r"\d+\.\d s", "N s", line) for line in lines]


BAD_COUNCILS = ("council_id,name,tambon,district,registered_year,member_groups\n"
                "C1,สภา ก,ต.ในเมือง,,2552,18\nC1,สภา ข,ไม่มีตำบลนี้,,2010,-3\n").encode("utf-8")


@pytest.mark.parametrize("content", [BAD_COUNCILS, (ROOT / "examples" / "councils.csv").read_bytes()])
def test_web_import_shows_exactly_what_the_command_prints(app, store, tmp_path, capsys, content):
    path = tmp_path / "councils-2567.csv"
    path.write_bytes(content)
    args = SimpleNamespace(db=store.location, kind="councils", file=str(path), mode="append", dry_run=True, by="cli")
    importer.run_cli(args)
    printed = capsys.readouterr()
    cli = (printed.err + printed.out).splitlines()
    response = upload(client_as(app, "anan"), "councils-2567.csv", content)
    assert without_times(shown_lines(response)) == without_times(cli)
    assert response.status_code == (200 if "accepted" in cli[-1] else 400)


def test_an_analyst_import_writes_the_store(app, store):
    content = (ROOT / "examples" / "councils.csv").read_bytes()
    before = store.scalar("SELECT count(*) FROM councils")
    response = upload(client_as(app, "anan"), "councils.csv", content, dry_run=False)
    assert response.status_code == 200
    assert store.scalar("SELECT count(*) FROM councils") > before
    log = store.query("SELECT file_name, imported_by FROM imports WHERE kind = 'councils'")
    assert "web:anan" in set(log["imported_by"])


@pytest.mark.parametrize("name, content, message", [
    ("councils.txt", b"council_id\n", "only .csv and .xlsx"),
    ("councils.exe", b"MZ\x90\x00", "only .csv and .xlsx"),
    ("councils.xlsx", b"council_id,name\nC1,x\n", "not an Excel .xlsx workbook"),
    ("councils.csv", b"PK\x03\x04" + b"\x00" * 40, "not a CSV text file"),
    ("councils.csv", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 40, "not a CSV text file"),
])
def test_uploads_are_checked_by_name_and_content(app, store, name, content, message):
    before = store.table_checksum("councils")
    response = upload(client_as(app, "anan"), name, content, dry_run=False)
    assert response.status_code == 400 and message in html.unescape(response.get_data(as_text=True))
    assert store.table_checksum("councils") == before


def test_a_zip_renamed_xlsx_without_content_types_is_refused(tmp_path):
    import zipfile

    path = tmp_path / "f.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("evil.txt", "x")
    with pytest.raises(uploads.UploadRefused, match=r"\[Content_Types\].xml"):
        uploads.check_content(path, ".xlsx", "f.xlsx")


def test_file_names_are_never_paths(app, tmp_path):
    target = Path("/tmp/atlas-traversal-proof.csv")
    target.unlink(missing_ok=True)
    response = upload(client_as(app, "anan"), "../../../../tmp/atlas-traversal-proof.csv", BAD_COUNCILS)
    text = html.unescape(response.get_data(as_text=True))
    assert "atlas-traversal-proof.csv row" in text and "../" not in text
    assert not target.exists()
    assert uploads.display_name("..\\..\\windows\\evil.csv") == "evil.csv"
    assert uploads.display_name("../.hidden\x00.csv") == "hidden.csv"
    assert not list(Path(__import__("tempfile").gettempdir()).glob("atlas-upload-*")), "temporary copies are removed"


def test_uploads_larger_than_the_limit_are_refused(app, monkeypatch):
    monkeypatch.setenv("ATLAS_MAX_UPLOAD_MB", "0.5")
    assert uploads.max_upload_bytes() == 512 * 1024
    monkeypatch.delenv("ATLAS_MAX_UPLOAD_MB")
    assert uploads.max_upload_bytes() == 20 * 1024 * 1024
    client = client_as(app, "anan")
    limit = app.server.config["MAX_CONTENT_LENGTH"]
    app.server.config["MAX_CONTENT_LENGTH"] = 64 * 1024
    try:
        response = upload(client, "big.csv", b"council_id,name\n" + b"C1,x\n" * 20_000)
    finally:
        app.server.config["MAX_CONTENT_LENGTH"] = limit
    assert response.status_code == 413 and "too large" in response.get_data(as_text=True).lower()


def test_admins_can_replace_the_zones_and_analysts_cannot(app, store):
    table = (ROOT / "geodata" / "zones_TH30.csv").read_bytes()
    analyst = upload(client_as(app, "anan"), "zones.csv", table, kind="zones", dry_run=False)
    assert analyst.status_code == 400 and "unknown kind 'zones'" in html.unescape(analyst.get_data(as_text=True))
    admin = upload(client_as(app, "adam"), "zones.csv", table, kind="zones", dry_run=True)
    assert admin.status_code == 200 and "dry run" in admin.get_data(as_text=True)
    broken = upload(client_as(app, "adam"), "zones.csv", b"pcode,zone\nTH3001,1\n", kind="zones", dry_run=False)
    assert broken.status_code == 400 and "missing column" in html.unescape(broken.get_data(as_text=True))


# -- the users command -------------------------------------------------------------------------
def test_users_command_adds_lists_and_removes(tmp_path, capsys, monkeypatch):
    from dashboard.__main__ import main

    db = str(tmp_path / "atlas.duckdb")
    monkeypatch.setattr("sys.stdin", io.StringIO("a-long-password\n"))
    assert main(["users", "add", "Somchai", "--role", "analyst", "--zones", "1,3", "--db", db, "--password-stdin"]) == 0
    monkeypatch.setattr("sys.stdin", io.StringIO("a-long-password\n"))
    assert main(["users", "add", "somchai", "--role", "viewer", "--db", db, "--password-stdin"]) == 1
    assert "exists already" in capsys.readouterr().err
    assert main(["users", "list", "--db", db]) == 0
    assert capsys.readouterr().out.strip() == "somchai\tanalyst\t1,3"
    monkeypatch.setattr("sys.stdin", io.StringIO("a-long-password\n"))
    assert main(["users", "add", "ana", "--role", "analyst", "--db", db, "--password-stdin"]) == 1
    assert "needs --zones" in capsys.readouterr().err
    assert main(["users", "remove", "somchai", "--db", db]) == 0
    assert main(["users", "remove", "somchai", "--db", db]) == 1
    assert auth.list_users(open_store(db)) == []


def test_a_store_made_before_the_users_table_gets_it_when_a_user_is_added(tmp_path):
    store = open_store(tmp_path / "atlas.duckdb")
    with store._connect(read_only=False) as con:
        con.execute("DROP TABLE users")
    assert not auth.users_configured(store) and auth.list_users(store) == []
    auth.add_user(store, "first", PASSWORD, "admin")
    assert [user.username for user in auth.list_users(store)] == ["first"]


def test_users_live_in_either_backend(any_store):
    store = any_store
    assert auth.list_users(store) == [] and not auth.users_configured(store)
    auth.add_user(store, "malee", PASSWORD, "analyst", "3,1")
    auth.add_user(store, "boss", PASSWORD, "admin")
    assert [(u.username, u.role, u.zones) for u in auth.list_users(store)] == [("boss", "admin", ()),
                                                                             ("malee", "analyst", (1, 3))]
    assert auth.verify_password(auth.get_user(store, "MALEE").password_hash, PASSWORD)
    assert auth.remove_user(store, "boss") and [u.username for u in auth.list_users(store)] == ["malee"]
    assert auth.users_configured(store)
