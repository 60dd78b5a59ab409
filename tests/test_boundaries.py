import shutil

import pytest

from geodata import boundaries, config


def test_korat_levels_have_the_published_counts():
    assert len(boundaries.load("province")) == 1
    assert len(boundaries.load("district")) == 32
    tambons = boundaries.load("tambon")
    assert len(tambons) == 289
    assert tambons.crs.to_epsg() == 4326
    assert tambons.geometry.is_valid.all()
    assert {"pcode", "name_th", "name_en", "district_pcode", "district_th", "province_pcode"} <= set(tambons.columns)
    row = tambons.set_index("pcode").loc["TH300101"]
    assert (row.name_th, row.district_th) == ("ในเมือง", "เมืองนครราชสีมา")


def test_the_whole_country_comes_through_the_same_code():
    assert len(boundaries.load("province", None)) == 77
    assert len(boundaries.load("district", None)) == 928
    assert len(boundaries.load("tambon", None)) == 7425
    bangkok = boundaries.load("district", "TH10")
    assert bangkok["province_pcode"].eq("TH10").all() and len(bangkok) == 50


def test_mirror_file_with_wrong_hash_is_refused(tmp_path):
    (tmp_path / "mapthai").mkdir()
    (tmp_path / "mapthai" / "tha1.rda").write_bytes(b"not the real file")
    with pytest.raises(boundaries.HashMismatchError, match="does not match"):
        boundaries.fetch("tha1.rda", mirror=tmp_path, cache=tmp_path / "cache")


def test_mirror_is_used_without_download(tmp_path):
    mirror = config.mirror_dir()
    assert mirror is not None, "CI and development machines have ../shared/geodata"
    copy = tmp_path / "mirror" / "mapthai"
    copy.mkdir(parents=True)
    shutil.copy(mirror / "mapthai" / "tha1.rda", copy / "tha1.rda")
    path = boundaries.fetch("tha1.rda", mirror=tmp_path / "mirror", cache=tmp_path / "cache")
    assert path == copy / "tha1.rda"
    assert not (tmp_path / "cache").exists()


def test_cached_file_with_wrong_hash_is_not_used(tmp_path, monkeypatch):
    # No mirror, a corrupted cache and no network: pooch must fail, never return the bad file.
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "tha1.rda").write_bytes(b"corrupted")
    monkeypatch.setattr(boundaries, "BASE_URL", "http://127.0.0.1:9/")
    with pytest.raises(Exception):
        boundaries.fetch("tha1.rda", mirror=tmp_path / "no-mirror", cache=cache)


def test_mirror_location_follows_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("ATLAS_GEODATA_MIRROR", str(tmp_path))
    assert config.mirror_dir() == tmp_path


def test_second_load_comes_from_geoparquet(tmp_path, monkeypatch):
    monkeypatch.setenv("ATLAS_CACHE_DIR", str(tmp_path))
    first = boundaries.load("district")
    assert list(tmp_path.glob("district-TH30-*.parquet"))
    monkeypatch.setattr(boundaries, "read_rda", lambda path: pytest.fail("re-parsed the .rda"))
    again = boundaries.load("district")
    assert again.equals(first)
