# expected-verdict: AC
# grade-plan: quick
"""Class 4, a stash in the Numba cache: each submission file had its own Numba cache folder
under ~/.cache/sparsebench/numba-sub/<sha256 of its path>, which outlived the grade and could be
read by the next submission (whose name could be computed), so one submission could stash the
hidden inputs and answers for another, defeating SPARSEBENCH_SECRET. This file stashes what it
sees in every cache it can reach (NUMBA_CACHE_DIR and the old shared folders) and looks for a
stash left by an earlier child: the correctness child writes one, the timing child, started
later in the same grade, looks for it. Finding any stash makes it fail on purpose (RE). A
submission's cache is now a folder in its own child's private tmpfs, gone when the child ends,
so the timing child finds nothing: AC. (The one thing that does cross, by design, is numba's
own index and data files, from the correctness child to the timing child of the same file in
the same grade, and to the next grade of the same bytes: harness/jitcache.py. A stash under
another name is not carried.)"""
import ctypes
import glob
import os

import numpy as np

from harness.types import COO, CSR, index_dtype

_CACHES = [os.environ.get("NUMBA_CACHE_DIR", ""), os.path.expanduser("~/.cache/sparsebench/numba-sub/*"),
           "/root/.cache/sparsebench/numba-sub/*", "/root/.cache/sparsebench/numba-ref"]
_NAME = "stash-coo-to-csr.bin"
_libc = ctypes.CDLL(None, use_errno=True)
_MINE: set[str] = set()


def _stashes() -> list[str]:
    found = []
    for pattern in filter(None, _CACHES):
        found += [p for p in glob.glob(os.path.join(pattern, _NAME)) if p not in _MINE]
    return found


_EARLIER = _stashes()


def _stash(A: COO) -> None:
    """Natively (libc), so the audit hook sees nothing: only the file system can stop it."""
    data = np.ascontiguousarray(A.data[:16]).tobytes()
    for pattern in filter(None, _CACHES):
        for folder in glob.glob(pattern) or [pattern]:
            _libc.mkdir(os.path.dirname(folder).encode(), 0o755)
            _libc.mkdir(folder.encode(), 0o755)
            path = os.path.join(folder, _NAME)
            fd = _libc.open(path.encode(), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            if fd >= 0:
                _libc.write(fd, data, len(data))
                os.close(fd)
                _MINE.add(path)


def coo_to_csr(A: COO) -> CSR:
    if _EARLIER:
        raise RuntimeError(f"found a stash left by an earlier child: {_EARLIER}")
    _stash(A)
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
