# expected-verdict: AC
"""Class 4, a forbidden library under another name: scipy.sparse is forbidden by name, so load
its compiled extension module (_sparsetools) from its file under a name no check knows, and call
its coo_tocsr. If the file is there it would work (this file then fails on purpose, RE); with
bubblewrap the forbidden package's folder is covered by an empty one in the child's view, the
extension is absent rather than refused by name, and the file answers honestly: AC."""
import importlib.machinery
import importlib.util
import os

import numpy as np

from harness.types import COO, CSR, index_dtype


def _find() -> list[str]:
    spec = importlib.util.find_spec("numpy")  # site-packages, where scipy lives too
    site = os.path.dirname(os.path.dirname(spec.origin))
    folder = os.path.join(site, "scipy", "sparse")
    try:
        return [os.path.join(folder, n) for n in os.listdir(folder) if n.startswith("_sparsetools")]
    except OSError:
        return []


_FOUND = _find()
_loaded = None
for _path in _FOUND:
    loader = importlib.machinery.ExtensionFileLoader("innocent_tools", _path)
    spec = importlib.util.spec_from_file_location("innocent_tools", _path, loader=loader)
    try:
        _loaded = importlib.util.module_from_spec(spec)
        loader.exec_module(_loaded)
    except ImportError:
        _loaded = None


def coo_to_csr(A: COO) -> CSR:
    if _FOUND:
        raise RuntimeError(f"a forbidden extension is visible: {_FOUND} (loaded: {_loaded is not None})")
    n_rows, n_cols = A.shape
    if A.row.size and (A.row.min() < 0 or A.col.min() < 0 or A.row.max() >= n_rows or A.col.max() >= n_cols):
        raise ValueError("index outside the shape")
    order = np.lexsort((A.col, A.row))
    r, c, d = A.row[order], A.col[order], A.data[order]
    if r.size:
        starts = np.flatnonzero(np.r_[True, (r[1:] != r[:-1]) | (c[1:] != c[:-1])])
        with np.errstate(invalid="ignore"):
            d = np.add.reduceat(d, starts)
        r, c = r[starts], c[starts]
    dt = index_dtype(n_rows, n_cols, r.size)
    indptr = np.zeros(n_rows + 1, dtype=dt)
    np.cumsum(np.bincount(r, minlength=n_rows), out=indptr[1:])
    return CSR(indptr, c.astype(dt), d.astype(np.float64), (n_rows, n_cols))
