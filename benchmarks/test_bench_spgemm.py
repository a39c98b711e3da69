"""SpGEMM, C = A·A: the Numba references (serial; prange at 1 and 2 threads) against
scipy's `A @ A` followed by `sort_indices()` (the same canonical-output contract). The
report adds products per second and the compression ratio products / nnz(C)."""
from functools import cache

import numpy as np
import pytest
import scipy.sparse as sp

from benchmarks.common import STRUCTURES, load_solution, matrix, run

IMPLEMENTATIONS = [("numba", "problems/spgemm/reference/numba.py", 1),
                   ("numba-parallel", "problems/spgemm/reference/numba_parallel.py", 1),
                   ("numba-parallel", "problems/spgemm/reference/numba_parallel.py", 2),
                   ("scipy", None, 1)]


def scipy_spgemm(M, N):
    C = M @ N
    C.sort_indices()
    return C


@cache
def shape_of_product(structure: str) -> tuple[int, int]:
    """(products, nnz(C)) of A·A, from scipy, once per structure."""
    A = matrix(structure)
    products = int(np.diff(A.indptr.astype(np.int64))[A.indices].sum())
    M = sp.csr_array((A.data, A.indices, A.indptr), shape=A.shape)
    return products, (M @ M).nnz


@pytest.mark.parametrize("impl, path, threads", IMPLEMENTATIONS, ids=[f"{i}-{t}t" for i, _, t in IMPLEMENTATIONS])
@pytest.mark.parametrize("structure", STRUCTURES)
def test_spgemm(benchmark, structure, impl, path, threads):
    A = matrix(structure)
    M = sp.csr_array((A.data, A.indices, A.indptr), shape=A.shape)
    fn, args = (scipy_spgemm, (M, M)) if path is None else (load_solution(path).spgemm, (A, A))
    products, nnz_c = shape_of_product(structure)
    benchmark.group = f"spgemm {structure}"
    benchmark.extra_info.update(problem="spgemm", structure=structure, impl=impl, threads=threads,
                                rows=A.shape[0], nnz=A.indices.size, products=products, nnz_C=nnz_c,
                                flops=2 * products)
    C = run(benchmark, fn, args, rounds=3, threads=threads)
    indptr, indices = (C.indptr, C.indices)
    assert indptr[-1] == nnz_c and indices.size == nnz_c
