"""Command line of the data side: `python -m geodata COMMAND --help`.

Exit codes: 0 when everything asked was done, 1 when input was refused
(validation, ambiguity, hash mismatch), 2 for usage errors.
"""
from __future__ import annotations

import argparse
import importlib
import sys

from . import config

EPILOG = """examples:
  python -m geodata demo --households 900000 --seed 1
  python -m geodata national --households 13000000 --db data/national.duckdb
  python -m geodata import households examples/households.csv --dry-run
  python -m geodata import funds funds.xlsx --mode replace
  python -m geodata match my_tambons.csv --report match-report.csv
  python -m geodata indicators --level district --year 2024 --format csv --out districts.csv
  python -m geodata zones my_zones.csv
  python -m geodata boundaries --level tambon --out tambons.geojson
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m geodata",
        description="Korat Development Atlas: boundaries, imports, warehouse, indicators and demo data.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    db_help = f"store: a DuckDB file (default: $ATLAS_DB or {config.default_db()})"

    def command(name: str, target: str, help_text: str, example: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=f"{help_text}\n\nexample:\n  {example}",
                           formatter_class=argparse.RawDescriptionHelpFormatter)
        p.set_defaults(target=target)
        p.add_argument("--db", default=None, help=db_help)
        return p

    p = command("demo", "geodata.demo:run_cli", "Build the SYNTHETIC demo data set for the real tambons.",
                "python -m geodata demo --households 900000 --seed 1")
    p.add_argument("--households", type=int, default=900_000, help="number of households (default 900000)")
    p.add_argument("--seed", type=int, default=1, help="random seed; the same seed gives the same data")
    p.add_argument("--province", default=config.DEFAULT_PROVINCE, help="province P-code (default TH30)")
    p.add_argument("--force", action="store_true", help="replace tables that hold real (imported) data")

    p = command("national", "geodata.national:run_cli",
                "Build the SYNTHETIC national data set (7,425 tambons, 77 provinces) in a new DuckDB store.",
                "python -m geodata national --households 13000000 --db national.duckdb")
    p.add_argument("--households", type=int, default=13_000_000, help="number of households (default 13000000)")
    p.add_argument("--seed", type=int, default=1, help="random seed; the same seed gives the same data")
    p.add_argument("--force", action="store_true", help="replace the store at --db if it exists")

    p = command("import", "geodata.importer:run_cli", "Import a CSV or XLSX file of one kind into the store.",
                "python -m geodata import councils councils.csv --mode append")
    p.add_argument("kind", choices=["councils", "funds", "housing", "households", "referrals"])
    p.add_argument("file")
    p.add_argument("--mode", choices=["append", "replace"], default="append",
                   help="append (default; duplicate keys are refused) or replace the whole table")
    p.add_argument("--dry-run", action="store_true", help="check everything, change nothing")
    p.add_argument("--by", default="cli", help="who imports (kept in the import log)")

    p = command("match", "geodata.importer:run_match_cli", "Resolve a file's tambon/district columns only, and write a report.",
                "python -m geodata match tambons.csv --report match-report.csv")
    p.add_argument("file")
    p.add_argument("--report", default=None, help="report CSV (default: FILE with -match.csv)")

    p = command("indicators", "layers.indicators:run_cli", "Compute indicators per area from the store.",
                "python -m geodata indicators --level zone --format csv")
    p.add_argument("--level", choices=["tambon", "district", "zone", "province"], default="tambon")
    p.add_argument("--zone", type=int, action="append", help="only this zone (repeatable)")
    p.add_argument("--year", type=int, default=None, help="survey year, CE or BE (default: each tambon's latest)")
    p.add_argument("--mpi-cutoff", type=float, default=0.2, help="MPI cutoff k as a share of dimensions (default 0.2)")
    p.add_argument("--format", choices=["csv", "geojson", "parquet"], default="csv")
    p.add_argument("--out", default=None, help="output file (default: print CSV to standard output)")

    p = command("zones", "geodata.__main__:run_zones", "Replace the district -> zone table with your own CSV.",
                "python -m geodata zones my_zones.csv")
    p.add_argument("file", help="CSV with pcode,zone,zone_name_th,zone_name_en")

    p = command("boundaries", "geodata.__main__:run_boundaries", "Fetch (hash-checked) and export boundaries.",
                "python -m geodata boundaries --level district --out districts.geojson")
    p.add_argument("--level", choices=["province", "district", "tambon"], default="tambon")
    p.add_argument("--province", default=config.DEFAULT_PROVINCE, help="province P-code, or ALL for the country")
    p.add_argument("--out", default=None, help="GeoJSON, GeoPackage or GeoParquet file (by extension)")

    p = command("raster", "geodata.rasters:run_cli", "Register GeoTIFF rasters; their statistics per tambon become indicators.",
                "python -m geodata raster add worldpop.tif --name population --title-th ประชากร "
                "--title-en Population --unit people --population --copy")
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    # --db is accepted after the action too; SUPPRESS keeps a value given before it.
    db_after = {"default": argparse.SUPPRESS, "help": db_help}
    a = actions.add_parser("add", help="validate and register a raster file (GeoTIFF, also Cloud-Optimised)")
    a.add_argument("file", help="the raster file")
    a.add_argument("--name", required=True, help="raster id: lower-case letters, digits, _ (e.g. population)")
    a.add_argument("--title-th", required=True, help="Thai title")
    a.add_argument("--title-en", required=True, help="English title")
    a.add_argument("--unit", required=True, help="unit of the cell values, in English (e.g. people, km)")
    a.add_argument("--unit-th", default=None, help="unit in Thai (default: as --unit)")
    a.add_argument("--categorical", action="store_true", help="cells are classes (land cover): share of each class")
    a.add_argument("--population", action="store_true", help="cells count people: adds totals, density, per-capita")
    a.add_argument("--counts", action="store_true", help="cells count things (buildings): totals are meaningful")
    a.add_argument("--nodata", type=float, default=None, help="value marking empty cells, if the file declares none")
    a.add_argument("--band", type=int, default=None, help="band to use in a multi-band file (1 = first)")
    a.add_argument("--copy", action="store_true", help="copy the file into the data folder (default: reference it)")
    a.add_argument("--replace", action="store_true", help="replace a raster already registered under this name")
    a.add_argument("--source", default="", help="where the data comes from (shown with the indicator)")
    a.add_argument("--better", choices=["higher", "lower"], default=None, help="which direction is better, if any")
    a.add_argument("--db", **db_after)
    a = actions.add_parser("list", help="list registered rasters")
    a.add_argument("--db", **db_after)
    a = actions.add_parser("remove", help="forget a raster and its statistics (a copied file is deleted)")
    a.add_argument("raster_id")
    a.add_argument("--db", **db_after)
    a = actions.add_parser("demo", help="build and register the DERIVED distance-to-district-centre raster")
    a.add_argument("--db", **db_after)
    return parser


def run_zones(args) -> int:
    from .store import TableWrite, open_store
    from .zones import read_zones

    store = open_store(args.db)
    table = read_zones(args.file, store.meta("province") or config.DEFAULT_PROVINCE)
    store.write([TableWrite("zones", table, mode="replace")])
    print(f"zones: {table['zone'].nunique()} zones over {len(table)} districts stored in {store.location}")
    return 0


def run_boundaries(args) -> int:
    from . import boundaries

    province = None if args.province.upper() == "ALL" else args.province.upper()
    frame = boundaries.load(args.level, province)
    if args.out:
        if args.out.endswith(".parquet"):
            frame.to_parquet(args.out)
        else:
            frame.to_file(args.out)
        print(f"boundaries: {len(frame)} {args.level} areas written to {args.out}")
    else:
        print(frame.drop(columns="geometry").to_csv(index=False), end="")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    module_name, function_name = args.target.split(":")
    run = getattr(importlib.import_module(module_name), function_name)
    try:
        return int(run(args) or 0)
    except (ValueError, RuntimeError, FileNotFoundError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
