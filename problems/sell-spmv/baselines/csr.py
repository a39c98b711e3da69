"""sell-spmv by the CSR kernel: the spmv problem's Numba reference (problems/spmv/reference/numba.py)
run on A, the same matrix in CSR. Grading it (`--baseline`) times the CSR kernel against the
SELL-C-sigma reference on the same matrices, in the same run: its speedup is t(SELL) / t(CSR)."""
import numpy as np

from harness import ROOT
from harness.problems import load_module
from harness.types import CSR, SELL

_CSR_KERNEL = load_module(ROOT / "problems" / "spmv" / "reference" / "numba.py")


def sell_spmv(A: CSR, S: SELL, x: np.ndarray) -> np.ndarray:
    return _CSR_KERNEL.spmv(A, x)
