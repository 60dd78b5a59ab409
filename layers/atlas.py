"""One object that answers every question the map asks, with in-memory caches.

Indicator tables and geometries are cached per store version, so a click or
an indicator change never re-reads geometry or re-runs an unchanged query.
"""
from __future__ import annotations

import hashlib
import threading
from pathlib import Path

import numpy as np
import pandas as pd

from geodata import config
from geodata.store import NATIONAL

from . import areas, indicators, maplayer, population, privacy, rasters, registry

TABLE_CACHE_FORMAT = 1  # bump when compute()'s columns or rules change

MAP_LEVELS = ("tambon", "district", "zone")
MAX_CACHED_LAYERS = 256


def atlas_province(store) -> str:
    """The province a store's maps show by default: its own, or for a national store ATLAS_PROVINCE (TH30)."""
    stored = store.meta("province")
    return config.DEFAULT_PROVINCE if stored in (None, NATIONAL) else stored


class Atlas:
    def __init__(self, store, table_cache: Path | None = None, province: str | None = None):
        self.store = store
        # The province shown: one of a national store's 77 (default ATLAS_PROVINCE, TH30), or the store's own.
        self.province = province or atlas_province(store)
        if not store.scalar("SELECT count(*) FROM tambons WHERE province_pcode = $province",
                            {"province": self.province}):
            raise ValueError(f"{store.location} holds no tambons of province {self.province}; "
                             f"it is a store for {store.meta('province')}")
        # Indicator tables survive restarts here, keyed by the store's version, so an
        # app restart over an unchanged store does not recompute them.
        self.table_cache = table_cache if table_cache is not None else config.cache_dir() / "indicator-tables"
        self._lock = threading.Lock()
        self._cache: dict = {}
        self._version = None

    # -- caching -------------------------------------------------------------
    def cached(self, key, compute):
        """`compute()` once per store version, kept under `key` (a tuple). The app keeps its
        per-version artefacts here too (page, base figure, pictures): an import renews them all."""
        version = self.store.version()
        with self._lock:
            if version != self._version:
                self._cache.clear()
                self._version = version
                refresh_rasters = True
            else:
                refresh_rasters = False
        if refresh_rasters:
            # Registered rasters become indicators like any other; a population raster
            # also gives every count indicator per-capita and per-km² companions.
            rasters.register_raster_indicators(self.store)
            population.register_rate_indicators(self.store)
        with self._lock:
            if key in self._cache:
                return self._cache[key]
        with self.store.session():
            value = compute()
        with self._lock:
            self._cache[key] = value
        return value

    def warm(self, levels=MAP_LEVELS + ("province",)) -> None:
        """Compute what the first page view needs, before anyone asks."""
        with self.store.session():
            for level in levels:
                self.table(level)
                if level in MAP_LEVELS:
                    self.geojson(level)
            self.zones()
            self.years()
            self.rasters()
            self.synthetic_tables()
            self.imports()

    # -- data ----------------------------------------------------------------
    def table(self, level: str, year: int | None = None, mpi_cutoff: float = 0.2) -> pd.DataFrame:
        """Every indicator of every area of `level`, store and raster indicators alike."""
        key = ("table", level, year, round(mpi_cutoff, 4), self.province)

        def build():
            table = self._persisted(key, lambda: indicators.compute(self.store, level, year=year, mpi_cutoff=mpi_cutoff,
                                                                    province=self.province))
            raster_values = self.raster_values(level)
            if raster_values.shape[1] > 1:
                # Zone keys come back as numbers; areas are keyed by text everywhere else.
                raster_values = raster_values.assign(pcode=raster_values["pcode"].astype(str))
                table = table.merge(raster_values, on="pcode", how="left")
            return population.add_rates(table, self.store, level)

        return self.cached(key, build)

    def _persisted(self, key, compute) -> pd.DataFrame:
        store_id = hashlib.sha1(self.store.location.encode()).hexdigest()[:16]
        version = hashlib.sha1(f"{self.store.version()}|{TABLE_CACHE_FORMAT}".encode()).hexdigest()[:16]
        name = hashlib.sha1(repr(key).encode()).hexdigest()[:16]
        path = self.table_cache / f"{store_id}-{version}-{name}.parquet"
        if path.is_file():
            try:
                return pd.read_parquet(path)
            except (OSError, ValueError):
                path.unlink(missing_ok=True)  # a damaged cache file is recomputed, never trusted
        frame = compute()
        try:
            self.table_cache.mkdir(parents=True, exist_ok=True)
            for stale in self.table_cache.glob(f"{store_id}-*.parquet"):
                if not stale.name.startswith(f"{store_id}-{version}-"):
                    stale.unlink(missing_ok=True)
            partial = path.with_suffix(f".{threading.get_ident()}.partial")
            frame.to_parquet(partial)
            partial.replace(path)
        except OSError:
            pass  # a read-only cache folder only costs speed
        return frame

    def area_lists(self, level: str, pcode: str, year: int | None = None) -> dict[str, pd.DataFrame]:
        """The councils, funds and housing projects of one area, cut from one cached query per level."""
        every = self.cached(("lists", level, year), lambda: indicators.area_lists(
            self.store, level, None, year=year, province=self.province))
        return {key: frame[frame["area"] == str(pcode)].drop(columns="area").reset_index(drop=True)
                for key, frame in every.items()}

    def referrals_by_agency(self, level: str, pcode: str, year: int | None = None) -> pd.DataFrame:
        """Referral cases of one area by agency, cut from one cached query per level."""
        every = self.cached(("referrals-by-agency", level, year), lambda: indicators.referrals_by_agency(
            self.store, level, None, year=year, province=self.province))
        return every[every["area"] == str(pcode)].drop(columns="area").reset_index(drop=True)

    def raster_values(self, level: str) -> pd.DataFrame:
        return self.cached(("raster-values", level), lambda: rasters.raster_indicator_values(self.store, level))

    def rasters(self) -> list:
        from geodata.rasters import list_rasters

        return self.cached(("rasters",), lambda: list_rasters(self.store))

    def overlay(self, raster_id: str | None):
        """The raster's map image, or None when it is not registered."""
        if not raster_id or raster_id not in {r.raster_id for r in self.rasters()}:
            return None
        return self.cached(("overlay", raster_id), lambda: rasters.overlay_image(self.store, raster_id))

    def geometry(self, level: str):
        return self.cached(("geometry", level), lambda: areas.area_geometries(level, self.store, self.province))

    def geojson(self, level: str) -> dict:
        return self.cached(("geojson", level), lambda: maplayer.geojson(self.geometry(level)))

    def feature(self, level: str, pcode: str | None) -> dict | None:
        """The GeoJSON feature of one area of `level`, or None."""
        if not pcode:
            return None
        index = self.cached(("feature-index", level),
                             lambda: {f["id"]: f for f in self.geojson(level)["features"]})
        return index.get(pcode)

    def years(self) -> list[int]:
        return self.cached(("years",), lambda: indicators.survey_years(self.store))

    def zones(self) -> pd.DataFrame:
        return self.cached(("zones",), lambda: self.store.query(
            "SELECT zone, min(zone_name_th) AS name_th, min(zone_name_en) AS name_en, bool_or(assumed) AS assumed "
            "FROM zones WHERE district_pcode IN (SELECT district_pcode FROM tambons WHERE province_pcode = $province) "
            "GROUP BY zone ORDER BY zone", {"province": self.province}))

    def synthetic_tables(self) -> list[str]:
        return self.cached(("synthetic",), self.store.synthetic_tables)

    def imports(self) -> pd.DataFrame:
        return self.cached(("imports",), lambda: self.store.query(
            "SELECT kind, table_name, file_name, rows_accepted, mode, imported_by, imported_at, synthetic "
            "FROM imports ORDER BY imported_at DESC"))

    def indicator_ids(self) -> list[str]:
        return [i.id for i in registry.all_indicators()]

    # -- map -----------------------------------------------------------------
    def shown_table(self, level: str, year: int | None = None, mpi_cutoff: float = 0.2) -> pd.DataFrame:
        """`table` as it may be shown: household figures of fewer than 5 households blanked (PDPA)."""
        return self.cached(("shown", level, year, round(mpi_cutoff, 4)),
                            lambda: privacy.suppress_small_counts(self.table(level, year, mpi_cutoff)))

    def layer(self, view) -> maplayer.MapLayer:
        """The map layer of a view; the map, the ranking table and exports of one view share it."""
        key = ("layer", view.level, view.year, round(view.mpi_cutoff, 4), view.indicator, view.scheme, view.k,
               tuple(view.breaks), tuple(view.zones), view.district, view.lang, view.thai_digits)
        with self._lock:
            # Views are many (indicators x zones x classes x languages): keep only the most recent layers.
            layers = [k for k in self._cache if k[0] == "layer"]
            for stale in layers[: max(0, len(layers) - MAX_CACHED_LAYERS)]:
                self._cache.pop(stale, None)
        return self.cached(key, lambda: maplayer.build_layer(
            self.shown_table(view.level, view.year, view.mpi_cutoff), view.indicator, view.level,
            scheme=view.scheme, k=view.k, breaks=view.breaks, zones=view.zones, district=view.district,
            lang=view.lang, thai_digits=view.thai_digits,
        ))

    def focus_bounds(self, view) -> tuple:
        table = self.table(view.level, view.year, view.mpi_cutoff)
        geometry = self.geometry(view.level).set_index("pcode").reindex(table["pcode"].astype(str)).reset_index()
        mask = maplayer.focus_mask(table, view.level, view.zones, view.district)
        return maplayer.view_box(geometry, mask if mask.any() and not mask.all() else None)

    def area_level(self, pcode: str | None) -> str | None:
        """Which level a pcode belongs to: zone numbers, TH + 4 digits, TH + 6 digits."""
        if not pcode:
            return None
        if pcode.isdigit():
            return "zone"
        return {4: "province", 6: "district", 8: "tambon"}.get(len(pcode))

    def area_row(self, pcode: str, view) -> pd.Series | None:
        level = self.area_level(pcode)
        if level is None:
            return None
        table = self.shown_table(level, view.year, view.mpi_cutoff)
        rows = table[table["pcode"] == pcode]
        return None if rows.empty else rows.iloc[0]
