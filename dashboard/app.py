"""The Dash application factory."""
from __future__ import annotations

import importlib
import os
import threading

import dash
import flask

from geodata.store import open_store
from layers.atlas import Atlas

from .layout import page_layout

ASSETS = os.path.join(os.path.dirname(__file__), "assets")


def frame_ancestors() -> str:
    """Origins allowed to show the app in an <iframe> (CSP frame-ancestors)."""
    extra = os.environ.get("ATLAS_FRAME_ANCESTORS", "").split()
    return " ".join(["'self'", *extra])


def create_app(db: str | None = None, warm: bool = True, province: str | None = None) -> dash.Dash:
    """The app over the store at `db`; `province` picks one province of a national store
    (default: the store's own, or $ATLAS_PROVINCE for a national store)."""
    store = open_store(db)
    atlas = Atlas(store, province=province)
    if warm:
        # Classification needs scipy (seconds to import): load it beside the start-up work.
        threading.Thread(target=importlib.import_module, args=("mapclassify",), daemon=True).start()
        atlas.warm()
    server = flask.Flask(__name__)
    app = dash.Dash(
        __name__, server=server, title="Korat Development Atlas · แผนที่การพัฒนานครราชสีมา",
        assets_folder=ASSETS, suppress_callback_exceptions=True, update_title=None,
    )
    app.atlas = atlas
    # Logins, roles, uploads and household lists (issue 7); before the layout, which may need the user.
    from . import auth, households, preview, uploads

    auth.init_app(app, atlas)
    uploads.init_app(app, atlas)
    households.init_app(app, atlas)
    preview.init_app(app, atlas, warm=warm)
    app.layout = page_layout(atlas)
    if warm:
        app.layout()  # built now, so the first visitor does not wait for it

    from callbacks import register

    register(app, atlas)

    @server.route("/healthz")
    def healthz():
        atlas.table("province")
        return {"status": "ok", "store": store.backend}

    @server.after_request
    def security_headers(response):
        response.headers["Content-Security-Policy"] = f"frame-ancestors {frame_ancestors()}"
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response

    return app
