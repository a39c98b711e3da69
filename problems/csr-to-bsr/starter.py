"""csr-to-bsr: the canonical BSR (b x b blocks) of a canonical CSR matrix.

Read the statement: `sparsebench show csr-to-bsr`. Grade: `sparsebench grade csr-to-bsr THIS_FILE`.
"""
from harness.types import BSR, CSR


def csr_to_bsr(A: CSR, b: int) -> BSR:
    rows, cols = A.shape
    # 1. raise ValueError unless b >= 1 divides rows and cols
    # 2. entry (i, j, v) belongs to block (i // b, j // b) at position (i % b, j % b)
    # 3. store each block holding at least one entry, block rows in order, block columns increasing
    #    within a block row; data[p] is the b x b block, zeros where A stores nothing
    # 4. return BSR(indptr (rows/b + 1), indices (blocks), data (blocks, b, b) float64, (rows, cols))
    raise NotImplementedError("write csr_to_bsr")
