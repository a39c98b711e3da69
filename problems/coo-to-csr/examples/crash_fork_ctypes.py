# expected-verdict: CE
"""Forks the audit hook cannot see: 20 calls to libc's fork() through ctypes, each child
leaving the process group with setsid() and sleeping for an hour. The grader counts the
child's processes in its cgroup after the call: CE (started 20 processes), and all of
them die with the PID namespace when the grade ends (the tests check none survives)."""
import ctypes
import os
import time

from harness.types import COO, CSR

_libc = ctypes.CDLL(None, use_errno=True)


def coo_to_csr(A: COO) -> CSR:
    for _ in range(20):
        if _libc.fork() == 0:
            os.setsid()
            time.sleep(3600)
            os._exit(0)
    time.sleep(0.2)  # let them all start
    raise ValueError("index outside the shape")  # any reply will do: the processes decide
