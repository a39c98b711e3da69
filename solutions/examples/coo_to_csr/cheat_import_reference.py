# expected-verdict: CE
"""Cheat: hand in the project's own Numba reference. The static scan sees the import of
solutions/ (forbidden for every problem) before anything runs: CE naming the import."""
from solutions.reference.coo_to_csr_numba import coo_to_csr  # noqa: F401
