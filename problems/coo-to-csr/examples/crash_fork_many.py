# expected-verdict: CE
"""Fork bomb, Python style: os.fork() in a loop. The audit hook refuses the first fork
before any process exists: CE (forbidden operation: os.fork)."""
import os

from harness.types import COO, CSR


def coo_to_csr(A: COO) -> CSR:
    for _ in range(100):
        if os.fork() == 0:
            while True:
                pass
    raise RuntimeError("unreachable")
