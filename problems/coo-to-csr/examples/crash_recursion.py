# expected-verdict: RE
"""Unbounded recursion: the interpreter's recursion limit stops it with RecursionError,
which the child reports: RE."""
from harness.types import COO, CSR


def _walk(n: int) -> int:
    return _walk(n + 1) + 1


def coo_to_csr(A: COO) -> CSR:
    return _walk(0)
