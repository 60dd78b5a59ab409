"""`python -m dashboard [--db PATH] [--host 127.0.0.1] [--port 8050]` serves the atlas.

`python -m dashboard export ...` writes maps to files instead (dashboard/cli_export.py).
`python -m dashboard serve ...` serves it with gunicorn and several workers (dashboard/serve.py).
`python -m dashboard users ...` adds, lists and removes logins (dashboard/cli_users.py).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from geodata import config


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m dashboard", description="Serve the Korat Development Atlas.",
        epilog="`python -m dashboard export --help` shows how to export maps to files; "
               "`python -m dashboard serve --help` how to serve with several workers (production).")
    parser.add_argument("--db", default=None, help=f"store (default: $ATLAS_DB or {config.default_db()})")
    parser.add_argument("--province", default=None,
                        help="province P-code to show from a national store, e.g. TH10 (default: $ATLAS_PROVINCE or TH30)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8050)
    parser.add_argument("--debug", action="store_true")
    return parser


def ensure_store(db: str) -> str:
    """Build the SYNTHETIC demo store (and its derived raster) where no store exists yet."""
    if "://" not in db and not Path(db).exists():
        from geodata.demo import build_demo
        from geodata.store import open_store
        from layers.rasters import register_demo_raster

        print(f"no store at {db}: building the SYNTHETIC demo data set first", file=sys.stderr)
        store = open_store(db)
        build_demo(store)
        register_demo_raster(store)
    return db


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["export"]:
        from .cli_export import main as export_main

        return export_main(argv[1:])
    if argv[:1] == ["serve"]:
        from .serve import main as serve_main

        return serve_main(argv[1:])
    if argv[:1] == ["users"]:
        from .cli_users import main as users_main

        return users_main(argv[1:])
    args = build_parser().parse_args(argv)
    db = ensure_store(args.db or config.default_db())
    started = time.perf_counter()
    from .app import create_app

    try:
        app = create_app(db, province=args.province)
    except (ValueError, RuntimeError) as error:  # a province the store does not hold, no secret key with logins
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"atlas ready in {time.perf_counter() - started:.1f} s: http://{args.host}:{args.port}/", file=sys.stderr)
    app.run(host=args.host, port=args.port, debug=args.debug)
    return 0


if __name__ == "__main__":
    sys.exit(main())
