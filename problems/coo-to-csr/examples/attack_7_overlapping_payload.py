# expected-verdict: RE
"""Class 7, a result that swamps the reader: the old result file was a zip, whose members may
overlap or repeat (one member's bytes read sixty times, 60x memory, unbounded read time). This
file writes its own reply straight to the child's reply pipe: a line announcing a result, then a
header whose arrays all start at offset 0 (and one announced at 2**40 elements). The grader reads
results through a strict format: arrays laid out back to back, each referenced once, sizes that
add up to the bytes announced, all bounded before anything is allocated: a malformed result,
RE. The grader itself never allocates more than the header allows."""
import json
import os
import sys
import time

from harness.types import COO, CSR

_FD = json.loads(sys.argv[1])["fd_out"] if len(sys.argv) > 1 else None


def coo_to_csr(A: COO) -> CSR:
    arrays = [["<f8", [1 << 20], 0]] * 60 + [["<f8", [1 << 40], 0]]
    refs = [{"array": i} for i in range(len(arrays))]
    head = json.dumps({"trees": [{"tuple": refs}], "arrays": arrays}).encode()
    body = len(head).to_bytes(8, "little") + head + bytes(8 << 20)
    os.write(_FD, (json.dumps({"status": "ok", "seconds": 1e-6, "payload": len(body)}) + "\n").encode())
    os.write(_FD, body)
    time.sleep(60)
    raise ValueError("unreachable")
