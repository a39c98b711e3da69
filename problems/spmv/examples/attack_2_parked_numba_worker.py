# expected-verdict: AC
# grade-plan: quick
# expected-flag: cores
"""Class 2, more cores than declared: a worker thread started at import waits, parked on a lock
(no CPU between calls), and runs a GIL-free Numba kernel on the second half of the rows while the
main thread does the first half: a `--threads 1` grade computing on two cores, while its
reference uses one. The old between-calls check, made inside the child, saw none of it. The
grader now reads the CPU of every thread of the child from its cgroup (or /proc) from outside:
the child used about twice what its main thread did, flagged `cores`."""
import threading

import numba
import numpy as np

from harness.types import CSR


@numba.njit(nogil=True, cache=False)
def _rows(indptr, indices, data, x, y, lo, hi):
    for i in range(lo, hi):
        s = 0.0
        for p in range(indptr[i], indptr[i + 1]):
            s += data[p] * x[indices[p]]
        y[i] = s


class _Worker(threading.Thread):
    def __init__(self):
        super().__init__(daemon=True)
        self.go, self.done, self.job = threading.Semaphore(0), threading.Semaphore(0), None

    def run(self):
        while True:
            self.go.acquire()  # parked: blocked, no CPU
            _rows(*self.job)
            self.done.release()


_worker = _Worker()
_worker.start()


def spmv(A: CSR, x: np.ndarray) -> np.ndarray:
    n_rows, n_cols = int(A.shape[0]), int(A.shape[1])
    if x.ndim != 1 or x.shape[0] != n_cols:
        raise ValueError(f"x has shape {x.shape}, A is {n_rows}x{n_cols}")
    y = np.empty(n_rows)
    data, xs, half = np.asarray(A.data, np.float64), np.asarray(x, np.float64), n_rows // 2
    _worker.job = (A.indptr, A.indices, data, xs, y, half, n_rows)
    _worker.go.release()
    _rows(A.indptr, A.indices, data, xs, y, 0, half)
    _worker.done.acquire()
    return y
