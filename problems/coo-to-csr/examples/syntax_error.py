# expected-verdict: CE
"""A typo: the grader reports the line instead of crashing."""
import numpy as np


def coo_to_csr(A)
    return A
