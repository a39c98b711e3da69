# expected-verdict: RE
"""Class 7, a reply channel abused: announce a result of 2**62 bytes on a well-formed reply line,
so a trusting reader allocates it or waits for it forever. The announced size is checked against
the bound (the memory limit) before anything is read or allocated: a malformed result, RE."""
import json
import os
import sys
import time

from harness.types import COO, CSR

_FD = json.loads(sys.argv[1])["fd_out"] if len(sys.argv) > 1 else None


def coo_to_csr(A: COO) -> CSR:
    os.write(_FD, (json.dumps({"status": "ok", "seconds": 0.001, "payload": 1 << 62}) + "\n").encode())
    time.sleep(60)
    raise ValueError("unreachable")
