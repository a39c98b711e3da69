# expected-verdict: RE
"""Crash: os._exit(0) in the middle of the call. A clean exit status is not an answer:
RE (the process exited with status 0 in the middle of a call)."""
import os

from harness.types import CSR


def csr_transpose(A: CSR) -> CSR:
    os._exit(0)
