"""The moe-systems cards' formulas against independent computations: padded arrays built with
NumPy, scipy.stats.binom, seeded simulations of uniform routing, and byte counts of real arrays."""
from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import binom

from problems._common import dropless
from quiz import engine as quiz
from quiz.formulas import FORMULAS

F = {name: (lambda f: lambda **kw: f(**kw).value)(fn) for name, fn in FORMULAS.items()}


def test_the_topic_has_enough_computed_cards():
    topic = quiz.load().topics["moe-systems"]
    numeric = [c for c in topic.cards if c.kind == "numeric"]
    assert len(topic.cards) >= 10 and len(numeric) >= 8
    assert {c.problem for c in topic.cards} <= {"moe-dispatch", "grouped-gemm", "grouped-gemm-backward",
                                                "moe-dropless", "moe-dropless-backward"}


def test_block_padding_against_padded_arrays():
    counts = [700, 129, 257, 0, 64, 511, 3, 2432]
    padded = sum(np.zeros(-(-c // 128) * 128).size for c in counts)
    assert F["block_padding_fraction"](counts=counts, block=128) == pytest.approx((padded - sum(counts)) / padded)
    assert F["block_padding_fraction"](counts=[128, 256], block=128) == 0.0


def test_expected_padding_is_the_mean_over_remainders():
    for b in (1, 2, 64, 128):
        mean = np.mean([(-r) % b for r in range(b)])
        assert F["expected_block_padding_rows"](experts=256, block=b) == pytest.approx(256 * mean)


def test_worst_case_buffer_bounds_every_split_and_is_reached():
    rng = np.random.default_rng(0)
    T, k, E, b = 512, 8, 256, 64
    bound = F["worst_case_padded_rows"](tokens=T, top_k=k, experts=E, block=b)
    for _ in range(200):
        counts = rng.multinomial(T * k, rng.dirichlet(np.full(E, 0.3)))
        assert sum(-(-c // b) * b for c in counts) <= bound
    tight = [1] * (E - 1) + [T * k - (E - 1)]  # every expert one row past a block boundary
    assert all(c % b == 1 for c in tight)
    assert sum(-(-c // b) * b for c in tight) == bound


def test_max_over_mean_load():
    counts = np.array([2048, 300, 212, 500, 420, 180, 256, 180])
    assert F["max_over_mean_load"](counts=counts.tolist()) == counts.max() / counts.mean()
    E, M = len(counts), counts.max()
    assert E * M / counts.sum() == F["max_over_mean_load"](counts=counts.tolist())  # padded batched / grouped


def test_permute_traffic_counts_the_arrays_a_dropless_layer_touches():
    T, k, D = 64, 3, 16
    x = np.zeros((T, D), dtype=np.float16)
    expert = dropless.assignments(np.random.default_rng(1), T, 8, k)
    order = np.argsort(expert.reshape(-1), kind="stable")
    xs = x[order // k]  # gather: reads T*k rows of x, writes xs
    out = xs.copy()
    y = np.zeros_like(x)  # combine: reads every row of out, writes y
    moved = (T * k * D * x.itemsize) + xs.nbytes + out.nbytes + y.nbytes
    assert F["permute_traffic_bytes"](tokens=T, top_k=k, d_model=D, bytes_per_value=2) == moved


def test_uniform_load_std_is_binomial_and_matches_a_simulation():
    T, k, E = 4096, 2, 64
    want = F["uniform_load_std"](tokens=T, top_k=k, experts=E)
    assert want == pytest.approx(binom(T, k / E).std(), rel=1e-12)
    rng = np.random.default_rng(2)
    loads = np.concatenate([np.bincount(dropless.assignments(rng, T, E, k).reshape(-1), minlength=E)
                            for _ in range(40)])
    assert loads.mean() == pytest.approx(T * k / E)
    assert loads.std() == pytest.approx(want, rel=0.1)


@pytest.mark.parametrize("cf", [0.8, 1.0, 1.25])
def test_drop_fraction_against_scipy_and_a_simulation(cf):
    T, k, E = 1024, 2, 32
    got = F["uniform_drop_fraction"](tokens=T, top_k=k, experts=E, capacity_factor=cf)
    C = math.ceil(cf * T * k / E)
    dist = binom(T, k / E)
    i = np.arange(C + 1, T + 1)
    assert got == pytest.approx(E * np.sum((i - C) * dist.pmf(i)) / (T * k), rel=1e-9)
    rng = np.random.default_rng(3)
    dropped = [np.maximum(np.bincount(dropless.assignments(rng, T, E, k).reshape(-1), minlength=E) - C, 0).sum()
               for _ in range(300)]
    assert np.mean(dropped) / (T * k) == pytest.approx(got, rel=0.2, abs=2e-4)


def test_intensity_counts_real_array_bytes_and_the_balance_row_count_solves_it():
    n, D, H = 16, 7168, 2048
    a, w, y = (np.empty(s, dtype=np.float16) for s in ((n, D), (D, H), (n, H)))
    want = 2 * n * D * H / (a.nbytes + w.nbytes + y.nbytes)
    assert F["grouped_gemm_intensity"](rows=n, d_model=D, d_ff=H, bytes_per_value=2) == pytest.approx(want)
    rows = F["rows_for_compute_bound"](d_model=D, d_ff=H, bytes_per_value=2, flops_per_byte=295)
    # at the computed (fractional) row count the intensity is exactly the balance
    intensity = 2 * rows * D * H / (2 * (rows * D + D * H + rows * H))
    assert intensity == pytest.approx(295, rel=1e-12)
    with pytest.raises(ValueError):
        FORMULAS["rows_for_compute_bound"](d_model=8, d_ff=8, bytes_per_value=2, flops_per_byte=1e6)
