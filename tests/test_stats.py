import math

import pytest

from harness import stats


def test_geomean_and_median():
    assert stats.geomean([1.0, 4.0]) == pytest.approx(2.0)
    assert math.isnan(stats.geomean([]))
    assert stats.median([3.0, 1.0, 2.0]) == 2.0


def test_spread_is_relative_iqr():
    assert stats.spread([1.0, 1.0, 1.0]) == 0.0
    assert stats.spread([1.0, 2.0, 3.0, 4.0, 5.0]) == pytest.approx(2.0 / 3.0)


@pytest.mark.parametrize("p", [0.5, 1.0, 2.0])
def test_loglog_slope_recovers_the_exponent(p):
    sizes = [1e3, 1e4, 1e5]
    assert stats.loglog_slope(sizes, [3e-9 * s**p for s in sizes]) == pytest.approx(p)


def test_slope_needs_two_sizes():
    assert math.isnan(stats.loglog_slope([10, 10], [1.0, 2.0]))
