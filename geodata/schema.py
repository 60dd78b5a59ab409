"""Warehouse tables: one definition shared by every backend, the importer and the demo.

Types are the SQL names that DuckDB and PostgreSQL both understand. Tambons are
stored by P-code (`TH300101`); years are Common Era.
"""
from __future__ import annotations

from . import summaries

TABLES: dict[str, dict[str, str]] = {
    "tambons": {
        "pcode": "VARCHAR PRIMARY KEY",
        "name_th": "VARCHAR",
        "name_en": "VARCHAR",
        "district_pcode": "VARCHAR",
        "district_th": "VARCHAR",
        "district_en": "VARCHAR",
        "province_pcode": "VARCHAR",
    },
    "zones": {
        "district_pcode": "VARCHAR PRIMARY KEY",
        "zone": "INTEGER",
        "zone_name_th": "VARCHAR",
        "zone_name_en": "VARCHAR",
        "assumed": "BOOLEAN",
    },
    "councils": {
        "council_id": "VARCHAR PRIMARY KEY",
        "name": "VARCHAR",
        "tambon_pcode": "VARCHAR",
        "registered_year": "INTEGER",
        "member_groups": "INTEGER",
    },
    "welfare_funds": {
        "fund_id": "VARCHAR PRIMARY KEY",
        "name": "VARCHAR",
        "tambon_pcode": "VARCHAR",
        "founded_year": "INTEGER",
        "members": "INTEGER",
        "fund_baht": "DOUBLE PRECISION",
    },
    "housing_projects": {
        "project_id": "VARCHAR PRIMARY KEY",
        "name": "VARCHAR",
        "tambon_pcode": "VARCHAR",
        "programme": "VARCHAR",
        "start_year": "INTEGER",
        "households": "INTEGER",
        "budget_baht": "DOUBLE PRECISION",
        "railside": "BOOLEAN",
        "status": "VARCHAR",
    },
    "households": {
        "household_id": "VARCHAR",
        "survey_year": "INTEGER",
        "tambon_pcode": "VARCHAR",
        "members": "INTEGER",
        "income_month": "DOUBLE PRECISION",
        "capital_human": "DOUBLE PRECISION",
        "capital_physical": "DOUBLE PRECISION",
        "capital_financial": "DOUBLE PRECISION",
        "capital_natural": "DOUBLE PRECISION",
        "capital_social": "DOUBLE PRECISION",
        "deprived_health": "BOOLEAN",
        "deprived_living": "BOOLEAN",
        "deprived_education": "BOOLEAN",
        "deprived_income": "BOOLEAN",
        "deprived_access": "BOOLEAN",
        "welfare_card": "BOOLEAN",
        "railside": "BOOLEAN",
    },
    "referrals": {
        "referral_id": "VARCHAR PRIMARY KEY",
        "household_id": "VARCHAR",
        "agency": "VARCHAR",
        "help_type": "VARCHAR",
        "referred_on": "DATE",
        "resolved_on": "DATE",
        "status": "VARCHAR",
    },
    "imports": {
        "import_id": "VARCHAR PRIMARY KEY",
        "kind": "VARCHAR",
        "table_name": "VARCHAR",
        "file_name": "VARCHAR",
        "file_sha256": "VARCHAR",
        "rows_accepted": "BIGINT",
        "mode": "VARCHAR",
        "imported_by": "VARCHAR",
        "imported_at": "TIMESTAMP",
        "synthetic": "BOOLEAN",
    },
    # One row per data table: whether any of its rows are synthetic.
    "datasets": {
        "table_name": "VARCHAR PRIMARY KEY",
        "synthetic": "BOOLEAN",
        "updated_at": "TIMESTAMP",
    },
    "meta": {
        "key": "VARCHAR PRIMARY KEY",
        "value": "VARCHAR",
    },
    # Logins of the dashboard (dashboard/auth.py): argon2id hashes, never passwords.
    "users": {
        "username": "VARCHAR PRIMARY KEY",
        "password_hash": "VARCHAR",
        "role": "VARCHAR",  # viewer | analyst | admin
        "zones": "VARCHAR",  # analysts: the zones whose household records they may see, e.g. "1,3"
        "created_at": "TIMESTAMP",
    },
}

# Registered rasters and their per-tambon statistics (geodata/rasters.py, layers/rasters.py).
RASTER_TABLES: dict[str, dict[str, str]] = {
    "rasters": {
        "raster_id": "VARCHAR PRIMARY KEY",
        "title_th": "VARCHAR",
        "title_en": "VARCHAR",
        "unit_th": "VARCHAR",
        "unit_en": "VARCHAR",
        "source": "VARCHAR",
        "kind": "VARCHAR",  # continuous | count | population | categorical
        "higher_is_better": "BOOLEAN",
        "derived": "BOOLEAN",
        "path": "VARCHAR",
        "copied": "BOOLEAN",
        "band": "INTEGER",
        "nodata": "DOUBLE PRECISION",
        "crs": "VARCHAR",
        "width": "BIGINT",
        "height": "BIGINT",
        "file_sha256": "VARCHAR",
        "file_size": "BIGINT",
        # Text: nanosecond stamps exceed 2**53, so a float on the way through would round them.
        "file_mtime_ns": "VARCHAR",
        "added_at": "TIMESTAMP",
    },
    # One row per raster and tambon: statistics over the valid cells whose centres lie inside.
    "raster_stats": {
        "raster_id": "VARCHAR",
        "tambon_pcode": "VARCHAR",
        "file_sha256": "VARCHAR",
        "method": "VARCHAR",
        "value_mean": "DOUBLE PRECISION",
        "value_sum": "DOUBLE PRECISION",
        "value_min": "DOUBLE PRECISION",
        "value_max": "DOUBLE PRECISION",
        "cell_count": "BIGINT",  # valid cells (not nodata)
        "cells": "BIGINT",  # all cells of the raster whose centres are inside the tambon
        "class_counts": "VARCHAR",  # categorical rasters: JSON {class: cells}
        "computed_at": "TIMESTAMP",
    },
}
RASTER_CONSTRAINTS = {"raster_stats": "PRIMARY KEY (raster_id, tambon_pcode)"}
TABLES.update(RASTER_TABLES)
# Summaries of the records, rebuilt with every write to them (geodata/summaries.py).
TABLES.update(summaries.TABLES)
SUMMARY_TABLES = list(summaries.TABLES)

# Composite keys are declared apart so the column map stays one type per column.
TABLE_CONSTRAINTS = {"households": "PRIMARY KEY (household_id, survey_year)", **RASTER_CONSTRAINTS}

DATA_TABLES = ["councils", "welfare_funds", "housing_projects", "households", "referrals"]

KEY_COLUMNS = {
    "councils": ["council_id"],
    "welfare_funds": ["fund_id"],
    "housing_projects": ["project_id"],
    "households": ["household_id", "survey_year"],
    "referrals": ["referral_id"],
}


def columns(table: str) -> list[str]:
    return list(TABLES[table])


def create_statement(table: str) -> str:
    spec = TABLES[table]
    parts = [f"{name} {sqltype}" for name, sqltype in spec.items()]
    if table in TABLE_CONSTRAINTS:
        parts.append(TABLE_CONSTRAINTS[table])
    return f"CREATE TABLE IF NOT EXISTS {table} ({', '.join(parts)})"


def create_statements() -> list[str]:
    return [create_statement(table) for table in TABLES]
