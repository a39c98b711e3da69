"""SpMV: the Numba references (serial; prange at 1 and 2 threads) against scipy's
csr_matvec, on the three benchmark structures. Figures go to pytest-benchmark's table and
JSON (`python benchmarks/products_report.py FILE` adds speedups and % of bandwidth)."""
import numpy as np
import pytest
import scipy.sparse as sp

from benchmarks.common import STRUCTURES, load_solution, matrix, run

IMPLEMENTATIONS = [("numba", "problems/spmv/reference/numba.py", 1),
                   ("numba-parallel", "problems/spmv/reference/numba_parallel.py", 1),
                   ("numba-parallel", "problems/spmv/reference/numba_parallel.py", 2),
                   ("scipy", None, 1)]


@pytest.mark.parametrize("impl, path, threads", IMPLEMENTATIONS, ids=[f"{i}-{t}t" for i, _, t in IMPLEMENTATIONS])
@pytest.mark.parametrize("structure", STRUCTURES)
def test_spmv(benchmark, structure, impl, path, threads):
    A = matrix(structure)
    x = np.random.default_rng(1).standard_normal(A.shape[1])
    M = sp.csr_array((A.data, A.indices, A.indptr), shape=A.shape)
    if path is None:
        fn, args = M.__matmul__, (x,)
    else:
        fn, args = load_solution(path).spmv, (A, x)
    benchmark.group = f"spmv {structure}"
    rows, cols = A.shape
    nnz = A.indices.size
    benchmark.extra_info.update(problem="spmv", structure=structure, impl=impl, threads=threads, rows=rows,
                                nnz=nnz, bytes=12 * nnz + 4 * (rows + 1) + 8 * rows + 8 * cols, flops=2 * nnz)
    y = run(benchmark, fn, args, rounds=20, threads=threads)
    np.testing.assert_allclose(y, M @ x, rtol=1e-10, atol=1e-12 * float(np.abs(A.data).max(initial=0)))
