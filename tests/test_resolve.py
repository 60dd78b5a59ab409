"""Tambon resolution against the real TH30 boundaries: codes, names, districts, ambiguity."""
import pandas as pd
import pytest

from geodata import boundaries
from geodata.resolve import TambonError, TambonResolver


@pytest.fixture(scope="module")
def table():
    return boundaries.tambon_table("TH30")


@pytest.fixture(scope="module")
def resolver(table):
    return TambonResolver(table)


def pcodes_named(table, name_th):
    return sorted(table.loc[table["name_th"] == name_th, "pcode"])


def district_of(table, pcode):
    return table.set_index("pcode").loc[pcode]


# -- duplicate names -----------------------------------------------------------
def test_nai_mueang_occurs_in_two_districts_and_is_ambiguous_alone(resolver, table):
    codes = pcodes_named(table, "ในเมือง")
    assert len(codes) == 2
    result = resolver.match("ในเมือง")
    assert result.status == "ambiguous"
    assert sorted(result.candidates) == codes
    for code in codes:
        assert f"{district_of(table, code)['district_th']} ({code})" in result.message
    assert result.message.startswith("ในเมือง: ambiguous, in ")
    assert result.message.endswith("; add a district column")
    with pytest.raises(TambonError) as raised:
        resolver.resolve("ในเมือง")
    assert raised.value.resolution.status == "ambiguous"


def test_ban_mai_occurs_in_three_districts_and_each_district_settles_it(resolver, table):
    codes = pcodes_named(table, "บ้านใหม่")
    assert len(codes) == 3
    assert sorted(resolver.match("บ้านใหม่").candidates) == codes
    for code in codes:
        row = district_of(table, code)
        assert resolver.resolve("บ้านใหม่", row["district_th"]) == code
        assert resolver.resolve("ต.บ้านใหม่", "อ." + row["district_th"]) == code
        assert resolver.resolve("Ban Mai", row["district_en"]) == code
        assert resolver.resolve("ban mai", row["district_pcode"]) == code
        assert resolver.resolve("บ้านใหม่", row["district_pcode"].removeprefix("TH")) == code


def test_name_not_in_the_given_district_names_where_it_is(resolver, table):
    result = resolver.match("ในเมือง", "ครบุรี")
    assert result.status == "conflict"
    assert sorted(result.candidates) == pcodes_named(table, "ในเมือง")
    assert "not in district ครบุรี" in result.message


# -- codes ---------------------------------------------------------------------
@pytest.mark.parametrize("text", [
    "TH300101", "th300101", "300101", "๓๐๐๑๐๑", "TH๓๐๐๑๐๑", " TH300101 ", "TH 30 01 01", "30-01-01",
])
def test_every_tambon_code_form(resolver, text):
    assert resolver.resolve(text) == "TH300101"


def test_code_outside_the_province_is_unknown(resolver):
    result = resolver.match("TH100101")
    assert result.status == "unknown"
    assert "TH100101" in result.message


def test_code_with_a_contradicting_district_is_refused(resolver):
    result = resolver.match("300101", "พิมาย")
    assert result.status == "conflict"
    assert "เมืองนครราชสีมา" in result.message and "พิมาย" in result.message


# -- names ---------------------------------------------------------------------
@pytest.mark.parametrize("text", [
    "โพธิ์กลาง", "ต.โพธิ์กลาง", "ต. โพธิ์กลาง", "ตำบลโพธิ์กลาง", "ตำบล โพธิ์กลาง", "แขวงโพธิ์กลาง",
    "โพธิ์ กลาง", "โพธิ์\u200bกลาง", "Pho Klang", "pho klang", "PHO-KLANG", "Phoklang", "Tambon Pho Klang",
    "Pho Klang Subdistrict", "Po Klang",
])
def test_every_tambon_name_form(resolver, text):
    assert resolver.resolve(text) == "TH300102"


@pytest.mark.parametrize("tambon, district", [
    ("Nai Mueang", "Phimai"), ("Nai Muang", "Phimai"), ("Nai-Meuang", "phimai"), ("NAI MUEANG", "Pimai"),
])
def test_romanisation_variants(resolver, tambon, district):
    assert resolver.resolve(tambon, district) == "TH301501"


def test_sara_am_typed_as_two_characters(resolver, table):
    # Some Thai keyboards/fonts give nikhahit + sara aa instead of sara am (ำ).
    code = pcodes_named(table, "ลำเพียก")[0]
    assert resolver.resolve("ลำเพียก".replace("\u0e33", "\u0e4d\u0e32")) == code


@pytest.mark.parametrize("district", [
    "พิมาย", "อ.พิมาย", "อ. พิมาย", "อำเภอพิมาย", "อำเภอ พิมาย", "Phimai", "Amphoe Phimai", "Phimai District",
    "TH3015", "3015", "๓๐๑๕", "th 3015",
])
def test_every_district_form(resolver, district):
    assert resolver.resolve("ในเมือง", district) == "TH301501"


def test_mueang_alone_means_the_capital_district(resolver):
    assert resolver.resolve("ในเมือง", "อ.เมือง") == "TH300101"
    assert resolver.resolve("Nai Mueang", "Mueang") == "TH300101"
    assert resolver.resolve("ในเมือง", "เมืองนครราชสีมา") == "TH300101"
    assert resolver.resolve("ในเมือง", "Mueang Nakhon Ratchasima") == "TH300101"


# -- unknowns --------------------------------------------------------------------
def test_unknown_name_gets_did_you_mean_with_districts(resolver):
    result = resolver.match("หนองระเวีง")
    assert result.status == "unknown"
    assert 1 <= len(result.suggestions) <= 3
    assert any("หนองระเวียง" in s and "TH300106" in s and "เมืองนครราชสีมา" in s for s in result.suggestions)
    assert "did you mean" in result.message


def test_unknown_name_inside_a_district_suggests_from_that_district(resolver):
    result = resolver.match("Nong Rawang", "Phimai")
    assert result.status == "unknown"
    assert "TH301512" in result.suggestions[0]
    assert all("พิมาย" in s for s in result.suggestions)


def test_unknown_district_is_the_district_columns_fault(resolver):
    result = resolver.match("ในเมือง", "อ.พิมายย")
    assert result.status == "unknown"
    assert result.fault == "district"
    assert "พิมาย / Phimai (TH3015)" in result.suggestions
    assert result.message.startswith("district 'อ.พิมายย': not found; did you mean")


def test_loose_spelling_matching_two_different_names_asks_for_the_exact_one(resolver):
    result = resolver.match("Klong Muang")
    assert result.status == "ambiguous"
    assert "คลองเมือง" in result.message and "คลองม่วง" in result.message
    assert resolver.resolve("Khlong Muang") == resolver.resolve("คลองม่วง")
    assert resolver.resolve("Khlong Mueang") == resolver.resolve("คลองเมือง")


def test_empty_tambon_is_missing(resolver):
    assert resolver.match("").status == "missing"
    assert resolver.match(None, "พิมาย").status == "missing"


# -- many rows at once -------------------------------------------------------------
class CountingResolver(TambonResolver):
    """Records the pairs it is asked to match (to see that each is resolved once)."""

    def __init__(self, table):
        super().__init__(table)
        self.asked = []

    def match(self, tambon, district=None):
        self.asked.append((tambon, district))
        return super().match(tambon, district)


def test_resolve_many_resolves_each_distinct_pair_once_and_maps_back(table):
    resolver = CountingResolver(table)
    tambons = pd.Series(["ในเมือง", "ในเมือง", "300101", "ในเมือง", "xyz", "300101"] * 1000)
    districts = pd.Series(["พิมาย", "", "", "พิมาย", "", ""] * 1000)
    tambons.index = districts.index = pd.RangeIndex(2, 6002)
    result = resolver.resolve_many(tambons, districts)
    assert sorted(resolver.asked) == sorted({("ในเมือง", "พิมาย"), ("ในเมือง", ""), ("300101", ""), ("xyz", "")})
    assert list(result.index) == list(tambons.index)
    assert list(result["pcode"][:6]) == ["TH301501", None, "TH300101", "TH301501", None, "TH300101"]
    assert list(result["status"][:6]) == ["ok", "ambiguous", "ok", "ok", "unknown", "ok"]
    assert (result["status"].value_counts() == pd.Series({"ok": 4000, "ambiguous": 1000, "unknown": 1000})).all()


def test_report_names_the_matched_tambon_and_lists_candidates(resolver):
    report = resolver.report(pd.Series(["ต.ในเมือง", "บ้านใหม่"], index=[2, 3]), pd.Series(["อ.พิมาย", ""], index=[2, 3]))
    first, second = report.iloc[0], report.iloc[1]
    assert (first["row"], first["pcode"], first["name_th"], first["district_th"], first["status"]) == (
        2, "TH301501", "ในเมือง", "พิมาย", "ok")
    assert second["status"] == "ambiguous"
    assert second["suggestions"].count("บ้านใหม่ / Ban Mai") == 3


def test_every_real_tambon_resolves_by_its_own_names_and_district(resolver, table):
    for row in table.itertuples():
        assert resolver.resolve(row.name_th, row.district_th) == row.pcode
        assert resolver.resolve(row.name_en, row.district_en) == row.pcode
