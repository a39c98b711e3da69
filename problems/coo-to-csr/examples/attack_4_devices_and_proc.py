# expected-verdict: AC
"""Class 4, the machine under the sandbox: the raw disk (/dev/sda, /dev/vda, /dev/nvme0n1) was
blocked only by the container, not by the sandbox; and a child whose uid maps to root outside
could write /proc/sys if /proc were left writable. This file tries, natively (libc, no audit
event), to open every block and memory device, the terminal, /dev/shm, and /proc/sys files for
writing, and lists /dev. Anything beyond null, zero, full, random and urandom (and the fd
links) makes it fail on purpose (RE); with bubblewrap none of it exists or opens for writing,
and the file answers honestly: AC."""
import ctypes
import os

import numpy as np

from harness.types import COO, CSR, index_dtype

_libc = ctypes.CDLL(None, use_errno=True)
_ALLOWED = {"null", "zero", "full", "random", "urandom", "fd", "stdin", "stdout", "stderr"}


def _opens(path: str, flags: int) -> bool:
    fd = _libc.open(path.encode(), flags)
    if fd >= 0:
        os.close(fd)
        return True
    return False


def _exposed() -> list[str]:
    found = [f"/dev/{n}" for n in os.listdir("/dev") if n not in _ALLOWED]
    for dev in ("sda", "vda", "xvda", "nvme0n1", "mem", "kmem", "port", "kmsg", "tty", "console", "shm/x"):
        if _opens(f"/dev/{dev}", os.O_RDONLY):
            found.append(f"/dev/{dev}")
    for knob in ("vm/drop_caches", "kernel/printk", "kernel/core_pattern"):
        if _opens(f"/proc/sys/{knob}", os.O_WRONLY):
            found.append(f"/proc/sys/{knob} (writable)")
    if os.path.exists("/sys/fs/cgroup") or os.path.exists("/sys/block"):
        found.append("/sys")
    return found


_EXPOSED = _exposed()


def coo_to_csr(A: COO) -> CSR:
    if _EXPOSED:
        raise RuntimeError(f"exposed: {_EXPOSED}")
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
