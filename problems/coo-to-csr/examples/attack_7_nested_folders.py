# expected-verdict: AC
"""Class 7, a work folder the clean-up cannot remove: 3,000 nested folders (deeper than Python's
recursion and than PATH_MAX allows a path), the innermost made unreadable, plus a link out of the
folder. shutil.rmtree recursed and crashed on it. With bubblewrap the work folder is a tmpfs of
the child's own that vanishes with it; without, the grader removes it with a loop over directory
descriptors (no recursion, no long path, links never followed). The answers are right: AC, and
the grader's clean-up survives (tests/test_sandbox.py checks the fallback too)."""
import os

import numpy as np

from harness.types import COO, CSR, index_dtype


def _dig(depth: int) -> None:
    top = os.open(".", os.O_RDONLY)
    fd = top
    try:
        for _ in range(depth):
            try:
                os.mkdir("d", dir_fd=fd)
            except FileExistsError:
                pass
            nxt = os.open("d", os.O_RDONLY, dir_fd=fd)
            if fd != top:
                os.close(fd)
            fd = nxt
        os.chmod("d", 0, dir_fd=fd) if os.path.exists(f"/proc/self/fd/{fd}/d") else os.mkdir("d", 0, dir_fd=fd)
    finally:
        if fd != top:
            os.close(fd)
        os.close(top)
    try:
        os.symlink("/", "escape")
    except OSError:
        pass


_dug = False


def coo_to_csr(A: COO) -> CSR:
    global _dug
    if not _dug:
        _dug = True
        _dig(3000)
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
