"""harness.simd.row_block8 against sums in entry order, bitwise (the order it promises)."""
import numba
import numpy as np
import pytest

from harness.simd import WIDTH, row_block8
from tests.sparse_helpers import in_entry_order


@numba.njit
def _blocks(indptr, indices, data, X, Y):
    k = X.shape[1]
    for i in range(Y.shape[0]):
        for c in range(0, k - k % WIDTH, WIDTH):
            row_block8(indices, data, X, indptr[i], indptr[i + 1], c, Y, i * k + c)


@pytest.mark.parametrize("dtype", [np.int32, np.int64, np.uint32, np.uint64])
@pytest.mark.parametrize("k", [8, 9, 24])
def test_blocks_equal_sums_in_entry_order_bitwise(dtype, k):
    rng = np.random.default_rng(k)
    lengths = np.array([0, 1, 7, 0, 40, 3])  # empty rows, a single entry, a long row
    indptr = np.r_[0, np.cumsum(lengths)].astype(dtype)
    n_cols = 50
    indices = rng.integers(0, n_cols, size=int(indptr[-1])).astype(dtype)
    data = rng.standard_normal(indices.size)
    X = rng.standard_normal((n_cols, k))
    Y = np.full((lengths.size, k), np.nan)  # the tail columns (k % 8) are the caller's: left as they were
    _blocks(indptr, indices, data, X, Y)
    blocked = k - k % WIDTH
    np.testing.assert_array_equal(Y[:, :blocked], in_entry_order(indptr, indices, data, X[:, :blocked]))
    assert np.isnan(Y[:, blocked:]).all()


def test_ieee_specials_propagate_as_in_the_scalar_loop():
    X = np.zeros((2, 8))
    X[1, 3] = np.inf
    Y = np.empty((1, 8))
    _blocks(np.array([0, 2]), np.array([0, 1]), np.array([1.0, 0.0]), X, Y)
    assert np.isnan(Y[0, 3]) and (np.delete(Y[0], 3) == 0).all()  # 0 * inf is NaN, not skipped


def test_float32_arrays_are_refused_at_compile_time():
    with pytest.raises(numba.core.errors.TypingError):
        _blocks(np.array([0, 1]), np.array([0]), np.ones(1, dtype=np.float32), np.ones((1, 8)), np.empty((1, 8)))
