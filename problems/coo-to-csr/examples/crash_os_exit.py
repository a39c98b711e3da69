# expected-verdict: RE
"""Crash: end the process with os._exit(0) in the middle of a call, hoping an exit
status of 0 reads as success. The grader is waiting for a reply, not an exit status:
RE (the process exited with status 0 in the middle of a call)."""
import os

from harness.types import COO, CSR


def coo_to_csr(A: COO) -> CSR:
    os._exit(0)
