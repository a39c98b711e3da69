import math

import numpy as np
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


def test_bootstrap_interval_of_the_median_brackets_it_and_is_reproducible():
    import numpy as np

    xs = np.random.default_rng(3).lognormal(0.0, 0.2, 41)
    lo, hi = stats.median_interval(xs, seed=7)
    assert lo <= stats.median(xs) <= hi
    assert (lo, hi) == stats.median_interval(xs, seed=7)  # seeded: the same interval on a re-run
    wide = stats.median_interval(xs, level=0.99, seed=7)
    assert wide[0] <= lo and hi <= wide[1]


def test_bootstrap_interval_of_a_constant_is_a_point_and_of_one_value_is_undefined():
    assert stats.median_interval([2.5] * 9) == (2.5, 2.5)
    assert all(math.isnan(v) for v in stats.median_interval([1.0]))


def test_bootstrap_medians_resample_the_values_given():
    import numpy as np

    reps = stats.bootstrap_medians([1.0, 2.0, 3.0], np.random.default_rng(0), replicates=500)
    assert reps.shape == (500,) and set(np.unique(reps)) <= {1.0, 2.0, 3.0}
    assert stats.percentile_interval(np.arange(101.0), 0.9) == pytest.approx((5.0, 95.0))


def test_paired_ratios_cancel_what_a_round_shares():
    # a slow moment hits both sides of a round: the per-round ratio is exactly 1.25 throughout,
    # while the two sides' medians, resampled, swing with the rounds that happen to be drawn
    rng = np.random.default_rng(1)
    slow = rng.choice([1.0, 1.7], size=7)
    ref, sub = 1.25 * slow, slow
    paired = stats.bootstrap_paired_ratios(ref, sub, np.random.default_rng(0), replicates=400)
    assert np.allclose(paired, 1.25)
    medians = stats.bootstrap_medians(ref, np.random.default_rng(0), 400) / \
        stats.bootstrap_medians(sub, np.random.default_rng(1), 400)
    assert medians.max() / medians.min() > 1.5


def test_paired_ratios_refuse_unpaired_rounds():
    with pytest.raises(ValueError, match="paired rounds"):
        stats.paired_ratios([1.0, 2.0], [1.0])


def test_turn_ratios_cancel_what_going_first_does():
    # rounds alternate who goes first (A B, B A, ...) and the first call is 25% slower: one ratio
    # per round is 1.5/1.25 or 1.5·1.25 by the order, a turn of both orders gives the true 1.5
    first = 1.25
    a = np.array([1.0 * (first if r % 2 == 0 else 1.0) for r in range(9)])
    b = np.array([1.5 * (1.0 if r % 2 == 0 else first) for r in range(9)])
    per_round = stats.paired_ratios(b, a)
    assert set(np.round(per_round, 6)) == {1.2, 1.875}
    turns = stats.turn_ratios(b, a, 2)
    assert turns.shape == (4,), "nine rounds: four whole turns, the ninth round left out"
    assert np.allclose(turns, 1.5)
    assert np.allclose(stats.bootstrap_paired_ratios(b, a, np.random.default_rng(0), 200, period=2), 1.5)
    assert np.array_equal(stats.turn_ratios(b, a, 1), per_round), "period 1: the rounds themselves"
    assert np.array_equal(stats.turn_ratios(b[:1], a[:1], 2), per_round[:1]), "under a turn: the rounds"
    three = stats.turn_ratios(np.r_[b, 2.0, 2.0, 2.0], np.r_[a, 1.0, 1.0, 1.0], 3)
    assert three.shape == (4,), "twelve rounds of a three-side rotation: four turns"
