"""The yardstick table: every reference against its peers, as interleaved ratios with intervals.

    sparsebench yardstick table                         # everything, full size (about 15-20 min, quiet machine)
    sparsebench yardstick table --scale 0.05            # a smoke run (about a minute)
    sparsebench yardstick table --problems spmv spmm --threads 1
    python benchmarks/yardstick_table.py --scale 0.05   # the same, as a script

The rows and their targets are data: benchmarks/yardstick.toml (problem, case, impl, peer, threads,
target). The inputs are CASES below, or the problem's own speed input ("bench:N"). For each input all
the sides its rows need (an implementation at a thread count) are timed in one process, round after
round, the order rotating each round (harness.pairs.interleave: the grader's rule), every side's answer
first checked against the problem's oracle. A row's ratio is the median over rounds of
peer time / impl time, with a bootstrap 95% interval (harness.stats); its target is met only when the
interval's lower end clears it. `dense` is one GEMM of the same FLOPs, into an output allocated once
(harness.yardstick.gemm_pass); `triad` the share of this
machine's STREAM-triad bandwidth (`sparsebench yardstick`).

Writes OUT/table.md (markdown: the table, then the targets met and missed), OUT/table.csv (one line a
row) and OUT/table.json (the rows plus every side's per-round times, to re-analyse), OUT defaulting to
results/bench/yardstick. Sizes at --scale 1 are the issue's: spmv and spmm on a 3D Laplacian of 10⁶
rows, a uniform 2·10⁶ × 2·10⁶ matrix with 10 entries per row and power-law rows (10⁶ rows, 10⁷ entries);
spgemm's A·A on a 60³ Laplacian, 2·10⁵ uniform rows and 2·10⁵ power-law rows (the 10⁶-row ones take
seconds a call); coo-to-csr and csr-transpose at nnz 10⁵, 10⁶, 10⁷; the MoE layers at T = 8192, D = 512,
H = 1024, E = 8, k = 2. --scale multiplies the rows (tokens, entries).
"""
from __future__ import annotations

import argparse
import csv
import io
import json
import math
import sys
import time
import tomllib
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from functools import cache, partial
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from harness import pairs, problems, stats  # noqa: E402
from harness.problems import load_module  # noqa: E402

ROWS_FILE = Path(__file__).with_name("yardstick.toml")
DEFAULT_OUT = ROOT / "results" / "bench" / "yardstick"
SPECIAL = ("dense", "triad")  # peers that are not files of the problem


# -- inputs -------------------------------------------------------------------------------------
@dataclass
class Input:
    """One benchmark input: the call's arguments, a line saying what they are, and the shape (m, k)
    and dtype of the dense GEMM of equal FLOPs (the `dense` peer), when that peer makes sense."""

    args: tuple
    label: str
    dense: tuple[int, int, str] | None = None


def _rows(n: float, scale: float, least: int = 8) -> int:
    return max(least, round(n * scale))


@cache
def _matrix(structure: str, rows: int):
    """The sparse-products suite's matrices (benchmarks/common.py builds the same ones), seeded."""
    from problems._common import generators as gen

    rng = np.random.default_rng(20240601)
    if structure == "laplacian-3d":
        return gen.laplacian_3d(max(2, round(rows ** (1 / 3))))
    if structure == "uniform":
        return gen.uniform(rng, rows, rows, per_row=10)
    if structure == "power-law":
        return gen.power_law(rng, rows, rows, nnz=10 * rows)
    raise ValueError(structure)


STRUCTURE_ROWS = {"laplacian-3d": 1_000_000, "uniform": 2_000_000, "power-law": 1_000_000}
SPGEMM_ROWS = {"laplacian-3d": 216_000, "uniform": 200_000, "power-law": 200_000}
SPMM_K = 16


def _describe_csr(A) -> str:
    return f"{A.shape[0]:,} x {A.shape[1]:,}, nnz {A.indices.size:,}"


def _spmv(structure: str):
    def make(scale: float) -> Input:
        A = _matrix(structure, _rows(STRUCTURE_ROWS[structure], scale))
        return Input((A, np.random.default_rng(1).standard_normal(A.shape[1])), _describe_csr(A))
    return make


def _spmm(structure: str):
    def make(scale: float) -> Input:
        A = _matrix(structure, _rows(STRUCTURE_ROWS[structure], scale))
        X = np.random.default_rng(1).standard_normal((A.shape[1], SPMM_K))
        return Input((A, X), f"{_describe_csr(A)}, k {SPMM_K}")
    return make


def _spgemm(structure: str):
    def make(scale: float) -> Input:
        A = _matrix(structure, _rows(SPGEMM_ROWS[structure], scale))
        products = int(np.diff(A.indptr.astype(np.int64))[A.indices].sum())
        return Input((A, A), f"A·A, A {_describe_csr(A)}, {products:,} products")
    return make


def _coo(nnz: int):
    def make(scale: float) -> Input:
        from problems._common import sparse

        n = _rows(nnz, scale)
        A = sparse.random_coo(np.random.default_rng(0), n, sparse.coo_shape_for(n), dup_frac=0.1)
        return Input((A,), f"{A.shape[0]:,} x {A.shape[1]:,}, {n:,} triplets, ~10% repeated")
    return make


def _transpose(nnz: int):
    def make(scale: float) -> Input:
        from problems._common import sparse

        n = _rows(nnz, scale)
        rows = max(1, n // 8)
        C = sparse.random_csr(np.random.default_rng(0), n, (rows, rows * 3 // 2))
        return Input((C,), _describe_csr(C))
    return make


MOE = dict(T=8192, D=512, H=1024, E=8, k=2)


def _moe(backward: bool):
    def make(scale: float) -> Input:
        from problems._common import moe

        T, D, H, E, k = _rows(MOE["T"], scale, 64), MOE["D"], MOE["H"], MOE["E"], MOE["k"]
        rng = np.random.default_rng(8192)
        args = (moe.backward_args if backward else moe.forward_args)(rng, T, D, H, E, k, None)
        return Input(args, f"T {T:,}, D {D}, H {H}, E {E}, k {k}, float32, no capacity", dense=(T, D, "float32"))
    return make


DROPLESS = dict(rows=8192, D=512, H=1024, E=8, k=2)


def _dropless(slug: str, mix: str):
    def make(scale: float) -> Input:
        from benchmarks.grouped_gemm_vs_dense import case_args

        rows = _rows(DROPLESS["rows"], scale, DROPLESS["E"])
        d = DROPLESS
        args = case_args(slug, mix, rows, d["D"], d["H"], d["E"], d["k"])
        what = "rows" if slug.startswith("grouped") else "tokens"
        return Input(args, f"{what} {rows:,}, D {d['D']}, H {d['H']}, E {d['E']}"
                     + ("" if slug.startswith("grouped") else f", k {d['k']}") + f", {mix}, float32",
                     dense=(rows, d["D"], "float32"))
    return make


def _attention(L: int):
    def make(scale: float) -> Input:
        spec = load_module(problems.get("sparse-attention").folder / "spec.py")
        n = max(spec.ROW_LEN + 1, round(L * scale))
        size = n * spec.ROW_LEN * 2 * spec.BENCH_D
        args = problems.get("sparse-attention").bench_args(np.random.default_rng(0), size)
        density = args[3].indices.size / (args[3].shape[0] * args[3].shape[1])
        return Input(args, f"L {args[0].shape[0]:,}, window {spec.BENCH_WINDOW}, d = dv = {spec.BENCH_D}, "
                     f"density {100 * density:.1f}%, float32")
    return make


# (problem, case) -> make(scale): the named inputs of the rows ("bench:N" needs no entry)
CASES: dict[tuple[str, str], Callable[[float], Input]] = {
    **{("spmv", s): _spmv(s) for s in STRUCTURE_ROWS},
    **{("spmm", s): _spmm(s) for s in STRUCTURE_ROWS},
    **{("spgemm", s): _spgemm(s) for s in SPGEMM_ROWS},
    **{("coo-to-csr", f"nnz-1e{p}"): _coo(10**p) for p in (5, 6, 7)},
    **{("csr-transpose", f"nnz-1e{p}"): _transpose(10**p) for p in (5, 6, 7)},
    ("moe-forward", "T8192"): _moe(False),
    ("moe-backward", "T8192"): _moe(True),
    **{(slug, mix): _dropless(slug, mix) for slug in ("grouped-gemm", "grouped-gemm-backward", "moe-dropless",
                                                      "moe-dropless-backward") for mix in ("balanced", "skewed")},
    ("sparse-attention", "window128-L4096"): _attention(4096),
}


def make_input(problem, case: str, scale: float) -> Input:
    if case.startswith("bench:"):
        n = max(1, round(int(case.split(":", 1)[1]) * scale))
        args = problem.bench_args(np.random.default_rng(0), n)
        return Input(args, f"the grader's speed input at {problem.size_unit} = {problem.size_of(args):,.0f}")
    try:
        return CASES[(problem.slug, case)](scale)
    except KeyError:
        known = sorted(c for p, c in CASES if p == problem.slug)
        raise SystemExit(f"{ROWS_FILE.name}: no case {case!r} for {problem.slug} (known: {', '.join(known) or 'none'}; "
                         "or bench:N)") from None


# -- rows ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Row:
    problem: str
    case: str
    impl: str
    peer: str
    threads: int
    peer_threads: int
    target: float | None = None


def load_rows(path: Path = ROWS_FILE) -> list[Row]:
    data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    out = []
    for i, r in enumerate(data.get("rows", [])):
        unknown = set(r) - {"problem", "case", "impl", "peer", "threads", "peer_threads", "target"}
        if unknown or not {"problem", "case", "impl", "peer", "threads"} <= set(r):
            raise ValueError(f"{path.name}: row {i + 1} needs problem, case, impl, peer, threads "
                             f"(optional peer_threads, target); unknown: {sorted(unknown)}")
        t = int(r["threads"])
        out.append(Row(r["problem"], r["case"], r["impl"], r["peer"], t, int(r.get("peer_threads", t)),
                       None if r.get("target") is None else float(r["target"])))
    return out


def select(rows: list[Row], problems_: list[str] | None, threads: list[int] | None) -> list[Row]:
    """Rows of the named problems (all when None) whose threads are all among `threads`."""
    keep = []
    for r in rows:
        if problems_ and r.problem not in problems_:
            continue
        if threads and not ({r.threads} | ({r.peer_threads} if r.peer != "triad" else set())) <= set(threads):
            continue
        keep.append(r)
    return keep


# -- sides --------------------------------------------------------------------------------------
class Threads:
    """Sets Numba's, every loaded BLAS's and torch's thread count (only when it changes, or when
    `loaded()` says a library may have arrived since: threadpoolctl limits only the libraries
    loaded when it is called, and numba loads SciPy's OpenBLAS when it first compiles an np.dot,
    which then ran on every core in a "1 thread" row)."""

    def __init__(self) -> None:
        self.current: int | None = None

    def loaded(self) -> None:
        self.current = None

    def __call__(self, n: int) -> None:
        if n == self.current:
            return
        import numba
        from threadpoolctl import threadpool_limits

        numba.set_num_threads(min(n, numba.config.NUMBA_NUM_THREADS))
        threadpool_limits(n)
        torch = sys.modules.get("torch")
        if torch is not None:
            torch.set_num_threads(n)
        self.current = n


def side_name(impl: str, threads: int) -> str:
    return f"{impl}@{threads}"


def available(problem, key: str) -> bool:
    if key in SPECIAL:
        return True
    path = problem.references.get(key) or problem.baselines.get(key)
    return path is not None and problems.runnable(path)


def implementation(problem, key: str) -> Callable:
    path = problem.references.get(key) or problem.baselines.get(key)
    if path is None:
        known = ", ".join([*problem.references, *problem.baselines, *SPECIAL])
        raise SystemExit(f"{problem.slug} has no implementation {key!r} (known: {known})")
    return getattr(load_module(path), problem.entry)


def dense_operands(problem, inp: Input) -> tuple[np.ndarray, np.ndarray]:
    """a (m, k) @ b (k, n) with 2·m·k·n the problem's FLOP model of the input (harness.yardstick.
    equal_flop_shape: the width off a multiple of 256 columns, m adjusted)."""
    from harness import yardstick

    if inp.dense is None or problem.flops_of is None:
        raise SystemExit(f"{problem.slug}: the input has no dense GEMM shape or the problem no FLOP model")
    m, k, dtype = inp.dense
    m, k, n = yardstick.equal_flop_shape(float(problem.flops_of(inp.args)), m, k)
    rng = np.random.default_rng(1)
    return rng.standard_normal((m, k)).astype(dtype), rng.standard_normal((k, n)).astype(dtype)


# -- one input: time its sides, then its rows ----------------------------------------------------
@dataclass
class Result:
    problem: str
    case: str
    input: str
    impl: str
    threads: int
    peer: str
    peer_threads: int
    ratio: float
    lo: float
    hi: float
    target: float | None
    met: bool | None
    rounds: int
    impl_ms: float
    impl_spread: float
    peer_ms: float | None
    note: str = ""
    gbytes_per_s: float | None = None
    gflops: float | None = None
    extra: dict = field(default_factory=dict)


def measure_input(problem, case: str, rows: list[Row], *, scale: float, min_rounds: int, max_rounds: int,
                  budget_s: float, threads: Threads, seed: int = 0,
                  log=print) -> tuple[list[Result], dict]:
    """Time every side the rows of one input need, interleaved; return the rows' results and the raw times."""
    from harness import yardstick

    t0 = time.perf_counter()
    inp = make_input(problem, case, scale)
    triad_n = max(1 << 20, round(yardstick.triad_elements() * min(1.0, scale)))
    built = time.perf_counter() - t0
    wanted: dict[str, tuple[str, int]] = {}
    for r in rows:
        wanted[side_name(r.impl, r.threads)] = (r.impl, r.threads)
        wanted[side_name(r.peer, r.peer_threads)] = (r.peer, r.peer_threads)
    skipped = {name for name, (key, _) in wanted.items() if not available(problem, key)}
    oracle = implementation(problem, problem.oracle)
    expected = oracle(*inp.args)
    sides = []
    for name, (key, n) in wanted.items():
        if name in skipped:
            continue
        if key == "dense":
            call = yardstick.gemm_pass(*dense_operands(problem, inp))
        elif key == "triad":
            call = yardstick.triad_pass(triad_n, n)
        else:
            fn = implementation(problem, key)
            threads(n)
            message = problem.check(inp.args, expected, fn(*inp.args))  # also the warm-up (JIT compilation)
            threads.loaded()  # the warm-up may have loaded a BLAS: limit it too
            threads(n)
            if message:
                raise SystemExit(f"{problem.slug} {case}: {key} is wrong on the benchmark input: "
                                 f"{message.splitlines()[0]}")
            call = partial(fn, *inp.args)
        sides.append(pairs.Side(name, call, setup=partial(threads, n)))
    del expected
    for s in sides:  # the checks warmed the implementations up; the dense GEMMs and triads still need it
        if s.name.split("@")[0] in SPECIAL:
            s.setup()
            s.call()
    times = pairs.interleave(sides, min_rounds=min_rounds, max_rounds=max_rounds, budget_s=budget_s, warmup=False)
    log(f"{problem.slug} {case}: {inp.label}; {len(next(iter(times.values())))} rounds of "
        f"{', '.join(times)} in {time.perf_counter() - t0:.1f} s (input {built:.1f} s)")
    bytes_moved = float(problem.bytes_of(inp.args)) if problem.bytes_of else None
    flops = float(problem.flops_of(inp.args)) if problem.flops_of else None
    results = []
    for r in rows:
        mine = times.get(side_name(r.impl, r.threads))
        peer_name = side_name(r.peer, r.peer_threads)
        if mine is None or peer_name not in times:
            missing = [n for n in (side_name(r.impl, r.threads), peer_name) if n in skipped]
            results.append(Result(r.problem, r.case, inp.label, r.impl, r.threads, r.peer, r.peer_threads,
                                  math.nan, math.nan, math.nan, r.target, None, 0, math.nan, math.nan, None,
                                  note=f"not run: {', '.join(missing)} cannot run here (a missing module)"))
            continue
        med = stats.median(mine)
        res = Result(r.problem, r.case, inp.label, r.impl, r.threads, r.peer, r.peer_threads, math.nan, math.nan,
                     math.nan, r.target, None, int(mine.size), 1e3 * med, stats.spread(mine), None,
                     gbytes_per_s=bytes_moved / med / 1e9 if bytes_moved else None,
                     gflops=flops / med / 1e9 if flops else None)
        theirs = times[peer_name]
        res.peer_ms = 1e3 * stats.median(theirs)
        iv = pairs.ratio(theirs, mine, seed=seed)
        if r.peer == "triad":  # (bytes / impl time) / (triad bytes / triad time), round by round
            if not bytes_moved:
                raise SystemExit(f"{problem.slug}: a triad row needs the problem's bytes model (bytes_of)")
            share = bytes_moved / (24.0 * triad_n)
            iv = pairs.Interval(share * iv.median, share * iv.lo, share * iv.hi, iv.rounds)
            res.note = f"triad of {triad_n:,} float64 at {r.peer_threads} thread(s), in the same rounds"
        res.ratio, res.lo, res.hi = iv.median, iv.lo, iv.hi
        res.met = None if r.target is None or math.isnan(res.lo) else bool(res.lo >= r.target)
        results.append(res)
    return results, {"problem": problem.slug, "case": case, "input": inp.label,
                     "times_s": {k: v.tolist() for k, v in times.items()}}


# -- the whole table ----------------------------------------------------------------------------
def run_table(rows: list[Row], *, scale: float, min_rounds: int, max_rounds: int, budget_s: float,
              log=print) -> tuple[list[Result], list[dict]]:
    threads = Threads()
    by_input: dict[tuple[str, str], list[Row]] = {}
    for r in rows:
        by_input.setdefault((r.problem, r.case), []).append(r)
    results, raw = [], []
    for (slug, case), group in by_input.items():
        problem = problems.get(slug)
        got, times = measure_input(problem, case, group, scale=scale, min_rounds=min_rounds, max_rounds=max_rounds,
                                   budget_s=budget_s, threads=threads, log=log)
        results.extend(got)
        raw.append(times)
    return results, raw


def _fmt_ratio(r: Result) -> str:
    if math.isnan(r.ratio):
        return "-"
    if r.peer == "triad":
        return f"{100 * r.ratio:.0f}%"
    return f"{r.ratio:.2f}x"


def _fmt_interval(r: Result) -> str:
    if math.isnan(r.lo):
        return "-"
    if r.peer == "triad":
        return f"{100 * r.lo:.0f}-{100 * r.hi:.0f}%"
    return f"{r.lo:.2f}-{r.hi:.2f}"


def _fmt_target(r: Result) -> str:
    if r.target is None:
        return ""
    return f"≥ {100 * r.target:.0f}%" if r.peer == "triad" else f"≥ {r.target:g}x"


def _verdict(r: Result) -> str:
    return {True: "met", False: "missed", None: ""}[r.met]


def _peer_label(r: Result) -> str:
    if r.peer == "triad":
        return "triad bandwidth"
    return r.peer if r.peer_threads == r.threads else f"{r.peer} @{r.peer_threads}t"


def markdown(results: list[Result], meta: dict) -> str:
    out = io.StringIO()
    out.write("# The yardstick table: references against their peers\n\n")
    out.write(f"`{meta['command']}` · {meta['date']} · {meta['machine']} · scale {meta['scale']:g} · "
              f"{meta['min_rounds']}-{meta['max_rounds']} interleaved rounds per input (budget "
              f"{meta['budget_s']:g} s of timed calls) · {meta['minutes']:.1f} min\n\n")
    for t, y in sorted(meta["yardsticks"].items()):
        if "triad_gbytes_per_s" in y:
            out.write(f"- `sparsebench yardstick` at {t} thread(s) (cached, measured {y.get('measured_at', '?')}): "
                      f"STREAM triad {y['triad_gbytes_per_s']:.1f} GB/s, dense GEMM "
                      f"{y.get('gemm_gflops', math.nan):.1f} GFLOP/s float64, "
                      f"{y.get('gemm_gflops_float32', math.nan):.1f} float32\n")
    if not meta["yardsticks"]:
        out.write("- no cached machine yardsticks: `sparsebench yardstick --threads 1 2` measures them\n")
    out.write("\nratio = median over rounds of peer time / impl time (> 1: the reference is faster), 95% bootstrap "
              "interval over the rounds; a target is **met** only when the interval's lower end clears it. "
              "triad rows: the bytes model's GB/s over a STREAM triad's, the triad timed in the same rounds.\n\n")
    out.write("| problem | input | impl | threads | vs | ratio | 95% interval | target | | rounds | impl ms | peer ms "
              "| impl spread | GB/s | GFLOP/s |\n")
    out.write("|---|---|---|--:|---|--:|--:|--:|---|--:|--:|--:|--:|--:|--:|\n")
    for r in results:
        out.write(f"| {r.problem} | {r.case}: {r.input} | {r.impl} | {r.threads} | {_peer_label(r)} | "
                  f"{_fmt_ratio(r)} | {_fmt_interval(r)} | {_fmt_target(r)} | {_verdict(r)} | {r.rounds} | "
                  f"{_num(r.impl_ms)} | {_num(r.peer_ms)} | {_pct(r.impl_spread)} | {_num(r.gbytes_per_s)} | "
                  f"{_num(r.gflops)} |" + (f" {r.note}" if r.note and r.note.startswith("not run") else "") + "\n")
    judged = [r for r in results if r.met is not None]
    missed = [r for r in judged if not r.met]
    out.write(f"\n**Targets: {len(judged) - len(missed)} of {len(judged)} met** (by the interval's lower end).\n")
    if missed:
        out.write("\nMissed:\n\n")
        for r in missed:
            short = r.target / r.lo - 1 if r.lo > 0 else math.inf
            out.write(f"- {r.problem} {r.case}, {r.impl} @{r.threads} vs {_peer_label(r)}: {_fmt_ratio(r)} "
                      f"[{_fmt_interval(r)}], target {_fmt_target(r)}: the lower end is {100 * short:.0f}% short\n")
    return out.getvalue()


def _num(v: float | None) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return ""
    return f"{v:.3g}"


def _pct(v: float) -> str:
    return "" if v is None or math.isnan(v) else f"{100 * v:.1f}%"


CSV_FIELDS = ["problem", "case", "input", "impl", "threads", "peer", "peer_threads", "ratio", "lo", "hi", "target",
              "met", "rounds", "impl_ms", "impl_spread", "peer_ms", "gbytes_per_s", "gflops", "note"]


def to_csv(results: list[Result]) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, CSV_FIELDS, extrasaction="ignore", lineterminator="\n")
    w.writeheader()
    for r in results:
        w.writerow({k: ("" if v is None else v) for k, v in asdict(r).items()})
    return buf.getvalue()


# -- command line -------------------------------------------------------------------------------
def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--scale", type=float, default=1.0, help="multiplies the inputs' rows (tokens, entries); "
                   "0.05 is a smoke run of about a minute")
    p.add_argument("--threads", type=int, nargs="+", default=[1, 2], help="keep rows at these thread counts (1 2)")
    p.add_argument("--problems", nargs="+", metavar="SLUG", help="only these problems (default: every row)")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help="folder for table.md, table.csv, table.json")
    p.add_argument("--rows", type=Path, default=ROWS_FILE, help="rows and targets (default benchmarks/yardstick.toml)")
    p.add_argument("--min-rounds", type=int, default=15)
    p.add_argument("--max-rounds", type=int, default=61)
    p.add_argument("--budget", type=float, help="seconds of timed calls per input before stopping at min rounds "
                   "(default 8 x scale, at least 0.2)")


def canonical(args: argparse.Namespace) -> str:
    """The options of a run, spelled out (for the table's header)."""
    text = f"--scale {args.scale:g} --threads {' '.join(map(str, args.threads))}"
    if args.problems:
        text += f" --problems {' '.join(args.problems)}"
    if args.rows != ROWS_FILE:
        text += f" --rows {args.rows}"
    return text + (f" --min-rounds {args.min_rounds} --max-rounds {args.max_rounds}"
                   + (f" --budget {args.budget:g}" if args.budget is not None else ""))


def run(args: argparse.Namespace, command: str = "sparsebench yardstick table") -> int:
    from harness import machine, yardstick

    start = time.perf_counter()
    rows = select(load_rows(args.rows), args.problems, args.threads)
    if not rows:
        print("no rows match", file=sys.stderr)
        return 2
    unknown = sorted({r.problem for r in rows} - set(problems.slugs()))
    if unknown:
        print(f"{args.rows.name} names unknown problems: {', '.join(unknown)}", file=sys.stderr)
        return 2
    budget = args.budget if args.budget is not None else max(0.2, 8.0 * args.scale)
    counts = sorted({r.threads for r in rows} | {r.peer_threads for r in rows})
    cached = yardstick._read_cache(yardstick.cache_file()).get(yardstick.machine_key(), {})
    yardsticks = {t: cached[str(t)] for t in counts if str(t) in cached}  # the header only: rows time their triads
    results, raw = run_table(rows, scale=args.scale, min_rounds=args.min_rounds, max_rounds=args.max_rounds,
                             budget_s=budget, log=lambda s: print(s, flush=True))
    info = machine.info()
    meta = {"command": f"{command} {canonical(args)}",
            "date": datetime.now(UTC).isoformat(timespec="seconds"),
            "machine": f"{info.get('cpu', '?')}, {info.get('cores', '?')} cores", "scale": args.scale,
            "min_rounds": args.min_rounds, "max_rounds": args.max_rounds, "budget_s": budget,
            "minutes": (time.perf_counter() - start) / 60, "yardsticks": {str(k): v for k, v in yardsticks.items()}}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "table.md").write_text(markdown(results, meta), encoding="utf-8")
    (args.out / "table.csv").write_text(to_csv(results), encoding="utf-8")
    (args.out / "table.json").write_text(json.dumps({"meta": meta, "rows": [asdict(r) for r in results],
                                                     "times": raw}, indent=1, default=float), encoding="utf-8")
    judged = [r for r in results if r.met is not None]
    print(f"targets met: {sum(r.met for r in judged)} of {len(judged)}; wrote {args.out}/table.md, table.csv, "
          f"table.json ({meta['minutes']:.1f} min)")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_arguments(parser)
    return run(parser.parse_args(argv), command="python benchmarks/yardstick_table.py")


if __name__ == "__main__":
    sys.exit(main())
