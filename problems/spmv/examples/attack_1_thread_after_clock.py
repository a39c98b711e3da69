# expected-verdict: AC
# grade-plan: quick
# expected-flag: cores
"""Class 1, a GIL-free thread computing after the clock: return y at once (still empty) and let
a Numba nogil kernel fill it in a thread; to be sure the bytes leave only when y is complete,
reach the child's result sender (harness.transport.send, through sys.modules) and make it wait
for those threads first. The old child hashed the inputs after the clock stopped, which gave the
thread its time. Now the grader's clock stops at the reply line, and it also times the window
between that line and the result's last byte against the reference's same window (same bytes,
same harness code), where hidden work shows as `timer` when the machine has no core to spare;
and the thread's CPU, beside a main thread that only waits for it, is flagged `cores` either way."""
import sys
import threading

import numba
import numpy as np

from harness.types import CSR


@numba.njit(nogil=True)
def _kernel(indptr, indices, data, x, y):
    for i in range(y.size):
        s = 0.0
        for p in range(indptr[i], indptr[i + 1]):
            s += data[p] * x[indices[p]]
        y[i] = s


_pending: list[threading.Thread] = []


def spmv(A: CSR, x: np.ndarray) -> np.ndarray:
    n_rows, n_cols = int(A.shape[0]), int(A.shape[1])
    if x.ndim != 1 or x.shape[0] != n_cols:
        raise ValueError(f"x has shape {x.shape}, A is {n_rows}x{n_cols}")
    y = np.empty(n_rows)
    worker = threading.Thread(target=_kernel, args=(A.indptr, A.indices, np.asarray(A.data, np.float64),
                                                     np.asarray(x, np.float64), y))
    worker.start()
    _pending.append(worker)
    return y


_transport = sys.modules.get("harness.transport")
if _transport is not None:
    _send = _transport.send

    def _send_when_done(*args, **kwargs):
        while _pending:
            _pending.pop().join()
        return _send(*args, **kwargs)

    _transport.send = _send_when_done
