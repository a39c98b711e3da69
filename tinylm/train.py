"""Train the tiny LM: AdamW, gradient clipping, warm-up then cosine learning rate, periodic
evaluation on fixed val windows, checkpoints that survive a kill, and the MoE-vs-dense compare.

The time budget counts training steps only (evaluation and checkpoints are excluded), so MoE
and dense runs with the same budget get the same compute time. The learning-rate schedule
follows the fraction of the budget spent (or of `max_steps`, which makes a run reproducible).
"""
from __future__ import annotations

import json
import math
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from collections.abc import Callable

import numpy as np

from . import model as M
from .data import Corpus, load_corpus, mutual_information


CLOCKS = {"wall": time.perf_counter, "cpu": time.process_time}


@dataclass(frozen=True)
class TrainConfig:
    corpus: str = "pydoc"
    seed: int = 0
    minutes: float | None = 5.0  # training-step time; None: run max_steps
    max_steps: int | None = None
    batch_size: int = 32  # ~512 rows per expert: MoE at 0.95-0.96x dense's tokens/s (batch 16: 0.91x; README)
    lr: float = 4e-3  # peak: ~sqrt(2) x 3e-3, the best of 1e-3/3e-3/6e-3 at batch 16 (README)
    min_lr: float = 4e-4
    warmup_steps: int = 100
    weight_decay: float = 0.1  # on matrices only (ndim >= 2), as in nanoGPT
    beta1: float = 0.9
    beta2: float = 0.99
    grad_clip: float = 1.0
    eval_every_s: float = 15.0  # training seconds between quick val estimates
    eval_windows: int = 32  # windows in a quick estimate
    final_eval_windows: int = 512
    checkpoint_every_s: float = 60.0  # wall-clock seconds between checkpoints
    threads: int = 1  # BLAS threads; more than the free cores makes small GEMMs far slower
    numba: bool | None = None  # the compiled MoE kernels and AdamW (model.use_numba); None: auto (wants_numba)
    clock: str = "wall"  # what a training second is: "wall" (time.perf_counter) or "cpu" (this process's
    # CPU time: on a machine shared with other jobs, the time they hold the cores is not charged to the run)

    def __post_init__(self) -> None:
        if self.minutes is None and self.max_steps is None:
            raise ValueError("give a time budget (minutes) or max_steps")
        if self.clock not in CLOCKS:
            raise ValueError(f"clock must be one of {sorted(CLOCKS)}, not {self.clock!r}")


# -- optimiser and schedule ----------------------------------------------------------------
class AdamW:
    """Adam with decoupled weight decay (Loshchilov & Hutter) on parameters with ndim >= 2.

    NumPy, in place through one scratch buffer per parameter (freshly allocated temporaries of the
    MoE's size cost page faults every step); with model.use_numba on, one fused compiled pass per
    parameter instead (kernels.adamw). The optimiser step scales with *total* parameters, ~3x the
    dense model's for the MoE: in NumPy it was ~8% of an MoE step."""

    def __init__(self, params: dict[str, np.ndarray], tc: TrainConfig):
        self.tc = tc
        self.m = {k: np.zeros_like(v) for k, v in params.items()}
        self.v = {k: np.zeros_like(v) for k, v in params.items()}
        self.scratch: dict[str, np.ndarray] = {}
        self.t = 0

    def step(self, params: dict[str, np.ndarray], grads: dict[str, np.ndarray], lr: float,
             grad_scale: float = 1.0) -> None:
        """Update params in place with the gradients times grad_scale (gradient clipping):
        m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;
        p = p (1 - lr decay) - lr (m / c1) / (sqrt(v / c2) + eps),  c_i = 1 - b_i^t."""
        tc = self.tc
        self.t += 1
        c1, c2 = 1 - tc.beta1**self.t, 1 - tc.beta2**self.t
        kernels = M.numba_kernels()
        for k, p in params.items():
            decay = tc.weight_decay if p.ndim >= 2 else 0.0
            g, m, v = grads[k], self.m[k], self.v[k]
            if kernels:
                kernels.adamw(p.reshape(-1), g.reshape(-1), m.reshape(-1), v.reshape(-1),
                              lr, tc.beta1, tc.beta2, c1, c2, 1e-8, decay, grad_scale)
                continue
            tmp = self.scratch.setdefault(k, np.empty_like(p))
            np.multiply(g, grad_scale * (1 - tc.beta1), out=tmp)
            m *= tc.beta1
            m += tmp
            np.multiply(g, g, out=tmp)
            tmp *= grad_scale**2 * (1 - tc.beta2)
            v *= tc.beta2
            v += tmp
            if decay:
                p *= 1 - lr * decay
            np.sqrt(v, out=tmp)
            tmp *= 1 / math.sqrt(c2)
            tmp += 1e-8
            np.divide(m, tmp, out=tmp)
            tmp *= lr / c1
            p -= tmp


def grad_norm(grads: dict[str, np.ndarray]) -> float:
    """The global L2 norm of all gradients together."""
    return math.sqrt(sum(float(np.vdot(g, g)) for g in grads.values()))


def clip_grads(grads: dict[str, np.ndarray], max_norm: float) -> float:
    """Scale all gradients together so their global L2 norm is at most max_norm; returns the norm."""
    norm = grad_norm(grads)
    if max_norm and norm > max_norm:
        for g in grads.values():
            g *= max_norm / norm
    return norm


def learning_rate(tc: TrainConfig, step: int, progress: float) -> float:
    """Linear warm-up over warmup_steps, then cosine from lr to min_lr as progress goes 0 -> 1."""
    if step < tc.warmup_steps:
        return tc.lr * (step + 1) / tc.warmup_steps
    progress = min(max(progress, 0.0), 1.0)
    return tc.min_lr + 0.5 * (tc.lr - tc.min_lr) * (1 + math.cos(math.pi * progress))


def train_step(params, cfg: M.Config, tc: TrainConfig, opt: AdamW, idx, targets, lr: float) -> tuple[dict, float]:
    """One optimisation step on a batch, in place: forward, backward, clip, AdamW.
    Returns (the forward pass's stats, the gradient norm before clipping)."""
    stats, grads = M.loss_and_grads(params, cfg, idx, targets)
    norm = grad_norm(grads)
    scale = tc.grad_clip / norm if tc.grad_clip and norm > tc.grad_clip else 1.0  # clipping, done by AdamW
    opt.step(params, grads, lr, scale)
    return stats, norm


def keep_freed_memory() -> None:
    """Have glibc keep freed memory for reuse rather than hand it back to the OS (Linux only).

    glibc serves large blocks with mmap and trims the heap top once enough is free, with
    thresholds it adapts to the allocation history. The MoE step (a few MB of temporaries that
    differ in size from the dense model's) landed on the wrong side of them: ~5,000 fresh pages
    faulted in and zeroed every step (~20 MB, ~15% of its step time), the dense step none. Fixed
    thresholds (mmap only above 64 MB, trim only above 1 GB) make both reuse their memory; the
    process keeps at most its peak footprint."""
    import ctypes
    import ctypes.util
    import sys

    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc (musl has no mallopt)
        return
    M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
    mallopt(M_MMAP_THRESHOLD, 64 << 20)
    mallopt(M_TRIM_THRESHOLD, 1 << 30)


NUMBA_MIN_MINUTES, NUMBA_MIN_STEPS = 1.0, 500  # shorter runs cannot amortise a first compile


def wants_numba(tc: TrainConfig) -> bool:
    """tc.numba, or when None (auto) whether the run is long enough for Numba's kernels to pay:
    a first compile takes ~10-30 s (later runs load Numba's on-disk cache in ~1 s)."""
    if tc.numba is not None:
        return tc.numba
    if tc.minutes is not None:
        return tc.minutes >= NUMBA_MIN_MINUTES
    return tc.max_steps >= NUMBA_MIN_STEPS


def warm_up(params, cfg: M.Config) -> None:
    """One forward and backward pass and one optimiser step's kernels on a 1 x 2 batch, untimed and
    without touching any state: Numba compiles the kernels (or loads them from its cache) on
    their first call, and that must not count as training time."""
    idx = np.zeros((1, min(2, cfg.block_size)), dtype=np.int64)
    M.loss_and_grads(params, cfg, idx, idx)
    kernels = M.numba_kernels()
    if kernels:
        for dtype in {p.dtype for p in params.values()}:
            kernels.adamw(*(np.zeros(1, dtype) for _ in range(4)), 0.0, 0.9, 0.9, 1.0, 1.0, 1e-8, 0.0, 1.0)


# -- data ------------------------------------------------------------------------------------
def random_batch(ids: np.ndarray, batch: int, T: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    starts = rng.integers(0, ids.size - T - 1, batch)
    rows = starts[:, None] + np.arange(T + 1)
    window = ids[rows]
    return window[:, :-1], window[:, 1:]


def eval_windows(n_ids: int, T: int, count: int) -> np.ndarray:
    """Start offsets of `count` fixed windows spread evenly over the val split (the same for
    every run, model and seed, so their losses compare directly)."""
    count = max(1, min(count, n_ids - T - 1))
    return np.linspace(0, n_ids - T - 1, count).astype(np.int64)


def evaluate(params, cfg: M.Config, corpus: Corpus, starts: np.ndarray, batch: int = 64) -> dict:
    """Mean val cross-entropy (nats/char) over the windows; for MoE, each layer's expert load and,
    on a synthetic corpus, the mutual information between 1st-choice expert and source."""
    T = cfg.block_size
    total, count = 0.0, 0
    choices: list[list[np.ndarray]] = [[] for _ in range(cfg.n_layer)]
    sources = []
    for i in range(0, starts.size, batch):
        rows = starts[i:i + batch, None] + np.arange(T + 1)
        window = corpus.val[rows]
        _, stats, _ = M.forward(params, cfg, window[:, :-1], window[:, 1:])
        total += stats["ce"] * window[:, 1:].size
        count += window[:, 1:].size
        if not cfg.dense:
            for l, s in enumerate(stats["layers"]):
                choices[l].append(s["expert"][:, 0])
            if corpus.val_source is not None:
                sources.append(corpus.val_source[rows[:, :-1]].reshape(-1))
    out: dict = {"val_loss": total / count}
    if not cfg.dense:
        first = [np.concatenate(c) for c in choices]
        out["load"] = [np.bincount(f, minlength=cfg.n_expert) / f.size for f in first]
        out["load"] = [x.tolist() for x in out["load"]]
        if sources:
            src = np.concatenate(sources)
            out["mi_bits"] = [mutual_information(f, src) for f in first]
            out["source_entropy_bits"] = mutual_information(src, src)
    return out


# -- checkpoints -----------------------------------------------------------------------------
CKPT = "ckpt"  # out_dir/ckpt.npz (weights, Adam moments, state) + ckpt.json (model config)


@dataclass
class State:
    """Everything besides the arrays that a resumed run needs."""

    step: int = 0
    train_seconds: float = 0.0
    tokens: int = 0
    rng: dict = field(default_factory=dict)  # the data generator's bit-generator state
    history: list = field(default_factory=list)  # [{step, seconds, tokens, train_loss, val_loss}]
    chars: str = ""  # the corpus's vocabulary: token i is chars[i] (sampling needs it)


def save_checkpoint(out_dir: Path, params, cfg: M.Config, tc: TrainConfig, opt: AdamW, state: State) -> Path:
    extra = {f"m/{k}": v for k, v in opt.m.items()}
    extra.update({f"v/{k}": v for k, v in opt.v.items()})
    meta = {"train": asdict(tc), "state": asdict(state), "adam_t": opt.t}
    extra["meta"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    M.save(out_dir / CKPT, params, cfg, extra)  # one atomic npz: weights and state never disagree
    return out_dir / f"{CKPT}.npz"


def load_checkpoint(path: Path):
    """(params, cfg, tc, opt, state) from a checkpoint folder or its .npz."""
    path = Path(path)
    if path.is_dir():
        path = path / f"{CKPT}.npz"
    params, cfg, extra = M.load(path)
    meta = json.loads(extra["meta"].tobytes().decode())
    tc = TrainConfig(**meta["train"])
    opt = AdamW(params, tc)
    opt.m = {k: extra[f"m/{k}"] for k in params}
    opt.v = {k: extra[f"v/{k}"] for k in params}
    opt.t = meta["adam_t"]
    return params, cfg, tc, opt, State(**meta["state"])


def checkpoint_path(spec: str | Path) -> Path:
    """A checkpoint given as a folder or a file (ckpt, ckpt.npz or ckpt.json)."""
    path = Path(spec)
    if path.is_dir():
        path = path / f"{CKPT}.npz"
    path = path.with_suffix(".npz")
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {spec} (expected a run folder or its {CKPT}.npz)")
    return path


# -- the training loop ----------------------------------------------------------------------
Progress = Callable[[dict], None]


def train(cfg: M.Config, tc: TrainConfig, corpus: Corpus, out_dir: Path | None = None, *,
          resume: bool = False, progress: Progress | None = None) -> dict:
    """Train until the budget is spent; returns the run's result (also written to out_dir/result.json).

    With `resume`, continues from out_dir's checkpoint (the model and training configs stored
    there win), losing at most the steps since the last checkpoint."""
    from threadpoolctl import threadpool_limits

    progress = progress or (lambda info: None)
    out_dir = Path(out_dir) if out_dir else None
    if resume and out_dir and (out_dir / f"{CKPT}.npz").is_file():
        params, cfg, stored_tc, opt, state = load_checkpoint(out_dir)
        tc = replace(stored_tc, threads=tc.threads)
        rng = np.random.default_rng()
        rng.bit_generator.state = state.rng
    else:
        init_rng, rng = (np.random.default_rng(s) for s in np.random.SeedSequence(tc.seed).spawn(2))
        params = M.init_params(cfg, init_rng)
        opt, state = AdamW(params, tc), State(chars=corpus.chars)
    if state.chars != corpus.chars:
        raise ValueError(f"the checkpoint's vocabulary ({len(state.chars)} characters) is not this corpus's "
                         f"({corpus.vocab_size}): wrong corpus?")
    budget = tc.minutes * 60 if tc.minutes is not None else math.inf
    keep_freed_memory()
    numba_before = M.numba_kernels() is not None
    M.use_numba(wants_numba(tc))
    try:
        warm_up(params, cfg)
        clock = CLOCKS[tc.clock]
        quick = eval_windows(corpus.val.size, cfg.block_size, tc.eval_windows)
        last_ckpt, next_eval = time.monotonic(), state.train_seconds
        ema = None
        with threadpool_limits(limits=tc.threads, user_api="blas"):
            while state.train_seconds < budget and (tc.max_steps is None or state.step < tc.max_steps):
                if state.train_seconds >= next_eval:
                    val = evaluate(params, cfg, corpus, quick)["val_loss"]
                    state.history.append({"step": state.step, "seconds": state.train_seconds, "tokens": state.tokens,
                                          "train_loss": ema, "val_loss": val})
                    next_eval = state.train_seconds + tc.eval_every_s
                t0 = clock()
                idx, targets = random_batch(corpus.train, tc.batch_size, cfg.block_size, rng)
                frac = state.step / tc.max_steps if tc.max_steps else 0.0
                if tc.minutes is not None:
                    frac = max(frac, state.train_seconds / budget)
                lr = learning_rate(tc, state.step, frac)
                stats, norm = train_step(params, cfg, tc, opt, idx, targets, lr)
                state.train_seconds += clock() - t0
                state.step += 1
                state.tokens += idx.size
                ema = stats["ce"] if ema is None else 0.95 * ema + 0.05 * stats["ce"]
                if out_dir and time.monotonic() - last_ckpt >= tc.checkpoint_every_s:
                    state.rng = rng.bit_generator.state
                    save_checkpoint(out_dir, params, cfg, tc, opt, state)
                    last_ckpt = time.monotonic()
                load = None if cfg.dense else np.mean([s["load"] for s in stats["layers"]], axis=0)
                progress({"step": state.step, "seconds": state.train_seconds, "budget": budget,
                          "max_steps": tc.max_steps, "train_loss": ema, "lr": lr, "grad_norm": norm,
                          "tokens_per_s": state.tokens / max(state.train_seconds, 1e-9),
                          "val_loss": state.history[-1]["val_loss"] if state.history else None, "load": load})
            final = evaluate(params, cfg, corpus, eval_windows(corpus.val.size, cfg.block_size, tc.final_eval_windows))
    finally:
        M.use_numba(numba_before)
    state.history.append({"step": state.step, "seconds": state.train_seconds, "tokens": state.tokens,
                          "train_loss": ema, "val_loss": final["val_loss"]})
    state.rng = rng.bit_generator.state
    counts = M.param_counts(cfg)
    result = {"corpus": corpus.name, "model": "dense" if cfg.dense else f"moe-e{cfg.n_expert}k{cfg.top_k}",
              "seed": tc.seed, "steps": state.step, "tokens": state.tokens, "train_seconds": state.train_seconds,
              "tokens_per_s": state.tokens / max(state.train_seconds, 1e-9),
              "total_params": counts["total"], "active_params": counts["active"],
              "entropy_rate": corpus.entropy_rate, **final,
              "numba": wants_numba(tc), "config": asdict(cfg), "train_config": asdict(tc), "history": state.history}
    if out_dir:
        save_checkpoint(out_dir, params, cfg, tc, opt, state)
        (out_dir / "result.json").write_text(json.dumps(result, indent=1))
    result["params"] = params
    return result


def model_config(corpus: Corpus, **overrides) -> M.Config:
    return M.Config(vocab_size=corpus.vocab_size, **overrides)


def run_name(cfg: M.Config, seed: int) -> str:
    return ("dense" if cfg.dense else f"moe-e{cfg.n_expert}k{cfg.top_k}") + f"-s{seed}"


def corpus_label(spec: str) -> str:
    return spec if spec in ("pydoc", "synthetic") else Path(spec).stem


__all__ = ["TrainConfig", "AdamW", "train", "evaluate", "load_checkpoint", "save_checkpoint",
           "learning_rate", "clip_grads", "load_corpus", "model_config", "run_name"]
