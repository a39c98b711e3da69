"""nm-sparsity: prune a float32 weight matrix to 2:4 by magnitude, compress it (values plus packed
2-bit positions) and multiply the pruned matrix by a dense X."""
import numpy as np

from harness import known
from harness.spec import Case, Limits, Problem
from harness.types import Sparse24
from problems._common import checks
from problems._common import structured as st

BENCH_ROWS = BENCH_COLS = 1024
U32 = 2.0**-24  # float32 unit roundoff


# written out with its answer in cases.toml: the statement's worked example (a 2 x 8 W, four groups,
# and X of shape (8, 2))
KNOWN = known.cases(__file__, args=lambda d: (np.array(d["W"], dtype=np.float32), np.array(d["X"], dtype=np.float32)),
                    parts=("S", "Y"))


def _normal(rng, rows, cols, n):
    return (rng.standard_normal((rows, cols)).astype(np.float32), rng.standard_normal((cols, n)).astype(np.float32))


def _tied(rng, rows, cols, n):
    """Weights on a coarse grid (-2 .. 2): equal magnitudes in most groups, so the tie rule decides."""
    W = rng.integers(-2, 3, (rows, cols)).astype(np.float32)
    return W, rng.standard_normal((cols, n)).astype(np.float32)


def _random(rng: np.random.Generator, size: int) -> tuple:
    """About `size` = rows·cols·(n/2 + 1): cols a multiple of 4 (odd and even group counts), n from
    1..33; half the cases on a coarse grid of ties."""
    n = int(rng.choice([1, 2, 7, 16, 33]))
    cols = 4 * int(rng.integers(1, 17))
    rows = max(1, size // (cols * (n // 2 + 1)))
    return (_tied if rng.random() < 0.5 else _normal)(rng, rows, cols, n)


def _bench(rng: np.random.Generator, size: int) -> tuple:
    n = max(1, round(size / (BENCH_ROWS * BENCH_COLS) - 1) * 2)
    return _normal(rng, BENCH_ROWS, BENCH_COLS, n)


def _ties(rng):
    W = np.array([[1.0, -1.0, 1.0, -1.0, 0.0, 0.0, 0.0, 0.0, -0.0, 0.0, 5.0, 0.0],
                  [2.0, 1.0, 2.0, 2.0, 0.25, -0.5, 0.5, -0.25, 7.0, -7.0, 7.0, 7.0]], dtype=np.float32)
    return W, rng.standard_normal((12, 3)).astype(np.float32)


def _already_sparse(rng):
    W, X = _normal(rng, 6, 16, 4)
    W.reshape(6, 4, 4)[..., 1::2] = 0.0  # positions 1 and 3 of every group are zero
    return W, X


def _kept_zero_times_inf(rng):
    W = np.array([[3.0, 0.0, 0.0, 0.0]], dtype=np.float32)  # keeps positions 0 and 1: 3 and a zero
    X = np.array([[1.0], [np.inf], [np.nan], [2.0]], dtype=np.float32)
    return W, X


EDGE_CASES = [
    *KNOWN,
    Case("ties: the lower position wins", _ties,
         "[1, -1, 1, -1] keeps 0 and 1; [0, 0, 0, 0] keeps 0 and 1; [-0, 0, 5, 0] keeps 0 and 2"),
    Case("one group", lambda rng: _normal(rng, 5, 4, 3), "cols = 4: the high nibble of each meta byte is 0"),
    Case("odd number of groups", lambda rng: _normal(rng, 3, 12, 2), "3 groups: the last byte holds one"),
    Case("0 rows", lambda rng: _normal(rng, 0, 8, 2), "values (0, 4), meta (0, 1), Y (0, 2)"),
    Case("0 columns", lambda rng: _normal(rng, 3, 0, 2), "values (3, 0), meta (3, 0), Y is (3, 2) zeros"),
    Case("n = 1", lambda rng: _normal(rng, 4, 8, 1), "X is a single column"),
    Case("already 2:4", _already_sparse, "pruning keeps exactly the non-zeros"),
    Case("huge and tiny magnitudes", lambda rng: ((np.array([[1e30, -1e-30, 1e-45, 3e38]] * 2, dtype=np.float32)
                                                  * np.array([[1], [-1]], dtype=np.float32)),
                                                 np.ones((4, 2), dtype=np.float32)),
         "denormals and near-overflow weights compare by magnitude like any others"),
    Case("a kept zero times inf", _kept_zero_times_inf, "both kept values take part: 3·1 + 0·inf is NaN"),
    Case("columns not a multiple of 4", lambda rng: _normal(rng, 2, 6, 2), "must raise ValueError"),
    Case("W is 1-D", lambda rng: (np.ones(8, dtype=np.float32), np.ones((8, 2), dtype=np.float32)),
         "must raise ValueError"),
    Case("X has the wrong number of rows", lambda rng: (np.ones((2, 8), dtype=np.float32),
                                                        np.ones((4, 2), dtype=np.float32)), "must raise ValueError"),
    Case("many ties", lambda rng: _tied(rng, 64, 32, 5)),
]


def _compare_sparse24(got, want: Sparse24, W: np.ndarray, rules: checks.Rules) -> None:
    """Every rule the Sparse24 breaks, added to `rules`: positions, meta, values, then dtypes."""
    if not isinstance(got, (tuple, list)) or len(got) != 3:
        rules.add(checks.STRUCTURE, f"the first result is {type(got).__name__}; expected Sparse24(values, meta, shape)")
        return
    values, meta, shape = got
    sound = True
    for name, arr, dt, shp in (("values", values, np.float32, want.values.shape),
                               ("meta", meta, np.uint8, want.meta.shape)):
        if not isinstance(arr, np.ndarray):
            sound = not rules.add(checks.STRUCTURE, f"{name} must be a numpy array, got {type(arr).__name__}")
        elif arr.shape != shp or arr.dtype.kind not in "fiu":
            sound = not rules.add(checks.STRUCTURE, f"{name} has dtype {arr.dtype} and shape {arr.shape}; "
                                                    f"expected {np.dtype(dt)} {shp}")
        elif arr.dtype != dt:
            rules.add(checks.DTYPE, f"{name} has dtype {arr.dtype}, expected {np.dtype(dt)}")
    try:
        if tuple(int(s) for s in shape) != tuple(want.shape):
            rules.add(checks.STRUCTURE, f"shape {shape!r}, expected {tuple(want.shape)}")
    except (TypeError, ValueError):
        rules.add(checks.STRUCTURE, f"shape must be a pair of ints, got {shape!r}")
    rows, cols = want.shape
    if not sound or not rows or not cols:
        return
    meta = meta.astype(np.uint8) if meta.dtype.kind in "iu" else meta
    pos_got = st.positions_24(Sparse24(values, meta, want.shape))
    pos_want = st.positions_24(want)
    bad_groups = np.argwhere((pos_got != pos_want).any(axis=-1))
    if bad_groups.size:
        lines = [f"kept positions differ in {len(bad_groups)} of {pos_want.shape[0] * pos_want.shape[1]} groups"]
        for i, g in bad_groups[:5]:
            lines.append(f"  row {i}, group {g}: W = {W[i, 4 * g:4 * g + 4].tolist()}, got positions "
                         f"{pos_got[i, g].tolist()}, expected {pos_want[i, g].tolist()}")
        rules.add(checks.VALUES, "\n".join(lines))
        return
    if not np.array_equal(meta, want.meta):
        i, j = np.argwhere(meta != want.meta)[0]
        rules.add(checks.VALUES, f"meta bytes differ (unused bits must be 0): meta[{i}, {j}] = {meta[i, j]}, "
                                 f"expected {want.meta[i, j]}")
    if not np.array_equal(values, want.values, equal_nan=True):
        i, j = np.argwhere(values != want.values)[0]
        rules.add(checks.VALUES, f"values differ: values[{i}, {j}] = {values[i, j]!r}, expected {want.values[i, j]!r}")


def _check(args, expected, got):
    """Every rule the pair breaks: the Sparse24 (positions, meta, values), Y's values, then dtypes."""
    W, X = args
    want_S, want_Y = expected
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        return f"returned {type(got).__name__}; expected a pair (Sparse24, Y)"
    rules = checks.Rules()
    _compare_sparse24(got[0], want_S, W, rules)
    Y = got[1]
    if not isinstance(Y, np.ndarray) or Y.shape != want_Y.shape or Y.dtype.kind != "f":
        what = f"{Y.dtype} {Y.shape}" if isinstance(Y, np.ndarray) else type(Y).__name__
        rules.add(checks.STRUCTURE, f"Y must be a float32 array of shape {want_Y.shape}, got {what}")
        return rules.report()
    from problems._common import sparse

    finite = lambda a: np.where(np.isfinite(a), np.abs(a), 0.0)  # noqa: E731
    abs_sum = finite(st.dense_24(want_S).astype(np.float64)) @ finite(X.astype(np.float64))
    tol = max(1e-6, 2.0 * (X.shape[0] // 2 + 2) * U32) * abs_sum  # float32 sums of cols/2 terms
    rules.add(checks.VALUES, sparse.compare_dense(Y.astype(np.float64), want_Y.astype(np.float64), tol))
    if Y.dtype != np.float32:
        rules.add(checks.DTYPE, f"Y has dtype {Y.dtype}, expected float32")
    return rules.report()


def _describe(args):
    W, X = args
    if W.size > 48 or X.size > 48:
        return None
    with np.printoptions(precision=4, linewidth=100):
        return f"W (shape {W.shape}) =\n{W!r}\nX (shape {X.shape}) =\n{X!r}"


def _size(args) -> float:
    W, X = args
    n = X.shape[1] if X.ndim == 2 else 1
    return W.size * (n / 2 + 1)


def bytes_moved(args) -> float:
    """The bytes model: W read once (4·rows·cols), values and meta written once
    (2·rows·cols + rows·cols/8), X read once (4·cols·n), Y written once (4·rows·n)."""
    W, X = args
    rows, cols = W.shape if W.ndim == 2 else (1, W.size)
    n = X.shape[1] if X.ndim == 2 else 1
    return 4 * rows * cols + 2 * rows * cols + rows * cols / 8 + 4 * cols * n + 4 * rows * n


PROBLEM = Problem(
    slug="nm-sparsity",
    title="2:4 structured sparsity: prune, compress, multiply",
    difficulty="medium",
    entry="nm_sparsity",
    edge_cases=EDGE_CASES,
    make_random=_random,
    random_sizes=[10, 300, 3_000, 100_000],
    bench_sizes=[2**22, 2**24, 2**26],
    make_bench=_bench,
    size_of=_size,
    size_unit="rows·cols·(n/2+1)",
    expected_exponent=1.0,
    check=_check,
    oracle="numpy",
    timing_reference="numba",
    forbidden_imports=("torch",),
    allowed_errors=(ValueError,),
    describe=_describe,
    bytes_of=bytes_moved,
    gemm_dtype="float32",  # the grade shows % of this machine's float32 GEMM rate
    flops_of=lambda args: float(args[0].size * args[1].shape[1]),  # 2 per kept weight per column
    limits=Limits(wall_s=30.0),
    tags=("structured sparsity", "weight sparsity"),
)
