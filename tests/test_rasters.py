"""Raster layers: validation, zonal statistics with known answers, caching by hash, overlay, demo raster.

Every raster here is made in the test with known values over the real
Nakhon Ratchasima boundaries.
"""
from __future__ import annotations

import base64
import math
import os

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
import shapely
from pyproj import Transformer
from rasterio.features import geometry_mask
from rasterio.io import MemoryFile
from rasterio.transform import Affine, from_origin

from geodata import boundaries
from geodata import rasters as reg
from geodata.__main__ import main
from geodata.rasters import RasterError
from geodata.store import TableWrite
from layers import rasters as lr

UTM = 32647
# Sum over all tambons vs cells whose centres fall in the province outline: the two
# differ only by slivers where the simplified tambon polygons leave gaps or overlap.
EDGE_TOLERANCE = 0.005


@pytest.fixture(scope="module")
def tambons():
    return boundaries.load("tambon")[["pcode", "geometry"]]


@pytest.fixture(scope="module")
def outline_utm():
    return gpd.GeoSeries([reg.province_outline()], crs=4326).to_crs(UTM).iloc[0]


@pytest.fixture(autouse=True)
def data_folder(tmp_path, monkeypatch):
    folder = tmp_path / "data"
    monkeypatch.setenv("ATLAS_DATA_DIR", str(folder))
    return folder


def utm_grid(outline, resolution=500.0):
    """Transform and shape of a grid over the province in UTM 47N, with a margin."""
    west, south, east, north = outline.bounds
    west, north = math.floor(west / resolution) * resolution - 2000, math.ceil(north / resolution) * resolution + 2000
    width = int(math.ceil((east - west) / resolution)) + 8
    height = int(math.ceil((north - south) / resolution)) + 8
    return from_origin(west, north, resolution, resolution), (height, width)


def lonlat_grid(resolution=0.005):
    west, south, east, north = reg.province_outline().bounds
    west, north = math.floor(west * 100) / 100 - 0.02, math.ceil(north * 100) / 100 + 0.02
    width = int(math.ceil((east - west) / resolution)) + 8
    height = int(math.ceil((north - south) / resolution)) + 8
    return from_origin(west, north, resolution, resolution), (height, width)


def cell_centres(transform, shape):
    rows, cols = np.mgrid[0 : shape[0], 0 : shape[1]]
    xs, ys = transform @ (cols + 0.5, rows + 0.5)
    return xs, ys


def write(path, values, transform, crs=UTM, nodata=-9999.0, **extra):
    values = np.asarray(values)
    bands = values[None] if values.ndim == 2 else values
    profile = {"driver": "GTiff", "width": bands.shape[2], "height": bands.shape[1], "count": bands.shape[0],
               "dtype": bands.dtype.name, "transform": transform, "tiled": True, "blockxsize": 256,
               "blockysize": 256, "compress": "deflate"}
    if crs is not None:
        profile["crs"] = rasterio.crs.CRS.from_epsg(crs)
    if nodata is not None:
        profile["nodata"] = nodata
    profile.update(extra)
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(bands)
    return path


def register(store, path, raster_id="test", **options):
    titles = {"title_th": "ทดสอบ", "title_en": "Test", "unit_en": "units", "unit_th": "หน่วย"}
    return reg.add_raster(store, path, raster_id, **(titles | options))


# -- known statistics ------------------------------------------------------------
def test_constant_raster_gives_the_constant_as_every_tambon_mean(tmp_path, tambons, outline_utm):
    transform, shape = utm_grid(outline_utm)
    path = write(tmp_path / "constant.tif", np.full(shape, 7.25, np.float32), transform)
    stats = lr.zonal_stats(path, tambons)
    assert len(stats) == 289 and (stats["count"] > 0).all()
    assert (stats["mean"] == 7.25).all() and (stats["min"] == 7.25).all() and (stats["max"] == 7.25).all()
    assert np.allclose(stats["sum"], 7.25 * stats["count"])


def test_ones_sum_equals_the_cells_whose_centres_are_inside(tmp_path, tambons, outline_utm):
    transform, shape = utm_grid(outline_utm)
    values = np.ones(shape, np.float32)
    values[100:130, :] = -9999.0  # a band of nodata across the province
    path = write(tmp_path / "ones.tif", values, transform)
    stats = lr.zonal_stats(path, tambons).set_index("pcode")
    assert (stats["sum"].fillna(0) == stats["count"]).all()

    # Independent count with shapely: cell centres inside each polygon, minus nodata cells.
    xs, ys = cell_centres(transform, shape)
    valid = values != -9999.0
    for pcode, polygon in tambons.set_index("pcode").to_crs(UTM).geometry.items():
        inside = shapely.contains_xy(polygon, xs, ys)
        assert stats.loc[pcode, "cells"] == inside.sum(), pcode
        assert stats.loc[pcode, "count"] == (inside & valid).sum(), pcode

    in_province = geometry_mask([outline_utm], out_shape=shape, transform=transform, invert=True)
    province_total = (in_province & valid).sum()
    assert abs(stats["sum"].sum() - province_total) / province_total <= EDGE_TOLERANCE


def test_same_field_in_utm_and_lonlat_gives_the_same_tambon_means(tmp_path, tambons, outline_utm):
    def field(lon, lat):  # smooth and linear in lon/lat
        return 10 * (lon - 101) + 20 * (lat - 14)

    transform, shape = lonlat_grid(0.0025)
    lon, lat = cell_centres(transform, shape)
    geographic = write(tmp_path / "lonlat.tif", field(lon, lat).astype(np.float32), transform, crs=4326)

    transform, shape = utm_grid(outline_utm, 250.0)
    xs, ys = cell_centres(transform, shape)
    lon, lat = Transformer.from_crs(UTM, 4326, always_xy=True).transform(xs, ys)
    projected = write(tmp_path / "utm.tif", field(lon, lat).astype(np.float32), transform)

    a = lr.zonal_stats(geographic, tambons)
    b = lr.zonal_stats(projected, tambons)
    # Tolerance: one cell changes the field by about 0.05 (22 per degree x 0.0025°); the two
    # grids sample each tambon at different centres, so means may differ by less than that.
    difference = np.abs(a["mean"] - b["mean"])
    assert difference.max() < 0.05 and difference.median() < 0.01
    # Cell counts scale with cell area: 0.0025° is about 268 x 277 m here.
    ratio = a["count"].sum() / b["count"].sum()
    assert 0.8 < ratio < 0.9


def test_categorical_shares_sum_to_one_at_every_level(store, tmp_path, outline_utm):
    transform, shape = utm_grid(outline_utm)
    rows, cols = np.mgrid[0 : shape[0], 0 : shape[1]]
    classes = ((rows // 17 + cols // 23) % 3 + 1).astype(np.uint8)
    classes[::7, ::5] = 0  # scattered nodata
    register(store, write(tmp_path / "classes.tif", classes, transform, nodata=0), "cover", kind="categorical")
    for level in ("tambon", "district", "zone", "province"):
        frame = lr.zonal_for_level(store, "cover", level)
        shares = frame[["share_1", "share_2", "share_3"]]
        assert np.allclose(shares.sum(axis=1), 1.0), level
        assert ((shares >= 0) & (shares <= 1)).all().all()
    # The three classes tile the grid in equal parts, so the province holds about a third of each.
    assert np.allclose(frame[["share_1", "share_2", "share_3"]].iloc[0], 1 / 3, atol=0.03)


def test_higher_levels_pool_cells_rather_than_average_tambon_means(store, tmp_path, outline_utm):
    transform, shape = utm_grid(outline_utm)
    xs, ys = cell_centres(transform, shape)
    register(store, write(tmp_path / "east.tif", ((xs - xs.min()) / 1000).astype(np.float32), transform), "east")
    tambon = lr.zonal_for_level(store, "east", "tambon")
    keys = store.query("SELECT pcode, district_pcode FROM tambons")
    tambon = tambon.merge(keys, on="pcode")
    district = lr.zonal_for_level(store, "east", "district").set_index("pcode")
    pooled = tambon.groupby("district_pcode")["sum"].sum() / tambon.groupby("district_pcode")["count"].sum()
    mean_of_means = tambon.groupby("district_pcode")["mean"].mean()
    assert np.allclose(district["mean"], pooled.reindex(district.index))
    assert not np.allclose(district["mean"], mean_of_means.reindex(district.index))
    assert (district["min"] == tambon.groupby("district_pcode")["min"].min().reindex(district.index)).all()
    province = lr.zonal_for_level(store, "east", "province")
    assert list(province["pcode"]) == ["TH30"] and province["count"].iloc[0] == tambon["count"].sum()
    zone = lr.zonal_for_level(store, "east", "zone")
    assert len(zone) == store.scalar("SELECT count(DISTINCT zone) FROM zones")


def test_tambons_outside_a_partial_raster_get_no_data_not_zero(tmp_path, tambons, outline_utm):
    transform, shape = utm_grid(outline_utm)
    half = np.full((shape[0], shape[1] // 2), 3.0, np.float32)  # covers only the western half
    stats = lr.zonal_stats(write(tmp_path / "west.tif", half, transform), tambons)
    outside = stats["count"] == 0
    assert 50 < outside.sum() < 250
    assert stats.loc[outside, "mean"].isna().all() and stats.loc[outside, "sum"].isna().all()
    assert (stats.loc[~outside, "mean"] == 3.0).all()


# -- validation ------------------------------------------------------------------
def small_raster(tmp_path, name="small.tif", **options):
    transform = from_origin(800_000, 1_680_000, 1000, 1000)  # inside the province
    values = options.pop("values", np.arange(64 * 64, dtype=np.float32).reshape(64, 64))
    return write(tmp_path / name, values, transform, **options)


def test_a_file_that_is_not_a_raster_is_refused(tmp_path):
    path = tmp_path / "notes.tif"
    path.write_text("this is text, not a GeoTIFF")
    with pytest.raises(RasterError, match="cannot be read as a raster"):
        reg.inspect_raster(path)


def test_a_truncated_raster_is_refused_as_corrupted(tmp_path, outline_utm):
    transform, shape = utm_grid(outline_utm)
    noise = np.random.default_rng(1).random(shape, dtype=np.float32)
    staging = write(tmp_path / "noise.tif", noise, transform)
    cog = tmp_path / "noise-cog.tif"
    rasterio.shutil.copy(staging, cog, driver="COG", compress="deflate")  # header first, tiles after
    reg.inspect_raster(cog)  # whole file: accepted
    data = cog.read_bytes()
    cog.write_bytes(data[: len(data) // 2])
    with pytest.raises(RasterError, match="corrupted"):
        reg.inspect_raster(cog)


def test_a_raster_without_crs_is_refused(tmp_path):
    with pytest.raises(RasterError, match="no coordinate reference system"):
        reg.inspect_raster(small_raster(tmp_path, crs=None))


def test_a_raster_outside_the_province_is_refused(tmp_path):
    bangkok = write(tmp_path / "bkk.tif", np.ones((50, 50), np.float32), from_origin(100.3, 14.0, 0.01, 0.01), crs=4326)
    with pytest.raises(RasterError, match="does not overlap the province TH30"):
        reg.inspect_raster(bangkok)


def test_missing_nodata_asks_for_nodata(tmp_path):
    path = small_raster(tmp_path, nodata=None)
    with pytest.raises(RasterError, match="--nodata"):
        reg.inspect_raster(path)
    assert reg.inspect_raster(path, nodata=-1).nodata == -1.0


def test_an_absurdly_large_raster_is_refused_by_the_configured_limit(tmp_path, monkeypatch):
    path = small_raster(tmp_path)
    monkeypatch.setenv("ATLAS_RASTER_MAX_CELLS", "4000")
    with pytest.raises(RasterError, match="4,096 cells is more than the limit of 4,000"):
        reg.inspect_raster(path)
    monkeypatch.setenv("ATLAS_RASTER_MAX_CELLS", "5e3")
    assert reg.inspect_raster(path).width == 64


def test_band_choice_in_a_multiband_file(tmp_path):
    path = small_raster(tmp_path, values=np.stack([np.full((64, 64), v, np.float32) for v in (1, 2, 3)]))
    with pytest.raises(RasterError, match="has 3 bands; choose one with --band"):
        reg.inspect_raster(path)
    with pytest.raises(RasterError, match="band 4 does not exist"):
        reg.inspect_raster(path, band=4)
    assert reg.inspect_raster(path, band=2).band == 2


def test_a_rotated_grid_is_refused(tmp_path):
    rotated = from_origin(800_000, 1_680_000, 1000, 1000) @ Affine.rotation(10)
    path = write(tmp_path / "rotated.tif", np.ones((64, 64), np.float32), rotated)
    with pytest.raises(RasterError, match="rotated"):
        reg.inspect_raster(path)


def test_a_refused_raster_registers_nothing_and_bad_ids_are_refused(store, tmp_path):
    with pytest.raises(RasterError, match="--nodata"):
        register(store, small_raster(tmp_path, nodata=None))
    assert reg.list_rasters(store) == []
    for bad in ("Population", "2020_pop", "pop-2020", "x" * 41, ""):
        with pytest.raises(RasterError, match="raster id"):
            register(store, small_raster(tmp_path), bad)


def test_the_raster_list_is_read_again_only_after_the_store_changes(store, tmp_path, monkeypatch):
    assert reg.list_rasters(store) == []
    register(store, small_raster(tmp_path))
    assert [r.raster_id for r in reg.list_rasters(store)] == ["test"], "an added raster is listed at once"
    reads = []
    query = store.query
    monkeypatch.setattr(store, "query", lambda sql, *args, **kwargs: reads.append(sql) or query(sql, *args, **kwargs))
    listed = reg.list_rasters(store)
    listed.clear()  # a caller's copy: the next caller still gets the list
    assert [r.raster_id for r in reg.list_rasters(store)] == ["test"] and reads == []
    reg.remove_raster(store, "test")
    assert reg.list_rasters(store) == [], "a removed raster is gone at once"


def test_band_and_nodata_choices_are_used_by_the_statistics(store, tmp_path, outline_utm):
    transform, shape = utm_grid(outline_utm)
    first = np.full(shape, 1.0, np.float32)
    second = np.full(shape, 5.0, np.float32)
    second[:, : shape[1] // 3] = 0.0  # empty cells marked 0, declared on the command line
    path = write(tmp_path / "two.tif", np.stack([first, second]), transform, nodata=None)
    register(store, path, "second", band=2, nodata=0)
    stats = lr.tambon_stats(store, "second")
    covered = stats["count"] > 0
    assert (stats.loc[covered, "mean"] == 5.0).all() and (~covered).sum() > 10


def test_a_mask_band_stands_in_for_nodata(tmp_path, tambons, outline_utm):
    transform, shape = utm_grid(outline_utm)
    path = tmp_path / "masked.tif"
    with rasterio.open(path, "w", driver="GTiff", width=shape[1], height=shape[0], count=1, dtype="float32",
                       crs="EPSG:32647", transform=transform) as dst:
        dst.write(np.full(shape, 9.0, np.float32), 1)
        keep = np.full(shape, 255, np.uint8)
        keep[:, : shape[1] // 2] = 0  # the western half is masked out
        dst.write_mask(keep)
    assert reg.inspect_raster(path).nodata is None  # accepted without --nodata
    stats = lr.zonal_stats(path, tambons)
    covered = stats["count"] > 0
    assert 50 < (~covered).sum() < 250 and (stats.loc[covered, "mean"] == 9.0).all()
    assert (stats.loc[~covered, "cells"] > 0).all()


# -- stored statistics recomputed only when the file changes ------------------------
def test_statistics_are_recomputed_only_when_the_file_hash_changes(store, tmp_path, outline_utm):
    transform, shape = utm_grid(outline_utm)
    path = write(tmp_path / "v.tif", np.full(shape, 2.0, np.float32), transform)
    register(store, path, "v")
    first = lr.tambon_stats(store, "v")
    again = lr.tambon_stats(store, "v")
    assert (again["computed_at"] == first["computed_at"]).all()

    # A new modification time with the same bytes: rehashed, same hash, not recomputed.
    info = path.stat()
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns + 5_000_000_000))
    touched = lr.tambon_stats(store, "v")
    assert (touched["computed_at"] == first["computed_at"]).all()
    assert reg.get_raster(store, "v").file_mtime_ns == str(info.st_mtime_ns + 5_000_000_000)

    write(path, np.full(shape, 4.0, np.float32), transform)
    changed = lr.tambon_stats(store, "v")
    assert (changed["computed_at"] > first["computed_at"]).all()
    assert (changed.loc[changed["count"] > 0, "mean"] == 4.0).all()
    assert reg.get_raster(store, "v").file_sha256 == reg.file_sha256(path)
    stored = reg.load_stats(store, "v")
    assert (stored["file_sha256"] == reg.file_sha256(path)).all()


def test_file_sha256_matches_hashlib_on_a_file_larger_than_one_chunk(tmp_path):
    import hashlib

    path = tmp_path / "big.bin"
    path.write_bytes(os.urandom(3 * reg.HASH_CHUNK + 17))
    assert reg.file_sha256(path) == hashlib.sha256(path.read_bytes()).hexdigest()


# -- files: copy, reference, safe paths ----------------------------------------------
def test_copy_puts_the_file_in_the_data_folder_and_remove_deletes_only_copies(store, tmp_path, data_folder):
    source = small_raster(tmp_path)
    copied = register(store, source, "kept", copy=True)
    assert copied.copied and copied.path == str((data_folder / "rasters" / "kept.tif").resolve())
    assert reg.file_sha256(copied.path) == reg.file_sha256(source)
    referenced = register(store, source, "referenced")
    assert not referenced.copied and referenced.path == str(source.resolve())

    with pytest.raises(RasterError, match="already registered"):
        register(store, source, "kept")
    reg.remove_raster(store, "kept")
    reg.remove_raster(store, "referenced")
    assert not (data_folder / "rasters" / "kept.tif").exists() and source.exists()
    assert reg.list_rasters(store) == [] and reg.load_stats(store, "kept").empty


def test_safe_data_path_refuses_anything_outside_the_data_folder(data_folder, tmp_path):
    (data_folder / "rasters").mkdir(parents=True)
    assert reg.safe_data_path("rasters/pop.tif") == (data_folder / "rasters" / "pop.tif").resolve()
    outside = tmp_path / "secret"
    outside.mkdir()
    (data_folder / "rasters" / "escape").symlink_to(outside)
    for name in ("../secret/x.tif", "rasters/../../secret", "/etc/passwd", "rasters/escape/x.tif", "", "C:/x.tif"):
        with pytest.raises(RasterError):
            reg.safe_data_path(name)


# -- command line ----------------------------------------------------------------------
def test_cli_add_list_remove(tmp_path, capsys):
    db = str(tmp_path / "cli.duckdb")
    path = small_raster(tmp_path)
    code = main(["raster", "add", str(path), "--name", "elevation", "--title-th", "ความสูง",
                 "--title-en", "Elevation", "--unit", "m", "--unit-th", "ม.", "--db", db])
    out = capsys.readouterr().out
    assert code == 0 and f"referenced at {path.resolve()} (not copied)" in out and "tambons have valid cells" in out
    assert main(["raster", "list", "--db", db]) == 0
    assert "elevation\tcontinuous" in capsys.readouterr().out
    assert main(["raster", "--db", db, "add", str(path), "--name", "copy", "--title-th", "ก",
                 "--title-en", "C", "--unit", "m", "--copy"]) == 0
    assert "copied into" in capsys.readouterr().out
    assert main(["raster", "remove", "elevation", "--db", db]) == 0
    assert "left in place" in capsys.readouterr().out

    bad = tmp_path / "bad.tif"
    bad.write_text("nope")
    code = main(["raster", "add", str(bad), "--name", "bad", "--title-th", "ก", "--title-en", "B",
                 "--unit", "m", "--db", db])
    assert code == 1 and "cannot be read as a raster" in capsys.readouterr().err


# -- indicators, population ----------------------------------------------------------------
def test_raster_indicators_are_registered_and_valued(store, tmp_path, outline_utm):
    from layers import registry

    transform, shape = utm_grid(outline_utm)  # 500 m cells: 0.25 km² each
    ones = np.ones(shape, np.float32)
    register(store, write(tmp_path / "pop.tif", ones, transform), "pop", kind="population", unit_en="people")
    register(store, write(tmp_path / "shops.tif", ones * 2, transform), "shops", kind="count", unit_en="shops")
    register(store, write(tmp_path / "ndvi.tif", ones * 0.5, transform), "ndvi")
    registered = lr.register_raster_indicators(store)
    ids = {indicator.id for indicator in registered}
    assert ids == {"raster_pop_mean", "raster_pop_sum", "raster_pop_density", "raster_shops_mean",
                   "raster_shops_sum", "raster_shops_per_1000", "raster_ndvi_mean"}
    assert registry.get("raster_pop_density").theme == "raster"
    assert all(i.name_th and i.name_en and i.definition_th and i.definition_en for i in registered)

    values = lr.raster_indicator_values(store, "district")
    assert set(values.columns) == ids | {"pcode"} and len(values) == 32
    assert np.allclose(values["raster_shops_per_1000"], 2000.0)
    assert np.allclose(values["raster_ndvi_mean"], 0.5)
    # 4 people per km² on the cell grid; the cell-centre rule errs little over whole districts.
    assert np.allclose(values["raster_pop_density"], 4.0, rtol=0.03)


def test_per_capita_and_density_leave_empty_where_the_denominator_is_zero():
    rates = lr.per_capita([10, 5, 3], [1000, 0, np.nan], per=1000)
    assert rates.iloc[0] == 10.0 and rates.iloc[1:].isna().all()
    dens = lr.density([50, 7], [2.5, 0])
    assert dens.iloc[0] == 20.0 and math.isnan(dens.iloc[1])


def test_area_km2_adds_up_to_the_province(store):
    areas = lr.area_km2(store, "district")
    assert len(areas) == 32
    assert abs(areas.sum() - lr.area_km2(store, "province").iloc[0]) < 1e-6
    assert 20_000 < areas.sum() < 21_500  # FACTS.md: 20,494 km²


# -- overlay -------------------------------------------------------------------------------
def decode_png(overlay):
    data = base64.b64decode(overlay.source.split(",", 1)[1])
    assert overlay.source.startswith("data:image/png;base64,")
    with MemoryFile(data) as memory, memory.open() as image:
        return image.read()  # (4, height, width)


def test_overlay_is_a_png_of_the_asked_size_transparent_outside_the_province(store, tmp_path, outline_utm):
    transform, shape = utm_grid(outline_utm)
    xs, _ = cell_centres(transform, shape)
    register(store, write(tmp_path / "grad.tif", (xs / 1000).astype(np.float32), transform), "grad")
    overlay = lr.overlay_image(store, "grad", max_size=300)
    pixels = decode_png(overlay)
    assert pixels.shape == (4, overlay.height, overlay.width) and max(overlay.height, overlay.width) == 300

    lon0, lat0, lon1, lat1 = overlay.bounds
    assert overlay.coordinates == [[lon0, lat1], [lon1, lat1], [lon1, lat0], [lon0, lat0]]
    outline = reg.province_outline()
    to_pixel = Transformer.from_crs(4326, 3857, always_xy=True)
    (x0, x1), (y0, y1) = to_pixel.transform([lon0, lon1], [lat0, lat1])

    def pixel(lon, lat):
        x, y = to_pixel.transform(lon, lat)
        return int((y1 - y) / (y1 - y0) * overlay.height), int((x - x0) / (x1 - x0) * overlay.width)

    corner = (lon1 - 0.01, lat0 + 0.01)  # south-east corner of the box: outside Korat
    assert not outline.contains(shapely.Point(corner))
    assert pixels[3][pixel(*corner)] == 0
    inner = outline.representative_point()
    assert pixels[3][pixel(inner.x, inner.y)] == 255
    assert (pixels[3] == 0).mean() > 0.2 and (pixels[3] == 255).mean() > 0.5
    legend = overlay.legend
    assert legend["kind"] == "continuous" and legend["min"] < legend["max"] and legend["title_th"] == "ทดสอบ"
    assert (overlay.title("th"), overlay.title("en")) == ("ทดสอบ", "Test")
    layer = overlay.layer(opacity=0.5)
    assert layer["sourcetype"] == "image" and layer["opacity"] == 0.5 and layer["coordinates"] == overlay.coordinates


def test_colour_ramp_hits_its_end_colours():
    table = lr.colour_ramp(["#000000", "#ff8000", "rgb(255, 255, 255)"], 5)
    assert table.tolist() == [[0, 0, 0], [128, 64, 0], [255, 128, 0], [255, 192, 128], [255, 255, 255]]


def test_categorical_overlay_has_one_colour_per_class(store, tmp_path, outline_utm):
    transform, shape = utm_grid(outline_utm)
    rows, _ = np.mgrid[0 : shape[0], 0 : shape[1]]
    register(store, write(tmp_path / "c.tif", (rows // 150 + 1).astype(np.uint8), transform, nodata=0),
             "bands", kind="categorical")
    overlay = lr.overlay_image(store, "bands", max_size=200)
    pixels = decode_png(overlay)
    classes = overlay.legend["classes"]
    assert [c["value"] for c in classes] == ["1", "2", "3"]
    opaque = pixels[3] == 255
    colours = {"#{:02x}{:02x}{:02x}".format(*pixels[:3, r, c]) for r, c in zip(*np.nonzero(opaque))}
    assert colours == {c["colour"] for c in classes}


# -- demo raster ----------------------------------------------------------------------------
def test_demo_raster_is_distance_to_district_seats(store, data_folder):
    record = lr.register_demo_raster(store)
    assert record.derived and record.path == str((data_folder / "rasters" / "access_distance.tif").resolve())
    assert record.title_en == "Distance to nearest district centre (derived)"
    with rasterio.open(record.path) as src:
        assert src.crs.to_epsg() == UTM and src.res == (250.0, 250.0)
        assert src.profile["tiled"] and src.block_shapes[0] == (256, 256) and src.overviews(1)
        assert src.profile["compress"] == "deflate"
        seats = lr.district_seats()
        at_seats = np.array([v[0] for v in src.sample(zip(seats.geometry.x, seats.geometry.y))])
        assert len(at_seats) == 32 and (at_seats <= 0.18).all()  # within half a cell diagonal
        values = src.read(1, masked=True)
        assert values.max() < 60 and values.mask.any()  # outside the province is nodata
    stats = lr.tambon_stats(store, "access_distance").set_index("pcode")
    seat_tambons = stats.loc[seats["tambon_pcode"], "mean"]
    assert seat_tambons.median() < stats["mean"].median()


def test_a_population_raster_gives_count_indicators_per_capita_and_density(store, tmp_path, outline_utm):
    from layers import population, registry
    from layers.atlas import Atlas

    transform, shape = utm_grid(outline_utm)  # 500 m cells of 1 person: 4 people per km²
    register(store, write(tmp_path / "pop.tif", np.ones(shape, np.float32), transform), "pop",
             kind="population", unit_en="people")
    councils = pd.DataFrame({"council_id": ["a", "b", "c"], "name": "x", "registered_year": 2010, "member_groups": 1,
                             "tambon_pcode": ["TH300101", "TH300101", "TH301501"]})
    store.write([TableWrite("councils", councils)])
    atlas = Atlas(store, table_cache=tmp_path / "cache")
    table = atlas.table("tambon").set_index("pcode")
    people = lr.zonal_for_level(store, "pop", "tambon").set_index("pcode")["sum"]
    assert table.loc["TH300101", "councils_per_1000"] == pytest.approx(2 / people["TH300101"] * 1000)
    assert table.loc["TH300102", "councils_per_1000"] == 0
    areas = lr.area_km2(store, "tambon")
    assert table.loc["TH301501", "councils_per_km2"] == pytest.approx(1 / areas["TH301501"])
    assert registry.get("targeted_poor_per_1000").household_based, "rates of household counts stay suppressible"
    assert "per 1,000 people" in registry.get("councils_per_1000").name_en
    assert len(population.rate_indicators(population.population_raster(store))) == 2 * len(population.COUNT_INDICATORS)
