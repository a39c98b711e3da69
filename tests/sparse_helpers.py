"""Shared helpers for the sparse-product tests: load solution files, build small random
CSR matrices (hypothesis strategies), and an independent dense oracle."""
from __future__ import annotations

from types import ModuleType

import numpy as np
from hypothesis import strategies as st

from harness import ROOT
from harness.problems import load_module
from harness.types import CSR, index_dtype


def load_solution(rel_path: str) -> ModuleType:
    """A solution module, loaded once under its canonical name (harness.problems.load_module)."""
    return load_module(ROOT / rel_path)


def csr_from_dense(D: np.ndarray, idx_dtype=None, explicit_zeros: np.ndarray | None = None) -> CSR:
    """Canonical CSR holding D's non-zeros (and, where `explicit_zeros` is True, stored zeros)."""
    keep = D != 0
    if explicit_zeros is not None:
        keep |= explicit_zeros
    rows, cols = np.nonzero(keep)
    dt = idx_dtype or index_dtype(*D.shape, rows.size)
    indptr = np.zeros(D.shape[0] + 1, dtype=dt)
    np.cumsum(np.bincount(rows, minlength=D.shape[0]), out=indptr[1:])
    return CSR(indptr, cols.astype(dt), D[rows, cols].astype(np.float64), D.shape)


def in_entry_order(indptr: np.ndarray, indices: np.ndarray, data: np.ndarray, X: np.ndarray) -> np.ndarray:
    """Y[i, :] = ((0 + a_0·X[j_0]) + a_1·X[j_1]) + ...: each CSR row's products added in the
    order its entries are stored (a NumPy oracle for kernels that promise that order, bitwise)."""
    indptr = np.asarray(indptr, dtype=np.int64)
    lengths = np.diff(indptr)
    Y = np.zeros((lengths.size, X.shape[1]))
    for t in range(int(lengths.max(initial=0))):
        rows = np.flatnonzero(lengths > t)
        p = indptr[rows] + t
        Y[rows] += data[p, None] * X[np.asarray(indices, dtype=np.int64)[p]]
    return Y


def dense(A: CSR) -> np.ndarray:
    D = np.zeros(A.shape)
    rows = np.repeat(np.arange(A.shape[0]), np.diff(A.indptr.astype(np.int64)))
    D[rows, A.indices] = A.data
    return D




@st.composite
def dense_matrices(draw, rows=st.integers(0, 7), cols=st.integers(0, 7), density=st.floats(0.0, 1.0)):
    n, m = draw(rows), draw(cols)
    p = draw(density)
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    D = rng.integers(-8, 9, size=(n, m)) / 4.0  # quarters: every product and sum is exact
    D[rng.random((n, m)) >= p] = 0.0
    return D


@st.composite
def csr_matrices(draw, rows=st.integers(0, 7), cols=st.integers(0, 7)):
    """(CSR, its dense form): random shape and density, sometimes int64 indices, sometimes
    stored zeros."""
    D = draw(dense_matrices(rows=rows, cols=cols))
    dt = draw(st.sampled_from([None, np.int64]))
    zeros = None
    if draw(st.booleans()) and D.size:
        zeros = np.random.default_rng(draw(st.integers(0, 2**32 - 1))).random(D.shape) < 0.2
    return csr_from_dense(D, dt, zeros), D
