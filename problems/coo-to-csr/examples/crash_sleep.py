# expected-verdict: TLE
# limits: wall_s=2
"""Hang without using CPU: sleep for an hour, which no CPU-time limit notices. The
wall-clock limit does: TLE. (The test passes a 2 s limit to stay quick.)"""
import time

from harness.types import COO, CSR


def coo_to_csr(A: COO) -> CSR:
    time.sleep(3600)
