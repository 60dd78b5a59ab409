"""Turn what people write for a tambon (and its district) into a tambon P-code.

Accepted: P-codes in any common form (`TH300101`, `th300101`, `300101`,
`๓๐๐๑๐๑`, with spaces), and names in Thai or English, with or without the
`ต.`/`ตำบล`/`แขวง` (tambon) and `อ.`/`อำเภอ`/`เขต` (district) prefixes, spaces,
case, and the usual romanisation variants (Nai Mueang / Nai Muang). A name
found in several districts needs a district; an unknown one gets suggestions.

Large files repeat the same few hundred tambon spellings, so `resolve_many`
resolves each distinct (tambon, district) pair once and maps the answers back.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from rapidfuzz import fuzz, process

from . import config

THAI_DIGITS = str.maketrans("๐๑๒๓๔๕๖๗๘๙", "0123456789")
CODE_SEPARATORS = re.compile(r"[\s\-./]+")
TAMBON_CODE = re.compile(r"^(?:TH)?(\d{6})$")
DISTRICT_CODE = re.compile(r"^(?:TH)?(\d{4})$")
THAI_LETTER = re.compile(r"[\u0e00-\u0e7f]")

TAMBON_PREFIX_TH = re.compile(r"^(?:ตำบล|แขวง|ต\.|ต\s|ขว\.)\s*")
DISTRICT_PREFIX_TH = re.compile(r"^(?:กิ่งอำเภอ|กิ่ง\s*อ\.|อำเภอ|เขต|อ\.|อ\s)\s*")
TAMBON_AFFIX_EN = re.compile(r"^(?:tambon|khwaeng|t\.)\s*|\s*(?:sub-?district|tambon)$")
DISTRICT_AFFIX_EN = re.compile(r"^(?:king\s+amphoe|amphoe|amphur|amp\.|khet|a\.)\s*|\s*district$")
# The usual ways one Thai sound is romanised, folded to one spelling each.
ROMAN_FOLDS = [("ue", "u"), ("eu", "u"), ("oe", "o"), ("oo", "u"), ("ee", "i"), ("ie", "ia"),
               ("ph", "p"), ("th", "t"), ("kh", "k"), ("ch", "c"), ("j", "c"), ("y", "i"), ("w", "u")]
MUEANG_TH = "เมือง"  # "อ.เมือง" means the province's capital district


@dataclass(frozen=True)
class Resolution:
    """The answer for one tambon/district pair.

    status: ok, missing, ambiguous, unknown or conflict. `reason` completes
    "value '…' is …"; `fault` names the column to blame (tambon or district).
    """

    tambon: str
    district: str
    status: str
    pcode: str | None = None
    reason: str = ""
    candidates: tuple[str, ...] = ()
    suggestions: tuple[str, ...] = field(default=())
    fault: str = "tambon"

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def message(self) -> str:
        """'ในเมือง: ambiguous, in เมืองนครราชสีมา (TH300101) or พิมาย (TH301501); add a district column'."""
        if not self.reason:
            return ""
        if self.fault == "district":
            return f"district '{self.district}': {self.reason}"
        return f"{self.tambon or 'tambon'}: {self.reason}"


class TambonError(ValueError):
    def __init__(self, resolution: Resolution):
        super().__init__(resolution.message)
        self.resolution = resolution


# -- normalisation -----------------------------------------------------------
def clean(text: str) -> str:
    """NFC, no invisible characters, Thai digits as ASCII, and one form of sara am."""
    text = unicodedata.normalize("NFC", str(text))
    text = text.replace("\u0e4d\u0e32", "\u0e33")  # nikhahit + sara aa typed for sara am
    text = re.sub(r"[\u200b\u200c\u200d\u2060\ufeff]", "", text)
    return text.translate(THAI_DIGITS).strip()


def code_form(text: str) -> str:
    return CODE_SEPARATORS.sub("", clean(text)).upper()


def is_thai(text: str) -> bool:
    return bool(THAI_LETTER.search(text))


def name_key(text: str, level: str = "tambon") -> str:
    """Exact key: prefixes, spaces and punctuation removed, English lower-cased."""
    text = clean(text)
    if is_thai(text):
        prefix = TAMBON_PREFIX_TH if level == "tambon" else DISTRICT_PREFIX_TH
        text = prefix.sub("", text)
        return re.sub(r"[\s.\-'’()]+", "", text)
    text = text.lower()
    affix = TAMBON_AFFIX_EN if level == "tambon" else DISTRICT_AFFIX_EN
    text = affix.sub("", text)
    return re.sub(r"[^a-z]+", "", text)


def fold_key(key: str) -> str:
    """Looser key for English: romanisation variants and doubled letters folded."""
    if is_thai(key):
        return key
    for old, new in ROMAN_FOLDS:
        key = key.replace(old, new)
    return re.sub(r"(.)\1+", r"\1", key)


def _indexes(frame: pd.DataFrame, code: str, name_th: str, name_en: str, level: str):
    """Exact and folded name key -> codes having that name (Thai and English names together)."""
    keys = pd.concat([frame[name_th], frame[name_en]]).map(lambda n: name_key(n, level))
    codes = pd.concat([frame[code], frame[code]])
    return _index(keys, codes), _index(keys.map(fold_key), codes)


def _index(keys: pd.Series, values: pd.Series) -> dict[str, list[str]]:
    index: dict[str, list[str]] = {}
    for key, value in zip(keys, values):
        bucket = index.setdefault(key, [])
        if value not in bucket:
            bucket.append(value)
    return index


# -- the resolver ------------------------------------------------------------
class TambonResolver:
    """Resolve tambon/district text against one province's tambon table
    (columns pcode, name_th, name_en, district_pcode, district_th, district_en)."""

    def __init__(self, table: pd.DataFrame):
        table = table.reset_index(drop=True)
        self.table = table.set_index("pcode", drop=False)
        self.districts = table.drop_duplicates("district_pcode").set_index("district_pcode", drop=False)
        self._tambon_exact, self._tambon_folded = _indexes(table, "pcode", "name_th", "name_en", "tambon")
        self._district_exact, self._district_folded = _indexes(
            self.districts, "district_pcode", "district_th", "district_en", "district")
        for pcode, name_th in zip(self.districts["district_pcode"], self.districts["district_th"]):
            # The capital district is always number 01 (เมืองนครราชสีมา is TH3001); one per province,
            # so the alias is only meaningful for a single-province resolver.
            if name_th.startswith(MUEANG_TH) and pcode.endswith("01"):
                self._district_exact.setdefault(MUEANG_TH, [pcode])
                self._district_exact.setdefault("mueang", [pcode])
                self._district_folded.setdefault(fold_key("mueang"), [pcode])
        self._choices = {
            "th": [name_key(n) for n in table["name_th"]],
            "en": [name_key(n) for n in table["name_en"]],
        }
        self._district_choices = {
            "th": [name_key(n, "district") for n in self.districts["district_th"]],
            "en": [name_key(n, "district") for n in self.districts["district_en"]],
        }

    @classmethod
    def for_province(cls, province: str = config.DEFAULT_PROVINCE) -> "TambonResolver":
        from . import boundaries

        return cls(boundaries.tambon_table(province))

    # -- one pair ----------------------------------------------------------
    def match(self, tambon, district=None) -> Resolution:
        """Resolve one pair; never raises. See `Resolution.status`."""
        tambon_text = "" if _blank(tambon) else str(tambon).strip()
        district_text = "" if _blank(district) else str(district).strip()
        if not clean(tambon_text):
            return Resolution(tambon_text, district_text, "missing", reason="empty; a value is required")
        district_pcode = None
        if clean(district_text):
            district_pcode, problem = self._district(district_text)
            if problem is not None:
                return Resolution(tambon_text, district_text, "unknown", reason=problem[0], suggestions=problem[1],
                                  fault="district")
        code = TAMBON_CODE.match(code_form(tambon_text))
        if code:
            return self._by_code(tambon_text, district_text, "TH" + code.group(1), district_pcode)
        return self._by_name(tambon_text, district_text, district_pcode)

    def resolve(self, tambon, district=None) -> str:
        """The P-code, or TambonError (carrying the Resolution) when not exactly one tambon fits."""
        result = self.match(tambon, district)
        if not result.ok:
            raise TambonError(result)
        return result.pcode

    def _district(self, text: str) -> tuple[str | None, tuple[str, tuple[str, ...]] | None]:
        code = DISTRICT_CODE.match(code_form(text))
        if code:
            pcode = "TH" + code.group(1)
            if pcode in self.districts.index:
                return pcode, None
            return None, (f"not a district code of this province (no {pcode})", ())
        key = name_key(text, "district")
        found = self._district_exact.get(key) or self._district_folded.get(fold_key(key))
        if found:
            return found[0], None
        choices = self._district_choices["th" if is_thai(key) else "en"]
        best = process.extract(key, choices, scorer=fuzz.WRatio, limit=3, score_cutoff=60)
        suggestions = tuple(self._district_label(self.districts.index[i]) for _, _, i in best)
        hint = f"; did you mean {', '.join(suggestions)}?" if suggestions else ""
        return None, (f"not found{hint}", suggestions)

    def _by_code(self, tambon: str, district: str, pcode: str, district_pcode: str | None) -> Resolution:
        if pcode not in self.table.index:
            return Resolution(tambon, district, "unknown", reason=f"not a tambon code of this province (no {pcode})")
        actual = self.table.at[pcode, "district_pcode"]
        if district_pcode is not None and actual != district_pcode:
            return Resolution(
                tambon, district, "conflict", candidates=(pcode,),
                reason=f"in district {self.where(pcode)}, not in "
                       f"{self.districts.at[district_pcode, 'district_th']} ({district_pcode})",
            )
        return Resolution(tambon, district, "ok", pcode=pcode)

    def _by_name(self, tambon: str, district: str, district_pcode: str | None) -> Resolution:
        key = name_key(tambon)
        candidates = self._tambon_exact.get(key) or self._tambon_folded.get(fold_key(key)) or []
        if district_pcode is not None:
            inside = [p for p in candidates if self.table.at[p, "district_pcode"] == district_pcode]
            if not inside and candidates:
                where = _either([self.where(p) for p in candidates])
                return Resolution(
                    tambon, district, "conflict", candidates=tuple(candidates),
                    reason=f"not in district {self.districts.at[district_pcode, 'district_th']}; "
                            f"found in {where}",
                )
            candidates = inside
        if len(candidates) == 1:
            return Resolution(tambon, district, "ok", pcode=candidates[0])
        if len(candidates) > 1:
            return Resolution(tambon, district, "ambiguous", candidates=tuple(candidates),
                              reason=self._ambiguity(candidates))
        suggestions = self.suggest(key, district_pcode)
        hint = f"; did you mean {', '.join(suggestions)}?" if suggestions else ""
        place = f" in district {self.districts.at[district_pcode, 'district_th']}" if district_pcode else ""
        return Resolution(tambon, district, "unknown", reason=f"not found{place}{hint}",
                          suggestions=suggestions)

    def _ambiguity(self, candidates: list[str]) -> str:
        if self.table.loc[candidates, "name_th"].nunique() == 1:
            # One name in several districts: the district settles it.
            return f"ambiguous, in {_either([self.where(p) for p in candidates])}; add a district column"
        # A loose romanisation fits different names: only the exact name or code settles it.
        return (f"ambiguous spelling, could be {_either([self.describe(p) for p in candidates])}; "
                "write the Thai name or the P-code")

    def suggest(self, key: str, district_pcode: str | None = None, limit: int = 3) -> tuple[str, ...]:
        """Closest tambon names (rapidfuzz), written as 'name (district, P-code)'."""
        choices = self._choices["th" if is_thai(key) else "en"]
        positions = np.arange(len(choices))
        if district_pcode is not None:
            positions = np.flatnonzero(self.table["district_pcode"].to_numpy() == district_pcode)
        pool = {int(p): choices[p] for p in positions}
        best = process.extract(key, pool, scorer=fuzz.WRatio, limit=limit, score_cutoff=60)
        return tuple(self.describe(self.table.index[p]) for _, _, p in best)

    def where(self, pcode: str) -> str:
        """'เมืองนครราชสีมา (TH300101)': the district a candidate tambon lies in."""
        return f"{self.table.at[pcode, 'district_th']} ({pcode})"

    def describe(self, pcode: str) -> str:
        """'ในเมือง / Nai Mueang (เมืองนครราชสีมา, TH300101)'."""
        row = self.table.loc[pcode]
        return f"{row['name_th']} / {row['name_en']} ({row['district_th']}, {pcode})"

    def _district_label(self, pcode: str) -> str:
        row = self.districts.loc[pcode]
        return f"{row['district_th']} / {row['district_en']} ({pcode})"

    # -- many pairs --------------------------------------------------------
    def _match_pairs(self, tambons: pd.Series, districts: pd.Series | None):
        """Resolve each distinct (tambon, district) pair once; return (codes per row, results per pair)."""
        tambons = tambons.fillna("").astype(str)
        districts = (pd.Series("", index=tambons.index) if districts is None
                     else districts.fillna("").astype(str))
        # Factorize each column, then the pair of codes: integer work, fast on 900k rows.
        tambon_codes, tambon_values = pd.factorize(tambons)
        district_codes, district_values = pd.factorize(districts)
        pair_codes = tambon_codes.astype(np.int64) * len(district_values) + district_codes
        codes, pairs = pd.factorize(pair_codes)
        results = [self.match(tambon_values[p // len(district_values)], district_values[p % len(district_values)])
                   for p in pairs]
        return tambons, districts, codes, results

    def resolve_many(self, tambons: pd.Series, districts: pd.Series | None = None) -> pd.DataFrame:
        """Resolve a column (and optional district column) at once.

        Returns a frame on the same index with pcode (None when unresolved),
        status, message, and reason/fault for error reports.
        """
        tambons, _, codes, results = self._match_pairs(tambons, districts)
        per_pair = {name: np.array([getattr(r, name) for r in results], dtype=object)
                    for name in ("pcode", "status", "message", "reason", "fault")}
        return pd.DataFrame({name: pd.Series(values[codes], index=tambons.index, dtype=object)
                             for name, values in per_pair.items()})

    def report(self, tambons: pd.Series, districts: pd.Series | None = None) -> pd.DataFrame:
        """Per-row detail for `python -m geodata match`: the matched tambon's names, status, suggestions."""
        tambons, districts, codes, results = self._match_pairs(tambons, districts)
        per_pair = pd.DataFrame({
            "pcode": [r.pcode or "" for r in results],
            "status": [r.status for r in results],
            "message": [r.message for r in results],
            "suggestions": ["; ".join(r.suggestions or [self.describe(p) for p in r.candidates])
                            for r in results],
        })
        for column in ("name_th", "name_en", "district_th"):
            per_pair[column] = per_pair["pcode"].map(self.table[column]).fillna("")
        detail = per_pair.iloc[codes].reset_index(drop=True)
        detail.insert(0, "row", tambons.index.to_numpy())
        detail.insert(1, "tambon_given", tambons.to_numpy())
        detail.insert(2, "district_given", districts.to_numpy())
        return detail[["row", "tambon_given", "district_given", "pcode", "name_th", "name_en",
                       "district_th", "status", "message", "suggestions"]]


def _either(items: list[str]) -> str:
    """'A or B', 'A, B or C'."""
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} or {items[-1]}"


def _blank(value) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value))
