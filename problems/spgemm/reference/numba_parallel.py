"""spgemm, Numba reference with threads: the two-pass Gustavson of reference/numba.py (read
that file first: the per-row ordering helpers below are the same, copied because solution
files cannot import each other), with rows split among threads.

Rows are independent, so each thread owns a set of row chunks and its own workspaces
(marker/slot arrays over B's columns, one row's buffers): no locks, no atomics. Chunks hold
about equal *products* (flops), not equal rows, so power-law rows do not leave threads
idle; each thread takes every n-th chunk. The symbolic pass writes per-row counts, a
serial prefix sum turns them into C's indptr, and the numeric pass fills each row in place.
Each row is computed by one thread in the serial order, so the result is bitwise that of
reference/numba.py. Threads: NUMBA_NUM_THREADS (the grader's --threads).
"""
import numba
import numpy as np

from harness.types import CSR, index_dtype

SHORT_ROW = 32  # rows up to this long are placed by rank (O(m^2) compares)
CROWDED = 16  # a counting-sort bucket this full means clustered columns: compare-sort instead
LOW = 0xFFFFFFFF  # a row key is (column << 32) | place in the row
CHUNKS_PER_THREAD = 4


@numba.njit(cache=True)
def _row_work(a_ptr, a_idx, b_ptr, work):
    """work[i + 1] - work[i] = products in row i of C, plus one (an empty row is not free)."""
    total = 0
    for i in range(work.size - 1):
        for p in range(a_ptr[i], a_ptr[i + 1]):
            k = a_idx[p]
            total += np.int64(b_ptr[k + 1]) - np.int64(b_ptr[k])
        total += 1
        work[i + 1] = total


@numba.njit(cache=True, parallel=True)
def _symbolic(a_ptr, a_idx, b_ptr, b_idx, width, bounds, n_workers, proto, c_ptr):
    """c_ptr[i + 1] = number of distinct columns in row i of C (counts, not yet summed)."""
    for worker in numba.prange(n_workers):
        mark = np.full(width, -1, dtype=proto.dtype)  # mark[j] == i: column j counted in row i
        for chunk in range(worker, bounds.size - 1, n_workers):
            for i in range(bounds[chunk], bounds[chunk + 1]):
                n = 0
                for p in range(a_ptr[i], a_ptr[i + 1]):
                    k = a_idx[p]
                    for q in range(b_ptr[k], b_ptr[k + 1]):
                        j = b_idx[q]
                        if mark[j] != i:
                            mark[j] = i
                            n += 1
                c_ptr[i + 1] = n


@numba.njit(cache=True)
def _insertion_sort(keys, n):
    for p in range(1, n):
        v = keys[p]
        q = p - 1
        while q >= 0 and keys[q] > v:
            keys[q + 1] = keys[q]
            q -= 1
        keys[q + 1] = v


@numba.njit(cache=True)
def _bucket_sort(keys, n, lo, hi, out, counts):
    """Sort keys[:n] into out[:n] by one counting-sort pass on the top bits of
    (column - lo), then an insertion sort that only has to fix order inside buckets.
    Returns False, leaving keys as they were, when a bucket is crowded."""
    nb = 1
    while nb < n:
        nb <<= 1
    shift = 0
    while ((hi - lo) >> shift) >= nb:
        shift += 1
    cnt = counts[: nb + 1]
    cnt[:] = 0
    for t in range(n):
        cnt[(((keys[t] >> 32) - lo) >> shift) + 1] += 1
    for b in range(nb):
        if cnt[b + 1] > CROWDED:
            return False
        cnt[b + 1] += cnt[b]
    for t in range(n):
        b = ((keys[t] >> 32) - lo) >> shift
        out[cnt[b]] = keys[t]
        cnt[b] += 1
    _insertion_sort(out, n)
    return True


@numba.njit(cache=True)
def _rank_sort(cols, vals, m, start, c_idx, c_val):
    """Write a short row's m distinct columns to C from `start`, in order: an entry's place is
    the number of columns below it. O(m^2) compares, but without branches the compiler turns
    the inner loop into vector code, which beats an insertion sort's unpredictable moves on
    short rows (25-entry rows of a 3D Laplacian's square: the numeric pass about 44 -> 30 ms)."""
    for p in range(m):
        v = cols[p]
        r = 0
        for q in range(m):
            r += cols[q] < v
        c_idx[start + r] = v
        c_val[start + r] = vals[p]


@numba.njit(cache=True)
def _emit_row(row_cols, row_keys, row_vals, m, slot, start, c_idx, c_val, spare, counts):
    """Write a long row's m entries (m > SHORT_ROW) to C from `start`, in column order. Its
    range and sort keys (column << 32 | place) are worked out here, not in the product loop,
    which short rows (most of them, often) would slow down for nothing."""
    lo, hi = np.int64(row_cols[0]), np.int64(row_cols[0])
    for p in range(m):
        j = np.int64(row_cols[p])
        lo, hi = min(lo, j), max(hi, j)
        row_keys[p] = (j << 32) | p
    if hi - lo < 4 * m:  # the columns fill their range: read them off in order
        w = start
        for j in range(lo, hi + 1):
            t = slot[j]
            if t >= start:
                c_idx[w] = j
                c_val[w] = row_vals[t - start]
                w += 1
        return
    keys = row_keys
    if _bucket_sort(row_keys, m, lo, hi, spare, counts):
        keys = spare
    else:
        row_keys[:m].sort()
    for p in range(m):
        c_idx[start + p] = keys[p] >> 32
        c_val[start + p] = row_vals[keys[p] & LOW]


@numba.njit(cache=True, parallel=True)
def _numeric(a_ptr, a_idx, a_val, b_ptr, b_idx, b_val, width, bounds, n_workers, proto, c_ptr, c_idx, c_val,
             longest):
    for worker in numba.prange(n_workers):
        slot = np.full(width, -1, dtype=proto.dtype)  # slot[j] >= row start: column j's place
        row_keys = np.empty(longest, dtype=np.int64)
        row_cols = np.empty(longest, dtype=c_idx.dtype)
        row_vals = np.empty(longest)
        spare = np.empty(longest, dtype=np.int64)
        counts = np.empty(2 * longest + 2, dtype=np.int64)
        for chunk in range(worker, bounds.size - 1, n_workers):
            for i in range(bounds[chunk], bounds[chunk + 1]):
                start = c_ptr[i]
                m = 0
                for p in range(a_ptr[i], a_ptr[i + 1]):
                    k = a_idx[p]
                    a = a_val[p]
                    for q in range(b_ptr[k], b_ptr[k + 1]):
                        j = b_idx[q]
                        t = slot[j]
                        if t < start:  # the first product for (i, j)
                            slot[j] = start + m
                            row_cols[m] = j
                            row_vals[m] = a * b_val[q]
                            m += 1
                        else:
                            row_vals[t - start] += a * b_val[q]
                if m <= SHORT_ROW:  # inline, as in reference/numba.py (a call per row cost more than the sort)
                    _rank_sort(row_cols, row_vals, m, start, c_idx, c_val)
                else:
                    _emit_row(row_cols, row_keys, row_vals, m, slot, start, c_idx, c_val, spare, counts)


def unsigned(a: np.ndarray) -> np.ndarray:
    """The same memory as an unsigned integer array (int32 -> uint32, int64 -> uint64)."""
    a = np.ascontiguousarray(a)
    return a.view(np.dtype(f"u{a.itemsize}")) if a.dtype.kind == "i" else a


def compact_columns(B: CSR) -> tuple[np.ndarray, np.ndarray | None, int]:
    """B's column indices, renumbered to 0..m-1 when B has far more columns than entries or
    more than 2**31 (returns indices, the map back or None, and the accumulator width)."""
    n_cols, nnz = int(B.shape[1]), B.indices.size
    if n_cols <= max(1 << 16, 4 * nnz) and n_cols < 2**31:
        return B.indices, None, n_cols
    used = np.unique(B.indices)
    return np.searchsorted(used, B.indices).astype(np.int64), used, used.size


def row_chunks(work: np.ndarray, n_chunks: int) -> np.ndarray:
    """Row boundaries splitting the cumulative work about evenly (at most n_chunks pieces)."""
    targets = np.arange(1, n_chunks, dtype=np.int64) * int(work[-1]) // n_chunks
    return np.unique(np.r_[0, np.searchsorted(work, targets), work.size - 1]).astype(np.int64)


def spgemm(A: CSR, B: CSR) -> CSR:
    n_rows, n_inner, n_cols = int(A.shape[0]), int(A.shape[1]), int(B.shape[1])
    if int(B.shape[0]) != n_inner:
        raise ValueError(f"cannot multiply {A.shape[0]}x{A.shape[1]} by {B.shape[0]}x{B.shape[1]}: "
                         f"A's columns must equal B's rows")
    b_idx, used, width = compact_columns(B)
    a_ptr, a_idx = unsigned(A.indptr), unsigned(A.indices)
    b_ptr, b_idx = unsigned(B.indptr), unsigned(b_idx)
    a_val = np.ascontiguousarray(A.data, dtype=np.float64)
    b_val = np.ascontiguousarray(B.data, dtype=np.float64)
    work = np.zeros(n_rows + 1, dtype=np.int64)
    _row_work(a_ptr, a_idx, b_ptr, work)
    n_workers = numba.get_num_threads()
    bounds = row_chunks(work, CHUNKS_PER_THREAD * n_workers)
    c_ptr = np.zeros(n_rows + 1, dtype=np.int64)
    _symbolic(a_ptr, a_idx, b_ptr, b_idx, width, bounds, n_workers, np.empty(0, dtype=index_dtype(n_rows)), c_ptr)
    np.cumsum(c_ptr, out=c_ptr)
    nnz = int(c_ptr[-1])
    dt = index_dtype(n_rows, n_cols, nnz)
    c_idx = np.empty(nnz, dtype=np.int64 if used is not None else dt)
    c_val = np.empty(nnz, dtype=np.float64)
    longest = int(np.diff(c_ptr).max(initial=0))
    _numeric(a_ptr, a_idx, a_val, b_ptr, b_idx, b_val, width, bounds, n_workers, np.empty(0, dtype=index_dtype(nnz)),
             c_ptr, c_idx, c_val, longest)
    if used is not None:
        c_idx = used[c_idx].astype(dt)
    return CSR(c_ptr.astype(dt), c_idx, c_val, (n_rows, n_cols))
