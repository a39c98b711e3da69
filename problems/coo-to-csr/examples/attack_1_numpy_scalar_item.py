# expected-verdict: WA
"""Class 1, work moved past the clock: return at once a CSR whose arrays are still zeros and
whose shape holds numpy integers of a subclass that does the whole conversion when it is asked
for its value (.item(), int(), index()), filling and resizing those arrays in place. The old
codec called .item() on numpy scalars while serialising the result, after the child's clock had
stopped, so the conversion ran untimed. Results are now materialised inside the timed region,
and through numpy's own conversion (np.generic.item), which runs none of the subclass's code:
the arrays stay zeros, WA."""
import numpy as np

from harness.types import COO, CSR, index_dtype


def _convert(A: COO, indptr: np.ndarray, indices: np.ndarray, data: np.ndarray) -> None:
    n_rows, n_cols = A.shape
    order = np.lexsort((A.col, A.row))
    r, c, d = A.row[order], A.col[order], A.data[order]
    if r.size:
        starts = np.flatnonzero(np.r_[True, (r[1:] != r[:-1]) | (c[1:] != c[:-1])])
        with np.errstate(invalid="ignore"):
            d = np.add.reduceat(d, starts)
        r, c = r[starts], c[starts]
    np.cumsum(np.bincount(r, minlength=n_rows), out=indptr[1:])
    indices.resize(r.size, refcheck=False)
    data.resize(r.size, refcheck=False)
    indices[:] = c
    data[:] = d


class Deferred(np.int64):
    """A row count that finishes the conversion the first time anyone reads it."""

    def _finish(self) -> None:
        job = self.__dict__.pop("job", None)
        if job is not None:
            _convert(*job)

    def item(self, *args):
        self._finish()
        return int(np.int64(self))

    def __int__(self):
        self._finish()
        return int(np.int64(self))

    def __index__(self):
        self._finish()
        return int(np.int64(self))


def coo_to_csr(A: COO) -> CSR:
    n_rows, n_cols = A.shape
    if A.row.size and (A.row.min() < 0 or A.col.min() < 0 or A.row.max() >= n_rows or A.col.max() >= n_cols):
        raise ValueError("index outside the shape")
    dt = index_dtype(n_rows, n_cols, A.row.size)
    indptr, indices, data = np.zeros(n_rows + 1, dt), np.zeros(A.row.size, dt), np.zeros(A.row.size)
    rows = Deferred(n_rows)
    rows.job = (A, indptr, indices, data)
    return CSR(indptr, indices, data, (rows, n_cols))
