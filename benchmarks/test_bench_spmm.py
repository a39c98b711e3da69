"""SpMM with k = 16: the Numba references (serial; prange at 1 and 2 threads) against
scipy's csr_matvecs, on the three benchmark structures."""
import numpy as np
import pytest
import scipy.sparse as sp

from benchmarks.common import STRUCTURES, load_solution, matrix, run

K = 16
IMPLEMENTATIONS = [("numba", "problems/spmm/reference/numba.py", 1),
                   ("numba-parallel", "problems/spmm/reference/numba_parallel.py", 1),
                   ("numba-parallel", "problems/spmm/reference/numba_parallel.py", 2),
                   ("scipy", None, 1)]


@pytest.mark.parametrize("impl, path, threads", IMPLEMENTATIONS, ids=[f"{i}-{t}t" for i, _, t in IMPLEMENTATIONS])
@pytest.mark.parametrize("structure", STRUCTURES)
def test_spmm(benchmark, structure, impl, path, threads):
    A = matrix(structure)
    X = np.random.default_rng(1).standard_normal((A.shape[1], K))
    M = sp.csr_array((A.data, A.indices, A.indptr), shape=A.shape)
    if path is None:
        fn, args = M.__matmul__, (X,)
    else:
        fn, args = load_solution(path).spmm, (A, X)
    benchmark.group = f"spmm k={K} {structure}"
    rows, cols = A.shape
    nnz = A.indices.size
    benchmark.extra_info.update(problem="spmm", structure=structure, impl=impl, threads=threads, rows=rows,
                                nnz=nnz, k=K, bytes=12 * nnz + 4 * (rows + 1) + 8 * K * (rows + cols),
                                flops=2 * nnz * K)
    Y = run(benchmark, fn, args, rounds=5, threads=threads)
    np.testing.assert_allclose(Y, M @ X, rtol=1e-10, atol=1e-12 * float(np.abs(A.data).max(initial=0)))
