"""Hardware yardsticks: what this machine's memory and BLAS can do, measured once and cached.

A bytes model over a time gives GB/s; divided by the STREAM-triad bandwidth measured at the
same thread count it says how close a memory-bound kernel (SpMV, SpMM) runs to the machine's
limit, a figure that, unlike a speedup, means the same on every machine. The dense GEMM rate
is the matching ceiling for arithmetic.

Both are measured in a fresh interpreter with the BLAS thread variables fixed (as in the
sandbox), once per machine, NumPy version and thread count, and cached in
`cache_dir()/yardstick.json`. `sparsebench yardstick --refresh` measures again.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, UTC
from pathlib import Path

import numpy as np

from harness import ROOT
from harness.sandbox import THREAD_VARS, cache_dir

CHUNK = 1 << 15  # elements per triad step: 256 KiB per array, so the temporary stays in cache
MIN_TRIAD_ELEMENTS = 1 << 23  # 64 MiB per array at least
MAX_TRIAD_ELEMENTS = 1 << 27
GEMM_N = 2048
TIMEOUT_S = 300.0


def cache_file() -> Path:
    return cache_dir() / "yardstick.json"


def machine_key() -> str:
    """What the figures depend on: the host, its CPU, and the NumPy (so the BLAS) in use."""
    from harness import machine

    info = machine.info()
    return f"{info['node']}|{info['cpu']}|{info['cores']} cores|numpy {np.__version__}"


def _last_level_cache_bytes() -> int:
    """Size of the largest CPU cache (Linux sysfs, else sysconf; 0 when unknown)."""
    sizes = []
    for f in Path("/sys/devices/system/cpu/cpu0/cache").glob("index*/size"):
        text = f.read_text().strip().upper()
        scale = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}.get(text[-1:], 1)
        try:
            sizes.append(int(text.rstrip("KMG")) * scale)
        except ValueError:
            continue
    for name in ("SC_LEVEL3_CACHE_SIZE", "SC_LEVEL2_CACHE_SIZE"):
        try:
            sizes.append(int(os.sysconf(name)))
        except (ValueError, OSError):
            continue
    return max(sizes, default=0)


def triad_elements() -> int:
    """STREAM's rule: each array at least four times the last-level cache."""
    return int(min(MAX_TRIAD_ELEMENTS, max(MIN_TRIAD_ELEMENTS, 4 * _last_level_cache_bytes() // 8)))


def triad_pass(n: int, threads: int):
    """A function doing one STREAM-triad pass a = b + q·c over `n` float64 elements, counted as
    STREAM does: 24·n bytes (two reads, one write). The triad runs in cache-sized chunks, so
    NumPy's temporary for q·c never reaches memory: one pass over memory, like STREAM's fused
    loop. Each of `threads` threads owns a contiguous slice (NumPy releases the GIL inside ufuncs)."""
    a, b, c = np.zeros(n), np.full(n, 1.0), np.full(n, 2.0)  # written once: pages are mapped
    a += 1.0
    bounds = np.linspace(0, n, threads + 1).astype(np.int64)

    def work(lo: int, hi: int) -> None:
        tmp = np.empty(CHUNK)
        for s in range(lo, hi, CHUNK):
            e = min(s + CHUNK, hi)
            t = tmp[: e - s]
            np.multiply(c[s:e], 3.0, out=t)
            np.add(b[s:e], t, out=a[s:e])

    def one_pass() -> None:
        if threads == 1:
            work(0, n)
            return
        workers = [threading.Thread(target=work, args=(int(bounds[i]), int(bounds[i + 1]))) for i in range(threads)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()

    return one_pass


def triad_gbytes_per_s(n: int, threads: int, reps: int = 10) -> float:
    """Best-of-`reps` bandwidth of `triad_pass` (24 bytes per element)."""
    one_pass = triad_pass(n, threads)
    best = float("inf")
    for _ in range(reps):
        t0 = time.perf_counter()
        one_pass()
        best = min(best, time.perf_counter() - t0)
    return 24.0 * n / best / 1e9


GEMM_DTYPES = ("float64", "float32")


def gemm_key(dtype: str) -> str:
    """The figure holding the dense GEMM rate for `dtype`: gemm_gflops (float64), gemm_gflops_float32."""
    if dtype not in GEMM_DTYPES:
        raise ValueError(f"no GEMM yardstick for {dtype!r}; measured: {', '.join(GEMM_DTYPES)}")
    return "gemm_gflops" if dtype == "float64" else f"gemm_gflops_{dtype}"


ALIASED_COLUMNS = 256  # a GEMM whose width is a multiple of this ran slower (see equal_flop_shape)


def equal_flop_shape(flops: float, m: int, k: int) -> tuple[int, int, int]:
    """(m', k, n): the shape of the `dense` peer, a (m', k) @ (k, n) GEMM of `flops` FLOPs
    (2·m'·k·n, within a relative 0.5/m once the width moves: 0.006% at m = 8,192).

    n is flops / (2·m·k), moved off a multiple of 256 columns, and m' adjusted to keep the FLOPs:
    a power-of-two width (1,024, 2,048, 4,096 float32 columns) puts the rows of B and C at
    strides that alias in the caches. (8192 x 512) @ (512 x 4096) ran at 154.7 GFLOP/s against
    158.3 at 4,104 columns, 1,024 columns at 146.5 against 150.2 at 1,032 (one thread, nine
    interleaved rounds, Intel Xeon, 2026-12-03). The peer is the machine's GEMM rate, not that
    pathology: before, a problem whose FLOPs made such a width was measured against a slower
    peer than the others."""
    n = max(1, round(flops / (2.0 * m * k)))
    if n >= ALIASED_COLUMNS and n % ALIASED_COLUMNS == 0:
        wide = n + 8
        m = max(1, round(m * n / wide))
        n = wide
    return m, k, n


def gemm_pass(a: np.ndarray, b: np.ndarray):
    """A function doing one GEMM a @ b into one output allocated here, once: a peer at the BLAS's
    rate. A fresh output each call times the allocator too, and its page faults: moe-backward's
    equal-FLOP GEMM writes 336 MB, and with a fresh output it took 0.5 s or 1.2 s a call (one
    thread, the same inputs, a 2-vCPU VM), which made every ratio against it bimodal."""
    out = np.empty((a.shape[0], b.shape[1]), dtype=np.result_type(a, b))
    out.fill(0)  # written once: pages are mapped

    def one_pass() -> np.ndarray:
        return np.matmul(a, b, out=out)

    return one_pass


def gemm_gflops(n: int, reps: int = 3, dtype: str = "float64") -> float:
    """Best-of-`reps` rate of C = A @ B for n x n matrices of `dtype` (2·n³ flops), BLAS threads as set."""
    rng = np.random.default_rng(0)
    A, B = rng.standard_normal((n, n)).astype(dtype), rng.standard_normal((n, n)).astype(dtype)
    A @ B  # warm-up: BLAS thread pool and buffers
    best = float("inf")
    for _ in range(reps):
        t0 = time.perf_counter()
        A @ B
        best = min(best, time.perf_counter() - t0)
    return 2.0 * n**3 / best / 1e9


def measure_here(threads: int, n_triad: int | None = None, gemm_n: int = GEMM_N) -> dict:
    """Both yardsticks in this process (BLAS threads must already be fixed by the environment)."""
    n_triad = n_triad or triad_elements()
    return {"threads": threads,
            "triad_gbytes_per_s": triad_gbytes_per_s(n_triad, threads),
            **{gemm_key(dt): gemm_gflops(gemm_n, dtype=dt) for dt in GEMM_DTYPES},
            "triad_elements": n_triad, "gemm_n": gemm_n,
            "measured_at": datetime.now(UTC).isoformat(timespec="seconds")}


def measure(threads: int, n_triad: int | None = None, gemm_n: int = GEMM_N) -> dict:
    """Both yardsticks, measured in a fresh interpreter with every BLAS/OpenMP thread
    variable set to `threads`."""
    env = {**os.environ, **{k: str(threads) for k in THREAD_VARS}}
    cmd = [sys.executable, "-m", "harness.yardstick", "--measure-here", "--threads", str(threads),
           "--gemm-n", str(gemm_n)] + (["--triad-elements", str(n_triad)] if n_triad else [])
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=TIMEOUT_S)
    if done.returncode != 0:
        raise RuntimeError(f"yardstick measurement failed: {done.stderr.strip()[-500:]}")
    return json.loads(done.stdout)


def _read_cache(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def _write_cache(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".yardstick-", suffix=".json")
    with os.fdopen(fd, "w") as fh:
        json.dump(data, fh, indent=1)
    os.replace(tmp, path)


def lookup(threads: int, *, refresh: bool = False, path: Path | None = None, need: tuple[str, ...] = ()) -> dict:
    """The yardsticks for this machine at `threads` threads: from the cache, else measured
    (a few seconds) and cached. `need` names figures the caller uses: a cached entry written
    before such a figure existed (e.g. gemm_gflops_float32) is measured again. Never raises: a
    failed measurement comes back as {"error": ...} so a grade goes on without the percentage."""
    path = path or cache_file()
    key, slot = machine_key(), str(threads)
    cached = _read_cache(path)
    entry = cached.get(key, {}).get(slot)
    if not refresh and entry is not None and all(k in entry for k in need):
        return {**cached[key][slot], "cached": True}
    try:
        figures = measure(threads)
    except (RuntimeError, OSError, ValueError, subprocess.SubprocessError) as exc:
        return {"threads": threads, "error": str(exc)}
    cached = _read_cache(path)  # re-read: another grade may have written meanwhile
    cached.setdefault(key, {})[slot] = figures
    try:
        _write_cache(path, cached)
    except OSError:
        pass  # an unwritable cache costs a re-measurement next time, nothing else
    return {**figures, "cached": False}


def command(args: argparse.Namespace) -> int:
    """`sparsebench yardstick`: print (and if needed measure) this machine's yardsticks."""
    from rich.console import Console

    console = Console()
    for t in args.threads:
        y = lookup(t, refresh=args.refresh)
        if "error" in y:
            console.print(f"[red]threads={t}: {y['error']}[/]")
            return 1
        how = "cached" if y.get("cached") else "measured now"
        detail = ", ".join(f"{k} {y[k]}" for k in ("measured_at", "triad_elements", "gemm_n") if k in y)
        f32 = y.get(gemm_key("float32"))
        console.print(f"threads={t}: STREAM triad [bold]{y['triad_gbytes_per_s']:.1f} GB/s[/], "
                      f"dense GEMM [bold]{y['gemm_gflops']:.1f} GFLOP/s[/] float64"
                      + (f", [bold]{f32:.1f} GFLOP/s[/] float32" if f32 else "") + f" ({how}; {detail})")
    console.print(f"cache: {cache_file()}")
    return 0


def _main() -> None:
    parser = argparse.ArgumentParser(description="measure the hardware yardsticks in this process")
    parser.add_argument("--measure-here", action="store_true", required=True)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--triad-elements", type=int)
    parser.add_argument("--gemm-n", type=int, default=GEMM_N)
    args = parser.parse_args()
    json.dump(measure_here(args.threads, args.triad_elements, args.gemm_n), sys.stdout)


if __name__ == "__main__":
    _main()
