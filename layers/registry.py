"""The indicator registry: every indicator's names, unit, definition and source, in Thai and English.

The dashboard, the CLI and the exports read indicator texts and formats from
here only. Indicators computed from the store are declared below; layers made
at run time (rasters) are added with `register()`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from geodata import summaries

FORMATS = ("count", "share", "score", "baht", "days", "ratio")
PALETTES = ("sequential", "diverging")
LANGUAGES = ("th", "en")
NO_DATA = {"th": "ไม่มีข้อมูล", "en": "no data"}
_THAI_DIGITS = str.maketrans("0123456789", "๐๑๒๓๔๕๖๗๘๙")

THEMES: dict[str, tuple[str, str]] = {
    "councils": ("สภาองค์กรชุมชน", "Community councils"),
    "funds": ("กองทุนสวัสดิการชุมชน", "Community welfare funds"),
    "housing": ("ที่อยู่อาศัยมั่นคง", "Secure housing"),
    "poverty": ("ความยากจนครัวเรือน", "Household poverty"),
    "referrals": ("การส่งต่อและติดตาม", "Referral and follow-up"),
    "raster": ("ชั้นข้อมูลแรสเตอร์", "Raster layers"),
}
# Themes whose indicators layers.indicators.compute() returns as columns.
STORE_THEMES = ("councils", "funds", "housing", "poverty", "referrals")


@dataclass(frozen=True)
class Indicator:
    id: str
    theme: str
    name_th: str
    name_en: str
    unit_th: str
    unit_en: str
    definition_th: str
    definition_en: str
    source: str
    fmt: str = "count"
    decimals: int = 0
    palette: str = "sequential"
    # None: neither direction is better (amounts); colours then simply darken with the value.
    higher_is_better: bool | None = None
    # Derived from household records, so small counts are suppressed on public views.
    household_based: bool = False

    def __post_init__(self):
        if self.theme not in THEMES:
            raise ValueError(f"indicator {self.id!r}: unknown theme {self.theme!r}")
        if self.fmt not in FORMATS:
            raise ValueError(f"indicator {self.id!r}: unknown format {self.fmt!r}")
        if self.palette not in PALETTES:
            raise ValueError(f"indicator {self.id!r}: unknown palette {self.palette!r}")

    def label(self, lang: str = "en") -> str:
        return self.name_th if _lang(lang) == "th" else self.name_en

    def unit(self, lang: str = "en") -> str:
        return self.unit_th if _lang(lang) == "th" else self.unit_en

    def definition(self, lang: str = "en") -> str:
        return self.definition_th if _lang(lang) == "th" else self.definition_en

    def format_value(self, value, lang: str = "en", thai_digits: bool = False, with_unit: bool = False) -> str:
        """A value as people read it: thousands separators, shares as percent, NaN as 'no data'."""
        lang = _lang(lang)
        try:
            number = float(value)
        except (TypeError, ValueError):  # None, pd.NA
            return NO_DATA[lang]
        if math.isnan(number):
            return NO_DATA[lang]
        if self.fmt == "share":
            text = f"{number * 100:,.{self.decimals}f}%"
        else:
            text = f"{number:,.{self.decimals}f}"
            if with_unit and self.unit(lang):
                text = f"{text} {self.unit(lang)}"
        return text.translate(_THAI_DIGITS) if thai_digits else text


def _lang(lang: str) -> str:
    if lang not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r}; expected 'th' or 'en'")
    return lang


# --- sources ---------------------------------------------------------------
_SRC_COUNCILS = "Store table councils (import kind 'councils'): register of community organisation councils (CODI)"
_SRC_FUNDS = "Store table welfare_funds (import kind 'funds'): community welfare fund register (CODI)"
_SRC_HOUSING = "Store table housing_projects (import kind 'housing'): CODI land and housing projects (Baan Mankong)"
_SRC_HOUSEHOLDS = "Store table households (import kind 'households'): targeted household database"
_SRC_CAPITALS = _SRC_HOUSEHOLDS + "; five livelihood capitals scored 1–4 as in PPAOS (PMU-A)"
_SRC_MPI = _SRC_HOUSEHOLDS + "; five TPMAP dimensions (NESDC/NECTEC), Alkire–Foster method"
_SRC_REFERRALS = (
    "Store table referrals (import kind 'referrals'), placed in a tambon through the household's "
    "record in households; referral and follow-up system"
)

_YEAR_TH = "เมื่อเลือกปี นับเฉพาะรายการที่เริ่มในหรือก่อนปีนั้น"
_YEAR_EN = "With a year chosen, only those started in or before that year count."
_SURVEY_TH = "ใช้ข้อมูลสำรวจปีล่าสุดของแต่ละตำบล เว้นแต่เลือกปี"
_SURVEY_EN = "Uses each tambon's latest survey year unless a year is chosen."

_CAPITALS = {
    "human": ("ทุนมนุษย์", "Human capital", "สุขภาพ การศึกษา ทักษะ และแรงงานในครัวเรือน",
              "health, education, skills and labour of the household"),
    "physical": ("ทุนกายภาพ", "Physical capital", "ที่อยู่อาศัย เครื่องมือ และสาธารณูปโภค",
                 "housing, tools and utilities"),
    "financial": ("ทุนการเงิน", "Financial capital", "รายได้ เงินออม หนี้สิน และการเข้าถึงแหล่งทุน",
                  "income, savings, debt and access to credit"),
    "natural": ("ทุนธรรมชาติ", "Natural capital", "ที่ดินทำกิน น้ำ และทรัพยากรธรรมชาติที่ใช้ได้",
                "farmland, water and natural resources the household can use"),
    "social": ("ทุนสังคม", "Social capital", "เครือข่าย กลุ่ม และการมีส่วนร่วมในชุมชน",
               "networks, groups and participation in the community"),
}

# Household levels by the mean m of the five capital scores; the store's summaries are grouped by them.
LEVEL_THRESHOLDS = summaries.LEVEL_THRESHOLDS
_T1, _T2, _T3 = (f"{t:g}" for t in LEVEL_THRESHOLDS)
_LEVELS = {
    "hardship": ("อยู่ลำบาก", "in hardship", f"m < {_T1}", False),
    "struggling": ("อยู่ยาก", "struggling", f"{_T1} ≤ m < {_T2}", False),
    "getting_by": ("อยู่พอได้", "getting by", f"{_T2} ≤ m < {_T3}", None),
    "well_off": ("อยู่ดี", "well-off", f"m ≥ {_T3}", True),
}


def _capital(key: str) -> Indicator:
    th, en, what_th, what_en = _CAPITALS[key]
    return Indicator(
        id=f"capital_{key}", theme="poverty",
        name_th=f"{th} (คะแนนเฉลี่ย)", name_en=f"{en} (mean score)",
        unit_th="คะแนน (1–4)", unit_en="score (1–4)",
        definition_th=f"ค่าเฉลี่ยคะแนน{th} ({what_th}) ของครัวเรือนที่สำรวจ ให้คะแนน 1 (ต่ำ) ถึง 4 (สูง) {_SURVEY_TH}",
        definition_en=f"Mean {en.lower()} score ({what_en}) of surveyed households, on a 1 (low) to 4 (high) scale. {_SURVEY_EN}",
        source=_SRC_CAPITALS, fmt="score", decimals=2, higher_is_better=True, household_based=True,
    )


def _level_share(key: str) -> Indicator:
    th, en, rule, better = _LEVELS[key]
    return Indicator(
        id=f"share_{key}", theme="poverty",
        name_th=f"สัดส่วนครัวเรือน{th}", name_en=f"Share of households {en}",
        unit_th="% ของครัวเรือน", unit_en="% of households",
        definition_th=(
            f"สัดส่วนครัวเรือนที่อยู่ในระดับ{th} ({rule}) โดย m คือค่าเฉลี่ยคะแนนทุนทั้งห้า "
            f"(มนุษย์ กายภาพ การเงิน ธรรมชาติ สังคม) คิดจากครัวเรือนที่มีคะแนนครบ {_SURVEY_TH}"
        ),
        definition_en=(
            f"Share of households whose level is '{en}' ({rule}), where m is the mean of the five capital "
            f"scores (human, physical, financial, natural, social); over households with all five scores. {_SURVEY_EN}"
        ),
        source=_SRC_CAPITALS, fmt="share", decimals=1, higher_is_better=better, household_based=True,
    )


_DECLARED: list[Indicator] = [
    Indicator(
        id="councils", theme="councils",
        name_th="สภาองค์กรชุมชนตำบล", name_en="Community organisation councils",
        unit_th="สภา", unit_en="councils",
        definition_th=f"จำนวนสภาองค์กรชุมชนตำบลที่จดแจ้งจัดตั้งในพื้นที่ ตำบลหนึ่งอาจมีมากกว่าหนึ่งสภา {_YEAR_TH}",
        definition_en=f"Number of registered community organisation councils in the area; a tambon may have more than one. {_YEAR_EN}",
        source=_SRC_COUNCILS, fmt="count",
    ),
    Indicator(
        id="welfare_funds", theme="funds",
        name_th="กองทุนสวัสดิการชุมชน", name_en="Community welfare funds",
        unit_th="กองทุน", unit_en="funds",
        definition_th=f"จำนวนกองทุนสวัสดิการชุมชนในพื้นที่ {_YEAR_TH}",
        definition_en=f"Number of community welfare funds in the area. {_YEAR_EN}",
        source=_SRC_FUNDS, fmt="count",
    ),
    Indicator(
        id="fund_members", theme="funds",
        name_th="สมาชิกกองทุนสวัสดิการชุมชน", name_en="Welfare fund members",
        unit_th="คน", unit_en="members",
        definition_th=f"ผลรวมจำนวนสมาชิกของกองทุนสวัสดิการชุมชนในพื้นที่ {_YEAR_TH}",
        definition_en=f"Total members of the community welfare funds in the area. {_YEAR_EN}",
        source=_SRC_FUNDS, fmt="count",
    ),
    Indicator(
        id="fund_baht", theme="funds",
        name_th="เงินกองทุนสวัสดิการชุมชน", name_en="Welfare fund money",
        unit_th="บาท", unit_en="baht",
        definition_th=f"ผลรวมเงินหมุนเวียนในกองทุนสวัสดิการชุมชนของพื้นที่ {_YEAR_TH}",
        definition_en=f"Total money held and circulating in the area's community welfare funds. {_YEAR_EN}",
        source=_SRC_FUNDS, fmt="baht",
    ),
    Indicator(
        id="housing_projects", theme="housing",
        name_th="โครงการที่ดินและที่อยู่อาศัย", name_en="Land and housing projects",
        unit_th="โครงการ", unit_en="projects",
        definition_th=f"จำนวนโครงการบ้านมั่นคง (เมืองและชนบท) และโครงการที่ดินและที่อยู่อาศัยอื่นในพื้นที่ {_YEAR_TH}",
        definition_en=f"Number of secure-housing (Baan Mankong, urban and rural) and other land and housing projects in the area. {_YEAR_EN}",
        source=_SRC_HOUSING, fmt="count",
    ),
    Indicator(
        id="housing_households", theme="housing",
        name_th="ครัวเรือนที่ได้รับประโยชน์จากโครงการที่อยู่อาศัย", name_en="Households in housing projects",
        unit_th="ครัวเรือน", unit_en="households",
        definition_th=f"ผลรวมจำนวนครัวเรือนที่ได้รับประโยชน์จากโครงการที่ดินและที่อยู่อาศัยในพื้นที่ {_YEAR_TH}",
        definition_en=f"Total households that benefit from the area's land and housing projects. {_YEAR_EN}",
        source=_SRC_HOUSING, fmt="count",
    ),
    Indicator(
        id="railside_households", theme="housing",
        name_th="ครัวเรือนชุมชนริมทางรถไฟในโครงการที่อยู่อาศัย", name_en="Railside households in housing projects",
        unit_th="ครัวเรือน", unit_en="households",
        definition_th=f"ผลรวมจำนวนครัวเรือนในโครงการที่อยู่อาศัยสำหรับชุมชนริมทางรถไฟ (ที่ดินการรถไฟฯ) ในพื้นที่ {_YEAR_TH}",
        definition_en=f"Total households in the area's housing projects for railside communities (on State Railway land). {_YEAR_EN}",
        source=_SRC_HOUSING, fmt="count",
    ),
    Indicator(
        id="households", theme="poverty",
        name_th="ครัวเรือนที่สำรวจ", name_en="Surveyed households",
        unit_th="ครัวเรือน", unit_en="households",
        definition_th=f"จำนวนครัวเรือนในฐานข้อมูลครัวเรือนแบบชี้เป้าของพื้นที่ ว่างเมื่อยังไม่มีการสำรวจ {_SURVEY_TH}",
        definition_en=f"Number of households in the area's targeted household database; empty where none was surveyed. {_SURVEY_EN}",
        source=_SRC_HOUSEHOLDS, fmt="count", household_based=True,
    ),
    *[_capital(key) for key in _CAPITALS],
    *[_level_share(key) for key in _LEVELS],
    Indicator(
        id="mpi_headcount", theme="poverty",
        name_th="อัตราความยากจนหลายมิติ (H)", name_en="MPI headcount ratio (H)",
        unit_th="% ของครัวเรือน", unit_en="% of households",
        definition_th=(
            "สัดส่วนครัวเรือนยากจนหลายมิติ: ครัวเรือนขัดสนในมิติสุขภาพ ความเป็นอยู่ การศึกษา รายได้ "
            "และการเข้าถึงบริการรัฐ (น้ำหนักเท่ากัน มิติละ 1/5) และยากจนเมื่อสัดส่วนมิติที่ขัดสนถึงเกณฑ์ k "
            f"(ค่าตั้งต้น 0.2 คือขัดสนอย่างน้อยหนึ่งมิติ ตามการนับของ TPMAP) {_SURVEY_TH}"
        ),
        definition_en=(
            "Share of households that are multidimensionally poor: each household is deprived or not in health, "
            "living conditions, education, income and access to public services (equal weights of 1/5), and is poor "
            f"when its deprivation share reaches the cutoff k (default 0.2, i.e. any one dimension, as TPMAP counts). {_SURVEY_EN}"
        ),
        source=_SRC_MPI, fmt="share", decimals=1, higher_is_better=False, household_based=True,
    ),
    Indicator(
        id="mpi_intensity", theme="poverty",
        name_th="ความรุนแรงของความยากจน (A)", name_en="MPI intensity (A)",
        unit_th="% ของมิติ", unit_en="% of dimensions",
        definition_th=f"ค่าเฉลี่ยสัดส่วนมิติที่ขัดสนในกลุ่มครัวเรือนยากจนหลายมิติ ว่างเมื่อไม่มีครัวเรือนยากจน {_SURVEY_TH}",
        definition_en=f"Mean deprivation share among the multidimensionally poor households; empty where no household is poor. {_SURVEY_EN}",
        source=_SRC_MPI, fmt="share", decimals=1, higher_is_better=False, household_based=True,
    ),
    Indicator(
        id="mpi", theme="poverty",
        name_th="ดัชนีความยากจนหลายมิติ (MPI = H × A)", name_en="Multidimensional poverty index (MPI = H × A)",
        unit_th="ดัชนี (0–1)", unit_en="index (0–1)",
        definition_th=(
            "อัตราความยากจน (H) คูณความรุนแรง (A) เท่ากับผลรวมสัดส่วนมิติที่ขัดสนของครัวเรือนยากจน "
            f"หารด้วยครัวเรือนทั้งหมด จึงเป็น 0 เมื่อไม่มีครัวเรือนยากจน {_SURVEY_TH}"
        ),
        definition_en=(
            "Headcount (H) times intensity (A), i.e. the poor households' deprivation shares summed and divided by "
            f"all households (the adjusted headcount ratio), so 0 where no household is poor. {_SURVEY_EN}"
        ),
        source=_SRC_MPI, fmt="ratio", decimals=3, higher_is_better=False, household_based=True,
    ),
    Indicator(
        id="targeted_poor", theme="poverty",
        name_th="ครัวเรือนคนจนเป้าหมาย", name_en="Targeted poor households",
        unit_th="ครัวเรือน", unit_en="households",
        definition_th=f"จำนวนครัวเรือนที่ยากจนหลายมิติและถือบัตรสวัสดิการแห่งรัฐ (คนจนเป้าหมาย ตามแนวทาง TPMAP) {_SURVEY_TH}",
        definition_en=f"Households that are multidimensionally poor and hold a state welfare card (targeted poor, as in TPMAP). {_SURVEY_EN}",
        source=_SRC_MPI, fmt="count", higher_is_better=False, household_based=True,
    ),
    Indicator(
        id="targeted_poor_share", theme="poverty",
        name_th="สัดส่วนครัวเรือนคนจนเป้าหมาย", name_en="Targeted poor share",
        unit_th="% ของครัวเรือน", unit_en="% of households",
        definition_th=f"ครัวเรือนคนจนเป้าหมายหารด้วยครัวเรือนที่สำรวจทั้งหมด {_SURVEY_TH}",
        definition_en=f"Targeted poor households divided by all surveyed households. {_SURVEY_EN}",
        source=_SRC_MPI, fmt="share", decimals=2, higher_is_better=False, household_based=True,
    ),
    Indicator(
        id="referrals", theme="referrals",
        name_th="กรณีส่งต่อความช่วยเหลือ", name_en="Referral cases",
        unit_th="กรณี", unit_en="cases",
        definition_th=(
            "จำนวนกรณีที่ส่งต่อครัวเรือนไปยังหน่วยงานเพื่อรับความช่วยเหลือ นับตามตำบลของครัวเรือน "
            "(กรณีที่ไม่พบครัวเรือนในฐานข้อมูลไม่นับ) เมื่อเลือกปี นับเฉพาะกรณีที่ส่งต่อในปีนั้น"
        ),
        definition_en=(
            "Cases in which a household was referred to an agency for help, placed in the household's tambon "
            "(cases whose household is not in the database are left out). With a year chosen, only cases referred that year."
        ),
        source=_SRC_REFERRALS, fmt="count", household_based=True,
    ),
    Indicator(
        id="referrals_resolved_share", theme="referrals",
        name_th="สัดส่วนกรณีที่แก้ไขแล้ว", name_en="Share of cases resolved",
        unit_th="% ของกรณี", unit_en="% of cases",
        definition_th="กรณีที่มีวันที่แก้ไขเสร็จ หารด้วยกรณีส่งต่อทั้งหมดของพื้นที่ ว่างเมื่อไม่มีกรณี",
        definition_en="Cases with a resolution date divided by all referral cases of the area; empty where there are none.",
        source=_SRC_REFERRALS, fmt="share", decimals=1, higher_is_better=True, household_based=True,
    ),
    Indicator(
        id="referral_median_days", theme="referrals",
        name_th="ระยะเวลาแก้ไข (มัธยฐาน)", name_en="Median days to resolve",
        unit_th="วัน", unit_en="days",
        definition_th="มัธยฐานของจำนวนวันจากวันส่งต่อถึงวันแก้ไขเสร็จ ของกรณีที่แก้ไขแล้ว ว่างเมื่อยังไม่มีกรณีที่แก้ไข",
        definition_en="Median number of days from referral to resolution over resolved cases; empty where none is resolved yet.",
        source=_SRC_REFERRALS, fmt="days", decimals=1, higher_is_better=False, household_based=True,
    ),
]

_REGISTRY: dict[str, Indicator] = {indicator.id: indicator for indicator in _DECLARED}


def all_indicators() -> list[Indicator]:
    """Every indicator in display order: by theme, then as declared or registered."""
    order = {theme: position for position, theme in enumerate(THEMES)}
    return sorted(_REGISTRY.values(), key=lambda indicator: order[indicator.theme])


def store_indicators() -> list[Indicator]:
    """The indicators that layers.indicators.compute() returns as columns (those declared here;
    layers registered at run time, such as rasters or per-capita rates, are computed elsewhere)."""
    declared = {indicator.id for indicator in _DECLARED}
    return [indicator for indicator in all_indicators() if indicator.id in declared]


def get(indicator_id: str) -> Indicator:
    try:
        return _REGISTRY[indicator_id]
    except KeyError:
        raise KeyError(
            f"unknown indicator {indicator_id!r}; known: {', '.join(_REGISTRY)}"
        ) from None


def by_theme() -> dict[str, list[Indicator]]:
    """Theme id -> its indicators, themes in display order; themes without indicators are left out."""
    grouped: dict[str, list[Indicator]] = {}
    for indicator in all_indicators():
        grouped.setdefault(indicator.theme, []).append(indicator)
    return grouped


def register(indicator: Indicator) -> Indicator:
    """Add a layer made at run time (e.g. a raster); the same id again replaces the earlier entry."""
    _REGISTRY[indicator.id] = indicator
    return indicator


def theme_label(theme: str, lang: str = "en") -> str:
    th, en = THEMES[theme]
    return th if _lang(lang) == "th" else en
