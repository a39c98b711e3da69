"""Turn pytest-benchmark JSON into a pandas table: median time per implementation and
each one's speed relative to a baseline measured in the same run.

    python benchmarks/report.py results/bench/formats.json [--baseline scipy] [--markdown]
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import pandas as pd


def load(path: Path) -> pd.DataFrame:
    data = json.loads(Path(path).read_text())
    rows = []
    for b in data["benchmarks"]:
        info = b.get("extra_info", {})
        rows.append({"group": b.get("group") or b["name"], "impl": info.get("impl", b["name"]),
                     "median_s": b["stats"]["median"], "iqr_s": b["stats"]["iqr"], "rounds": b["stats"]["rounds"],
                     **{k: v for k, v in info.items() if k != "impl"}})
    return pd.DataFrame(rows)


def with_ratios(df: pd.DataFrame, baseline: str) -> pd.DataFrame:
    base = df[df["impl"] == baseline].set_index("group")["median_s"]
    df = df.copy()
    df[f"speedup_vs_{baseline}"] = df["group"].map(base) / df["median_s"]
    return df.sort_values(["group", "impl"]).reset_index(drop=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("json", type=Path, help="a file written by pytest --benchmark-json")
    parser.add_argument("--baseline", default="scipy", help="impl the others are compared with (default scipy)")
    parser.add_argument("--markdown", action="store_true", help="print a markdown table")
    args = parser.parse_args(argv)
    if not args.json.is_file():
        parser.error(f"no such file: {args.json} (run pytest benchmarks/ --benchmark-json {args.json} first)")
    df = with_ratios(load(args.json), args.baseline)
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(df.to_markdown(index=False, floatfmt=".4g") if args.markdown else df.to_string(index=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
