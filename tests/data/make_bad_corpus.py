"""Generate the bad-input corpus in tests/data/bad/ (committed; run again after changing this script).

    .venv/bin/python tests/data/make_bad_corpus.py

Every file here is broken in one way that people's files really are broken
(wrong encodings, damaged workbooks, duplicate keys, unknown or ambiguous
tambons, impossible values, personal data, unusable rasters...). The output is
byte-for-byte reproducible: workbooks get fixed timestamps, rasters carry no
dates, so a test can regenerate the corpus and compare.

The 100 MB file is not here: tests/test_bad_inputs.py writes it into a
temporary folder when it runs (`write_oversized_csv`).
"""
from __future__ import annotations

import io
import re
import sys
import zipfile
from datetime import datetime
from pathlib import Path

import numpy as np

BAD = Path(__file__).resolve().parent / "bad"
FIXED_TIME = datetime(2024, 5, 23)
ZIP_TIME = (2024, 5, 23, 0, 0, 0)

HEADERS = {
    "councils": "council_id,name,tambon,district,registered_year,member_groups",
    "funds": "fund_id,name,tambon,district,founded_year,members,fund_baht",
    "housing": "project_id,name,tambon,district,programme,start_year,households,budget_baht,railside,status",
    "households": ("household_id,tambon,district,survey_year,members,income_month,capital_human,capital_physical,"
                   "capital_financial,capital_natural,capital_social,deprived_health,deprived_living,"
                   "deprived_education,deprived_income,deprived_access,welfare_card,railside"),
    "referrals": "referral_id,household_id,agency,help_type,referred_on,resolved_on,status",
}
# One valid row per kind; the broken files change one thing. Referrals point to a demo household.
GOOD = {
    "councils": "X-C001,สภาองค์กรชุมชนตำบลหนองระเวียง,TH300106,,2552,12",
    "funds": "X-F001,กองทุนสวัสดิการชุมชนตำบลหนองระเวียง,TH300106,,2553,540,880500",
    "housing": "X-P001,บ้านมั่นคงชนบท หนองระเวียง,TH300106,,บ้านมั่นคงชนบท,2567,45,1800000,no,in_progress",
    "households": "X-H0001,TH300106,,2567,4,4500,2.0,3.0,2.0,2.5,2.0,0,1,0,1,0,yes,no",
    "referrals": "X-R0001,HH0000001,พมจ.นครราชสีมา,housing,2024-06-15,2024-08-20,resolved",
}
# A small 1x1 PNG (not a spreadsheet, not a georeferenced raster).
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082"
)


def csv_text(kind: str, *rows: str, header: str | None = None) -> str:
    return "\n".join([header or HEADERS[kind], *rows]) + "\n"


def household(key: str = "X-H0001", tambon: str = "TH300106", district: str = "", year: str = "2567",
              members: str = "4", scores: str = "2.0,3.0,2.0,2.5,2.0", card: str = "yes") -> str:
    return f"{key},{tambon},{district},{year},{members},4500,{scores},0,1,0,1,0,{card},no"


def xlsx_bytes(rows: list[list]) -> bytes:
    """A one-sheet workbook with fixed timestamps, so the bytes never change."""
    import openpyxl

    book = openpyxl.Workbook()
    book.properties.created = book.properties.modified = FIXED_TIME
    sheet = book.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return _fixed_zip(buffer.getvalue())


def _fixed_zip(data: bytes) -> bytes:
    """Rewrite a zip with one timestamp for every member."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "docProps/core.xml":
                # openpyxl stamps the save time as "modified".
                data = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>2024-05-23T00:00:00Z", data)
            target.writestr(zipfile.ZipInfo(info.filename, ZIP_TIME), data)
    return out.getvalue()


def rows_of(text: str) -> list[list[str]]:
    return [line.split(",") for line in text.strip().split("\n")]


# -- import files: name -> bytes ---------------------------------------------------
def import_files() -> dict[str, bytes]:
    h = HEADERS
    utf8 = {
        # encodings and formats
        "councils_mixed_encoding.csv": None,  # built below (bytes)
        "funds_empty.csv": "",
        "funds_header_only.csv": csv_text("funds"),
        "housing_blank_header.csv": "\n\n" + csv_text("housing", GOOD["housing"]),
        "households_ragged_rows.csv": csv_text("households", household(), household("X-H0002") + ",extra,cells"),
        "councils_header_twice.csv": csv_text("councils", "X-C001,a,TH300106,,2552,12,X-C009",
                                              header=h["councils"] + ",council_id"),
        "funds_two_tambon_columns.csv": csv_text("funds", "X-F001,a,TH300106,,2553,540,880500,TH300106",
                                                 header=h["funds"] + ",รหัสตำบล"),
        # required columns
        "councils_missing_key_column.csv": csv_text(
            "councils", "สภาองค์กรชุมชนตำบลหนองระเวียง,TH300106,,2552,12",
            header="name,tambon,district,registered_year,member_groups"),
        "households_missing_capital.csv": csv_text(
            "households", "X-H0001,TH300106,,2567,4,4500,2.0,3.0,2.0,2.5,0,1,0,1,0,yes,no",
            header=h["households"].replace(",capital_social", "")),
        "referrals_missing_status.csv": csv_text(
            "referrals", "X-R0001,HH0000001,พมจ.,housing,2024-06-15,",
            header=h["referrals"].rsplit(",", 1)[0]),
        # keys
        "councils_duplicate_keys.csv": csv_text("councils", GOOD["councils"], GOOD["councils"].replace("TH300106", "TH300101")),
        "households_duplicate_keys_be_ce.csv": csv_text("households", household(year="2567"), household(year="2024")),
        "funds_key_already_stored.csv": csv_text("funds", "F001,กองทุนซ้ำ,TH300106,,2553,540,880500"),
        "referrals_unknown_household.csv": csv_text("referrals", "X-R0001,NOBODY-1,พมจ.,housing,2024-06-15,,referred"),
        # tambons
        "councils_unknown_tambon.csv": csv_text("councils", "X-C001,สภา,ต.หนองไม่มีจริง,,2552,12"),
        "households_unknown_tambon_code.csv": csv_text("households", household(tambon="TH309999")),
        "funds_ambiguous_nai_mueang.csv": csv_text("funds", "X-F001,กองทุน,ในเมือง,,2553,540,880500"),
        "housing_ambiguous_ban_mai.csv": csv_text(
            "housing", "X-P001,บ้านมั่นคงชนบท บ้านใหม่,ต.บ้านใหม่,,บ้านมั่นคงชนบท,2567,45,1800000,no,in_progress"),
        "councils_tambon_in_other_district.csv": csv_text("councils", "X-C001,สภา,TH300101,อ.พิมาย,2552,12"),
        "households_unknown_district.csv": csv_text("households", household(tambon="ในเมือง", district="อ.พิมายยยย")),
        "households_tambon_of_other_province.csv": csv_text("households", household(tambon="TH100101")),
        # values
        "households_negative_members.csv": csv_text("households", household(members="-3")),
        "housing_negative_households.csv": csv_text(
            "housing", "X-P001,บ้านมั่นคง,TH300106,,บ้านมั่นคงชนบท,2567,-45,1800000,no,in_progress"),
        "funds_negative_money.csv": csv_text("funds", "X-F001,กองทุน,TH300106,,2553,540,-880500"),
        "councils_fractional_count.csv": csv_text("councils", "X-C001,สภา,TH300106,,2552,12.5"),
        "households_score_above_4.csv": csv_text("households", household(scores="2.0,5.0,2.0,2.5,2.0")),
        "households_score_zero.csv": csv_text("households", household(scores="0,3.0,2.0,2.5,2.0")),
        "households_score_text.csv": csv_text("households", household(scores="ดี,3.0,2.0,2.5,2.0")),
        "households_not_yes_no.csv": csv_text("households", household(card="maybe")),
        "housing_unknown_status.csv": csv_text(
            "housing", "X-P001,บ้านมั่นคง,TH300106,,บ้านมั่นคงชนบท,2567,45,1800000,no,finished?"),
        "households_required_value_empty.csv": csv_text("households", household(card="")),
        # years and dates
        "households_be_year_nonsense.csv": csv_text("households", household(year="3567")),
        "councils_ce_year_nonsense.csv": csv_text("councils", "X-C001,สภา,TH300106,,1066,12"),
        "funds_year_typo_five_digits.csv": csv_text("funds", "X-F001,กองทุน,TH300106,,25530,540,880500"),
        "housing_year_be_without_century.csv": csv_text(
            "housing", "X-P001,บ้านมั่นคง,TH300106,,บ้านมั่นคงชนบท,67,45,1800000,no,in_progress"),
        "referrals_dates_reversed.csv": csv_text("referrals", "X-R0001,HH0000001,พมจ.,housing,2024-08-20,2024-06-15,resolved"),
        "referrals_dates_reversed_be.csv": csv_text("referrals", "X-R0001,HH0000001,พมจ.,housing,20/08/2567,15/06/2567,resolved"),
        "referrals_impossible_date.csv": csv_text("referrals", "X-R0001,HH0000001,พมจ.,housing,31/02/2567,,referred"),
        "referrals_resolved_without_date.csv": csv_text("referrals", "X-R0001,HH0000001,พมจ.,housing,2024-06-15,,resolved"),
        "referrals_open_with_resolved_date.csv": csv_text(
            "referrals", "X-R0001,HH0000001,พมจ.,housing,2024-06-15,2024-08-20,referred"),
        # personal data (PDPA)
        "households_name_column.csv": csv_text("households", household() + ",นาย สมชาย ใจดี",
                                               header=h["households"] + ",ชื่อ-สกุล"),
        "referrals_citizen_id_column.csv": csv_text(
            "referrals", GOOD["referrals"] + ",3300100123456", header=h["referrals"] + ",เลขบัตรประชาชน"),
        "households_national_id_as_key.csv": csv_text("households", household(key="3300100123456")),
        "councils_national_id_in_note.csv": csv_text(
            "councils", GOOD["councils"] + ",3-3001-00123-45-6", header=h["councils"] + ",หมายเหตุ"),
        "referrals_phone_column.csv": csv_text("referrals", GOOD["referrals"] + ",081-234-5678",
                                              header=h["referrals"] + ",เบอร์โทรศัพท์"),
    }
    files = {name: text.encode("utf-8") for name, text in utf8.items() if text is not None}
    thai_utf8 = csv_text("councils", GOOD["councils"]).encode("utf-8")
    thai_cp874 = "X-C002,สภาองค์กรชุมชนตำบลในเมือง,TH301501,,2552,9\n".encode("cp874")
    files["councils_mixed_encoding.csv"] = thai_utf8 + thai_cp874
    files["households_utf16_without_bom.csv"] = csv_text("households", household()).encode("utf-16-le")
    files["funds_latin1.csv"] = csv_text("funds", "X-F001,Fonds Müller Zürich,TH300106,,2553,540,880500").encode("latin-1")
    # Every byte of this Latin-1 text is also a Windows-874 byte: decoded as Thai it is nonsense.
    files["councils_latin1_as_thai.csv"] = csv_text("councils", "X-C001,Conseil José Peña,TH300106,,2552,12").encode("latin-1")
    files["referrals_binary_nul.csv"] = csv_text("referrals", GOOD["referrals"]).encode("utf-8")[:60] + b"\x00\x00\x01\x02"
    files["housing_png_named_csv.csv"] = PNG
    files["households_png_named_xlsx.xlsx"] = PNG
    files["funds_csv_named_xlsx.xlsx"] = csv_text("funds", GOOD["funds"]).encode("utf-8")
    files["councils_old_excel.xls"] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504)
    good_book = xlsx_bytes(rows_of(csv_text("households", household(), household("X-H0002"))))
    files["households_truncated.xlsx"] = good_book[: len(good_book) * 2 // 3]
    files["referrals_header_only.xlsx"] = xlsx_bytes(rows_of(csv_text("referrals")))
    files["housing_duplicate_keys.xlsx"] = xlsx_bytes(rows_of(csv_text("housing", GOOD["housing"], GOOD["housing"])))
    files["households_phone_column.xlsx"] = xlsx_bytes(
        rows_of(csv_text("households", household() + ",0812345678", header=h["households"] + ",mobile_phone")))
    files["referrals_missing_agency.xlsx"] = xlsx_bytes(
        rows_of(csv_text("referrals", "X-R0001,HH0000001,housing,2024-06-15,,referred",
                         header=h["referrals"].replace(",agency", ""))))
    # A real formula in a workbook is never run: the reader takes the value Excel saved, here none.
    files["councils_formula_cell.xlsx"] = xlsx_bytes(
        [HEADERS["councils"].split(","), ["X-C001", "=cmd|' /C calc'!A0", "TH300106", "", 2552, 12]])
    # Not broken: formula-like text is data, stored as written (see tests/test_bad_inputs.py).
    files["councils_formula_text.csv"] = csv_text(
        "councils", "X-C001,=cmd|' /C calc'!A0,TH300106,,2552,12", "X-C002,+SUM(1;2),TH300101,,2552,3",
        "X-C003,@HYPERLINK(\"http://x.invalid\"),TH300102,,2552,4", "X-C004,-2+3,TH300103,,2552,5",
    ).encode("utf-8")
    return files


# -- rasters: name -> writer ------------------------------------------------------------
KORAT = (101.6, 14.6, 102.6, 15.4)  # lon/lat box inside Nakhon Ratchasima


def write_raster(path: Path, bands: int = 1, crs="EPSG:4326", bounds=KORAT, nodata=-9999.0,
                 size: int = 8, rotated: bool = False) -> None:
    import rasterio
    from rasterio.transform import Affine, from_bounds

    transform = from_bounds(*bounds, size, size)
    if rotated:
        transform = transform * Affine.rotation(20)
    values = np.arange(size * size * bands, dtype="float32").reshape(bands, size, size)
    profile = {"driver": "GTiff", "width": size, "height": size, "count": bands, "dtype": "float32",
               "transform": transform}
    if crs is not None:
        profile["crs"] = crs
    if nodata is not None:
        profile["nodata"] = nodata
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(values)


def raster_files(folder: Path) -> None:
    write_raster(folder / "raster_no_crs.tif", crs=None)
    write_raster(folder / "raster_no_nodata.tif", nodata=None)
    write_raster(folder / "raster_three_bands.tif", bands=3)
    write_raster(folder / "raster_rotated.tif", rotated=True)
    write_raster(folder / "raster_far_away.tif", bounds=(98.8, 18.6, 99.2, 19.0))  # Chiang Mai
    # UTM metres (Korat is about x 800,000, y 1,650,000 in EPSG:32647) declared as degrees.
    write_raster(folder / "raster_utm_labelled_lonlat.tif", bounds=(790_000, 1_640_000, 810_000, 1_660_000))
    # Korat's lon/lat declared as UTM 47N metres: a few hundred metres near the false origin.
    write_raster(folder / "raster_lonlat_labelled_utm.tif", crs="EPSG:32647")
    whole = folder / "raster_whole.tif"
    write_raster(whole, size=64)
    data = whole.read_bytes()
    whole.unlink()
    (folder / "raster_truncated.tif").write_bytes(data[: len(data) // 2])
    (folder / "raster_garbage.tif").write_bytes(b"II*\x00" + bytes(range(256)) * 4)
    (folder / "raster_png_no_georef.tif").write_bytes(PNG)
    (folder / "raster_empty.tif").write_bytes(b"")


def build(folder: Path = BAD) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.iterdir():
        if old.is_file():
            old.unlink()
    for name, data in import_files().items():
        (folder / name).write_bytes(data)
    raster_files(folder)
    for sidecar in folder.glob("*.aux.xml"):
        sidecar.unlink()  # GDAL statistics, not part of the corpus
    return sorted(folder.iterdir())


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else BAD
    made = build(target)
    print(f"{len(made)} files in {target} ({sum(p.stat().st_size for p in made) / 1024:.0f} KiB)")
