"""csr-to-sell: the SELL-C-sigma form of a canonical CSR matrix.

Read the statement: `sparsebench show csr-to-sell`. Grade: `sparsebench grade csr-to-sell THIS_FILE`.
"""
from harness.types import CSR, SELL


def csr_to_sell(A: CSR, C: int, sigma: int) -> SELL:
    n_rows, n_cols = A.shape
    # 1. raise ValueError unless C >= 1 and sigma >= 1
    # 2. perm: within each window of sigma consecutive rows, longest row first; equal lengths keep their order
    # 3. chunks of C sorted rows: chunk_len[c] = the longest row in chunk c,
    #    chunk_ptr[0] = 0, chunk_ptr[c + 1] = chunk_ptr[c] + C * chunk_len[c]
    # 4. entry j of the row at sorted position s = c*C + r goes to slot chunk_ptr[c] + j*C + r
    #    (col, data); every other slot: column 0, value 0.0
    # 5. return SELL(chunk_ptr, chunk_len, col, data, perm, (n_rows, n_cols), C, sigma),
    #    int32 indices (int64 only if a size needs it)
    raise NotImplementedError("write csr_to_sell")
