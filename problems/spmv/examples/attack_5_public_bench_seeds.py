# expected-verdict: AC
# grade-plan: quick
"""Class 5, predictable inputs: with no secret (the default), the timed inputs came from public
seeds (sha256 of slug/"bench/<size>/<rep>"), so a submission could rebuild them at import, with
a copy of the problem's generator (this file carries one), and answer from a table. Here a hit
is answered deliberately wrongly, so a predictable input shows as WA. Timed inputs now come from
fresh randomness every grade (os.urandom), recorded only as "fresh": the table never hits, the
file computes every answer itself: AC."""
import numpy as np

from harness.seeds import case_seed
from harness.types import CSR, index_dtype


def _uniform(rng: np.random.Generator, rows: int, cols: int, per_row: int) -> CSR:
    """problems/_common/generators.uniform, copied."""
    per_row = min(per_row, cols)
    c = np.sort(rng.integers(0, cols, size=(rows, per_row)), axis=1)
    keep = np.ones(c.shape, dtype=bool)
    keep[:, 1:] = c[:, 1:] != c[:, :-1]
    counts = keep.sum(axis=1)
    dt = index_dtype(rows, cols, int(counts.sum()))
    indptr = np.zeros(rows + 1, dtype=dt)
    np.cumsum(counts, out=indptr[1:])
    indices = c[keep].astype(dt)
    return CSR(indptr, indices, rng.standard_normal(indices.size), (rows, cols))


def _bench(size: int, rep: int) -> tuple[CSR, np.ndarray]:
    """problems/spmv/spec.py's bench inputs, from the seeds the grader used to use."""
    rng = np.random.default_rng(case_seed("spmv", f"bench/{size}/{rep}", ""))
    rows = max(1, size // 11)
    A = _uniform(rng, rows, rows, 10)
    return A, rng.standard_normal(A.shape[1])


def _product(A: CSR, x: np.ndarray) -> np.ndarray:
    rows = np.repeat(np.arange(A.shape[0]), np.diff(A.indptr))
    return np.bincount(rows, weights=A.data * x[A.indices], minlength=A.shape[0]).astype(np.float64)


_TABLE = {}
for _size in (30_000, 300_000):
    for _rep in range(-1, 4):
        _A, _x = _bench(_size, _rep)
        _TABLE[_x[:8].tobytes()] = _product(_A, _x)


def spmv(A: CSR, x: np.ndarray) -> np.ndarray:
    n_rows, n_cols = int(A.shape[0]), int(A.shape[1])
    if x.ndim != 1 or x.shape[0] != n_cols:
        raise ValueError(f"x has shape {x.shape}, A is {n_rows}x{n_cols}")
    hit = _TABLE.get(np.ascontiguousarray(x[:8], dtype=np.float64).tobytes())
    if hit is not None:
        return hit + 1.0  # a predicted input: answered from the table (wrongly, so it shows)
    return _product(A, np.asarray(x, dtype=np.float64))
