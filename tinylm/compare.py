"""MoE against the dense baseline at equal active parameters, equal training time, same data and
seeds: a CSV and a markdown table of every run, a summary per model, and a loss-curve plot."""
from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path
from collections.abc import Callable

import numpy as np

from . import model as M
from .data import Corpus
from .throughput import Calibration
from .train import TrainConfig, run_name, train

RunFn = Callable[[M.Config, TrainConfig, Path], dict]
CALIBRATION = "calibration.json"  # the step rates a calibrated compare gave its runs (kept for --resume)


def compare(corpus: Corpus, label: str, moe_cfg: M.Config, tc: TrainConfig, seeds: int, out_root: Path, *,
            resume: bool = False, run: RunFn | None = None, jobs: int = 1,
            finished: Callable[[dict], None] | None = None, calibration: Calibration | None = None) -> dict:
    """Train MoE and dense for each seed; write compare.csv/.md and loss.png under out_root/label.
    `run(cfg, tc, out_dir)` trains one model (default: `train` with no progress display).
    With `resume`, a finished run (its result.json exists) is reused and a killed one resumed.
    With `jobs` > 1, the runs train that many at a time in their own processes (`run` is not
    used; `finished(result)` hears of each as it ends). With a `calibration`, its minutes become
    each model's steps at its measured rate (tinylm/throughput.py), kept in calibration.json."""
    import pandas as pd

    run = run or (lambda cfg, t, out: train(cfg, t, corpus, out, resume=resume))
    folder = Path(out_root) / label
    folder.mkdir(parents=True, exist_ok=True)
    dense_cfg = replace(moe_cfg, dense=True)
    budget = {"moe": {}, "dense": {}}
    if calibration is not None:
        budget = {m: {"minutes": None, "max_steps": n} for m, n in calibration.steps().items()}
        (folder / CALIBRATION).write_text(json.dumps(calibration.to_dict(), indent=1))
    else:
        (folder / CALIBRATION).unlink(missing_ok=True)  # an earlier compare's: these runs are timed by the clock
    plan = [(cfg, replace(tc, seed=seed, **budget["dense" if cfg.dense else "moe"]), folder / run_name(cfg, seed))
            for seed in range(seeds) for cfg in (moe_cfg, dense_cfg)]
    if jobs > 1:
        todo = [p for p in plan if not (resume and has_result(p[2]))]
        train_parallel(corpus, todo, jobs, resume=resume, finished=finished)
        resume = True  # every planned run has its result.json now
    results = []
    for cfg, run_tc, out in plan:
        if resume and has_result(out):
            results.append(json.loads((out / "result.json").read_text()))
            continue
        result = run(cfg, run_tc, out)
        result.pop("params", None)
        results.append(result)
    rows = pd.DataFrame([_row(r) for r in results])
    summary = summarise(rows)
    rows.to_csv(folder / "compare.csv", index=False)
    judged = verdict(rows)
    if calibration is not None:
        judged = {**judged, "calibration": calibration.to_dict(), "text": judged["text"] + " " + calibration.text()}
    (folder / "verdict.json").write_text(json.dumps(judged, indent=1))
    (folder / "compare.md").write_text(_markdown(label, rows, summary, results, judged))
    plot(results, folder / "loss.png", title=f"{label}: val loss vs training time")
    return {"rows": rows, "summary": summary, "verdict": judged, "folder": folder}


def stored_calibration(folder: Path) -> Calibration | None:
    """The calibration a compare folder's runs were given (None without one)."""
    path = Path(folder) / CALIBRATION
    return Calibration.from_dict(json.loads(path.read_text())) if path.is_file() else None


def has_result(run_folder: Path) -> bool:
    """The run in this folder has ended: it wrote its result.json (a killed one has only checkpoints)."""
    return (Path(run_folder) / "result.json").is_file()


def train_parallel(corpus: Corpus, runs: list[tuple[M.Config, TrainConfig, Path]], jobs: int, *,
                   resume: bool = False, finished: Callable[[dict], None] | None = None) -> None:
    """Train `runs` (config, train config, run folder) `jobs` at a time, one process each.

    The plan lists each seed's MoE run beside its dense one, so with two jobs the pair trains
    side by side on the same machine: whatever else the host does slows both alike, as
    interleaving does for a benchmark. Each run writes its result.json; a failed run raises."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    # spawn: a fresh interpreter per worker, not a fork of this one's BLAS and Numba threads
    with ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = [pool.submit(_train_one, corpus, cfg, tc, out, resume, jobs) for cfg, tc, out in runs]
        for future in as_completed(futures):
            result = future.result()
            if finished:
                finished(result)


def _train_one(corpus: Corpus, cfg: M.Config, tc: TrainConfig, out: Path, resume: bool, jobs: int) -> dict:
    """One run in a worker process. Its result.json also says how many runs trained at once (its
    tokens/s depends on it); the parent hears the result without the weights or history."""
    result = train(cfg, tc, corpus, out, resume=resume)
    result.pop("params", None)
    result["jobs"] = jobs
    (Path(out) / "result.json").write_text(json.dumps(result, indent=1))
    return {k: v for k, v in result.items() if k != "history"}


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
        row["source_bits"] = round(float(r["source_entropy_bits"]), 3)
    if r.get("entropy_rate"):
        row["floor"] = round(r["entropy_rate"], 4)
        row["gap_pct"] = round(100 * (r["val_loss"] / r["entropy_rate"] - 1), 1)
    return row


SPREADS = 3.0  # MoE wins when its mean val loss is below dense's by more than this many seed-to-seed spreads


def verdict(rows) -> dict:
    """MoE against dense on the runs' val losses: the margin (dense mean minus MoE mean, > 0 when
    MoE is better) with a Welch t 95% interval over seeds, the seed-to-seed spread (the larger of
    the two models' standard deviations), and who won. MoE (or dense) wins only when the margin
    exceeds SPREADS spreads *and* the interval excludes 0; otherwise there is no clear winner.
    Also the throughput ratio (MoE tokens/s over dense tokens/s, mean over seeds), and where every
    seed has one run of each, the paired-by-seed margins: reported beside the rule, not part of it."""
    from scipy import stats

    moe = rows[rows["model"] != "dense"]["val_loss"].to_numpy(dtype=float)
    dense = rows[rows["model"] == "dense"]["val_loss"].to_numpy(dtype=float)
    out = {"moe_runs": int(moe.size), "dense_runs": int(dense.size), "spreads_needed": SPREADS}
    if not (moe.size and dense.size):
        return {**out, "winner": None, "text": "no MoE or no dense run: nothing to compare"}
    margin = float(dense.mean() - moe.mean())
    tok = rows.groupby(rows["model"] == "dense")["tokens_per_s"].mean()
    out.update(margin=margin, throughput_ratio=float(tok[False] / tok[True]))
    if min(moe.size, dense.size) < 2:
        return {**out, "winner": None, "low": math.nan, "high": math.nan, "spread": math.nan,
                "text": f"MoE minus dense: {-margin:+.4f} nats/char from one seed: no spread, no verdict "
                        f"(run --seeds 3)"}
    spread = float(max(moe.std(ddof=1), dense.std(ddof=1)))
    if spread == 0.0 and margin == 0.0:
        low = high = 0.0
    else:
        ci = stats.ttest_ind(dense, moe, equal_var=False).confidence_interval(0.95)
        low, high = float(ci.low), float(ci.high)
    times = abs(margin) / spread if spread > 0 else math.inf
    if margin > SPREADS * spread and low > 0:
        winner = "moe"
    elif -margin > SPREADS * spread and high < 0:
        winner = "dense"
    else:
        winner = None
    better = "below" if margin > 0 else "above"
    head = {"moe": "MoE won", "dense": "Dense won", None: "No clear winner"}[winner]
    text = (f"{head}: MoE's mean val loss is {abs(margin):.4f} nats/char {better} dense's (95% t interval of "
            f"dense minus MoE over {moe.size}+{dense.size} seeds: {low:+.4f} to {high:+.4f}), "
            f"{times:.1f}x the seed-to-seed spread {spread:.4f} (a win needs > {SPREADS:g}x and an interval "
            f"clear of 0). MoE ran at {out['throughput_ratio']:.2f}x dense's tokens/s.")
    out.update(winner=winner, low=low, high=high, spread=spread, spreads=times)
    paired = _paired(rows)
    if paired:
        out.update(paired)
        text += (f" Paired by seed (each pair trained side by side, so a host's drift between pairs cancels; "
                 f"not the rule above): MoE was lower in {paired['paired_wins']} of {paired['pairs']} seeds, by "
                 f"{paired['paired_min']:+.4f} to {paired['paired_max']:+.4f}, paired 95% t interval "
                 f"{paired['paired_low']:+.4f} to {paired['paired_high']:+.4f}.")
    return {**out, "text": text}


def _paired(rows) -> dict | None:
    """Dense minus MoE val loss per seed, where every seed has one run of each (None otherwise)."""
    from scipy import stats

    if "seed" not in rows or rows.groupby(["seed", rows["model"] == "dense"]).size().ne(1).any():
        return None
    wide = rows.assign(dense=rows["model"] == "dense").pivot(index="seed", columns="dense", values="val_loss")
    if wide.isna().any().any() or len(wide) < 2:
        return None
    diff = (wide[True] - wide[False]).to_numpy(dtype=float)
    if np.ptp(diff) == 0.0:
        low = high = float(diff[0])
    else:
        ci = stats.ttest_1samp(diff, 0.0).confidence_interval(0.95)
        low, high = float(ci.low), float(ci.high)
    return {"pairs": int(diff.size), "paired_wins": int((diff > 0).sum()), "paired_min": float(diff.min()),
            "paired_max": float(diff.max()), "paired_low": low, "paired_high": high}


def summarise(rows):
    """Mean and seed-to-seed standard deviation of the val loss per model, and throughput."""
    g = rows.groupby("model")
    out = g.agg(val_loss_mean=("val_loss", "mean"), val_loss_std=("val_loss", "std"),
                runs=("val_loss", "size"), tokens_per_s=("tokens_per_s", "mean"),
                total_params=("total_params", "first"), active_params=("active_params", "first")).reset_index()
    return out


def _markdown(label: str, rows, summary, results, judged: dict) -> str:
    lines = [f"# tiny LM: MoE vs dense on {label}", ""]
    calibrated = "calibration" in judged
    per_run = ("seed", "max_steps") if calibrated else ("seed",)  # calibrated: each model has its steps
    tcs = {json.dumps({k: v for k, v in r["train_config"].items() if k not in per_run}, sort_keys=True)
           for r in results}
    jobs = {r.get("jobs", 1) for r in results}
    if len(tcs) == 1:
        tc = results[0]["train_config"]
        clock = "CPU time" if tc.get("clock") == "cpu" else "wall-clock time"
        budget = (f"each model's steps in {judged['calibration']['minutes']:g} min at its calibrated rate (below)"
                  if calibrated else f"{tc['minutes']} min ({clock}) of training steps")
        lines += [f"Training time per run: {budget}, batch "
                  f"{tc['batch_size']}, lr {tc['lr']}, {tc['threads']} BLAS thread(s). Val loss in nats/char "
                  f"on {tc['final_eval_windows']} fixed val windows."
                  + (f" The runs trained {min(jobs)} at a time, one process each (each seed's MoE run beside "
                     "its dense one)." if len(jobs) == 1 and min(jobs) > 1 else ""), ""]
    if results and results[0].get("entropy_rate"):
        lines += [f"Exact entropy rate of the corpus (the loss floor): {results[0]['entropy_rate']:.4f} nats/char.", ""]
    lines += ["## Summary", "", summary.to_markdown(index=False, floatfmt=".4g"), ""]
    if set(summary["model"]) >= {"dense"} and len(summary) == 2:
        lines += ["## Verdict", "", judged["text"], ""]
        if "gap_pct" in rows:
            lines += [_floor_line(rows), ""]
    lines += ["## Runs", "", rows.to_markdown(index=False, floatfmt=".4g"), ""]
    return "\n".join(lines)


def _floor_line(rows) -> str:
    """Synthetic corpora: each model's distance from the entropy floor, and the MoE's specialisation."""
    g = rows.groupby("model")
    parts = [f"{m} {g.get_group(m)['gap_pct'].mean():.1f}%" for m in sorted(g.groups)]
    line = "Mean gap to the entropy floor: " + ", ".join(parts) + "."
    if "mi_bits" in rows and rows["mi_bits"].notna().any():
        line += (f" Expert specialisation: I(1st-choice expert; source) = {rows['mi_bits'].mean():.2f} bits "
                 f"(mean over MoE runs of the most source-aware layer; the source carries "
                 f"{rows['source_bits'].dropna().iloc[0]:.2f} bits).")
    return line


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
