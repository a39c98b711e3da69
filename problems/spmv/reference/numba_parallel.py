"""spmv, Numba reference with threads (`prange`). Rows are split into chunks of about equal
*entries*, not equal rows: with power-law rows an equal-rows split hands one thread most of
the work. Each row is still summed by one thread, in the serial reference's order (two
running sums on a banded matrix; on scattered columns one sum, with the same software
prefetch in short rows, and the same requests for the matrix's streams on a banded one), so
the result is bitwise the serial one. Threads:
NUMBA_NUM_THREADS (the grader's --threads).
"""
import numba
import numpy as np

from harness.prefetch import prefetch, scattered_columns
from harness.types import CSR

CHUNKS_PER_THREAD = 4  # a little slack for rows that straddle chunk boundaries
AHEAD = 64  # entries: x[indices[p + AHEAD]] is requested while entry p is summed (see spmv's numba.py)
LONG_ROW = 16  # entries: a row this long is summed without prefetches (see _spmv_prefetching)
STREAM = np.uint64(1024)  # entries: data and indices requested this far ahead of each row (see spmv's numba.py)
ZERO, ONE, TWO = np.uint64(0), np.uint64(1), np.uint64(2)  # unsigned: an int literal makes a uint64 index float


@numba.njit(cache=True, parallel=True)
def _spmv(indptr, indices, data, x, y, bounds):
    """The serial _spmv's two running sums per row (even and odd entries), and its requests for
    data and indices STREAM entries ahead once a row, rows in chunks. The requests made this
    kernel 1.23x [1.18, 1.27] as fast at two threads on the 10^6-row 3D Laplacian, and 1.33x
    [1.31, 1.37] at one (AMD EPYC Zen 5 VM, 2026-12-04, one interleaved run of `sparsebench
    yardstick table` against the kernel without them); 31.7 GB/s at two threads by the bytes
    model, where the triad reaches 30.9."""
    top = ZERO if indices.size == 0 else np.uint64(indices.size - 1)
    for c in numba.prange(bounds.size - 1):
        for i in range(bounds[c], bounds[c + 1]):
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


@numba.njit(cache=True, parallel=True)
def _spmv_prefetching(indptr, indices, data, x, y, bounds):
    """The serial _spmv_prefetching (scattered columns), but only rows shorter than LONG_ROW
    request x[indices[p + AHEAD]] while entry p is summed. With two threads sharing the memory
    bus the extra requests in long rows cost more than they hide: prefetching every row, as
    the serial kernel does, was 0.95-0.97x this at 2 threads on power-law rows (two runs of
    `sparsebench yardstick table`, AMD EPYC), where it is 1.06x at one thread."""
    last = indices.size - AHEAD
    for c in numba.prange(bounds.size - 1):
        for i in range(bounds[c], bounds[c + 1]):
            lo, hi = indptr[i], indptr[i + 1]
            s = 0.0
            if hi - lo >= LONG_ROW:
                for p in range(lo, hi):
                    s += data[p] * x[indices[p]]
            elif hi <= last:
                for p in range(lo, hi):
                    prefetch(x, indices[p + AHEAD])
                    s += data[p] * x[indices[p]]
            else:
                for p in range(lo, hi):
                    if p < last:
                        prefetch(x, indices[p + AHEAD])
                    s += data[p] * x[indices[p]]
            y[i] = s


def row_chunks(indptr: np.ndarray, n_chunks: int) -> np.ndarray:
    """Row boundaries splitting the entries about evenly: at most n_chunks pieces, found by
    binary search in indptr (integer targets of its own dtype, so no O(rows) copy)."""
    n_rows, nnz = indptr.size - 1, int(indptr[-1])
    targets = (np.arange(1, n_chunks, dtype=np.int64) * nnz // n_chunks).astype(indptr.dtype)
    return np.unique(np.r_[0, np.searchsorted(indptr, targets), n_rows]).astype(np.int64)


def unsigned(a: np.ndarray) -> np.ndarray:
    a = np.ascontiguousarray(a)
    return a.view(np.dtype(f"u{a.itemsize}")) if a.dtype.kind == "i" else a


def spmv(A: CSR, x: np.ndarray) -> np.ndarray:
    n_rows, n_cols = int(A.shape[0]), int(A.shape[1])
    x = np.ascontiguousarray(x, dtype=np.float64)
    if x.ndim != 1 or x.shape[0] != n_cols:
        raise ValueError(f"x has shape {x.shape}; A is {n_rows}x{n_cols}, so x needs shape ({n_cols},)")
    y = np.empty(n_rows)
    bounds = row_chunks(np.asarray(A.indptr), CHUNKS_PER_THREAD * numba.get_num_threads())
    kernel = _spmv_prefetching if scattered_columns(A.indptr, A.indices, A.shape, x.itemsize) else _spmv
    kernel(unsigned(A.indptr), unsigned(A.indices), np.ascontiguousarray(A.data, dtype=np.float64), x, y, bounds)
    return y
