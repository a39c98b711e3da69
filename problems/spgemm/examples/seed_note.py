# expected-verdict: WA
"""The seed note's sparse matrix multiplication (Q3), transcribed faithfully. The note
stores a matrix as a list of (row, col, value) triplets (Q2) and multiplies like this:

    result = dense rows x cols of zeros
    for (i, k, v) in A:
        for j in range(len(B[0])):        # B[0] is a triplet: always 3, not B's column count
            for (m, n, w) in B:
                if k == n:                # compares with B's column n; should be its row m
                    result[i][j] += v * w # adds to every j; j never meets n

Only the conversions to and from the harness's CSR are added. On the note's own 4x4
example (A·A: one entry, 25 at (1, 1)) it fills 25 into (1, 0), (1, 1), (1, 2) and 49 into
(2, 0), (2, 1), (2, 2): wrong, and O(nnz(A)·3·nnz(B)) time plus a dense result.
"""
import numpy as np

from harness.types import CSR, index_dtype


def _triplets(M: CSR) -> list[tuple[int, int, float]]:
    rows = np.repeat(np.arange(M.shape[0]), np.diff(M.indptr))
    return list(zip(rows.tolist(), M.indices.tolist(), M.data.tolist()))


def _to_csr(dense: list[list[float]], shape: tuple[int, int]) -> CSR:
    indptr, indices, data = [0], [], []
    for row in dense:
        for j, value in enumerate(row):
            if value != 0:
                indices.append(j)
                data.append(value)
        indptr.append(len(indices))
    dt = index_dtype(shape[0], shape[1], len(indices))
    return CSR(np.array(indptr, dtype=dt), np.array(indices, dtype=dt), np.array(data, dtype=np.float64), shape)


def spgemm(A: CSR, B: CSR) -> CSR:
    a, b = _triplets(A), _triplets(B)
    result = [[0.0] * B.shape[1] for _ in range(A.shape[0])]
    for i, k, v in a:
        for j in range(len(b[0])):
            for m, n, w in b:
                if k == n:
                    result[i][j] += v * w
    return _to_csr(result, (A.shape[0], B.shape[1]))
