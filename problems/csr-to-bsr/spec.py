"""csr-to-bsr: the canonical BSR (square b x b blocks) of a canonical CSR matrix, and its padding."""
import numpy as np

from harness import known
from harness.spec import Case, Limits, Problem
from harness.types import CSR
from problems._common import checks
from problems._common import generators as gen
from problems._common import sparse
from problems._common import structured as st

BENCH_B, BENCH_PER_ROW, BENCH_FILL = 8, 8, 0.5


def _csr(entries: dict, shape, dtype=np.int32) -> CSR:
    """A CSR from {row: [(col, value), ...]}."""
    rows = [r for r, row in entries.items() for _ in row]
    cols = [c for row in entries.values() for c, _ in row]
    vals = [v for row in entries.values() for _, v in row]
    return gen.assemble(np.array(rows), np.array(cols), np.array(vals), shape, idx_dtype=dtype)


# written out with its answer in cases.toml: the statement's worked example (4 x 6, b = 2, three
# blocks stored)
KNOWN = known.cases(__file__, args=lambda d: (sparse.csr_of(d["A"]), d["b"]))


def _random(rng: np.random.Generator, size: int) -> tuple:
    """About `size` = nnz + b²·blocks + rows: random block patterns with b from {1, 2, 4, 8, 16, 32},
    blocks filled with probability 0.1 to 1 (so padding from 1 to about 10), more block columns than
    block rows."""
    b = int(rng.choice((1,) + st.BLOCK_SIZES))
    fill = float(rng.choice([0.1, 0.3, 0.6, 1.0]))
    per_row = int(rng.integers(1, 6))
    n_brow = max(1, int(size // (per_row * b * b * (1 + fill) + b)))
    n_bcol = n_brow * 3 // 2 + 1
    return (st.block_sparse_csr(rng, n_brow, n_bcol, b, per_row, fill), b)


def _bench(rng: np.random.Generator, size: int) -> tuple:
    n_b = max(1, round(size / (BENCH_PER_ROW * BENCH_B**2 * (1 + BENCH_FILL) + BENCH_B)))
    return (st.block_sparse_csr(rng, n_b, n_b, BENCH_B, BENCH_PER_ROW, BENCH_FILL), BENCH_B)


def _from(structure: str, rows: int, b: int):
    return lambda rng: (gen.make(structure, rng, rows), b)


EDGE_CASES = [
    *KNOWN,
    Case("b = 1: BSR is CSR", lambda rng: (gen.uniform(rng, 6, 5, 3), 1), "data has shape (nnz, 1, 1)"),
    Case("one block", lambda rng: (gen.uniform(rng, 8, 8, 5), 8), "b = rows = cols"),
    Case("empty matrix", lambda rng: (_csr({}, (4, 6)), 2), "no blocks: indptr = [0, 0, 0]"),
    Case("0 x 0", lambda rng: (_csr({}, (0, 0)), 2)),
    Case("0 x 4", lambda rng: (_csr({}, (0, 4)), 2), "indptr = [0]"),
    Case("4 x 0", lambda rng: (_csr({}, (4, 0)), 2), "two empty block rows, no block columns"),
    Case("a stored zero is an entry", lambda rng: (_csr({0: [(0, 0.0)], 3: [(3, 2.0)]}, (4, 4)), 2),
         "block (0, 0) holds only an explicit zero: it is stored"),
    Case("NaN and inf are copied", lambda rng: (_csr({0: [(1, np.nan)], 1: [(0, np.inf), (3, -np.inf)]}, (2, 4)), 2)),
    Case("blocks first touched out of order", lambda rng: (_csr({0: [(5, 1.0)], 1: [(0, 2.0), (2, 3.0)]}, (2, 6)), 2),
         "row 0 touches block column 2 first, row 1 block columns 0 and 1: stored sorted [0, 1, 2]"),
    Case("empty block rows", lambda rng: (_csr({2: [(1, 1.0)], 3: [(4, 2.0)], 6: [(0, 3.0)]}, (10, 6)), 2),
         "block rows 0, 4 (the last) are empty"),
    Case("int64 index input", lambda rng: (gen.with_index_dtype(gen.uniform(rng, 8, 8, 3), np.int64), 4),
         "int64 in; int32 out suffices (int64 passes, with a note)"),
    Case("b does not divide the shape", lambda rng: (gen.uniform(rng, 6, 8, 2), 4), "6 rows, b = 4: ValueError"),
    Case("b = 0", lambda rng: (gen.uniform(rng, 4, 4, 2), 0), "must raise ValueError"),
    Case("laplacian-2d, b = 4", _from("laplacian-2d", 256, 4), "5-point stencil: padding about 2"),
    Case("laplacian-3d, b = 8", _from("laplacian-3d", 512, 8)),
    Case("block-diagonal, b = 32", _from("block-diagonal", 256, 32), "blocks of density 0.3: padding about 3.3"),
    Case("power-law rows, b = 2", _from("power-law", 2000, 2)),
    Case("uniform, b = 16", _from("uniform", 1024, 16), "scattered entries: about one block per entry"),
]


def _problems(got, rows: int, cols: int, b: int, rules: checks.Rules) -> bool:
    """Add every way `got` is not a canonical BSR of shape (rows, cols) with b x b blocks to
    `rules`, structure first, dtypes last; True when its blocks can be compared with the answer."""
    foreign = sparse.foreign_container(got, build=RETURN_BSR)
    if foreign or not isinstance(got, (tuple, list)) or len(got) != 4:
        rules.add(checks.STRUCTURE,
                  foreign or f"returned {type(got).__name__}; expected BSR(indptr, indices, data, shape)")
        return False
    indptr, indices, data, shape = got
    for name, arr, ndim in (("indptr", indptr, 1), ("indices", indices, 1), ("data", data, 3)):
        if not isinstance(arr, np.ndarray) or arr.ndim != ndim:
            rules.add(checks.STRUCTURE, f"{name} must be a {ndim}-D numpy array, got "
                                        f"{getattr(arr, 'shape', type(arr).__name__)}")
            return False
    try:
        if tuple(int(s) for s in shape) != (rows, cols):
            rules.add(checks.STRUCTURE, f"shape {shape!r}, expected {(rows, cols)}")
    except (TypeError, ValueError):
        rules.add(checks.STRUCTURE, f"shape must be a pair of ints, got {shape!r}")
    n_brow, n_bcol = rows // b, cols // b
    sound = indptr.dtype.kind in "iu" and indices.dtype.kind in "iu"
    if data.shape[1:] != (b, b) or data.shape[0] != indices.size:
        sound = not rules.add(checks.STRUCTURE, f"data must have shape ({indices.size}, {b}, {b}), got {data.shape}")
    if sound and (indptr.size != n_brow + 1 or indptr[0] != 0 or indptr[-1] != indices.size):
        sound = not rules.add(checks.STRUCTURE, f"indptr must have {n_brow + 1} entries from 0 to {indices.size}, "
                                                f"got {indptr[:8].tolist()}...")
    if sound:
        steps = np.diff(indptr.astype(np.int64))
        if (steps < 0).any():
            first = int(np.flatnonzero(steps < 0)[0])
            sound = not rules.add(checks.STRUCTURE, f"indptr decreases at block row {first}")
    if sound and indices.size and (indices.min() < 0 or indices.max() >= n_bcol):
        sound = not rules.add(checks.STRUCTURE, f"a block column index is outside [0, {n_bcol})")
    if sound:
        brow = np.repeat(np.arange(n_brow), steps)
        bad = (brow[1:] == brow[:-1]) & (indices[1:].astype(np.int64) <= indices[:-1].astype(np.int64))
        if bad.any():
            p = int(np.flatnonzero(bad)[0])
            rules.add(checks.STRUCTURE, f"block row {brow[p]} has block columns {indices[p]} then {indices[p + 1]}: "
                                        f"they must be strictly increasing")
    wide = sparse.needs_int64(n_brow, n_bcol, indices.size)
    for name, arr in (("indptr", indptr), ("indices", indices)):
        rules.add(checks.DTYPE, checks.index_array(name, arr, wide))
    if data.dtype != np.float64:
        rules.add(checks.DTYPE, f"data dtype must be float64, got {data.dtype}")
    return sound and data.dtype.kind == "f"


RETURN_BSR = "return BSR(indptr, indices, data, shape) (from harness.types import BSR)"


def _check(args, expected, got):
    A, b = args
    rules = checks.Rules()
    if _problems(got, A.shape[0], A.shape[1], b, rules):
        rules.add(checks.VALUES, _values(expected, got))
    return rules.report()


def _values(expected, got) -> str | None:
    indptr, indices, data, _ = got
    if indices.size != expected.indices.size or not np.array_equal(indptr, expected.indptr) \
            or not np.array_equal(indices, expected.indices):
        got_keys = set(zip(np.repeat(np.arange(indptr.size - 1), np.diff(indptr)).tolist(), indices.tolist()))
        want_keys = set(zip(np.repeat(np.arange(expected.indptr.size - 1), np.diff(expected.indptr)).tolist(),
                            expected.indices.tolist()))
        extra, missing = sorted(got_keys - want_keys)[:5], sorted(want_keys - got_keys)[:5]
        if not extra and not missing and indices.size == expected.indices.size:
            # the same blocks in another order (the ordering rule says so): compare values block by block
            order = np.lexsort((indices, np.repeat(np.arange(indptr.size - 1), np.diff(indptr))))
            indices, data = indices[order], data[order]
        else:
            return (f"{indices.size} blocks stored, expected {expected.indices.size} (a block is stored exactly "
                    f"when it holds a stored entry)\n  extra blocks (block row, block col): {extra}\n"
                    f"  missing: {missing}")
    same = (data == expected.data) | (np.isnan(data) & np.isnan(expected.data))
    if not same.all():
        p, r, c = (int(v) for v in np.argwhere(~same)[0])
        I = int(np.searchsorted(indptr, p, side="right") - 1)
        return (f"{int((~same).sum())} of {data.size} block values differ\n  block {p} (block row {I}, block col "
                f"{int(indices[p])}) at [{r}, {c}]: got {data[p, r, c]!r}, expected {expected.data[p, r, c]!r}")
    return None


def _notes(args, got) -> list[str]:
    A, b = args
    return checks.int64_note(list(got[:2]), sparse.needs_int64(A.shape[0] // b, A.shape[1] // b, got[1].size),
                             "int64 indices where int32 suffices: twice the index bytes")


def _describe(args):
    A, b = args
    text = sparse.describe_csr(A)
    return None if text is None else f"{text}\nb = {b}"


def _size(args) -> float:
    A, b = args
    return A.indices.size + b * b * _blocks(A, b) + A.shape[0] if b >= 1 and not (A.shape[0] % b or A.shape[1] % b) \
        else A.indices.size + A.shape[0]


def _blocks(A: CSR, b: int) -> int:
    rows = np.repeat(np.arange(A.shape[0], dtype=np.int64), np.diff(A.indptr.astype(np.int64)))
    return int(np.unique((rows // b) * (A.shape[1] // b + 1) + A.indices.astype(np.int64) // b).size)


def bytes_moved(args) -> float:
    """The bytes model: the CSR read once (12·nnz + 4·(rows + 1)), the BSR written once
    (8·b²·blocks + 4·blocks + 4·(rows/b + 1)), int32 indices and float64 values."""
    A, b = args
    if b < 1 or A.shape[0] % b or A.shape[1] % b:
        return 0.0
    blocks = _blocks(A, b)
    return ((A.data.itemsize + A.indices.itemsize) * A.indices.size + A.indptr.itemsize * (A.shape[0] + 1)
            + 8 * b * b * blocks + 4 * blocks + 4 * (A.shape[0] // b + 1))


TABLE_ROWS = 2**12


def padding_table(rows: int = TABLE_ROWS, seed: int = 0) -> list[tuple[str, list[float]]]:
    """The statement's table: stored BSR values / nnz for each generator structure (about `rows`
    rows, seeded) at b = 2, 4, 8, 16, 32."""
    out = []
    for name in gen.STRUCTURES:
        A = gen.make(name, np.random.default_rng(seed), rows)
        out.append((name, [st.bsr_padding(A, b) for b in st.BLOCK_SIZES]))
    return out


def padding_markdown(table) -> str:
    head = "| structure | " + " | ".join(f"b = {b}" for b in st.BLOCK_SIZES) + " |"
    rule = "|---|" + "---:|" * len(st.BLOCK_SIZES)
    return "\n".join([head, rule] + [f"| {name} | " + " | ".join(f"{v:.2f}" for v in cells) + " |"
                                     for name, cells in table])


PROBLEM = Problem(
    slug="csr-to-bsr",
    title="CSR to BSR (b x b blocks), and what the padding costs",
    difficulty="easy",
    entry="csr_to_bsr",
    edge_cases=EDGE_CASES,
    make_random=_random,
    random_sizes=[10, 300, 3_000, 100_000],
    bench_sizes=[100_000, 1_000_000, 10_000_000],
    make_bench=_bench,
    size_of=_size,
    size_unit="nnz+b²·blocks+rows",
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
