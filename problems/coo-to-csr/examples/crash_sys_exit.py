# expected-verdict: RE
"""Crash: sys.exit(0) inside the call. SystemExit is an exception like any other to the
child, which reports it: RE (SystemExit)."""
import sys

from harness.types import COO, CSR


def coo_to_csr(A: COO) -> CSR:
    sys.exit(0)
