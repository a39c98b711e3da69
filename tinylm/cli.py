"""`sparsebench lm train | sample | compare`: the tiny sparse LM from the command line.

Registered by harness/cli.py; this module imports only argparse so that building the parser
stays cheap: the model, the data and the training code load when a command runs.
"""
from __future__ import annotations

import argparse
from pathlib import Path

SPARK = "▁▂▃▄▅▆▇█"


def add_parser(sub, parents: list) -> None:
    """Add the `lm` command group to the top-level subparsers."""
    lm = sub.add_parser("lm", help="the tiny sparse MoE language model: train, sample, compare",
                        description="A character-level transformer whose feed-forwards are Mixtures of Experts, "
                                    "in NumPy with a hand-written backward (tinylm/).")
    cmds = lm.add_subparsers(dest="lm_command", required=True, metavar="COMMAND")

    def model_args(p: argparse.ArgumentParser) -> None:
        p.add_argument("--corpus", default="pydoc",
                       help="'pydoc' (the standard library's pydoc topics), 'synthetic' (a mixture of Markov "
                            "sources with a known entropy rate), or a UTF-8 text file (default: pydoc)")
        p.add_argument("--experts", type=int, default=8, help="experts per MoE layer (default: 8)")
        p.add_argument("--top-k", type=int, default=2, help="experts per token (default: 2)")
        p.add_argument("--capacity-factor", type=float, default=None,
                       help="expert capacity C = ceil(cf*N*k/E) per batch (default: none, dropless)")
        p.add_argument("--layers", type=int, default=4, help="transformer blocks (default: 4)")
        p.add_argument("--embd", type=int, default=128, help="model width D (default: 128)")
        p.add_argument("--heads", type=int, default=4, help="attention heads; must divide --embd (default: 4)")
        p.add_argument("--block", type=int, default=64, help="context length in characters (default: 64)")
        p.add_argument("--expert-hidden", type=int, default=256, help="hidden units of one expert (default: 256)")
        p.add_argument("--minutes", type=float, default=None,
                       help="training-step time per run (default: 5, or unlimited when --steps is given)")
        p.add_argument("--steps", type=int, default=None,
                       help="stop after this many steps, for reproducible runs (default: no step limit)")
        p.add_argument("--batch", type=int, default=32, help="sequences per step (default: 32)")
        p.add_argument("--lr", type=float, default=4e-3,
                       help="peak learning rate, after warm-up; cosine decay to lr/10 (default: 0.004)")
        p.add_argument("--threads", type=int, default=1,
                       help="BLAS threads; more than the idle cores slows small GEMMs badly (default: 1)")
        p.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                       help="what counts as training time: wall-clock or the process's CPU time, for a machine "
                            "shared with other jobs (their time on the cores is not charged) (default: wall)")
        p.add_argument("--numba", choices=("auto", "on", "off"), default="auto",
                       help="the MoE kernels and AdamW compiled by Numba (on) or in NumPy (off); auto: Numba for "
                            "runs of at least a minute or 500 steps, as a first compile takes 10-30 s (default: auto)")
        p.add_argument("--checkpoint-every", type=float, default=60.0,
                       help="seconds between checkpoints (default: 60)")
        again = p.add_mutually_exclusive_group()
        again.add_argument("--resume", action="store_true",
                           help="continue the run already in the run folder from its checkpoint (its stored "
                                "settings win) (default: off; an existing run is never overwritten silently)")
        again.add_argument("--force", action="store_true",
                           help="replace the run already in the run folder with a fresh one (default: off)")

    p = cmds.add_parser("train", parents=parents,
                        help="train one model with a live progress bar; checkpoints as it goes")
    model_args(p)
    p.add_argument("--dense", action="store_true",
                   help="the dense baseline: one FFN, equal active parameters (default: MoE)")
    p.add_argument("--seed", type=int, default=0, help="initialisation and data-order seed (default: 0)")
    p.add_argument("--out", type=Path, default=None,
                   help="run folder (default: RESULTS/lm/<corpus>/<model>-s<seed>, RESULTS from --results)")
    p.set_defaults(func=cmd_train)

    p = cmds.add_parser("sample", help="generate text from a checkpoint")
    p.add_argument("--checkpoint", required=True, help="a run folder or its ckpt.npz (required)")
    p.add_argument("--prompt", default=None, help="text to continue (default: a newline)")
    p.add_argument("--tokens", type=int, default=300, help="characters to generate (default: 300)")
    p.add_argument("--temperature", type=float, default=0.8, help="softmax temperature; 0 = greedy (default: 0.8)")
    p.add_argument("--seed", type=int, default=0, help="sampling seed (default: 0)")
    p.set_defaults(func=cmd_sample)

    p = cmds.add_parser("compare", parents=parents, help="MoE vs dense at equal active parameters and time, over seeds")
    model_args(p)
    p.add_argument("--seeds", type=int, default=3, help="seeds 0..N-1, one MoE and one dense run each (default: 3)")
    p.add_argument("--jobs", type=int, default=1,
                   help="runs trained at once, one process each; 2 trains each seed's MoE and dense runs side by "
                        "side (give each a free core; default: 1)")
    p.add_argument("--calibrate", action="store_true",
                   help="first time both models' training steps side by side (20 alternating rounds), then give "
                        "each run the steps its model's measured rate does in --minutes: equal training time "
                        "without a host's drift between runs, and runs a seed reproduces (default: off, the "
                        "clock stops each run)")
    p.add_argument("--out", type=Path, default=None,
                   help="folder for the runs and tables (default: RESULTS/lm, RESULTS from --results)")
    p.set_defaults(func=cmd_compare)


# -- commands -------------------------------------------------------------------------------
def _configs(args):
    from .data import load_corpus
    from .train import TrainConfig, model_config

    corpus = load_corpus(args.corpus)
    cfg = model_config(corpus, n_expert=args.experts, top_k=args.top_k, capacity_factor=args.capacity_factor,
                       n_layer=args.layers, n_embd=args.embd, n_head=args.heads, block_size=args.block,
                       expert_hidden=args.expert_hidden, dense=getattr(args, "dense", False))
    tc = TrainConfig(corpus=args.corpus, seed=getattr(args, "seed", 0),
                     minutes=args.minutes if args.minutes is not None else (None if args.steps else 5.0),
                     max_steps=args.steps, batch_size=args.batch, lr=args.lr, min_lr=args.lr / 10,
                     threads=args.threads, clock=args.clock, checkpoint_every_s=args.checkpoint_every,
                     numba={"auto": None, "on": True, "off": False}[args.numba])
    return corpus, cfg, tc


def cmd_train(args) -> int:
    from rich.console import Console

    from .model import Config, param_counts
    from .train import corpus_label, run_name, train

    console = Console(stderr=True)
    try:
        corpus, cfg, tc = _configs(args)
    except (OSError, ValueError) as exc:
        console.print(f"[bold red]error:[/] {exc}")
        return 2
    out = args.out or Path(args.results) / "lm" / corpus_label(args.corpus) / run_name(cfg, tc.seed)
    if not _may_write([out], args, console):
        return 2
    if args.resume:
        if (out / "ckpt.json").is_file():
            cfg = Config.from_json((out / "ckpt.json").read_text())  # the stored settings win
        else:
            console.print(f"[yellow]no checkpoint in {_rel(out)}: starting a fresh run[/]")
    counts = param_counts(cfg)
    console.print(f"{corpus.name}: {corpus.train.size:,} train / {corpus.val.size:,} val chars, vocab "
                  f"{corpus.vocab_size}" + (f", entropy floor {corpus.entropy_rate:.4f} nats/char"
                                             if corpus.entropy_rate else ""))
    console.print(f"{run_name(cfg, tc.seed)}: {counts['total']:,} parameters, {counts['active']:,} active per token; "
                  f"run folder {_rel(out)}")
    try:
        with _TrainBar(console) as bar:
            result = train(cfg, tc, corpus, out, resume=args.resume, progress=bar.update)
    except KeyboardInterrupt:
        console.print("interrupted: continue from the last checkpoint with the same command and --resume")
        return 130
    except ValueError as exc:  # e.g. resuming with another corpus
        console.print(f"[bold red]error:[/] {exc}")
        return 2
    _print_result(console, result)
    console.print(f"checkpoint: {_rel(out / 'ckpt.npz')}  (sample: sparsebench lm sample --checkpoint {_rel(out)})")
    return 0


def cmd_sample(args) -> int:
    import numpy as np

    from .model import generate
    from .train import checkpoint_path, load_checkpoint

    try:
        params, cfg, _, _, state = load_checkpoint(checkpoint_path(args.checkpoint))
    except (OSError, ValueError, KeyError) as exc:
        print(f"error: {exc}")
        return 2
    chars = state.chars
    prompt = args.prompt if args.prompt is not None else ("\n" if "\n" in chars else chars[0])
    unknown = sorted(set(prompt) - set(chars))
    if unknown:
        print(f"error: the prompt uses characters this model never saw: {''.join(unknown)!r}")
        return 2
    lookup = {c: i for i, c in enumerate(chars)}
    ids = generate(params, cfg, np.array([lookup[c] for c in prompt]), args.tokens, args.temperature,
                   np.random.default_rng(args.seed))
    print(prompt + "".join(chars[i] for i in ids))
    return 0


def cmd_compare(args) -> int:
    from rich.console import Console

    from .compare import compare, has_result
    from .train import corpus_label, run_name, train

    console = Console(stderr=True)
    try:
        import matplotlib  # noqa: F401 - the loss plot needs it; fail before hours of training
    except ImportError:
        console.print('[bold red]error:[/] compare draws its loss plot with matplotlib: pip install -e ".[plots]"')
        return 2
    if args.jobs < 1:
        console.print(f"[bold red]error:[/] --jobs must be at least 1, not {args.jobs}")
        return 2
    if args.calibrate and args.steps is not None:
        console.print("[bold red]error:[/] --calibrate turns --minutes into steps; give --minutes, not --steps")
        return 2
    try:
        corpus, cfg, tc = _configs(args)
    except (OSError, ValueError) as exc:
        console.print(f"[bold red]error:[/] {exc}")
        return 2

    from dataclasses import replace

    root = (args.out or Path(args.results) / "lm") / corpus_label(args.corpus)
    planned = [root / run_name(c, seed) for seed in range(args.seeds) for c in (cfg, replace(cfg, dense=True))]
    if not _may_write(planned, args, console):
        return 2

    def run(c, t, out):
        console.print(f"[bold]{run_name(c, t.seed)}[/] -> {_rel(out)}")
        with _TrainBar(console) as bar:
            result = train(c, t, corpus, out, resume=args.resume, progress=bar.update)
        _print_result(console, result)
        return result

    calibration = _calibration(args, cfg, tc, corpus, root, console)
    if args.jobs > 1:
        todo = [p for p in planned if not (args.resume and has_result(p))]
        console.print(f"training {len(todo)} of {len(planned)} runs, {args.jobs} at a time (no progress bars: "
                      "each run's line appears when it ends)")
    out = compare(corpus, corpus_label(args.corpus), cfg, tc, args.seeds, args.out or Path(args.results) / "lm",
                  resume=args.resume, run=run, jobs=args.jobs, finished=lambda r: _print_result(console, r),
                  calibration=calibration)
    from rich.markdown import Markdown

    Console().print(Markdown((out["folder"] / "compare.md").read_text()))
    console.print(f"wrote {_rel(out['folder'] / 'compare.csv')}, compare.md, verdict.json and loss.png")
    console.print(f"[bold]{out['verdict']['text']}[/]")
    return 0


def _calibration(args, cfg, tc, corpus, root: Path, console):
    """The calibration of this compare, or None: with --resume, the one its runs were given
    (calibration.json: a resumed run keeps its steps); with --calibrate, measured now."""
    from .compare import stored_calibration
    from .throughput import ROUNDS, calibrate

    stored = stored_calibration(root) if args.resume else None
    if stored is not None:
        console.print(f"the runs' calibration: {_rel(root / 'calibration.json')} ({stored.minutes:g} min)")
        return stored
    if not args.calibrate:
        return None
    console.print(f"calibrating: {ROUNDS} rounds of one training step of each model, side by side")
    found = calibrate(cfg, tc, corpus)
    console.print(found.text())
    return found


RUN_FILES = ("ckpt.npz", "ckpt.json", "result.json")  # what a run folder holds once a run has written to it


def _may_write(folders: list[Path], args, console) -> bool:
    """An existing run is never overwritten silently: --resume continues it, --force replaces it
    (its files are removed first, so a killed replacement cannot resume the old run), and
    otherwise one error line names both flags."""
    taken = [f for f in folders if any((f / name).is_file() for name in RUN_FILES)]
    if not taken or args.resume:
        return True
    if args.force:
        for folder in taken:
            for name in RUN_FILES:
                (folder / name).unlink(missing_ok=True)
        return True
    where = _rel(taken[0]) + (f" (and {len(taken) - 1} more run folders)" if len(taken) > 1 else "")
    console.print(f"[bold red]error:[/] {where} already holds a run{_progress_of(taken[0])}: continue it with "
                  "--resume, or replace it with --force", soft_wrap=True, highlight=False)
    return False


def _progress_of(folder: Path) -> str:
    """' (finished, 1200 steps, val loss 1.23)' from a run's result.json, or ' (a checkpoint)'."""
    import json

    try:
        r = json.loads((folder / "result.json").read_text())
        return f" (finished: {r['steps']:,} steps, val loss {r['val_loss']:.3f})"
    except (OSError, ValueError, KeyError, TypeError):
        return " (a checkpoint)"


# -- display -------------------------------------------------------------------------------
class _TrainBar:
    """A rich progress bar over the time (or step) budget with the run's vital signs."""

    def __init__(self, console):
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        self.progress = Progress(TextColumn("[bold]train"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
                                 TextColumn("{task.fields[info]}"), TimeElapsedColumn(), console=console,
                                 transient=False)
        self.task = None

    def __enter__(self):
        self.progress.__enter__()
        return self

    def __exit__(self, *exc):
        self.progress.__exit__(*exc)

    def update(self, i: dict) -> None:
        if i["max_steps"] and i["budget"] == float("inf"):
            total, done = i["max_steps"], i["step"]
        else:
            total, done = i["budget"], i["seconds"]
        val = f"{i['val_loss']:.3f}" if i["val_loss"] is not None else "-"
        info = f"step {i['step']} | train {i['train_loss']:.3f} | val {val} | {i['tokens_per_s']:,.0f} tok/s"
        if i["load"] is not None:
            info += f" | load {sparkline(i['load'])} max {i['load'].max() * i['load'].size:.2f}x"
        if self.task is None:
            self.task = self.progress.add_task("train", total=total, info=info)
        self.progress.update(self.task, completed=done, total=total, info=info)


def sparkline(load) -> str:
    """Expert loads as bars; uniform load sits mid-height, an idle expert at the bottom."""
    E = len(load)
    return "".join(SPARK[min(len(SPARK) - 1, int(x * E / 2 * (len(SPARK) - 1) + 0.5))] for x in load)


def _print_result(console, r: dict) -> None:
    line = (f"{r['model']} seed {r['seed']}: val loss {r['val_loss']:.4f} nats/char after {r['steps']} steps, "
            f"{r['tokens']:,} tokens, {r['tokens_per_s']:,.0f} tok/s")
    if r.get("entropy_rate"):
        line += f" (floor {r['entropy_rate']:.4f}, gap {100 * (r['val_loss'] / r['entropy_rate'] - 1):.1f}%)"
    console.print(line)
    if r.get("mi_bits"):
        mi = ", ".join(f"{x:.2f}" for x in r["mi_bits"])
        console.print(f"I(1st-choice expert; source) per layer: {mi} bits (source entropy "
                      f"{r['source_entropy_bits']:.2f} bits)")


def _rel(path: Path) -> str:
    try:
        return str(Path(path).resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)
