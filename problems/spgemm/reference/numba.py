"""spgemm, Numba reference (the speed yardstick): Gustavson's row-by-row algorithm. Row i of
C is the sum, over A's entries (i, k, a), of a times row k of B.

1. Allocate C. The number of products (Σ over A's entries (i, k) of nnz(B row k), O(nnz(A))
   to count) bounds nnz(C). Up to ONE_PASS_BYTES, C is allocated at that bound: pages past
   what the rows fill are never touched, and the arrays are cut to nnz(C) at the end
   (realloc, in place). Past it, a symbolic pass counts each row's distinct columns with a
   marker array over B's columns, and a prefix sum gives C's indptr: C at its exact size.
   Without the symbolic pass the product ran 1.11x [1.00, 1.17] as fast on the 3D
   Laplacian's square and 1.29x [1.22, 1.40] on power-law rows (interleaved, one thread,
   an AMD EPYC Zen 5 VM, 2026-12-04, `sparsebench yardstick table`).
2. Numeric: accumulate the products. The first product for column j claims the row's next
   free place (remembered in slot[j]), later ones add into it. Then the row is put in
   column order and written out, and its end is C's indptr.

Time O(rows + flops + Σ order(row)), flops = Σ over A's entries (i, k) of nnz(B row k);
extra memory O(cols of B + longest row of C), and up to ONE_PASS_BYTES of address space
that C's rows may not fill.

Putting a row in order is most of the cost once products are cheap, so it adapts: a short
row is written out by rank (each entry's place is the count of columns below it: branch-free
compares the compiler vectorises); a row whose columns fill much of their range is read off
the slot array in column order (no sort at all); other rows get one counting-sort pass on
the top bits of the column (about one entry per bucket) finished by an insertion sort.

When B is so wide that an O(cols) array would dwarf the work (hypersparse), its used
columns are first renumbered 0..m-1 (a monotone map, so order survives) and mapped back
at the end. Index arrays are read through unsigned views (no wraparound code).
"""
import numba
import numpy as np

from harness.types import CSR, index_dtype

SHORT_ROW = 32  # rows up to this long are placed by rank (O(m^2) compares)
CROWDED = 16  # a counting-sort bucket this full means clustered columns: compare-sort instead
LOW = 0xFFFFFFFF  # a row key is (column << 32) | place in the row
ONE = np.uint64(1)  # unsigned steps: uint64 + an int literal is float64 in Numba, which cannot index
ONE_PASS_BYTES = 256 << 20  # C allocated at its bound (products) up to this size: no symbolic pass


@numba.njit(cache=True)
def _symbolic(a_ptr, a_idx, b_ptr, b_idx, mark, c_ptr):
    """c_ptr[i + 1] = number of distinct columns in rows 0..i of C."""
    mark[:] = -1  # mark[j] == i: column j already counted in row i
    nnz = 0
    for i in range(c_ptr.size - 1):
        for p in range(a_ptr[i], a_ptr[i + 1]):
            k = a_idx[p]
            for q in range(b_ptr[k], b_ptr[k + 1]):
                j = b_idx[q]
                if mark[j] != i:
                    mark[j] = i
                    nnz += 1
        c_ptr[i + 1] = nnz


@numba.njit(cache=True)
def _products(a_ptr, a_idx, b_ptr):
    """The products row i of C takes, summed over the rows and at the busiest row: bounds on
    nnz(C) and on the longest row of C. O(rows + nnz(A))."""
    total, most = np.int64(0), np.int64(0)
    for i in range(a_ptr.size - 1):
        row = np.int64(0)
        for p in range(a_ptr[i], a_ptr[i + 1]):
            k = a_idx[p]
            row += np.int64(b_ptr[k + ONE]) - np.int64(b_ptr[k])
        total += row
        most = max(most, row)
    return total, most


@numba.njit(cache=True)
def _insertion_sort(keys, lo, hi):
    """Sort keys[lo:hi] in place."""
    for p in range(lo + 1, hi):
        v = keys[p]
        q = p - 1
        while q >= lo and keys[q] > v:
            keys[q + 1] = keys[q]
            q -= 1
        keys[q + 1] = v


@numba.njit(cache=True)
def _merge(a, b, lo, mid, hi):
    """Merge the sorted runs a[lo:mid] and a[mid:hi] into b[lo:hi]."""
    i, j = lo, mid
    for k in range(lo, hi):
        if j >= hi or (i < mid and a[i] <= a[j]):
            b[k] = a[i]
            i += 1
        else:
            b[k] = a[j]
            j += 1


@numba.njit(cache=True)
def _merge_sort(keys, n, spare):
    """Sort keys[:n]: insertion-sorted runs of SHORT_ROW, then bottom-up merges between keys
    and spare; returns True when the result ended in spare. Plain loops rather than
    keys[:n].sort(), whose quicksort costs 2 s of JIT in every fresh child."""
    for lo in range(0, n, SHORT_ROW):
        _insertion_sort(keys, lo, min(lo + SHORT_ROW, n))
    width, flip = SHORT_ROW, False
    while width < n:
        for lo in range(0, n, 2 * width):
            mid, hi = min(lo + width, n), min(lo + 2 * width, n)
            if flip:
                _merge(spare, keys, lo, mid, hi)
            else:
                _merge(keys, spare, lo, mid, hi)
        flip = not flip
        width *= 2
    return flip


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
    _insertion_sort(out, 0, n)
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
    if _bucket_sort(row_keys, m, lo, hi, spare, counts) or _merge_sort(row_keys, m, spare):
        keys = spare
    for p in range(m):
        c_idx[start + p] = keys[p] >> 32
        c_val[start + p] = row_vals[keys[p] & LOW]


@numba.njit(cache=True)
def _numeric(a_ptr, a_idx, a_val, b_ptr, b_idx, b_val, slot, c_ptr, c_idx, c_val,
             row_keys, row_cols, row_vals, spare, counts):
    slot[:] = -1  # slot[j] >= the row's start: column j sits at slot[j] - start in this row
    for i in range(c_ptr.size - 1):
        start = c_ptr[i]
        m = np.int64(0)  # not the literal 0: numba would compile _emit_row for it too (2 s of JIT)
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
        if m <= SHORT_ROW:  # most rows, often: inline (a call per row, with a dozen arrays, cost more than the sort)
            _rank_sort(row_cols, row_vals, m, start, c_idx, c_val)
        else:
            _emit_row(row_cols, row_keys, row_vals, m, slot, start, c_idx, c_val, spare, counts)
        c_ptr[i + 1] = start + m  # the row's end: as the symbolic pass counted it, or (one pass) first found here


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
    c_ptr = np.zeros(n_rows + 1, dtype=np.int64)
    bound, most = _products(a_ptr, a_idx, b_ptr)
    one_pass = bound * (8 + np.dtype(index_dtype(n_rows, n_cols, bound)).itemsize) <= ONE_PASS_BYTES
    if one_pass:  # C at its bound: pages past nnz(C) are never touched, and the ends are cut off after
        nnz, longest = int(bound), int(min(most, width))
    else:  # count first (workspaces as int32 when what they hold fits: half the cache footprint)
        _symbolic(a_ptr, a_idx, b_ptr, b_idx, np.empty(width, dtype=index_dtype(n_rows)), c_ptr)
        nnz, longest = int(c_ptr[-1]), int(np.diff(c_ptr).max(initial=0))
    dt = index_dtype(n_rows, n_cols, nnz)
    c_idx = np.empty(nnz, dtype=np.int64 if used is not None else dt)
    c_val = np.empty(nnz, dtype=np.float64)
    _numeric(a_ptr, a_idx, a_val, b_ptr, b_idx, b_val, np.empty(width, dtype=index_dtype(nnz)), c_ptr,
             c_idx, c_val, np.empty(longest, dtype=np.int64), np.empty(longest, dtype=c_idx.dtype), np.empty(longest),
             np.empty(longest, dtype=np.int64),
             np.empty(2 * longest + 2, dtype=np.int64))
    if one_pass and int(c_ptr[-1]) < nnz:  # realloc shrinks in place (a large block: its tail unmapped)
        c_idx.resize(int(c_ptr[-1]), refcheck=False)
        c_val.resize(int(c_ptr[-1]), refcheck=False)
    if used is not None:
        c_idx = used[c_idx].astype(dt)
    return CSR(c_ptr.astype(dt), c_idx, c_val, (n_rows, n_cols))
