"""csr-to-bsr with scipy.sparse: tobsr, then sort_indices (tobsr lists a block row's blocks in order
of first touch, not sorted), int32 indices where they fit. For comparison, never ranked."""
import numpy as np
import scipy.sparse as sp

from harness.types import BSR, CSR, index_dtype


def csr_to_bsr(A: CSR, b: int) -> BSR:
    rows, cols = A.shape
    if b < 1 or rows % b or cols % b:
        raise ValueError(f"block size {b} must be positive and divide the shape {rows}x{cols}")
    M = sp.csr_array((A.data, A.indices, A.indptr), shape=A.shape).tobsr(blocksize=(b, b), copy=True)
    M.sort_indices()
    dt = index_dtype(rows // b, cols // b, M.indices.size)
    return BSR(M.indptr.astype(dt), M.indices.astype(dt), np.array(M.data, dtype=np.float64), (rows, cols))
