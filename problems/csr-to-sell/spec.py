"""csr-to-sell: the SELL-C-sigma form of a canonical CSR matrix (rules in problems/sell-spmv/README.md)."""
import numpy as np

from harness import known
from harness.spec import Case, Limits, Problem
from harness.types import CSR
from problems._common import checks
from problems._common import generators as gen
from problems._common import sparse
from problems._common import structured as st

BENCH_STRUCTURE, BENCH_C, BENCH_SIGMA = "power-law", 8, 256


def _csr(entries: dict, shape, dtype=np.int32) -> CSR:
    rows = [r for r, row in entries.items() for _ in row]
    cols = [c for row in entries.values() for c, _ in row]
    vals = [v for row in entries.values() for _, v in row]
    return gen.assemble(np.array(rows), np.array(cols), np.array(vals), shape, idx_dtype=dtype)


# written out with their answers in cases.toml: the statement's worked example (sell-spmv's: 6 x 6,
# row lengths [1, 3, 0, 2, 2, 1], C = 2, sigma = 4) and its ties case (rows of equal length keep
# their order)
KNOWN = known.cases(__file__, args=lambda d: (sparse.csr_of(d["A"]), d["C"], d["sigma"]))


def _random(rng: np.random.Generator, size: int) -> tuple:
    """About `size` = slots + rows: uniform rows of random length or power-law rows, C from
    {1, 2, 4, 8, 32}, sigma from {1, 3, C, 8·C, rows}."""
    rows = max(1, size // 12)
    if rng.random() < 0.5:
        A = gen.uniform(rng, rows, rows + 7, per_row=int(rng.integers(1, 12)))
    else:
        A = gen.power_law(rng, rows, rows + 7, nnz=4 * rows)
    C = int(rng.choice([1, 2, 4, 8, 32]))
    return (A, C, int(rng.choice([1, 3, C, 8 * C, rows])))


def _bench(rng: np.random.Generator, size: int) -> tuple:
    rows = max(1, size // 40)  # power-law, 10 entries per row: padding 2 to 5 at C = 8, sigma = 256
    return (gen.make(BENCH_STRUCTURE, rng, rows), BENCH_C, BENCH_SIGMA)


EDGE_CASES = [
    *KNOWN,
    Case("empty matrix", lambda rng: (_csr({}, (3, 4)), 2, 2), "chunk_len = [0, 0], no slots"),
    Case("0 x 0", lambda rng: (_csr({}, (0, 0)), 4, 4), "chunk_ptr = [0], everything else empty"),
    Case("5 x 0", lambda rng: (_csr({}, (5, 0)), 2, 2)),
    Case("rows not a multiple of C", lambda rng: (gen.uniform(rng, 10, 6, 3), 4, 4), "phantom lanes"),
    Case("C larger than the matrix", lambda rng: (gen.uniform(rng, 3, 5, 2), 8, 8)),
    Case("sigma = 1: no sorting", lambda rng: (gen.power_law(rng, 40, 30, 200), 4, 1), "perm is the identity"),
    Case("sigma not a multiple of C", lambda rng: (gen.power_law(rng, 40, 30, 200), 4, 6),
         "windows of 6 rows, chunks of 4 straddle them"),
    Case("sigma >= rows", lambda rng: (gen.power_law(rng, 40, 30, 200), 4, 1000), "one global sort"),
    Case("C = 1, sigma = 1 is CSR", lambda rng: (gen.uniform(rng, 12, 9, 4), 1, 1)),
    Case("stored zeros and NaN are copied", lambda rng: (_csr({1: [(0, 0.0), (2, np.nan)], 4: [(1, np.inf)]}, (6, 3)),
                                                         2, 3)),
    Case("int64 index input", lambda rng: (gen.with_index_dtype(gen.uniform(rng, 7, 5, 3), np.int64), 2, 4),
         "int64 in; int32 out suffices (int64 passes, with a note)"),
    Case("C = 0", lambda rng: (gen.uniform(rng, 4, 4, 2), 0, 4), "must raise ValueError"),
    Case("sigma = 0", lambda rng: (gen.uniform(rng, 4, 4, 2), 2, 0), "must raise ValueError"),
    Case("laplacian-3d", lambda rng: (gen.make("laplacian-3d", rng, 512), 8, 64), "boundary rows are shorter"),
    Case("power-law rows", lambda rng: (gen.make("power-law", rng, 2000), 8, 256), "heavy rows at random places"),
    Case("block-diagonal, C = 32", lambda rng: (gen.make("block-diagonal", rng, 256), 32, 32)),
]

FIELDS = ("chunk_ptr", "chunk_len", "col", "data", "perm")


def _check(args, expected, got):
    """Every rule the SELL answer breaks: the layout (perm, chunks, slots) first, dtypes last."""
    A, C, sigma = args
    if not isinstance(got, (tuple, list)) or len(got) != 8:
        return f"returned {type(got).__name__}; expected SELL(chunk_ptr, chunk_len, col, data, perm, shape, C, sigma)"
    values = dict(zip(FIELDS, got[:5]))
    for name in FIELDS:
        arr = values[name]
        if not isinstance(arr, np.ndarray) or arr.ndim != 1:
            return f"{name} must be a 1-D numpy array, got {type(arr).__name__}"
    rules = checks.Rules()
    try:
        if tuple(int(s) for s in got[5]) != tuple(A.shape) or int(got[6]) != C or int(got[7]) != sigma:
            rules.add(checks.STRUCTURE, f"shape, C, sigma = {got[5]!r}, {got[6]!r}, {got[7]!r}; "
                                        f"expected {tuple(A.shape)}, {C}, {sigma}")
    except (TypeError, ValueError):
        rules.add(checks.STRUCTURE, f"shape, C and sigma must be ints, got {got[5]!r}, {got[6]!r}, {got[7]!r}")
    wide = sparse.needs_int64(A.shape[0], A.shape[1], expected.col.size)
    for name in FIELDS:
        if name == "data":
            if values[name].dtype != np.float64:
                rules.add(checks.DTYPE, f"data has dtype {values[name].dtype}, expected float64")
        else:
            rules.add(checks.DTYPE, checks.index_array(name, values[name], wide))
    rules.add(checks.VALUES, _layout(A, C, sigma, expected, values))
    return rules.report()


def _layout(A, C: int, sigma: int, expected, values: dict) -> str | None:
    """The first difference in the layout: perm, then chunk lengths and pointers, then slots."""
    lengths = np.diff(A.indptr.astype(np.int64))
    perm = values["perm"]
    if perm.size != expected.perm.size or not np.array_equal(perm, expected.perm):
        if perm.size != expected.perm.size:
            return f"perm has {perm.size} entries, expected {expected.perm.size}"
        s = int(np.flatnonzero(perm != expected.perm)[0])
        w0 = s // sigma * sigma
        return (f"perm differs first at sorted position {s} (window of rows {w0}..{min(w0 + sigma, A.shape[0]) - 1}): "
                f"got row {perm[s]}, expected row {expected.perm[s]}\n  row lengths in the window: "
                f"{lengths[w0:w0 + min(sigma, 16)].tolist()}; longest first, equal lengths in original order")
    for name in ("chunk_len", "chunk_ptr"):
        if not np.array_equal(values[name], getattr(expected, name)):
            return f"{name} = {values[name][:12].tolist()}..., expected {getattr(expected, name)[:12].tolist()}..."
    for name in ("col", "data"):
        g, w = values[name], getattr(expected, name)
        if g.size != w.size:
            return f"{name} has {g.size} slots, expected {w.size}"
        with np.errstate(invalid="ignore"):
            same = (g == w) | (np.isnan(g) & np.isnan(w)) if name == "data" and g.dtype.kind == "f" else g == w
        if not same.all():
            q = int(np.flatnonzero(~same)[0])
            c = int(np.searchsorted(expected.chunk_ptr, q, side="right") - 1)
            j, r = divmod(q - int(expected.chunk_ptr[c]), C)
            return (f"{int((~same).sum())} of {w.size} slots of {name} differ; first: slot {q} = chunk {c}, "
                    f"slot column j = {j}, lane r = {r}: got {g[q]!r}, expected {w[q]!r}")
    return None


def _notes(args, got) -> list[str]:
    A, C, sigma = args
    return checks.int64_note([got[0], got[1], got[2], got[4]],
                             sparse.needs_int64(A.shape[0], A.shape[1], got[2].size),
                             "int64 indices where int32 suffices: +33% slot traffic (12 -> 16 bytes a slot)")


def _describe(args):
    A, C, sigma = args
    text = sparse.describe_csr(A)
    return None if text is None else f"{text}\nC = {C}, sigma = {sigma}"


def _slots(args) -> int:
    A, C, sigma = args
    return st.sell_slots(np.diff(A.indptr.astype(np.int64)), C, sigma) if C >= 1 and sigma >= 1 else 0


def bytes_moved(args) -> float:
    """The bytes model: the CSR read once (12·nnz + 4·(rows + 1)), the SELL written once
    (12·slots + 4·(2·chunks + 1) + 4·rows), int32 indices and float64 values."""
    A, C, sigma = args
    rows = A.shape[0]
    chunks = -(-rows // C) if C >= 1 else 0
    return (12 * A.indices.size + 4 * (rows + 1) + 12 * _slots(args) + 4 * (2 * chunks + 1) + 4 * rows)


PROBLEM = Problem(
    slug="csr-to-sell",
    title="CSR to SELL-C-sigma (sort within windows, chunk, pad)",
    difficulty="medium",
    entry="csr_to_sell",
    edge_cases=EDGE_CASES,
    make_random=_random,
    random_sizes=[10, 100, 1_000, 30_000],
    bench_sizes=[100_000, 1_000_000, 10_000_000],
    make_bench=_bench,
    size_of=lambda args: _slots(args) + args[0].shape[0],
    size_unit="slots+rows",
    expected_exponent=1.0,
    check=_check,
    oracle="numpy",
    timing_reference="numba",
    forbidden_imports=("scipy.sparse", "torch"),
    allowed_errors=(ValueError,),
    describe=_describe,
    notes=_notes,
    bytes_of=bytes_moved,
    limits=Limits(wall_s=30.0),
    tags=("sparse formats", "structured sparsity"),
)
