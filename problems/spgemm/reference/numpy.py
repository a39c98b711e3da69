"""spgemm, vectorised NumPy reference (the oracle): expand every product A[i,k]·B[k,j] into
a list of (i, j, value) triplets, sort them by (i, j), and sum each run. O(flops log flops)
time and O(flops) memory, where flops = Σ over A's entries (i, k) of nnz(B row k)."""
import numpy as np

from harness.types import CSR, index_dtype


def spgemm(A: CSR, B: CSR) -> CSR:
    n_rows, n_inner = int(A.shape[0]), int(A.shape[1])
    if int(B.shape[0]) != n_inner:
        raise ValueError(f"cannot multiply {A.shape[0]}x{A.shape[1]} by {B.shape[0]}x{B.shape[1]}: "
                         f"A's columns must equal B's rows")
    n_cols = int(B.shape[1])
    a_ptr, b_ptr = np.asarray(A.indptr, dtype=np.int64), np.asarray(B.indptr, dtype=np.int64)
    k = np.asarray(A.indices, dtype=np.int64)
    a_row = np.repeat(np.arange(n_rows, dtype=np.int64), np.diff(a_ptr))
    counts = b_ptr[k + 1] - b_ptr[k]  # products each entry of A makes: nnz of B's row k
    first = np.cumsum(counts) - counts  # where each entry's products start in the expansion
    total = int(counts.sum())
    pos = np.repeat(b_ptr[k] - first, counts) + np.arange(total, dtype=np.int64)  # entry of B
    r = np.repeat(a_row, counts)
    c = np.asarray(B.indices, dtype=np.int64)[pos]
    with np.errstate(invalid="ignore", over="ignore"):  # IEEE: 0 * inf is NaN, as it should be
        v = np.repeat(A.data, counts) * B.data[pos]
    order = np.lexsort((c, r))  # stable: each (i, j) sums its products in A's entry order
    r, c, v = r[order], c[order], v[order]
    if r.size:
        starts = np.flatnonzero(np.r_[True, (r[1:] != r[:-1]) | (c[1:] != c[:-1])])
        with np.errstate(invalid="ignore", over="ignore"):
            v = np.add.reduceat(v, starts)
        r, c = r[starts], c[starts]
    dt = index_dtype(n_rows, n_cols, r.size)
    indptr = np.zeros(n_rows + 1, dtype=dt)
    np.cumsum(np.bincount(r, minlength=n_rows), out=indptr[1:])
    return CSR(indptr, c.astype(dt), v.astype(np.float64), (n_rows, n_cols))
