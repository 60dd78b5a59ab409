"""`python -m dashboard export`: maps to files for briefings, decks and web pages, in batches.

    python -m dashboard export --indicator mpi_headcount --level tambon --zone 3 --year 2024 \\
        --lang th --format png --out map.png [--scale 2]
    python -m dashboard export --indicator mpi_headcount --per-zone --format pptx --out zones.pptx
    python -m dashboard export --indicators councils,welfare_funds --format svg --out maps/

One deck holds every map of a batch; other formats write one file per map
into the folder given by --out. The files come from dashboard.exports, the
same functions as the dashboard's Download menu; no server is needed.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tqdm import tqdm

from geodata import config

from . import exports
from .state import LEVELS, SCHEMES, View, from_query, parse_numbers


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m dashboard export",
                                     description="Export maps of the Korat Development Atlas to files.")
    parser.add_argument("--db", default=None, help=f"store (default: $ATLAS_DB or {config.default_db()})")
    parser.add_argument("--view", default=None, metavar="QUERY",
                        help="start from a permalink's query string, e.g. '?indicator=councils&zones=3'")
    parser.add_argument("--indicator", default=None, help="indicator id (default mpi_headcount)")
    parser.add_argument("--indicators", default=None, help="comma-separated indicator ids: one map each")
    parser.add_argument("--level", choices=LEVELS, default=None)
    parser.add_argument("--zone", "--zones", dest="zones", action="append", default=None,
                        help="zone number(s): --zone 3, --zone 1,3 or repeated")
    parser.add_argument("--district", default=None, help="district P-code: only its tambons (drill-down)")
    parser.add_argument("--year", type=int, default=None, help="survey year, CE or BE (default: latest)")
    parser.add_argument("--lang", choices=("th", "en"), default=None)
    parser.add_argument("--scheme", choices=SCHEMES, default=None)
    parser.add_argument("--k", type=int, default=None, help="number of classes")
    parser.add_argument("--breaks", default=None, help="user-set breaks, e.g. 0.1,0.2,0.4")
    parser.add_argument("--mpi-cutoff", type=float, default=None)
    parser.add_argument("--format", required=True, choices=exports.FORMATS)
    parser.add_argument("--out", required=True, help="file, or folder for a batch of non-deck files")
    parser.add_argument("--scale", type=float, default=1, help="PNG scale: 2 gives 3840×2160")
    parser.add_argument("--per-zone", action="store_true", help="one map per zone (one slide each in a deck)")
    return parser


def view_from_args(args, known_indicators) -> View:
    """The permalink's view (if any) with every option given on the command line applied."""
    view = from_query(args.view, known_indicators)
    changes = {}
    if args.indicator:
        changes["indicator"] = args.indicator
    if args.level:
        changes["level"] = args.level
    if args.zones:
        changes["zones"] = tuple(sorted({z for text in args.zones for z in parse_numbers(text, int)}))
    if args.district:
        changes["district"] = args.district
    if args.year is not None:
        changes["year"] = args.year - 543 if args.year > 2400 else args.year
    if args.lang:
        changes["lang"] = args.lang
    if args.scheme:
        changes["scheme"] = args.scheme
    if args.k is not None:
        changes["k"] = min(max(args.k, 2), 9)
    if args.breaks:
        changes["breaks"] = parse_numbers(args.breaks)
        changes.setdefault("scheme", "user")
    if args.mpi_cutoff is not None:
        changes["mpi_cutoff"] = args.mpi_cutoff
    return view.with_(**changes)


def check_indicators(ids, known) -> list[str]:
    return [i for i in ids if i not in known]


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    db = args.db or config.default_db()
    if "://" not in db and not Path(db).exists():
        print(f"no store at {db}; build one first, e.g. `python -m geodata demo --db {db}`", file=sys.stderr)
        return 1
    from geodata.store import open_store
    from layers.atlas import Atlas

    atlas = Atlas(open_store(db))
    known = set(atlas.indicator_ids())
    indicators = [i.strip() for i in (args.indicators or "").split(",") if i.strip()]
    unknown = check_indicators(indicators + ([args.indicator] if args.indicator else []), known)
    if unknown:
        print(f"unknown indicator(s): {', '.join(unknown)}; known: {', '.join(sorted(known))}", file=sys.stderr)
        return 1
    view = view_from_args(args, known)
    zones = atlas.zones()["zone"].astype(int).tolist()
    if set(view.zones) - set(zones):
        print(f"unknown zone(s): {sorted(set(view.zones) - set(zones))}; zones are {zones}", file=sys.stderr)
        return 1
    views = exports.batch_views(view, per_zone=args.per_zone, indicators=indicators, zones=zones)
    out = Path(args.out)
    if args.format == "pptx" or len(views) == 1:
        write_one(atlas, views, args, out)
    else:
        write_many(atlas, views, args, out)
    return 0


def write_one(atlas, views: list[View], args, out: Path) -> None:
    """One file: a single map, or a deck with a slide per map."""
    out.parent.mkdir(parents=True, exist_ok=True)
    with tqdm(total=len(views), desc="export", unit="map", disable=len(views) < 2) as bar:
        content = exports.export(atlas, views[0], args.format, scale=args.scale, views=views, progress=bar.update)
    out.write_bytes(content)
    print(f"wrote {out} ({len(content):,} bytes)", file=sys.stderr)


def write_many(atlas, views: list[View], args, out: Path) -> None:
    """A folder with one file per map, named after what each shows."""
    out.mkdir(parents=True, exist_ok=True)
    for view in tqdm(views, desc="export", unit="map"):
        path = out / exports.filename(view, args.format, args.scale)
        path.write_bytes(exports.export(atlas, view, args.format, scale=args.scale))
    print(f"wrote {len(views)} files to {out}", file=sys.stderr)
