# expected-verdict: CE
"""Phones home: open a TCP connection (to fetch answers, or leak the hidden cases). The
audit hook refuses socket.connect, and the child's network namespace has no route
anyway: CE (forbidden operation: socket.connect), even though the error is caught."""
import socket

from harness.types import COO, CSR


def coo_to_csr(A: COO) -> CSR:
    try:
        with socket.create_connection(("127.0.0.1", 9), timeout=1):
            pass
    except OSError:
        pass
    raise ValueError("index outside the shape")
