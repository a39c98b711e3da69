# expected-verdict: RE
"""Class 3, switching the checks off to mutate the inputs: sort the input arrays in place (saves
three copies), after reaching into the child to disable its input hash and alias check through
__main__ (the old defence ran inside the child, where the submission can replace it). Inputs are
now mapped read-only from a file the child cannot write: numpy refuses, setflags refuses, so the
attack writes through ctypes straight into the memory, and the kernel stops it (SIGSEGV): RE.
Nothing of the grader's judgement ran in the child to switch off."""
import ctypes
import sys

import numpy as np

from harness.types import COO, CSR, index_dtype

_main = sys.modules.get("__main__")
for name in ("_tools", "_aliased_flat", "_violations"):
    if _main is not None and hasattr(_main, name):
        value = getattr(_main, name)
        if isinstance(value, dict):
            value.update({k: (lambda *a, **k: False) for k in value})
        elif callable(value):
            setattr(_main, name, lambda *a, **k: False)


def _overwrite(target: np.ndarray, source: np.ndarray) -> None:
    try:
        target[:] = source
    except ValueError:
        try:
            target.setflags(write=True)
            target[:] = source
        except ValueError:
            ctypes.memmove(target.ctypes.data, np.ascontiguousarray(source).ctypes.data, source.nbytes)


def coo_to_csr(A: COO) -> CSR:
    n_rows, n_cols = A.shape
    if A.row.size and (A.row.min() < 0 or A.col.min() < 0 or A.row.max() >= n_rows or A.col.max() >= n_cols):
        raise ValueError("index outside the shape")
    order = np.lexsort((A.col, A.row))
    for arr in (A.row, A.col, A.data):
        _overwrite(arr, arr[order])  # in place
    r, c, d = A.row, A.col, A.data
    if r.size:
        starts = np.flatnonzero(np.r_[True, (r[1:] != r[:-1]) | (c[1:] != c[:-1])])
        with np.errstate(invalid="ignore"):
            d = np.add.reduceat(d, starts)
        r, c = r[starts], c[starts]
    dt = index_dtype(n_rows, n_cols, r.size)
    indptr = np.zeros(n_rows + 1, dtype=dt)
    np.cumsum(np.bincount(r, minlength=n_rows), out=indptr[1:])
    return CSR(indptr, c.astype(dt), d.astype(np.float64), (n_rows, n_cols))
