"""coo-to-csr, Numba reference (the speed yardstick): a counting sort by row, then each row
sorted by column and its duplicates summed in place. O(nnz + rows) plus the per-row sorts.

1. Count entries per row, validating each index in the same pass (one read of row and col).
   Indices are read through unsigned views: a negative index becomes huge, so one `>= n`
   test catches both faults, and Numba emits no wraparound code.
2. Scatter each entry to its row's next free slot. Done directly, that is one random write
   per entry over the whole output: once the output outgrows the cache every write misses.
   So large inputs take two passes (an MSD radix sort on the row): first into buckets of
   2**shift consecutive rows (a few thousand entries each; the buckets' write fronts, a
   cache line or so each, all stay in cache), then each bucket into its rows, inside a
   range that fits in L2. A bucket's rows land exactly where the bucket's entries sit.
3. Per row: sorted by column, then repeats summed, compacting to the left; for a bucketed
   input this runs right after the bucket's scatter, while its rows are still in cache. A
   short row is placed by rank (each entry's place is the number of entries before it in
   (column, position) order: branch-free compares LLVM vectorises, stable by construction),
   written to a small buffer and summed from there; long rows merge insertion-sorted runs.
   Both scatters are stable, so repeats are summed in input order. Rank placement replaced
   an insertion sort, whose branches mispredict on random columns: against it, interleaved
   in one run (AMD EPYC, one thread, 2026-12-04), 1.06x [1.05, 1.08] at nnz 10^5, 1.11x
   [1.10, 1.12] at 10^6 and 1.10x [0.76, 1.14] at 10^7 (within the noise there); against
   scipy 0.93-1.03x at 10^6 in three runs, where it had 0.89-0.91x.

Two things were tried and left out: software write-combining buffers for the bucket pass
(8 entries per bucket staged in L1, flushed a line at a time) gave 3-10%, inside the noise;
and fewer, larger buckets do no better. Repeats shrink the result: like scipy, it keeps the
arrays' tail as slack (a view) unless more than half of the entries were repeats.
"""
import numba
import numpy as np

from harness.types import COO, CSR, index_dtype

SHORT_ROW = 24  # rows up to this long are placed by rank; longer rows are merge-sorted from insertion-sorted runs
BUCKET_ENTRIES = 4096  # entries per bucket of the radix pass: a bucket's output fits in L2
DIRECT_ENTRIES = 1 << 17  # below this many entries the output fits in cache: one direct scatter


@numba.njit(cache=True)
def _count(row, col, n_rows, n_cols, counts):
    """counts[i + 1] = entries in row i; returns the first entry with an index outside the
    shape (then counts is incomplete), or -1."""
    for t in range(row.size):
        r = row[t]
        if r >= n_rows or col[t] >= n_cols:
            return t
        counts[r + 1] += 1
    return -1


@numba.njit(cache=True)
def _insertion_sort(indices, values, start, end):
    """Sort indices[start:end] (and values alike) by index; stable: equal indices keep their order."""
    for p in range(start + 1, end):
        c, v = indices[p], values[p]
        q = p - 1
        while q >= start and indices[q] > c:
            indices[q + 1] = indices[q]
            values[q + 1] = values[q]
            q -= 1
        indices[q + 1] = c
        values[q + 1] = v


@numba.njit(cache=True)
def _merge(a_i, a_v, b_i, b_v, lo, mid, hi):
    """Merge the sorted runs a[lo:mid] and a[mid:hi] into b[lo:hi]; a tie takes the left run's
    entry first (stable)."""
    i, j = lo, mid
    for k in range(lo, hi):
        if j >= hi or (i < mid and a_i[i] <= a_i[j]):
            b_i[k] = a_i[i]
            b_v[k] = a_v[i]
            i += 1
        else:
            b_i[k] = a_i[j]
            b_v[k] = a_v[j]
            j += 1


@numba.njit(cache=True)
def _merge_sort(indices, values, start, end):
    """A long row: insertion-sorted runs of SHORT_ROW, then bottom-up merges between the row's
    copy and a scratch array. Plain loops rather than np.argsort(kind="mergesort") (2 s of JIT
    per index type, paid in every fresh child), kept this simple for the same reason: swapping
    the arrays' names instead of the `flip` costs 3 s of JIT."""
    n = end - start
    for lo in range(start, end, SHORT_ROW):
        _insertion_sort(indices, values, lo, min(lo + SHORT_ROW, end))
    a_i, a_v = indices[start:end].copy(), values[start:end].copy()
    b_i, b_v = np.empty_like(a_i), np.empty_like(a_v)
    width, flip = SHORT_ROW, False  # flip: the sorted runs are in b
    while width < n:
        for lo in range(0, n, 2 * width):
            mid, hi = min(lo + width, n), min(lo + 2 * width, n)
            if flip:
                _merge(b_i, b_v, a_i, a_v, lo, mid, hi)
            else:
                _merge(a_i, a_v, b_i, b_v, lo, mid, hi)
        flip = not flip
        width *= 2
    for k in range(n):  # a loop, not `indices[start:end] = a_i`: that costs 3.5 s of JIT
        indices[start + k] = b_i[k] if flip else a_i[k]
        values[start + k] = b_v[k] if flip else a_v[k]


@numba.njit(cache=True)
def _place_by_rank(indices, values, start, end, tmp_i, tmp_v):
    """A short row into tmp_*, sorted by column: each entry goes to its rank, the number of
    entries before it in (column, position) order. Branch-free compares that LLVM vectorises;
    stable, since an equal column earlier in the row ranks lower."""
    m = end - start
    for a in range(m):
        c = indices[start + a]
        r = 0
        for b in range(a):  # earlier entries: below or equal comes first
            r += indices[start + b] <= c
        for b in range(a + 1, m):  # later entries: only strictly below
            r += indices[start + b] < c
        tmp_i[r] = c
        tmp_v[r] = values[start + a]


@numba.njit(cache=True)
def _append_row(src_i, src_v, lo, hi, indices, values, w):
    """A sorted row src_*[lo:hi] to indices/values from w on, repeats summed; returns the new w.
    The source may be the output itself (w <= lo: the row only moves left)."""
    row_start = w
    for p in range(lo, hi):
        if w > row_start and indices[w - 1] == src_i[p]:
            values[w - 1] += src_v[p]
        else:
            indices[w] = src_i[p]
            values[w] = src_v[p]
            w += 1
    return w


@numba.njit(cache=True)
def _finish_rows(lo_row, hi_row, starts, indices, values, w, indptr):
    """Rows lo_row..hi_row-1 sit unsorted at starts[i]:starts[i + 1]: sort each by column, sum
    its repeats and move it left to w (the next free output slot). Returns the new w."""
    tmp_i = np.empty(SHORT_ROW, dtype=indices.dtype)
    tmp_v = np.empty(SHORT_ROW, dtype=values.dtype)
    for i in range(lo_row, hi_row):
        start, end = starts[i], starts[i + 1]
        if end - start <= SHORT_ROW:  # sorted into tmp_*[0:m]
            _place_by_rank(indices, values, start, end, tmp_i, tmp_v)
            w = _append_row(tmp_i, tmp_v, np.int64(0), end - start, indices, values, w)
        else:  # sorted in place
            _merge_sort(indices, values, start, end)
            w = _append_row(indices, values, start, end, indices, values, w)
        indptr[i + 1] = w
    return w


@numba.njit(cache=True)
def _convert_direct(row, col, data, starts, indptr, indices, values):
    """Small inputs: scatter every entry straight to its row, then finish the rows."""
    nxt = starts[:-1].copy()
    for t in range(row.size):
        p = nxt[row[t]]
        indices[p] = col[t]
        values[p] = data[t]
        nxt[row[t]] = p + 1
    indptr[0] = 0
    zero = np.int64(0)  # not the literal 0: numba would compile _finish_rows for it too (2 s of JIT)
    return _finish_rows(zero, starts.size - 1, starts, indices, values, zero, indptr)


@numba.njit(cache=True)
def _convert_bucketed(row, col, data, starts, shift, indptr, indices, values, t_row, t_col, t_val):
    """Large inputs: scatter into buckets of 2**shift rows (t_*), then each bucket into its
    rows (indices, values) and finish them while they are in cache."""
    n_rows = starts.size - 1
    n_buckets = ((n_rows - 1) >> shift) + 1
    nxt = np.empty(n_buckets, dtype=np.int64)  # next free slot of each bucket
    for b in range(n_buckets):
        nxt[b] = starts[b << shift]
    for t in range(row.size):  # pass 1: by bucket (stable)
        r = row[t]
        q = nxt[r >> shift]
        t_row[q] = r
        t_col[q] = col[t]
        t_val[q] = data[t]
        nxt[r >> shift] = q + 1
    row_next = starts[:-1].copy()  # next free slot of each row
    w = np.int64(0)  # not the literal 0 (a second compile of _finish_rows)
    indptr[0] = 0
    for b in range(n_buckets):  # pass 2: each bucket by row (stable), then its rows finished
        lo_row, hi_row = b << shift, min(n_rows, (b + 1) << shift)
        for q in range(starts[lo_row], starts[hi_row]):
            r = t_row[q]
            p = row_next[r]
            indices[p] = t_col[q]
            values[p] = t_val[q]
            row_next[r] = p + 1
        w = _finish_rows(lo_row, hi_row, starts, indices, values, w, indptr)
    return w


def _unsigned(a: np.ndarray) -> np.ndarray:
    return a.view(np.uint64 if a.itemsize == 8 else np.uint32) if a.dtype.kind == "i" else a


def coo_to_csr(A: COO) -> CSR:
    row, col, data = np.asarray(A.row), np.asarray(A.col), np.asarray(A.data, dtype=np.float64)
    n_rows, n_cols = int(A.shape[0]), int(A.shape[1])
    if not (row.shape == col.shape == data.shape) or row.ndim != 1:
        raise ValueError(f"row, col and data must be 1-D and equally long, got {row.shape}, {col.shape}, {data.shape}")
    if row.dtype.kind not in "iu" or col.dtype.kind not in "iu":
        raise ValueError(f"indices must be integers, got {row.dtype} and {col.dtype}")
    row_u, col_u = _unsigned(np.ascontiguousarray(row)), _unsigned(np.ascontiguousarray(col))
    starts = np.zeros(n_rows + 1, dtype=np.int64)
    bad = _count(row_u, col_u, n_rows, n_cols, starts)
    if bad >= 0:
        raise ValueError(f"entry {bad} at ({row[bad]}, {col[bad]}) lies outside the shape {A.shape}")
    np.cumsum(starts, out=starts)  # starts[i]: where row i's entries begin before repeats merge
    data = np.ascontiguousarray(data)
    dt = index_dtype(n_rows, n_cols, row.size)
    indptr = np.empty(n_rows + 1, dtype=dt)
    indices = np.empty(row.size, dtype=dt)
    values = np.empty(row.size, dtype=np.float64)
    rows_per_bucket = BUCKET_ENTRIES * n_rows / max(row.size, 1)
    if row.size < DIRECT_ENTRIES or rows_per_bucket >= n_rows:
        nnz = _convert_direct(row_u, col_u, data, starts, indptr, indices, values)
    else:
        shift = max(0, int(np.log2(max(rows_per_bucket, 1.0))))
        t_row, t_col, t_val = np.empty_like(row_u), np.empty(row.size, dtype=dt), np.empty(row.size)
        nnz = _convert_bucketed(row_u, col_u, data, starts, shift, indptr, indices, values, t_row, t_col, t_val)
    if nnz < row.size:  # repeats were merged: keep the slack unless it is most of the arrays
        indices, values = (indices[:nnz].copy(), values[:nnz].copy()) if 2 * nnz < row.size else \
            (indices[:nnz], values[:nnz])
    return CSR(indptr, indices, values, (n_rows, n_cols))
