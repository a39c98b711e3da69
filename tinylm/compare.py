"""MoE against the dense baseline at equal active parameters, equal training time, same data and
seeds: a CSV and a markdown table of every run, a summary per model, and a loss-curve plot."""
from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from collections.abc import Callable

import numpy as np

from . import model as M
from .data import Corpus
from .train import TrainConfig, run_name, train

RunFn = Callable[[M.Config, TrainConfig, Path], dict]


def compare(corpus: Corpus, label: str, moe_cfg: M.Config, tc: TrainConfig, seeds: int, out_root: Path, *,
            resume: bool = False, run: RunFn | None = None) -> dict:
    """Train MoE and dense for each seed; write compare.csv/.md and loss.png under out_root/label.
    `run(cfg, tc, out_dir)` trains one model (default: `train` with no progress display).
    With `resume`, a finished run (its result.json exists) is reused and a killed one resumed."""
    import pandas as pd

    run = run or (lambda cfg, t, out: train(cfg, t, corpus, out, resume=resume))
    folder = Path(out_root) / label
    folder.mkdir(parents=True, exist_ok=True)
    dense_cfg = replace(moe_cfg, dense=True)
    results = []
    for seed in range(seeds):
        for cfg in (moe_cfg, dense_cfg):
            out = folder / run_name(cfg, seed)
            done = out / "result.json"
            if resume and done.is_file():
                results.append(json.loads(done.read_text()))
                continue
            result = run(cfg, replace(tc, seed=seed), out)
            result.pop("params", None)
            results.append(result)
    rows = pd.DataFrame([_row(r) for r in results])
    summary = summarise(rows)
    rows.to_csv(folder / "compare.csv", index=False)
    (folder / "compare.md").write_text(_markdown(label, rows, summary, results))
    plot(results, folder / "loss.png", title=f"{label}: val loss vs training time")
    return {"rows": rows, "summary": summary, "folder": folder}


def _row(r: dict) -> dict:
    row = {"model": r["model"], "seed": r["seed"], "val_loss": r["val_loss"], "steps": r["steps"],
           "tokens": r["tokens"], "train_s": round(r["train_seconds"], 1), "tokens_per_s": round(r["tokens_per_s"]),
           "total_params": r["total_params"], "active_params": r["active_params"]}
    if "load" in r:
        load = np.array(r["load"])  # (layers, experts): fraction of 1st choices per expert
        row["max_load"] = round(float(load.max(axis=1).mean()), 3)
        row["min_load"] = round(float(load.min(axis=1).mean()), 3)
    if r.get("mi_bits"):
        row["mi_bits"] = round(float(np.max(r["mi_bits"])), 3)  # the most source-aware layer
    if r.get("entropy_rate"):
        row["floor"] = round(r["entropy_rate"], 4)
        row["gap_pct"] = round(100 * (r["val_loss"] / r["entropy_rate"] - 1), 1)
    return row


def summarise(rows):
    """Mean and seed-to-seed standard deviation of the val loss per model, and throughput."""
    g = rows.groupby("model")
    out = g.agg(val_loss_mean=("val_loss", "mean"), val_loss_std=("val_loss", "std"),
                runs=("val_loss", "size"), tokens_per_s=("tokens_per_s", "mean"),
                total_params=("total_params", "first"), active_params=("active_params", "first")).reset_index()
    return out


def _markdown(label: str, rows, summary, results) -> str:
    lines = [f"# tiny LM: MoE vs dense on {label}", ""]
    tcs = {json.dumps(r["train_config"], sort_keys=True) for r in results}
    if len(tcs) == 1:
        tc = results[0]["train_config"]
        lines += [f"Training time per run: {tc['minutes']} min of training steps, batch {tc['batch_size']}, "
                  f"lr {tc['lr']}, {tc['threads']} BLAS thread(s). Val loss in nats/char on "
                  f"{tc['final_eval_windows']} fixed val windows.", ""]
    if results and results[0].get("entropy_rate"):
        lines += [f"Exact entropy rate of the corpus (the loss floor): {results[0]['entropy_rate']:.4f} nats/char.", ""]
    lines += ["## Summary", "", summary.to_markdown(index=False, floatfmt=".4g"), ""]
    if set(summary["model"]) >= {"dense"} and len(summary) == 2:
        moe = summary[summary["model"] != "dense"].iloc[0]
        dense = summary[summary["model"] == "dense"].iloc[0]
        gap = dense["val_loss_mean"] - moe["val_loss_mean"]
        if min(moe["runs"], dense["runs"]) < 2:
            lines += [f"MoE minus dense: {-gap:+.4f} nats/char (one seed: no spread to compare with).", ""]
        else:
            spread = max(moe["val_loss_std"], dense["val_loss_std"])
            verdict = "better" if gap > spread else "not clearly better"
            lines += [f"MoE minus dense: {-gap:+.4f} nats/char; seed-to-seed spread (largest std) {spread:.4f}: "
                      f"MoE is {verdict} than dense at equal active parameters and equal time.", ""]
    lines += ["## Runs", "", rows.to_markdown(index=False, floatfmt=".4g"), ""]
    return "\n".join(lines)


def plot(results: list[dict], path: Path, title: str = "") -> None:
    """Val loss against training seconds, one line per run (colour = model, style = seed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    models = sorted({r["model"] for r in results})
    colours = dict(zip(models, plt.rcParams["axes.prop_cycle"].by_key()["color"]))
    styles = ["-", "--", ":", "-."]
    for r in results:
        pts = [(h["seconds"], h["val_loss"]) for h in r["history"] if h.get("val_loss") is not None]
        if pts:
            x, y = zip(*pts)
            ax.plot(x, y, styles[r["seed"] % len(styles)], color=colours[r["model"]],
                    label=f"{r['model']} seed {r['seed']}")
    floor = next((r["entropy_rate"] for r in results if r.get("entropy_rate")), None)
    if floor:
        ax.axhline(floor, color="black", lw=0.8, ls="--", label="entropy floor")
    ax.set_xlabel("training time (s)")
    ax.set_ylabel("val loss (nats/char)")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
