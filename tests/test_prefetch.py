"""harness.prefetch.scattered_columns: which matrices the spmv/spmm references prefetch for.

The test's rule, written out: take the first entries of evenly spaced rows; a matrix is
scattered when the median distance of their columns from the row's place on the diagonal,
in bytes of the dense operand, is past a core's L2."""
import numpy as np
import pytest

from harness.prefetch import L2_BYTES, scattered_columns
from problems._common import generators as gen


def _call(A, row_bytes=8):
    return scattered_columns(A.indptr, A.indices, A.shape, row_bytes)


def test_a_stencil_streams_and_random_columns_scatter():
    assert _call(gen.laplacian_3d(60)) is False  # columns within two grid planes of the diagonal
    assert _call(gen.uniform(np.random.default_rng(0), 2000, 2_000_000, per_row=4)) is True


def test_a_dense_operand_that_fits_in_l2_never_needs_it():
    cols = L2_BYTES // 8  # random columns, but x fits: every read is an L2 hit at worst
    assert _call(gen.uniform(np.random.default_rng(1), 1000, cols, per_row=4)) is False
    assert _call(gen.uniform(np.random.default_rng(1), 1000, 16 * cols, per_row=4)) is True


def test_the_rule_is_the_median_of_the_sampled_distances():
    # one entry a row, on the diagonal or half the matrix away from it; the 64 sampled rows are
    # evenly spaced, so the first half of them fall in rows below n/2
    n = 1 << 19
    rows = np.arange(n)

    def matrix(far_below: int):
        cols = np.where(rows < far_below, (rows + n // 2) % n, rows)
        return gen.assemble(rows, cols, np.ones(n), (n, n))

    assert _call(matrix(n // 2)) is False  # 32 of 64 far: not more than half
    assert _call(matrix(n // 2 + n // 32)) is True  # 33 of 64


@pytest.mark.parametrize("shape", [(0, 10**6), (10**6, 0), (10**6, 10**6)])
def test_no_entries_means_no_prefetch(shape):
    A = gen.assemble(np.zeros(0), np.zeros(0), np.zeros(0), shape)
    assert _call(A) is False
