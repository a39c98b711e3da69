# expected-verdict: MLE
"""Memory hog: ask for 50 GB. The child's address-space limit makes the allocation fail
at once with MemoryError instead of swapping the machine to a halt: MLE."""
import numpy as np

from harness.types import COO, CSR


def coo_to_csr(A: COO) -> CSR:
    hog = np.ones(50 * 10**9 // 8)
    return hog
