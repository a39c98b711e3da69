"""SELL-C-sigma built by a pure-Python transcription of the statement's rules (problems/sell-spmv/
README.md, "The format"): the independent oracle for the builders and the csr-to-sell references."""
from __future__ import annotations

import numpy as np

from harness.types import CSR, index_dtype


def sell_by_the_rules(A: CSR, C: int, sigma: int) -> dict:
    n_rows, n_cols = A.shape
    ip = [int(v) for v in A.indptr]
    length = [ip[i + 1] - ip[i] for i in range(n_rows)]
    perm = []
    for w0 in range(0, n_rows, sigma):  # 1. windows of sigma rows, longest first, ties by row
        window = list(range(w0, min(w0 + sigma, n_rows)))
        perm += sorted(window, key=lambda i: (-length[i], i))
    n_chunks = (n_rows + C - 1) // C
    chunk_len, chunk_ptr = [], [0]
    for c in range(n_chunks):  # 2. chunks of C sorted rows, width = the longest
        lanes = [perm[s] for s in range(c * C, min(c * C + C, n_rows))]
        chunk_len.append(max([length[i] for i in lanes], default=0))
        chunk_ptr.append(chunk_ptr[-1] + C * chunk_len[-1])
    col = [0] * chunk_ptr[-1]  # 4. padding: column 0, value 0.0
    data = [0.0] * chunk_ptr[-1]
    for s, i in enumerate(perm):  # 3. entry j of sorted row s at chunk_ptr[c] + j*C + r
        c, r = divmod(s, C)
        for j in range(length[i]):
            col[chunk_ptr[c] + j * C + r] = int(A.indices[ip[i] + j])
            data[chunk_ptr[c] + j * C + r] = float(A.data[ip[i] + j])
    dt = index_dtype(n_rows, n_cols, chunk_ptr[-1])  # 5. one index dtype
    return {"chunk_ptr": np.array(chunk_ptr, dtype=dt), "chunk_len": np.array(chunk_len, dtype=dt),
            "col": np.array(col, dtype=dt), "data": np.array(data, dtype=np.float64),
            "perm": np.array(perm, dtype=dt), "shape": (n_rows, n_cols), "C": C, "sigma": sigma}


def assert_same_sell(got, want: dict) -> None:
    for name in ("chunk_ptr", "chunk_len", "col", "perm"):
        g = getattr(got, name)
        assert g.dtype == want[name].dtype and np.array_equal(g, want[name]), name
    assert got.data.dtype == np.float64
    np.testing.assert_array_equal(got.data, want["data"])
    assert tuple(got.shape) == want["shape"] and int(got.C) == want["C"] and int(got.sigma) == want["sigma"]
