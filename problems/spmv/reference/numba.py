"""spmv, Numba reference (the speed yardstick): one pass over the rows, a running sum per
row. Reads each stored entry once, x at its column indices, writes y once: the
memory traffic the bytes model counts.

A stencil's rows are short (7 entries in 3D), so one running sum would make each row a
chain of 7 dependent adds: two sums (even and odd entries) halve it (1.06x scipy on the
10^6-row Laplacian, against 0.97x with one). Scattered columns (a random or power-law
matrix) make every x[j] a cache miss the core cannot see coming: the loop then prefetches
x[indices[p + AHEAD]] while it works on entry p, so AHEAD misses are in flight at once.
A banded matrix (a stencil) reads x in streams the hardware prefetchers already follow;
there the extra instructions would only cost, so harness.prefetch.scattered_columns
decides from a sample of rows which loop runs. The banded loop instead requests the matrix's
own streams (data and indices) STREAM entries ahead, once a row (see _spmv).

Index arrays are read through unsigned views: a canonical CSR has no negative index, and
an unsigned one spares Numba its negative-index wraparound code in the inner loop.
"""
import numba
import numpy as np

from harness.prefetch import prefetch, scattered_columns
from harness.types import CSR

AHEAD = 64  # entries: x[indices[p + AHEAD]] is requested while entry p is summed
STREAM = np.uint64(1024)  # entries: data and indices requested this far ahead of each row (banded loop)
# unsigned steps: Numba types uint64 + an int literal as float64, which cannot index
ZERO, ONE, TWO = np.uint64(0), np.uint64(1), np.uint64(2)


@numba.njit(cache=True)
def _spmv(indptr, indices, data, x, y):
    """Each row in two running sums (even and odd entries): two chains of dependent adds
    instead of one, so a 7-entry stencil row waits half as long on the adder. Each row also
    requests data and indices STREAM entries ahead: on the AMD EPYC Zen 5 VM of 2026-12-04 the
    3D Laplacian ran 1.74x [1.68, 1.78] as fast with it, from 58% to 98% of the STREAM triad
    (one interleaved run against the kernel without; in an earlier run 256 entries ahead gave
    1.60x and 4,096 gave 1.91x). The hardware prefetchers alone did not keep these two
    streams ahead there."""
    top = ZERO if indices.size == 0 else np.uint64(indices.size - 1)  # prefetch inside the arrays
    for i in range(y.size):
        lo, hi = indptr[i], indptr[i + 1]
        ahead = min(lo + STREAM, top)
        prefetch(data, ahead)
        prefetch(indices, ahead)
        s0 = 0.0
        s1 = 0.0
        p = lo
        while p + ONE < hi:
            s0 += data[p] * x[indices[p]]
            s1 += data[p + ONE] * x[indices[p + ONE]]
            p += TWO
        if p < hi:
            s0 += data[p] * x[indices[p]]
        y[i] = s0 + s1


@numba.njit(cache=True)
def _spmv_prefetching(indptr, indices, data, x, y):
    """_spmv, requesting x[indices[p + AHEAD]] while entry p is summed, so AHEAD misses are in
    flight across the rows' ends (branches the core mispredicts, which throw away the loads it
    had started ahead). Every row: on the AMD EPYC VM of 2026-12-04 (Zen 4 class, AVX2), a split
    that left rows of 16 entries or more to the out-of-order core was 1.04-1.13x slower on
    power-law rows (seven interleaved runs of `sparsebench yardstick table`, one thread; splits
    at 512 and 4,096 entries fell between), and the uniform matrix's rows of 10 are alike.
    The AMD EPYC VM of 2026-12-02 (AVX-512 exposed) measured the opposite (the split at 16:
    1.02x scipy; every row: 0.86x), and an Intel Xeon had 1.11x with the split; neither has
    measured prefetching every row since."""
    last = indices.size - AHEAD  # entries with one AHEAD of them
    for i in range(y.size):
        lo, hi = indptr[i], indptr[i + 1]
        s = 0.0
        if hi <= last:  # the common case, without a test per entry
            for p in range(lo, hi):
                prefetch(x, indices[p + AHEAD])
                s += data[p] * x[indices[p]]
        else:
            for p in range(lo, hi):
                if p < last:
                    prefetch(x, indices[p + AHEAD])
                s += data[p] * x[indices[p]]
        y[i] = s


def unsigned(a: np.ndarray) -> np.ndarray:
    """The same memory as an unsigned integer array (int32 -> uint32, int64 -> uint64)."""
    a = np.ascontiguousarray(a)
    return a.view(np.dtype(f"u{a.itemsize}")) if a.dtype.kind == "i" else a


def spmv(A: CSR, x: np.ndarray) -> np.ndarray:
    n_rows, n_cols = int(A.shape[0]), int(A.shape[1])
    x = np.ascontiguousarray(x, dtype=np.float64)
    if x.ndim != 1 or x.shape[0] != n_cols:
        raise ValueError(f"x has shape {x.shape}; A is {n_rows}x{n_cols}, so x needs shape ({n_cols},)")
    y = np.empty(n_rows)
    kernel = _spmv_prefetching if scattered_columns(A.indptr, A.indices, A.shape, x.itemsize) else _spmv
    kernel(unsigned(A.indptr), unsigned(A.indices), np.ascontiguousarray(A.data, dtype=np.float64), x, y)
    return y
