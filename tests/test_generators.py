"""The named sparse structures: canonical, the shape and density they promise, and the
Laplacians equal to scipy's."""
import numpy as np
import pytest
import scipy.sparse as sp
from scipy.sparse.linalg import LaplacianNd

from problems._common import generators as gen
from problems._common.sparse import canonical_problems
from tests.sparse_helpers import dense


@pytest.mark.parametrize("name", sorted(gen.STRUCTURES))
@pytest.mark.parametrize("rows", [0, 1, 7, 1000])
def test_every_structure_is_canonical(name, rows):
    A = gen.make(name, np.random.default_rng(rows), rows)
    assert canonical_problems(A) is None
    assert A.shape[0] == A.shape[1]
    assert abs(A.shape[0] - rows) <= max(2, rows // 4)  # "about rows": cubes and blocks round
    assert A.data.dtype == np.float64 and np.isfinite(A.data).all()


def test_unknown_structure_names_the_known_ones():
    with pytest.raises(ValueError, match="laplacian-3d"):
        gen.make("banded", np.random.default_rng(0), 10)


@pytest.mark.parametrize("grid", [(1,), (5,), (3, 4), (2, 3, 4), (1, 1, 1)])
def test_laplacian_equals_scipy_dirichlet(grid):
    L = gen.laplacian(grid)
    expected = -LaplacianNd(grid, boundary_conditions="dirichlet").toarray()
    np.testing.assert_array_equal(dense(L), expected)
    assert canonical_problems(L) is None


def test_laplacian_3d_has_seven_point_rows():
    L = gen.laplacian_3d(10)
    lengths = np.diff(L.indptr)
    assert L.shape == (1000, 1000) and lengths.max() == 7 and lengths.min() == 4  # corners have 3 neighbours
    assert np.allclose(dense(L).sum(axis=1)[lengths == 7], 0.0)  # interior rows sum to zero


def test_uniform_rows_have_at_most_per_row_entries_and_about_that_many():
    A = gen.uniform(np.random.default_rng(0), 500, 10_000, per_row=10)
    lengths = np.diff(A.indptr)
    assert lengths.max() <= 10 and lengths.mean() > 9.9


@pytest.mark.parametrize("rows, cols, per_row", [(2000, 1000, 10), (300, 40, 30), (3000, 20, 20), (5, 1, 4)])
def test_uniform_keeps_each_rows_distinct_draws(rows, cols, per_row):
    """Against a row-by-row transcription: the draws of each row, sorted, repeats merged (few
    repeats are cut out run by run, many by one mask: both paths run here)."""
    A = gen.uniform(np.random.default_rng(1), rows, cols, per_row)
    draws = np.random.default_rng(1).integers(0, cols, size=(rows, min(per_row, cols)),
                                              dtype=np.int32)
    want = [np.unique(r) for r in draws]
    assert np.array_equal(np.diff(A.indptr), [w.size for w in want])
    assert np.array_equal(A.indices, np.concatenate(want))
    assert canonical_problems(A) is None and ((-1 <= A.data) & (A.data < 1)).all()


def test_power_law_concentrates_entries_in_few_rows():
    A = gen.power_law(np.random.default_rng(0), 10_000, 10_000, nnz=100_000)
    lengths = np.sort(np.diff(A.indptr))[::-1]
    top_percent = lengths[:100].sum() / lengths.sum()
    assert top_percent > 0.4  # 1% of the rows hold a large share
    assert np.median(lengths) < lengths.mean() / 2  # while the typical row is short
    assert abs(A.indices.size - 100_000) < 10_000  # repeats merged: a little under nnz


def test_block_diagonal_stays_in_its_blocks():
    A = gen.block_diagonal(np.random.default_rng(0), 5, 8, density=0.5)
    rows = np.repeat(np.arange(A.shape[0]), np.diff(A.indptr))
    assert A.shape == (40, 40) and (rows // 8 == A.indices // 8).all()


def test_assemble_sums_repeats_and_honours_the_index_dtype():
    A = gen.assemble([2, 0, 2, 0], [1, 3, 1, 0], [1.0, 2.0, 3.0, 4.0], (3, 4), idx_dtype=np.int64)
    assert A.indptr.dtype == A.indices.dtype == np.int64
    expected = sp.coo_array(([1.0, 2, 3, 4], ([2, 0, 2, 0], [1, 3, 1, 0])), (3, 4)).toarray()
    np.testing.assert_array_equal(dense(A), expected)
    assert canonical_problems(gen.assemble([0], [5], [1.0], (1, 2**33))) is None  # int64 when needed


def test_generators_are_reproducible():
    a = gen.make("power-law", np.random.default_rng(7), 300)
    b = gen.make("power-law", np.random.default_rng(7), 300)
    for x, y in zip(a[:3], b[:3]):
        np.testing.assert_array_equal(x, y)
