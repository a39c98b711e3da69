# expected-verdict: AC
# grade-plan: quick
# expected-flag: timer
"""Cheat that does fool the child: reach into the grader's child process (its __main__
module) and swap the clock it times calls with for one that runs 1000x slow, then do
the work slowly in pure Python. The child reports tiny times, but the grader times every
call on its own clock, ranks that, and sees the gap: the answers are right (AC), the score
is the slow one, and the record is flagged `timer`."""
import sys
import time

import numpy as np

from harness.types import COO, CSR, index_dtype

_main = sys.modules.get("__main__")
if _main is not None and hasattr(_main, "_clock"):
    _main._clock = lambda: time.monotonic_ns() * 1e-12


def coo_to_csr(A: COO) -> CSR:
    n_rows, n_cols = A.shape
    rows: dict[int, dict[int, float]] = {}
    for r, c, v in zip(A.row.tolist(), A.col.tolist(), A.data.tolist()):
        if not (0 <= r < n_rows and 0 <= c < n_cols):
            raise ValueError(f"index ({r}, {c}) outside shape {A.shape}")
        row = rows.setdefault(r, {})
        row[c] = row.get(c, 0.0) + v
    indptr, indices, data = [0], [], []
    for r in range(n_rows):
        for c in sorted(rows.get(r, {})):
            indices.append(c)
            data.append(rows[r][c])
        indptr.append(len(indices))
    dt = index_dtype(n_rows, n_cols, len(indices))
    return CSR(np.array(indptr, dtype=dt), np.array(indices, dtype=dt), np.array(data, dtype=np.float64),
               (n_rows, n_cols))
