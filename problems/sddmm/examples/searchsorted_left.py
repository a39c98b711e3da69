# expected-verdict: WA
"""Honest mistake: finds the row of every entry with np.searchsorted(indptr, p, side="left") - 1.
For the first entry of a row, p == indptr[i], "left" returns i, so the entry is given row i - 1:
every row's first dot product uses the previous row of A. side="right" is correct (and also skips
empty rows, whose indptr values repeat)."""
import numpy as np

from harness.types import CSR


def sddmm(S: CSR, A: np.ndarray, B: np.ndarray, scaled: bool) -> np.ndarray:
    m, n = S.shape
    if A.ndim != 2 or B.ndim != 2 or A.shape[0] != m or B.shape[0] != n or A.shape[1] != B.shape[1]:
        raise ValueError(f"A has shape {A.shape} and B {B.shape}; S is {m}x{n}")
    p = np.arange(S.indices.size)
    rows = np.searchsorted(S.indptr, p, side="left") - 1  # mistake: "right"
    rows = np.clip(rows, 0, max(m - 1, 0))  # "fixes" the -1 it produces for p = 0
    with np.errstate(invalid="ignore", over="ignore"):
        out = np.einsum("ij,ij->i", A[rows], B[S.indices])
        return out * S.data if scaled else out
