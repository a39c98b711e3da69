# expected-verdict: AC
# grade-plan: quick
# expected-flag: timer
"""Class 3, reaching the harness inside the child: replace the child's reply function
(__main__._reply, reachable from any submission) so that every answer claims one microsecond,
and its clock too, then convert slowly in pure Python. The old grader ranked what the reply said.
Now what the child says is a cross-check only: the grader ranks the time it saw itself between
its 'go' and the reply line, so the score is the slow one, and the child's claim, which its clock
contradicts, is flagged `timer`."""
import sys

import numpy as np

from harness.types import COO, CSR, index_dtype

_main = sys.modules.get("__main__")
if _main is not None and hasattr(_main, "_reply"):
    _reply = _main._reply

    def _forged(fd, message):
        if message.get("status") == "ok":
            message = {**message, "seconds": 1e-6}
        _reply(fd, message)

    _main._reply = _forged
    _main._clock = lambda: 0.0


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
