"""The sparse-products benchmarks as tables: speedup against scipy (benchmarks/report.py),
plus GB/s and % of the machine's STREAM-triad bandwidth (spmv, spmm), products per second
and the compression ratio products / nnz(C) (spgemm), and whether each target of the
sparse-products issue was met by the serial Numba reference.

    pytest benchmarks/test_bench_spmv.py benchmarks/test_bench_spmm.py benchmarks/test_bench_spgemm.py \\
        --benchmark-json results/bench/products.json
    python benchmarks/products_report.py results/bench/products.json [--markdown OUT.md] [--csv OUT.csv]
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import pandas as pd

if __package__ in (None, ""):  # run as a script: make `benchmarks` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.report import load as load_benchmarks  # noqa: E402
from benchmarks.report import with_ratios  # noqa: E402

# (problem, minimum speedup of the serial Numba reference over scipy), on every structure
SPEED_TARGETS = [("spmv", 1.0), ("spmm", 1.5), ("spgemm", 1.2)]
# (problem, structure, minimum % of the triad bandwidth for the serial Numba reference)
BANDWIDTH_TARGETS = [("spmv", "laplacian-3d", 70.0)]
PROBLEMS = ("spmv", "spmm", "spgemm")


def load(path: Path) -> tuple[pd.DataFrame, dict]:
    """One row per benchmark with the derived rates, and the run's machine info."""
    machine = json.loads(Path(path).read_text()).get("machine_info", {})
    df = load_benchmarks(path)
    df = with_ratios(df[df["problem"].isin(PROBLEMS)], "scipy").rename(columns={"speedup_vs_scipy": "vs scipy"})
    df["median_ms"] = 1e3 * df["median_s"]
    df["spread_%"] = 100 * df["iqr_s"] / df["median_s"]
    df["GFLOP/s"] = df["flops"] / df["median_s"] / 1e9
    if "bytes" in df:
        triad = {int(t): y.get("triad_gbytes_per_s") for t, y in machine.get("sparsebench_yardstick", {}).items()}
        df["GB/s"] = df["bytes"] / df["median_s"] / 1e9
        df["% bandwidth"] = 100 * df["GB/s"] / df["threads"].map(triad).astype(float)
    if "products" in df:
        df["Mproducts/s"] = df["products"] / df["median_s"] / 1e6
        df["compression"] = df["products"] / df["nnz_C"]
    columns = ["problem", "structure", "impl", "threads", "rows", "nnz", "median_ms", "spread_%", "rounds",
               "vs scipy", "GFLOP/s", "GB/s", "% bandwidth", "Mproducts/s", "compression"]
    df = df[[c for c in columns if c in df]]
    return df.sort_values(["problem", "structure", "impl", "threads"]).reset_index(drop=True), machine


def targets(df: pd.DataFrame) -> pd.DataFrame:
    """Each target against the serial Numba reference: met, or short by how much."""
    serial = df[(df["impl"] == "numba") & (df["threads"] == 1)]
    out = []
    for problem, want in SPEED_TARGETS:
        for _, r in serial[serial["problem"] == problem].iterrows():
            got = r["vs scipy"]
            out.append({"target": f"{problem} ≥ {want:g}x scipy", "structure": r["structure"],
                        "measured": f"{got:.2f}x", "met": bool(got >= want),
                        "short by": "" if got >= want else f"{100 * (1 - got / want):.0f}%"})
    for problem, structure, want in BANDWIDTH_TARGETS:
        for _, r in serial[(serial["problem"] == problem) & (serial["structure"] == structure)].iterrows():
            got = r.get("% bandwidth", float("nan"))
            out.append({"target": f"{problem} ≥ {want:g}% of triad bandwidth", "structure": structure,
                        "measured": f"{got:.0f}%", "met": bool(got >= want),
                        "short by": "" if got >= want else f"{want - got:.0f} points"})
    return pd.DataFrame(out)


def render(df: pd.DataFrame, machine: dict) -> str:
    cpu = machine.get("cpu", {}).get("brand_raw", "?")
    parts = [f"# sparse products: Numba references vs scipy\n\nmachine: {cpu}; "
             f"SPARSEBENCH_BENCH_SCALE={machine.get('sparsebench_scale', '?')}"]
    for t, y in sorted(machine.get("sparsebench_yardstick", {}).items()):
        if "triad_gbytes_per_s" in y:
            parts.append(f"yardstick, {t} thread(s): STREAM triad {y['triad_gbytes_per_s']:.1f} GB/s, "
                         f"dense GEMM {y['gemm_gflops']:.1f} GFLOP/s")
    for problem in PROBLEMS:
        table = df[df["problem"] == problem].dropna(axis=1, how="all").drop(columns=["problem"])
        if not table.empty:
            parts.append(f"\n## {problem}\n\n" + table.to_markdown(index=False, floatfmt=".3g"))
    t = targets(df)
    if not t.empty:
        parts.append("\n## targets (serial Numba reference)\n\n" + t.to_markdown(index=False))
    return "\n".join(parts) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("json", type=Path, help="a file written by pytest --benchmark-json")
    parser.add_argument("--markdown", type=Path, help="also write the tables to this file")
    parser.add_argument("--csv", type=Path, help="also write the full table as CSV")
    args = parser.parse_args(argv)
    if not args.json.is_file():
        parser.error(f"no such file: {args.json} (run the benchmarks with --benchmark-json {args.json} first)")
    df, machine = load(args.json)
    text = render(df, machine)
    sys.stdout.write(text)
    if args.markdown:
        args.markdown.write_text(text)
    if args.csv:
        df.to_csv(args.csv, index=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
