# expected-verdict: CE
"""Cheat: use the project's own code (the problems package holds the references and the
oracle's helpers). The static scan sees the import of problems/ (forbidden for every
problem) before anything runs: CE naming the import."""
from problems._common import sparse as _oracle_helpers  # noqa: F401


def coo_to_csr(A):
    raise NotImplementedError
