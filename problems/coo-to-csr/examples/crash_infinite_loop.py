# expected-verdict: TLE
# limits: wall_s=2
"""Hang: loop forever without touching the GIL-releasing parts of numpy. The grader
stops waiting after the per-call wall-clock limit and kills the child's whole process
group: TLE. (The test passes a 2 s limit to stay quick.)"""
from harness.types import COO, CSR


def coo_to_csr(A: COO) -> CSR:
    n = 0
    while True:
        n += 1
