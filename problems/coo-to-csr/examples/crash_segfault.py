# expected-verdict: RE
"""Hard crash: read address 0 through ctypes. The child dies by SIGSEGV (faulthandler
prints where); the grader reports the signal: RE (killed by SIGSEGV)."""
import ctypes

from harness.types import COO, CSR


def coo_to_csr(A: COO) -> CSR:
    return ctypes.string_at(0)
