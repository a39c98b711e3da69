# expected-verdict: AC
# grade-plan: quick
"""Class 4, reading the reference child's folder: during timing the reference runs in a second
child next door, answering the same inputs; its work folder used to be readable (a temporary
folder beside this one), so its outputs could be read as they were written, under the secret
too. This file looks everywhere a neighbour could be: the temporary folders, /proc (other
processes' working folders, open files, memory maps), the grader's inbox. If it finds anything
that is not its own, it says so and fails (RE); with bubblewrap each child has a private /tmp,
a /proc of its own PID namespace and an inbox holding only its own input, so it finds nothing
and answers honestly: AC."""
import os

import numpy as np

from harness.types import COO, CSR, index_dtype


def _strangers() -> list[str]:
    found = []
    for tmp in {"/tmp", "/var/tmp", "/dev/shm", os.environ.get("TMPDIR", "/tmp")}:
        try:
            names = os.listdir(tmp)
        except OSError:
            continue
        found += [f"{tmp}/{n}" for n in names if n.startswith("sparsebench") or n.startswith("pytest")]
    me = os.getpid()
    for entry in os.listdir("/proc"):
        if entry.isdigit() and int(entry) not in (1, me):
            for what in ("cwd", "root"):
                try:
                    os.readlink(f"/proc/{entry}/{what}")
                    found.append(f"/proc/{entry}/{what}")
                except OSError:
                    pass
    try:
        inbox = [n for n in os.listdir("/run/sparsebench/in")]
    except OSError:
        inbox = []
    if len(inbox) > 1:
        found.append(f"inbox holds {inbox}")
    return found


def coo_to_csr(A: COO) -> CSR:
    strangers = _strangers()
    if strangers:
        raise RuntimeError(f"the neighbours are visible: {strangers[:5]}")
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
