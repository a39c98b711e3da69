# expected-verdict: AC
"""Correct but wasteful: computes all of A·Bᵀ with one BLAS GEMM and keeps the sampled entries.
2·m·n·d flops and an m x n temporary instead of 2·nnz·d: at 1% density 100x the arithmetic,
and at m = n = 10⁵ an 80 GB matrix. Fine on the small correctness cases; hopeless at scale.
(Its IEEE behaviour happens to survive here because the NaN/inf cases are tiny; a BLAS may
skip zeros and lose 0 · inf = NaN.)"""
import numpy as np

from harness.types import CSR


def sddmm(S: CSR, A: np.ndarray, B: np.ndarray, scaled: bool) -> np.ndarray:
    m, n = S.shape
    if A.ndim != 2 or B.ndim != 2 or A.shape[0] != m or B.shape[0] != n or A.shape[1] != B.shape[1]:
        raise ValueError(f"A has shape {A.shape} and B {B.shape}; S is {m}x{n}")
    rows = np.repeat(np.arange(m), np.diff(S.indptr))
    with np.errstate(invalid="ignore", over="ignore"):
        dense = np.einsum("ik,jk->ij", A, B)  # every dot product, wanted or not
        out = dense[rows, S.indices]
        return out * S.data if scaled else out
