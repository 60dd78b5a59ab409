"""Classing indicator values for choropleths (mapclassify) and colour-blind-safe colours.

Colour choice: ColorBrewer schemes, which are designed to stay readable for
colour-blind readers — YlGnBu for sequential data and RdBu for diverging data.
Dark always marks the end that needs attention: for an indicator where a
higher value is worse (or neither is better, i.e. amounts) the colours run
light → dark with the value; where a higher value is better (capital scores,
share resolved) they are reversed, so low — bad — values are dark. Diverging
schemes put red on the bad end and blue on the good end by the same rule.
The very lightest tone of the scheme is skipped so that the lowest class is
never mistaken for the grey "no data" style.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Callable

import numpy as np
import plotly.colors

SCHEMES = ("quantiles", "natural_breaks", "equal_interval", "user")
NO_DATA_COLOUR = "#d9d9d9"
_SCALES = {"sequential": plotly.colors.sequential.YlGnBu, "diverging": plotly.colors.diverging.RdBu}
# Where along the scale the lightest and darkest class colours sit.
_SPAN = {"sequential": (0.12, 1.0), "diverging": (0.0, 1.0)}


@dataclass
class Classification:
    """Classes of one set of values.

    bins: upper bound of each class (ascending); lower: the smallest value;
    class_of: class index of each input value, -1 where the value is missing;
    counts: number of values in each class.
    """

    scheme: str
    bins: list[float]
    lower: float
    class_of: np.ndarray
    counts: list[int] = field(default_factory=list)

    @property
    def k(self) -> int:
        return len(self.bins)

    def bounds(self) -> list[tuple[float, float]]:
        """(lower, upper) of each class."""
        lowers = [self.lower, *self.bins[:-1]]
        return list(zip(lowers, self.bins))

    def labels(self, fmt: Callable[[float], str] | None = None) -> list[str]:
        """Legend texts "a – b" (or "a" for a one-value class), numbers written by `fmt`
        (default: up to 4 significant digits)."""
        fmt = fmt or (lambda value: f"{value:,.4g}")
        texts = []
        for low, high in self.bounds():
            low_text, high_text = fmt(low), fmt(high)
            texts.append(high_text if low_text == high_text else f"{low_text} – {high_text}")
        return texts


def classify(values, scheme: str = "quantiles", k: int = 5, breaks=None) -> Classification:
    """Class `values` (NaN allowed) by a mapclassify scheme.

    `k` is lowered to the number of distinct values when there are fewer. With
    scheme "user", `breaks` are upper bounds: they are sorted and de-duplicated,
    breaks below the smallest value are dropped, and the largest value is
    appended when it lies above the last break.
    """
    if scheme not in SCHEMES:
        raise ValueError(f"unknown classification scheme {scheme!r}; expected one of {', '.join(SCHEMES)}")
    y = np.asarray(values, dtype=float)
    present = ~np.isnan(y)
    class_of = np.full(y.shape, -1, dtype=int)
    if not present.any():
        return Classification(scheme, [], float("nan"), class_of, [])
    data = y[present]
    user = tuple(sorted({float(b) for b in breaks if b is not None and not np.isnan(b)})) if breaks is not None else None
    if scheme == "user" and user is None:
        raise ValueError("the 'user' scheme needs breaks")
    bins = list(_bins(data.tobytes(), scheme, int(k), user))
    class_of[present] = np.searchsorted(np.asarray(bins), data, side="left")
    counts = np.bincount(class_of[present], minlength=len(bins)).tolist()
    return Classification(scheme, bins, float(data.min()), class_of, counts)


@lru_cache(maxsize=256)
def _bins(data_bytes: bytes, scheme: str, k: int, user: tuple | None) -> tuple[float, ...]:
    # Cached on the values themselves: Fisher–Jenks in pure Python takes ~0.1 s for 289 tambons,
    # and the dashboard asks for the same classes again whenever the user returns to a view.
    data = np.frombuffer(data_bytes, dtype=float)
    distinct = np.unique(data)
    if scheme == "user":
        return _user_bins(distinct, user)
    if k < 1:
        raise ValueError(f"number of classes must be at least 1, got {k}")
    k = min(k, len(distinct))
    if len(distinct) == k and scheme != "equal_interval":
        # As many classes as values: each distinct value is its own class.
        return tuple(float(v) for v in distinct)
    if k == 1:
        return (float(distinct[-1]),)
    # Imported here: mapclassify pulls in scipy.stats, seconds of start-up the app need not wait for.
    import mapclassify

    classifier = {
        "quantiles": mapclassify.Quantiles,
        "natural_breaks": mapclassify.FisherJenks,
        "equal_interval": mapclassify.EqualInterval,
    }[scheme]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "Numba not installed", "not enough unique values"
        bins = np.unique(classifier(data, k=k).bins.astype(float))
    # The top class ends exactly at the largest value (equal intervals can miss it by rounding).
    bins[-1] = distinct[-1]
    if scheme == "quantiles":
        # Ties can leave a quantile class empty; a quantile class should never be.
        bins = bins[np.unique(np.searchsorted(bins, data, side="left"))]
    return tuple(float(v) for v in bins)


def _user_bins(distinct: np.ndarray, user: tuple) -> tuple[float, ...]:
    low, high = distinct[0], distinct[-1]
    kept = [b for b in user if b >= low]
    if not kept or kept[-1] < high:
        kept.append(float(high))
    return tuple(kept)


def colours(palette: str = "sequential", n: int = 5, higher_is_better: bool | None = None) -> list[str]:
    """`n` hex colours from light to dark (or bad to good for diverging), oriented so the bad end is dark/red.

    The list is in class order (lowest values first).
    """
    if palette not in _SCALES:
        raise ValueError(f"unknown palette {palette!r}; expected sequential or diverging")
    if n < 1:
        return []
    start, end = _SPAN[palette]
    points = [start + (end - start) * 0.5] if n == 1 else list(np.linspace(start, end, n))
    sampled = plotly.colors.sample_colorscale(_SCALES[palette], points)
    hexes = [_to_hex(colour) for colour in sampled]
    # Sequential scales grow darker with the value, so low = dark needs a reversal when higher is better.
    # RdBu starts red (low = bad), so it needs a reversal when higher is worse.
    reverse = higher_is_better is True if palette == "sequential" else higher_is_better is False
    return hexes[::-1] if reverse else hexes


def _to_hex(colour: str) -> str:
    if colour.startswith("#"):
        return colour.lower()
    red, green, blue = plotly.colors.unlabel_rgb(colour)
    return "#{:02x}{:02x}{:02x}".format(round(red), round(green), round(blue))
