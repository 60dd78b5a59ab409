"""The view a user sees, as a small value that round-trips through the URL.

Permalinks carry every field, so a pasted link restores the same map. Parsing
is forgiving: unknown or malformed values fall back to defaults rather than
breaking the page.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from urllib.parse import parse_qs, urlencode

LEVELS = ("tambon", "district", "zone")
SCHEMES = ("quantiles", "natural_breaks", "equal_interval", "user")


@dataclass(frozen=True)
class View:
    indicator: str = "mpi_headcount"
    level: str = "tambon"
    zones: tuple[int, ...] = ()
    district: str | None = None  # drill-down: show only this district's tambons
    year: int | None = None
    area: str | None = None  # the selected area's pcode
    lang: str = "th"
    scheme: str = "quantiles"
    k: int = 5
    breaks: tuple[float, ...] = ()
    mpi_cutoff: float = 0.2
    thai_digits: bool = False
    embed: bool = False
    overlay: str | None = None  # a registered raster drawn over the map
    opacity: float = 0.7
    extra: dict = field(default_factory=dict, compare=False)

    def to_dict(self) -> dict:
        data = asdict(self)
        data.pop("extra")
        return data

    @classmethod
    def from_dict(cls, data: dict | None) -> "View":
        if not data:
            return cls()
        data = {k: v for k, v in data.items() if k in cls.__dataclass_fields__ and k != "extra"}
        data["zones"] = tuple(data.get("zones") or ())
        data["breaks"] = tuple(data.get("breaks") or ())
        return cls(**data)

    def with_(self, **changes) -> "View":
        return replace(self, **changes)


DEFAULT = View()


def _first(values: dict, key: str) -> str | None:
    items = values.get(key)
    return items[0] if items else None


def _int_or(text: str | None, default):
    try:
        return int(text) if text not in (None, "") else default
    except ValueError:
        return default


def _float_or(text: str | None, default):
    try:
        return float(text) if text not in (None, "") else default
    except ValueError:
        return default


def parse_numbers(text: str | None, kind=float) -> tuple:
    if not text:
        return ()
    out = []
    for part in text.replace(";", ",").split(","):
        try:
            out.append(kind(part.strip()))
        except ValueError:
            continue
    return tuple(out)


def from_query(search: str | None, known_indicators=None) -> View:
    """Read a View from a URL query string such as `?indicator=mpi&level=district&zones=1,3`."""
    values = parse_qs((search or "").lstrip("?"))
    indicator = _first(values, "indicator") or DEFAULT.indicator
    if known_indicators is not None and indicator not in known_indicators:
        indicator = DEFAULT.indicator
    level = _first(values, "level")
    scheme = _first(values, "scheme")
    lang = _first(values, "lang")
    year = _int_or(_first(values, "year"), None)
    if year is not None and year > 2400:
        year -= 543
    return View(
        indicator=indicator,
        level=level if level in LEVELS else DEFAULT.level,
        zones=tuple(sorted(set(parse_numbers(_first(values, "zones"), int)))),
        district=_first(values, "district") or None,
        year=year,
        area=_first(values, "area") or None,
        lang=lang if lang in ("th", "en") else DEFAULT.lang,
        scheme=scheme if scheme in SCHEMES else DEFAULT.scheme,
        k=min(max(_int_or(_first(values, "k"), DEFAULT.k), 2), 9),
        breaks=parse_numbers(_first(values, "breaks")),
        mpi_cutoff=min(max(_float_or(_first(values, "k_mpi"), DEFAULT.mpi_cutoff), 0.01), 1.0),
        thai_digits=_first(values, "digits") == "thai",
        embed=_first(values, "embed") in ("1", "true", "yes"),
        overlay=_first(values, "overlay") or None,
        opacity=min(max(_float_or(_first(values, "opacity"), DEFAULT.opacity), 0.0), 1.0),
    )


def to_query(view: View) -> str:
    """The shortest query string that restores `view` (defaults are left out)."""
    pairs = {
        "indicator": view.indicator,
        "level": view.level,
        "zones": ",".join(map(str, view.zones)),
        "district": view.district or "",
        "year": "" if view.year is None else str(view.year),
        "area": view.area or "",
        "lang": view.lang,
        "scheme": view.scheme,
        "k": str(view.k),
        "breaks": ",".join(f"{b:g}" for b in view.breaks),
        "k_mpi": f"{view.mpi_cutoff:g}",
        "digits": "thai" if view.thai_digits else "",
        "embed": "1" if view.embed else "",
        "overlay": view.overlay or "",
        "opacity": f"{view.opacity:g}" if view.overlay else "",
    }
    defaults = {
        "indicator": DEFAULT.indicator, "level": DEFAULT.level, "lang": DEFAULT.lang,
        "scheme": DEFAULT.scheme, "k": str(DEFAULT.k), "k_mpi": f"{DEFAULT.mpi_cutoff:g}",
        "opacity": f"{DEFAULT.opacity:g}",
    }
    kept = {key: value for key, value in pairs.items() if value and value != defaults.get(key)}
    return "?" + urlencode(kept, safe=",") if kept else ""
