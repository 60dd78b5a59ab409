import numpy as np
import pytest

from layers.classify import SCHEMES, classify, colours

NAN = float("nan")


@pytest.mark.parametrize("scheme", ["quantiles", "natural_breaks", "equal_interval"])
def test_every_value_gets_a_class_and_missing_values_get_minus_one(scheme):
    values = [5.0, 1.0, NAN, 3.0, 9.0, 7.0, 2.0, 8.0, 4.0, 6.0, 10.0]
    result = classify(values, scheme, k=5)
    assert result.k == 5 and result.class_of[2] == -1
    assert sum(result.counts) == 10 and min(result.counts) > 0
    assert result.bins == sorted(result.bins) and result.bins[-1] == 10.0 and result.lower == 1.0
    # each value lies within its class bounds (upper bound inclusive)
    for value, klass in zip(values, result.class_of):
        if klass >= 0:
            low, high = result.bounds()[klass]
            assert (low <= value <= high) and (klass == 0 or value > low)


def test_quantiles_split_evenly():
    result = classify(np.arange(1, 21, dtype=float), "quantiles", k=4)
    # mapclassify interpolates the quartiles of 1..20: 5.75, 10.5, 15.25, 20
    assert result.counts == [5, 5, 5, 5] and result.bins == pytest.approx([5.75, 10.5, 15.25, 20.0])


def test_natural_breaks_find_the_gaps():
    values = [1, 2, 3, 101, 102, 103, 1001, 1002]
    result = classify(values, "natural_breaks", k=3)
    assert result.bins == [3.0, 103.0, 1002.0] and result.counts == [3, 3, 2]


def test_equal_interval_may_leave_an_empty_middle_class():
    result = classify([0.0, 0.5, 1.0, 9.0, 9.5, 10.0], "equal_interval", k=5)
    assert result.bins == pytest.approx([2.0, 4.0, 6.0, 8.0, 10.0]) and result.counts == [3, 0, 0, 0, 3]


@pytest.mark.parametrize("scheme", ["quantiles", "natural_breaks", "equal_interval"])
def test_all_missing_gives_no_classes(scheme):
    result = classify([NAN, NAN, NAN], scheme, k=5)
    assert result.bins == [] and result.counts == [] and result.labels() == []
    assert result.class_of.tolist() == [-1, -1, -1]
    assert classify([], scheme).k == 0


@pytest.mark.parametrize("scheme", ["quantiles", "natural_breaks", "equal_interval"])
def test_constant_values_make_one_class(scheme):
    result = classify([2.5, 2.5, NAN, 2.5], scheme, k=5)
    assert result.bins == [2.5] and result.counts == [3]
    assert result.class_of.tolist() == [0, 0, -1, 0]
    assert result.labels() == ["2.5"]


@pytest.mark.parametrize("scheme", ["quantiles", "natural_breaks", "equal_interval"])
def test_fewer_distinct_values_than_classes_reduces_k(scheme):
    result = classify([1.0, 1.0, 3.0, 3.0, 7.0], scheme, k=5)
    assert result.k == 3, "k drops to the three distinct values"
    assert len(set(result.bins)) == len(result.bins), "no duplicated bins"
    assert sum(result.counts) == 5


@pytest.mark.parametrize("scheme", ["quantiles", "natural_breaks"])
def test_fewer_areas_than_classes_puts_each_value_in_its_own_class(scheme):
    result = classify([30.0, 10.0, 20.0], scheme, k=5)
    assert result.bins == [10.0, 20.0, 30.0] and result.class_of.tolist() == [2, 0, 1]


def test_quantiles_with_many_ties_leave_no_empty_class():
    values = [0.0] * 20 + [1.0, 2.0, 3.0, 4.0, 5.0]
    result = classify(values, "quantiles", k=5)
    assert 0 not in result.counts and result.counts[0] == 20


def test_user_breaks_are_sorted_and_closed_at_the_maximum():
    result = classify([1.0, 2.0, 3.0, 10.0, NAN], "user", breaks=[5, 2, 2])
    assert result.bins == [2.0, 5.0, 10.0]
    assert result.class_of.tolist() == [0, 0, 1, 2, -1] and result.counts == [2, 1, 1]
    assert result.labels() == ["1 – 2", "2 – 5", "5 – 10"]


def test_user_breaks_outside_the_range():
    below = classify([1.0, 2.0, 3.0], "user", breaks=[-5, 0, 2])
    assert below.bins == [2.0, 3.0], "breaks under the smallest value cannot hold anything"
    above = classify([1.0, 2.0, 3.0], "user", breaks=[10, 20])
    assert above.bins == [10.0, 20.0] and above.counts == [3, 0], "a stable legend keeps the user's classes"
    with pytest.raises(ValueError):
        classify([1.0], "user")


def test_labels_use_the_given_formatter():
    result = classify([0.1, 0.2, 0.3, 0.4], "quantiles", k=2)
    assert result.labels(lambda v: f"{v * 100:.0f}%") == ["10% – 25%", "25% – 40%"]


def test_unknown_scheme_is_refused():
    with pytest.raises(ValueError, match="unknown classification scheme"):
        classify([1, 2], "jenks")
    assert set(SCHEMES) == {"quantiles", "natural_breaks", "equal_interval", "user"}


def _lightness(hex_colour):
    red, green, blue = (int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))
    return 0.299 * red + 0.587 * green + 0.114 * blue


@pytest.mark.parametrize("n", [1, 2, 5, 9])
def test_colours_are_hex_and_distinct(n):
    result = colours("sequential", n)
    assert len(result) == n and len(set(result)) == n
    assert all(c.startswith("#") and len(c) == 7 for c in result)


def test_bad_end_is_dark():
    amounts = colours("sequential", 5)
    assert [_lightness(c) for c in amounts] == sorted((_lightness(c) for c in amounts), reverse=True)
    worse_when_high = colours("sequential", 5, higher_is_better=False)
    assert worse_when_high == amounts
    better_when_high = colours("sequential", 5, higher_is_better=True)
    assert better_when_high == amounts[::-1], "low (bad) values dark"


def test_diverging_puts_red_on_the_bad_end():
    good_high = colours("diverging", 5, higher_is_better=True)
    red, _, blue = (int(good_high[0][i:i + 2], 16) for i in (1, 3, 5))
    assert red > blue, "lowest class red when higher is better"
    bad_high = colours("diverging", 5, higher_is_better=False)
    assert bad_high == good_high[::-1]
    with pytest.raises(ValueError):
        colours("rainbow", 3)
