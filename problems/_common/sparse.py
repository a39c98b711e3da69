"""Generators, canonical-form checks and printing for the sparse-matrix problems.

Checks compare by invariants plus values, never by array equality, because a right
answer has several valid forms (an entry that sums to exactly zero may be kept or
dropped; summation order changes the last bits).
"""
from __future__ import annotations

import numpy as np

from harness.types import BSR, COO, CSR, SELL, index_dtype
from problems._common.checks import DTYPE, STRUCTURE, VALUES, Rules, index_array, int64_note

INT32_MAX = np.iinfo(np.int32).max


# -- generators -------------------------------------------------------------------------
def random_coo(rng: np.random.Generator, nnz: int, shape: tuple[int, int], *, dup_frac: float = 0.1,
               idx_dtype=np.int32, power_law: bool = False) -> COO:
    """Unsorted COO with about `dup_frac` repeated coordinates; `power_law` puts most
    entries in a few rows."""
    rows, cols = shape
    if nnz == 0 or rows == 0 or cols == 0:
        e = np.zeros(0, dtype=idx_dtype)
        return COO(e, e.copy(), np.zeros(0), (rows, cols))
    if power_law:
        weights = 1.0 / np.arange(1, rows + 1) ** 1.2
        r = rng.choice(rows, size=nnz, p=weights / weights.sum())
        r = rng.permutation(rows)[r]  # heavy rows anywhere, not just at the top
    else:
        r = rng.integers(0, rows, nnz)
    c = rng.integers(0, cols, nnz)
    n_dup = int(dup_frac * nnz)
    if n_dup:
        src = rng.integers(0, nnz, n_dup)
        dst = rng.integers(0, nnz, n_dup)
        r[dst], c[dst] = r[src], c[src]
    data = rng.standard_normal(nnz)
    return COO(r.astype(idx_dtype), c.astype(idx_dtype), data, (rows, cols))


def csr_of(table: dict, idx_dtype=np.int32) -> CSR:
    """A CSR written out in a cases.toml table: {indptr, indices, data, shape}."""
    return CSR(np.array(table["indptr"], dtype=idx_dtype), np.array(table["indices"], dtype=idx_dtype),
               np.array(table["data"], dtype=np.float64), (int(table["shape"][0]), int(table["shape"][1])))


def coo_of(table: dict, idx_dtype=np.int32) -> COO:
    """A COO written out in a cases.toml table: {row, col, data, shape}."""
    return COO(np.array(table["row"], dtype=idx_dtype), np.array(table["col"], dtype=idx_dtype),
               np.array(table["data"], dtype=np.float64), (int(table["shape"][0]), int(table["shape"][1])))


def bsr_of(table: dict, idx_dtype=np.int32) -> BSR:
    """A BSR written out in a cases.toml table: {indptr, indices, data (blocks, b, b), shape}."""
    return BSR(np.array(table["indptr"], dtype=idx_dtype), np.array(table["indices"], dtype=idx_dtype),
               np.array(table["data"], dtype=np.float64), (int(table["shape"][0]), int(table["shape"][1])))


def sell_of(table: dict, idx_dtype=np.int32) -> SELL:
    """A SELL-C-sigma written out in a cases.toml table: {chunk_ptr, chunk_len, col, data, perm,
    shape, C, sigma}."""
    return SELL(*(np.array(table[name], dtype=idx_dtype) for name in ("chunk_ptr", "chunk_len", "col")),
                np.array(table["data"], dtype=np.float64), np.array(table["perm"], dtype=idx_dtype),
                (int(table["shape"][0]), int(table["shape"][1])), int(table["C"]), int(table["sigma"]))


def coo_shape_for(nnz: int, per_row: float = 8.0) -> tuple[int, int]:
    n = max(1, int(nnz / per_row))
    return (n, n)


def csr_from_coo_trusted(A: COO) -> CSR:
    """Canonical CSR by sorting (used to build inputs; independent of the references)."""
    rows, cols = A.shape
    order = np.lexsort((A.col, A.row))
    r, c, d = A.row[order].astype(np.int64), A.col[order].astype(np.int64), A.data[order]
    if r.size:
        first = np.ones(r.size, dtype=bool)
        first[1:] = (r[1:] != r[:-1]) | (c[1:] != c[:-1])
        starts = np.flatnonzero(first)
        d = np.add.reduceat(d, starts)
        r, c = r[starts], c[starts]
    dt = index_dtype(rows, cols, r.size)
    indptr = np.zeros(rows + 1, dtype=dt)
    np.cumsum(np.bincount(r, minlength=rows), out=indptr[1:])
    return CSR(indptr, c.astype(dt), d.astype(np.float64), (rows, cols))


def random_csr(rng: np.random.Generator, nnz: int, shape: tuple[int, int], **kw) -> CSR:
    return csr_from_coo_trusted(random_coo(rng, nnz, shape, dup_frac=0.0, **kw))


# -- checking ---------------------------------------------------------------------------
CSR_FIELDS = ("indptr", "indices", "data", "shape")
RETURN_CSR = "return CSR(indptr, indices, data, shape) (from harness.types import CSR)"


def foreign_container(got, fields: tuple[str, ...] = CSR_FIELDS, build: str = RETURN_CSR) -> str | None:
    """Names a result that holds the right parts in the wrong container, with what to return instead:
    scipy's field order (data, indices, indptr), a dict of the fields, or an object (a scipy.sparse
    matrix, an own NamedTuple) with the fields as attributes in another order. None otherwise."""
    kind = type(got).__name__
    if isinstance(got, dict):
        keys = ", ".join(sorted(map(str, got))[:8])
        return f"returned a dict (keys {keys}); {build}, a NamedTuple in that order, not a dict"
    own = getattr(type(got), "_fields", None)
    if isinstance(got, tuple) and isinstance(own, tuple) and tuple(own) != fields \
            and all(hasattr(got, f) for f in fields):
        return (f"returned a {kind} with fields ({', '.join(own)}): the contract is positional, "
                f"({', '.join(fields)}); {build}")
    if not isinstance(got, (tuple, list)) and all(hasattr(got, f) for f in fields):
        name = build.split("(")[0].split()[-1]  # "CSR" of "return CSR(...)"
        return (f"returned a {kind} object with .{'/.'.join(fields)} attributes (a scipy.sparse matrix?); "
                f"{build}, e.g. {name}({', '.join('M.' + f for f in fields)}) with sorted indices")
    if fields[:3] == CSR_FIELDS[:3] and isinstance(got, (tuple, list)) and len(got) in (3, 4) and own is None:
        parts = list(got[:3])
        if all(isinstance(a, np.ndarray) for a in parts) and parts[1].ndim == parts[2].ndim == 1 \
                and parts[0].dtype.kind == "f" and parts[2].dtype.kind in "iu" and parts[1].dtype.kind in "iu":
            return (f"returned ({', '.join(('data', 'indices', 'indptr', 'shape')[:len(got)])}), scipy's "
                    f"constructor order: the contract's order is (indptr, indices, data, shape); {build}")
    return None


def explain_foreign(message: str) -> str | None:
    """A hint for a result that could not even leave the sandbox (a scipy.sparse matrix is not
    plain data): what to return instead. `message` is the child's bad-output message."""
    if "sparse" in message or any(k in message for k in ("csr_matrix", "csr_array", "coo_matrix", "bsr_")):
        return ("a scipy.sparse matrix is not a result here; " + RETURN_CSR
                + ", e.g. CSR(M.indptr, M.indices, M.data, M.shape) with sorted indices")
    return None


def as_csr(got) -> CSR:
    """Accept a CSR or a plain 4-tuple; raise ValueError with a readable message otherwise."""
    foreign = foreign_container(got)
    if foreign:
        raise ValueError(foreign)
    if not isinstance(got, (tuple, list)) or len(got) != 4:
        raise ValueError(f"returned {type(got).__name__}; expected CSR(indptr, indices, data, shape)")
    indptr, indices, data, shape = got
    for name, arr in (("indptr", indptr), ("indices", indices), ("data", data)):
        if not isinstance(arr, np.ndarray) or arr.ndim != 1:
            raise ValueError(f"{name} must be a 1-D numpy array, got {type(arr).__name__}")
    try:
        shape = tuple(int(s) for s in shape)
        assert len(shape) == 2
    except Exception:  # noqa: BLE001
        raise ValueError(f"shape must be a pair of ints, got {shape!r}") from None
    return CSR(indptr, indices, data, shape)


def needs_int64(*extents: int) -> bool:
    """Whether int32 cannot hold an index bounded by these extents (dimensions, counts)."""
    return index_dtype(*extents) == np.int64


def canonical_rules(A: CSR, rules: Rules) -> bool:
    """Add to `rules` every way `A` is not a canonical CSR: structure first (lengths, indptr,
    ranges, then unsorted or duplicate columns), the dtypes last. True when the structure is
    sound enough to compare values entry by entry."""
    rows, cols = A.shape
    ip, ix = A.indptr, A.indices
    sound = True
    ints = ip.dtype.kind in "iu" and ix.dtype.kind in "iu"
    if ip.size != rows + 1:
        sound = not rules.add(STRUCTURE, f"indptr has length {ip.size}, expected rows + 1 = {rows + 1}")
    elif not ints:
        sound = False
    else:
        if ip[0] != 0:
            sound = not rules.add(STRUCTURE, f"indptr[0] = {ip[0]}, expected 0")
        if ip[-1] != ix.size or A.data.size != ix.size:
            sound = not rules.add(STRUCTURE, f"indptr[-1] = {ip[-1]} but len(indices) = {ix.size} "
                                             f"and len(data) = {A.data.size}")
        steps = np.diff(ip.astype(np.int64))
        if (steps < 0).any():
            i = int(np.flatnonzero(steps < 0)[0])
            sound = not rules.add(STRUCTURE, f"indptr decreases at row {i}: indptr[{i}] = {ip[i]} > "
                                             f"indptr[{i + 1}] = {ip[i + 1]}")
    if ints and ix.size and (ix.min() < 0 or ix.max() >= cols):
        bad = int(np.flatnonzero((ix < 0) | (ix >= cols))[0])
        sound = not rules.add(STRUCTURE, f"column index {ix[bad]} at position {bad} is outside [0, {cols})")
    if sound and ix.size > 1:
        row_of = np.repeat(np.arange(rows), np.diff(ip.astype(np.int64)))
        same_row = row_of[1:] == row_of[:-1]
        step = ix[1:].astype(np.int64) - ix[:-1].astype(np.int64)
        for kind, bad in (("unsorted", same_row & (step < 0)), ("duplicate", same_row & (step == 0))):
            if bad.any():
                p = int(np.flatnonzero(bad)[0])
                what = "unsummed duplicate" if kind == "duplicate" else kind
                rules.add(STRUCTURE, f"{int(bad.sum())} place(s) with {what} column indices in a row; first: row "
                                     f"{row_of[p]} has {ix[p]} then {ix[p + 1]} (each row's indices must be "
                                     f"strictly increasing)")
    wide = needs_int64(rows, cols, ix.size)
    if ip.dtype == ix.dtype:  # one rule for both arrays, read once
        rules.add(DTYPE, index_array("indptr and indices", ip, wide))
    else:
        for name, arr in (("indptr", ip), ("indices", ix)):
            rules.add(DTYPE, index_array(name, arr, wide))
    if A.data.dtype != np.float64:
        rules.add(DTYPE, f"data dtype must be float64, got {A.data.dtype}")
    return sound


def canonical_problems(A: CSR) -> str | None:
    """Why `A` is not a canonical CSR (None when it is): every violated rule, structure first."""
    rules = Rules()
    canonical_rules(A, rules)
    return rules.report()


def csr_notes(args, got) -> list[str]:
    """Notes (never failures) on a CSR answer: int64 indices where int32 suffices."""
    if not isinstance(got, tuple) or len(got) != 4 or not isinstance(got[1], np.ndarray):
        return []
    try:
        rows, cols = (int(s) for s in got[3])
    except (TypeError, ValueError):
        return []
    return int64_note([got[0], got[1]], needs_int64(rows, cols, got[1].size))


def _triplets(A: CSR) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rows = np.repeat(np.arange(A.shape[0], dtype=np.int64), np.diff(A.indptr.astype(np.int64)))
    return rows, A.indices.astype(np.int64), A.data


def compare_csr(got: CSR, expected: CSR, row_scale: np.ndarray, *, rtol: float = 1e-12) -> str | None:
    """Values of two canonical CSRs, entry by entry. An entry missing on one side counts as
    0, so an exactly-zero sum may be kept or dropped. |got - exp| <= rtol * row_scale[row]
    + rtol * |exp|, where row_scale is the row's sum of |terms|: rounding, not luck."""
    if got.shape != expected.shape:
        return f"shape {got.shape}, expected {expected.shape}"
    gr, gc, gv = _triplets(got)
    er, ec, ev = _triplets(expected)
    r = np.concatenate([gr, er])
    c = np.concatenate([gc, ec])
    v = np.concatenate([gv, np.zeros_like(ev)])
    w = np.concatenate([np.zeros_like(gv), ev])
    order = np.lexsort((c, r))
    r, c, v, w = r[order], c[order], v[order], w[order]
    if r.size:
        first = np.ones(r.size, dtype=bool)
        first[1:] = (r[1:] != r[:-1]) | (c[1:] != c[:-1])
        starts = np.flatnonzero(first)
        r, c = r[starts], c[starts]
        with np.errstate(invalid="ignore"):
            v, w = np.add.reduceat(v, starts), np.add.reduceat(w, starts)
    tol = rtol * (np.asarray(row_scale, dtype=np.float64)[r] + np.abs(w)) if r.size else np.zeros(0)
    with np.errstate(invalid="ignore"):
        # a non-finite expected value must be matched exactly (its tolerance would be inf)
        close = (np.abs(v - w) <= tol) & np.isfinite(w)
        bad = ~(close | ((v == w) & ~np.isnan(v)) | (np.isnan(v) & np.isnan(w)))
    if not bad.any():
        return None
    idx = np.flatnonzero(bad)
    lines = [f"{idx.size} of {r.size} entries differ"]
    if np.isnan(v).any() != np.isnan(w).any():
        lines.append(f"NaN in result: {bool(np.isnan(v).any())}, NaN expected: {bool(np.isnan(w).any())}")
    if np.isinf(v).any() != np.isinf(w).any():
        lines.append(f"inf in result: {bool(np.isinf(v).any())}, inf expected: {bool(np.isinf(w).any())}")
    for p in idx[:5]:
        lines.append(f"  (row {r[p]}, col {c[p]}): got {float(v[p])!r}, expected {float(w[p])!r}")
    return "\n".join(lines)


def check_csr_result(got, expected: CSR, row_scale: np.ndarray) -> str | None:
    """Full check of a CSR answer: the container, then every rule it breaks, structure and
    values first (an unsorted row and a wrong value both show), dtypes after."""
    try:
        A = as_csr(got)
    except ValueError as exc:
        return str(exc)
    if A.shape != tuple(expected.shape):
        return f"shape {A.shape}, expected {tuple(expected.shape)}"
    rules = Rules()
    if canonical_rules(A, rules) and A.data.dtype.kind in "fiu" and A.indices.dtype.kind in "iu":
        rules.add(VALUES, compare_csr(A, expected, row_scale))
    return rules.report()


def row_abs_sums(rows: np.ndarray, data: np.ndarray, n_rows: int) -> np.ndarray:
    """Per-row sum of finite |data|: the scale an entry's rounding error is measured against
    (inf and NaN entries must then match exactly)."""
    finite = np.where(np.isfinite(data), np.abs(data), 0.0)
    return np.bincount(rows.astype(np.int64), weights=finite, minlength=n_rows)


def abs_product(A: CSR, X: np.ndarray) -> np.ndarray:
    """|A|·|X| with non-finite values counted as 0: entry (i, c) is the sum of |terms| of
    (A·X)[i, c], the scale its rounding error is measured against. scipy does the work
    (this runs in the trusted grader, on the inputs, never on a submission's output)."""
    import scipy.sparse as sp

    def finite_abs(a):
        return np.where(np.isfinite(a), np.abs(a), 0.0)

    M = sp.csr_array((finite_abs(A.data), A.indices, A.indptr), shape=A.shape)
    return M @ finite_abs(np.asarray(X, dtype=np.float64))


def rounding_tolerance(abs_sum: np.ndarray, n_terms: np.ndarray) -> np.ndarray:
    """How far two correct float64 sums of the same n terms may lie apart: each is within
    n·u·Σ|terms| of the exact sum (u = 2**-53) whatever the order of summation, so allow
    2·(n + 1)·u·Σ|terms|, and never less than 1e-12·Σ|terms|. Zero when every term is zero:
    then the answer must be exactly 0."""
    u = np.finfo(np.float64).eps / 2
    return np.maximum(1e-12, 2.0 * (np.asarray(n_terms, dtype=np.float64) + 1.0) * u) * abs_sum


def compare_dense(got: np.ndarray, expected: np.ndarray, tol: np.ndarray) -> str | None:
    """Entry by entry: |got - expected| <= tol where expected is finite; NaN and ±inf must
    match exactly where expected is not finite."""
    finite = np.isfinite(expected)
    with np.errstate(invalid="ignore"):
        close = np.abs(got - expected) <= tol
    same_special = (got == expected) | (np.isnan(got) & np.isnan(expected))
    bad = np.where(finite, close & np.isfinite(got), same_special)
    if bad.all():
        return None
    idx = np.argwhere(~bad)
    lines = [f"{idx.shape[0]} of {expected.size} entries differ"]
    for flag, test in (("NaN", np.isnan), ("inf", np.isinf)):
        g, e = bool(test(got).any()), bool(test(expected).any())
        if g != e:
            lines.append(f"{flag} in result: {g}, {flag} expected: {e}")
    for pos in idx[:5]:
        at = tuple(int(p) for p in pos)
        where = f"[{at[0]}]" if len(at) == 1 else f"[{at[0]}, {at[1]}]"
        lines.append(f"  at {where}: got {float(got[at])!r}, expected {float(expected[at])!r} "
                     f"(tolerance {float(tol[at]):.3g})")
    if np.all(got == 0) and np.any(expected != 0):
        lines.append("  (the result is all zeros)")
    return "\n".join(lines)


def check_dense_result(got, expected: np.ndarray, tol: np.ndarray) -> str | None:
    """A dense answer: an ndarray of the expected shape; its values, then its dtype (float64)."""
    if not isinstance(got, np.ndarray):
        return f"returned {type(got).__name__}; expected a numpy array of shape {expected.shape}"
    if got.shape != expected.shape:
        return f"result has shape {got.shape}, expected {expected.shape}"
    rules = Rules()
    if got.dtype.kind in "fiu":
        rules.add(VALUES, compare_dense(got.astype(np.float64), expected, tol))
    if got.dtype != np.float64:
        rules.add(DTYPE, f"result dtype must be float64, got {got.dtype}")
    return rules.report()


# -- printing ---------------------------------------------------------------------------
def dense_text(rows, cols, data, shape, limit: int = 12) -> str | None:
    if shape[0] > limit or shape[1] > limit:
        return None
    M = np.zeros(shape)
    np.add.at(M, (np.asarray(rows, dtype=np.int64), np.asarray(cols, dtype=np.int64)), data)
    with np.printoptions(precision=3, suppress=True, linewidth=120):
        return f"as a dense matrix (duplicates summed):\n{M}"


def describe_coo(A: COO, limit: int = 40) -> str | None:
    if A.row.size > limit:
        return None
    trip = ", ".join(f"({r}, {c}, {v:.4g})" for r, c, v in zip(A.row.tolist(), A.col.tolist(), A.data.tolist()))
    text = f"COO shape={A.shape} index dtype={A.row.dtype}, {A.row.size} triplets (row, col, value):\n  [{trip}]"
    in_range = A.row.size == 0 or (A.row.min() >= 0 and A.col.min() >= 0 and A.row.max() < A.shape[0]
                                  and A.col.max() < A.shape[1])
    dense = dense_text(A.row, A.col, A.data, A.shape) if in_range else None
    return text + (f"\n{dense}" if dense else "")


def describe_csr(A: CSR, limit: int = 40) -> str | None:
    if A.indices.size > limit or A.shape[0] > 4 * limit:
        return None
    text = (f"CSR shape={A.shape} dtype={A.indices.dtype}\n  indptr={A.indptr.tolist()}\n"
            f"  indices={A.indices.tolist()}\n  data={np.round(A.data, 4).tolist()}")
    rows = np.repeat(np.arange(A.shape[0]), np.diff(A.indptr))
    dense = dense_text(rows, A.indices, A.data, A.shape)
    return text + (f"\n{dense}" if dense else "")
