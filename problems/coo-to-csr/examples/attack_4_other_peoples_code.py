# expected-verdict: AC
"""Class 4, the rest of the repository: other people's solutions, the records, the drills'
answers, the tiny LM (an oracle of two problems), this problem's examples and baselines, the
grader's own code beyond what the child imports. The old sandbox made the file system read-only,
not private, and refused reads of a few folders by name in the audit hook, which native code
goes round. This file lists them natively (os.listdir is not refused by the hook, and libc's
open is not seen at all); anything it can read beyond harness/ and its own file makes it fail
on purpose (RE). With bubblewrap none of it is in the view: AC."""
import ctypes
import os
from pathlib import Path

import numpy as np

from harness.types import COO, CSR, index_dtype

_libc = ctypes.CDLL(None, use_errno=True)
_ROOT = Path(__file__).resolve().parents[3]
_ME = Path(__file__).resolve()


def _visible() -> list[str]:
    found = []
    for name in ("solutions", "results", "quiz", "tinylm", "problems/coo-to-csr/reference",
                 "problems/coo-to-csr/baselines", "problems/_common", "tests", ".git"):
        try:
            found += [f"{name}/{n}" for n in os.listdir(_ROOT / name)]
        except OSError:
            pass
    try:
        found += [f"examples/{n}" for n in os.listdir(_ME.parent) if n != _ME.name]
    except OSError:
        pass
    for name in ("pyproject.toml", "README.md", "problems/coo-to-csr/spec.py"):
        fd = _libc.open(str(_ROOT / name).encode(), os.O_RDONLY)
        if fd >= 0:
            os.close(fd)
            found.append(name)
    return found


_VISIBLE = _visible()


def coo_to_csr(A: COO) -> CSR:
    if _VISIBLE:
        raise RuntimeError(f"visible: {_VISIBLE[:8]}")
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
