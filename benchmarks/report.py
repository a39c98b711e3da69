"""Turn pytest-benchmark's JSON into tables with pandas: speedup against scipy, GB/s and %
of the machine's STREAM-triad bandwidth (spmv, spmm), products per second and compression
ratio (spgemm), and whether each target of the sparse-products issue was met.

    python -m pytest benchmarks/ --benchmark-json=bench.json
    python -m benchmarks.report bench.json [--markdown bench.md]
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import pandas as pd

# (problem, structure or None for all, minimum speedup of the serial Numba reference over scipy)
SPEED_TARGETS = [("spmv", None, 1.0), ("spmm", None, 1.5), ("spgemm", None, 1.2)]
BANDWIDTH_TARGETS = [("spmv", "laplacian-3d", 70.0)]  # % of triad bandwidth, serial Numba reference


def load(path: Path) -> tuple[pd.DataFrame, dict]:
    """One row per benchmark: who, where, how fast, and the derived rates."""
    data = json.loads(Path(path).read_text())
    machine = data.get("machine_info", {})
    yardsticks = machine.get("sparsebench_yardstick", {})
    rows = []
    for bench in data["benchmarks"]:
        info, stats = bench["extra_info"], bench["stats"]
        median = stats["median"]
        row = {"problem": info["problem"], "structure": info["structure"], "impl": info["impl"],
               "threads": info["threads"], "rows": info["rows"], "nnz": info["nnz"],
               "median_ms": 1e3 * median, "spread_%": 100 * stats["iqr"] / median if median else 0.0,
               "rounds": stats["rounds"], "GFLOP/s": info["flops"] / median / 1e9}
        if "bytes" in info:
            row["GB/s"] = info["bytes"] / median / 1e9
            triad = yardsticks.get(str(info["threads"]), {}).get("triad_gbytes_per_s")
            row["% bandwidth"] = 100 * row["GB/s"] / triad if triad else float("nan")
        if "products" in info:
            row["Mproducts/s"] = info["products"] / median / 1e6
            row["compression"] = info["products"] / info["nnz_C"] if info["nnz_C"] else float("nan")
        rows.append(row)
    df = pd.DataFrame(rows)
    scipy = df[df["impl"] == "scipy"].set_index(["problem", "structure"])["median_ms"]
    df["vs scipy"] = [scipy.get((p, s), float("nan")) / m for p, s, m in zip(df["problem"], df["structure"], df["median_ms"])]
    return df.sort_values(["problem", "structure", "impl", "threads"]).reset_index(drop=True), machine


def targets(df: pd.DataFrame) -> pd.DataFrame:
    """Each target of the issue against the serial Numba reference: met, or missed by how much."""
    serial = df[(df["impl"] == "numba") & (df["threads"] == 1)]
    out = []
    for problem, structure, want in SPEED_TARGETS:
        for _, r in serial[serial["problem"] == problem].iterrows():
            if structure is None or r["structure"] == structure:
                out.append({"target": f"{problem} ≥ {want:g}x scipy", "structure": r["structure"],
                            "measured": f"{r['vs scipy']:.2f}x", "met": bool(r["vs scipy"] >= want),
                            "short by": f"{100 * (1 - r['vs scipy'] / want):.0f}%" if r["vs scipy"] < want else ""})
    for problem, structure, want in BANDWIDTH_TARGETS:
        for _, r in serial[(serial["problem"] == problem) & (serial["structure"] == structure)].iterrows():
            pct = r.get("% bandwidth", float("nan"))
            out.append({"target": f"{problem} ≥ {want:g}% of triad bandwidth", "structure": structure,
                        "measured": f"{pct:.0f}%", "met": bool(pct >= want),
                        "short by": f"{want - pct:.0f} points" if pct < want else ""})
    return pd.DataFrame(out)


def render(df: pd.DataFrame, machine: dict) -> str:
    parts = [f"# sparse-products benchmarks\n\nmachine: {machine.get('cpu', {}).get('brand_raw', '?')}, "
             f"scale {machine.get('sparsebench_scale', '?')}"]
    for t, y in sorted(machine.get("sparsebench_yardstick", {}).items()):
        if "triad_gbytes_per_s" in y:
            parts.append(f"yardstick at {t} thread(s): STREAM triad {y['triad_gbytes_per_s']:.1f} GB/s, "
                         f"GEMM {y['gemm_gflops']:.1f} GFLOP/s")
    for problem, table in df.groupby("problem", sort=True):
        table = table.dropna(axis=1, how="all").drop(columns=["problem"])
        parts.append(f"\n## {problem}\n\n" + table.to_markdown(index=False, floatfmt=".3g"))
    t = targets(df)
    if not t.empty:
        parts.append("\n## targets (serial Numba reference)\n\n" + t.to_markdown(index=False))
    return "\n".join(parts) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("json", type=Path, help="file written by pytest --benchmark-json")
    parser.add_argument("--markdown", type=Path, help="also write the tables to this file")
    parser.add_argument("--csv", type=Path, help="also write the full table as CSV")
    args = parser.parse_args(argv)
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
