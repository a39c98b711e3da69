"""coo-to-csr and csr-transpose: NumPy and Numba references against scipy.sparse.

    OMP_NUM_THREADS=1 NUMBA_NUM_THREADS=1 pytest benchmarks/test_bench_formats.py \
        --benchmark-json results/bench/formats.json
    python benchmarks/report.py results/bench/formats.json
"""
import numpy as np
import pytest
import scipy.sparse as sp

from benchmarks.conftest import scaled
from harness import ROOT
from harness.problems import load_module
from problems._common import sparse

SIZES = [scaled(10**5), scaled(10**6), scaled(10**7)]


def _ref(module: str, name: str, entry: str):
    return getattr(load_module(ROOT / "problems" / module.replace("_", "-") / "reference" / f"{name}.py"), entry)


def _scipy_coo_to_csr(A):
    M = sp.coo_array((A.data, (A.row, A.col)), shape=A.shape).tocsr()
    M.sort_indices()
    return M


def _scipy_transpose(C):
    return sp.csr_array((C.data, C.indices, C.indptr), shape=C.shape).T.tocsr()


COO_IMPLS = {"numpy": _ref("coo_to_csr", "numpy", "coo_to_csr"), "numba": _ref("coo_to_csr", "numba", "coo_to_csr"),
             "scipy": _scipy_coo_to_csr}
T_IMPLS = {"numpy": _ref("csr_transpose", "numpy", "csr_transpose"),
           "numba": _ref("csr_transpose", "numba", "csr_transpose"), "scipy": _scipy_transpose}


def _rounds(nnz: int) -> int:
    return 30 if nnz <= 10**5 else (10 if nnz <= 10**6 else 5)


@pytest.mark.parametrize("nnz", SIZES)
@pytest.mark.parametrize("impl", COO_IMPLS)
def test_coo_to_csr(benchmark, impl, nnz):
    A = sparse.random_coo(np.random.default_rng(0), nnz, sparse.coo_shape_for(nnz), dup_frac=0.1)
    fn = COO_IMPLS[impl]
    benchmark.group = f"coo-to-csr nnz={nnz:.0e}"
    benchmark.extra_info.update(problem="coo-to-csr", impl=impl, size=nnz)
    benchmark.pedantic(fn, args=(A,), rounds=_rounds(nnz), warmup_rounds=1)


@pytest.mark.parametrize("nnz", SIZES)
@pytest.mark.parametrize("impl", T_IMPLS)
def test_csr_transpose(benchmark, impl, nnz):
    rows = max(1, nnz // 8)
    C = sparse.random_csr(np.random.default_rng(0), nnz, (rows, rows * 3 // 2))
    fn = T_IMPLS[impl]
    benchmark.group = f"csr-transpose nnz={nnz:.0e}"
    benchmark.extra_info.update(problem="csr-transpose", impl=impl, size=nnz)
    benchmark.pedantic(fn, args=(C,), rounds=_rounds(nnz), warmup_rounds=1)
