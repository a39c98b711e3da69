"""moe-lm-speedrun: train a character language model within a time budget; the grade is its
held-out bits per character on text it never saw (a scored problem: see harness.spec.Scoring).

The model never sees the future: the held-out text is streamed to it one position at a time,
many streams side by side, and token t+1 of a stream leaves the grader only after the model's
distribution for it has been received and kept. Everything before scoring (train, describe,
start) shares one wall-clock budget on the grader's clock; the steps share a scoring allowance.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from harness.seeds import case_seed
from harness.spec import Driver, Limits, Problem, Rejected, Scoring
from tinylm.data import MarkovMixture

SLUG = "moe-lm-speedrun"
CHUNK = 1_024  # characters per held-out stream in graded runs (the smoke test's are shorter)
# per grading plan: training seconds, training characters, streams, characters per stream
PLANS = {"full": (60.0, 1_000_000, 48, CHUNK), "quick": (10.0, 300_000, 10, CHUNK), "off": (1.0, 50_000, 16, 256)}
SCORING_S = {"full": 60.0, "quick": 30.0, "off": 15.0}  # wall clock for every step together
STEP_WALL_S = 10.0  # one step call
BURN_IN = 256  # characters drawn and dropped before each stream, so a stream starts inside a segment
NORM_TOL = 1e-4  # |logsumexp(row)| allowed: each row must be a distribution
BYTES_PER_PARAM = 1  # the least a stored parameter takes (int8), for the plausibility bound
FLOOR_Z = 5.0  # a score below the floor by more than this many standard errors is impossible by chance
FLOOR_SLACK = 1e-3  # nats/char, on top of that


def budget(seconds: float) -> float:
    """Wall clock for everything before scoring (train, describe, start, together): the budget
    plus 50% and 2 s for start-up."""
    return 1.5 * seconds + 2.0


@dataclass(frozen=True)
class Corpus:
    train: str  # the training text
    chars: str  # the vocabulary: token i is chars[i]
    streams: np.ndarray  # (streams, length) int64 token ids of the held-out text
    true_nll: np.ndarray  # (streams, length) -log p of each held-out token under the true model
    mixture: MarkovMixture


def corpus(secret: str, n_train: int, n_streams: int, length: int,
           rng: np.random.Generator | None = None) -> Corpus:
    """The training text and the held-out streams, from a mixture of Markov sources. The sources'
    tables come from the leaderboard secret (fresh randomness without one, so no one can know
    them in advance); the texts are drawn fresh every grade, so no held-out character can be
    known before the grade, nor carried from one grade to the next. Each stream is its own draw
    (independent of the others and of the training text) with its first BURN_IN characters
    dropped; a stream with a character the training text lacks is drawn again."""
    rng = rng or np.random.default_rng()  # OS entropy
    seed = case_seed(SLUG, "corpus", secret) % 2**31 if secret else int(rng.integers(2**31))
    mixture = MarkovMixture(seed=seed)
    train, _, _ = mixture.sample(n_train, rng)
    chars = "".join(sorted(set(train)))
    lookup = np.full(128, -1, dtype=np.int64)
    lookup[[ord(c) for c in chars]] = np.arange(len(chars))
    streams = np.empty((n_streams, length), dtype=np.int64)
    nll = np.empty((n_streams, length))
    for s in range(n_streams):
        for _ in range(100):
            text, _, char_nll = mixture.sample(BURN_IN + length, rng)
            ids = lookup[np.frombuffer(text[BURN_IN:].encode("ascii"), dtype=np.uint8)]
            if (ids >= 0).all():
                break
        else:
            raise RuntimeError("the held-out text keeps using a character the training text lacks")
        streams[s], nll[s] = ids, char_nll[BURN_IN:]
    return Corpus(train, chars, streams, nll, mixture)


def check_counts(declared, peak_bytes: int | None, limit_bytes: int) -> tuple[int, int]:
    """describe()'s counts, if plausible: whole numbers, at least 1, active <= total, and no more
    parameters than the memory the child actually held could store at one byte each (its peak
    resident memory as the grader read it, else the memory limit). A count that is too low
    cannot be caught: the counts are shown, never ranked."""
    shape = "describe() must return {'total_params': int, 'active_params': int}"
    if not isinstance(declared, dict):
        raise Rejected(f"{shape}, got {type(declared).__name__}")
    total, active = declared.get("total_params"), declared.get("active_params")
    if type(total) is not int or type(active) is not int:
        raise Rejected(f"{shape}, got total_params {total!r:.40}, active_params {active!r:.40}")
    if total < 1 or active < 1:
        raise Rejected(f"describe(): parameter counts must be at least 1, got total {total:,}, active {active:,}")
    if active > total:
        raise Rejected(f"describe(): active_params ({active:,}) exceeds total_params ({total:,})")
    bound, held = (peak_bytes, "its peak resident memory") if peak_bytes else (limit_bytes, "its memory limit")
    if total * BYTES_PER_PARAM > bound:
        raise Rejected(f"describe() claims {total:,} parameters, more than the child's memory ever held: "
                       f"{held} was {bound / 2**20:,.0f} MiB, room for at most {bound // BYTES_PER_PARAM:,} "
                       f"parameters at {BYTES_PER_PARAM} byte each")
    return total, active


def _step(driver: Driver, tokens: np.ndarray, V: int, t: int) -> np.ndarray:
    got = driver.call(tokens, on="model", method="step", wall_s=STEP_WALL_S, label="step")
    n = tokens.size
    if not isinstance(got, np.ndarray) or got.shape != (n, V) or got.dtype.kind != "f":
        what = f"{got.dtype} {got.shape}" if isinstance(got, np.ndarray) else type(got).__name__
        raise Rejected(f"step {t} returned {what}, expected a float array of shape ({n}, {V})")
    lp = got.astype(np.float64)
    if not np.isfinite(lp).all():
        raise Rejected(f"step {t} returned NaN or inf (stream {int(np.argwhere(~np.isfinite(lp))[0, 0])}): "
                       "give every token some probability")
    norm = np.logaddexp.reduce(lp, axis=1)
    bad = np.flatnonzero(np.abs(norm) > NORM_TOL)
    if bad.size:
        raise Rejected(f"step {t}: row {bad[0]} is not a distribution: logsumexp = {norm[bad[0]]:.3g}, not 0\n"
                       f"{bad.size} of {n} rows are off by more than {NORM_TOL:g}")
    return lp


def check_floor(model_nll: np.ndarray, true_nll: np.ndarray) -> None:
    """No causal model beats the true model (which even knows each character's source) in
    expectation; a score below the floor by more than chance allows means the model had
    information about the tokens it predicted that it should not have had, however it got it."""
    excess = (model_nll - true_nll).reshape(-1)
    mean, se = float(excess.mean()), float(excess.std(ddof=1) / math.sqrt(excess.size))
    if mean < -(FLOOR_Z * se + FLOOR_SLACK):
        bits = 1 / math.log(2)
        raise Rejected(f"the score is below the floor by more than chance allows: {model_nll.mean() * bits:.4f} "
                       f"bits/char against the true model's {true_nll.mean() * bits:.4f} on the same characters "
                       f"({-mean / max(se, 1e-12):.0f} standard errors below): the model knew something about "
                       "the tokens it predicted that it was not shown")


def score(driver: Driver, secret: str, plan: str) -> dict:
    seconds, n_train, n_streams, length = PLANS[plan]
    data = corpus(secret, n_train, n_streams, length)
    V = len(data.chars)
    seed = case_seed(SLUG, "seed", secret) % 2**31
    with driver.budget(budget(seconds), "training budget (train, describe and start together)") as before:
        driver.call(data.train, seconds, seed, keep="model", label="train")
        declared = driver.call(on="model", method="describe", label="describe")
        driver.call(n_streams, on="model", method="start", label="start")
    peak = driver.peak_memory()
    total, active = check_counts(declared, peak, PROBLEM.limits.mem_mb << 20)
    model_nll = np.empty((n_streams, length - 1))
    rows = np.arange(n_streams)
    with driver.budget(SCORING_S[plan], "steps' allowance (every step together)"):
        for t in range(length - 1):  # token t goes out; token t+1 only once its distribution is in
            lp = _step(driver, np.ascontiguousarray(data.streams[:, t]), V, t)
            model_nll[:, t] = -lp[rows, data.streams[:, t + 1]]
    true_nll = data.true_nll[:, 1:]
    check_floor(model_nll, true_nll)
    bpc, floor = model_nll.mean() / math.log(2), true_nll.mean() / math.log(2)
    return {"score": float(bpc), "metrics": {
        "total_params": total, "active_params": active, "floor_bpc": round(float(floor), 4),
        "gap_pct": round(float(100 * (bpc / floor - 1)), 2), "train_seconds": seconds, "train_chars": n_train,
        "scored_chars": int(model_nll.size), "before_scoring_s": before.used_s,
        "peak_mb": round(peak / 2**20, 1) if peak else None}}


PROBLEM = Problem(
    slug=SLUG,
    title="Sparse MoE language model: speedrun",
    difficulty="hard",
    entry="train",
    scoring=Scoring(run=score, unit="bits/char", lower_is_better=True, arity=3),
    forbidden_imports=("torch", "jax", "tensorflow"),
    limits=Limits(wall_s=120.0, cpu_s=600.0),
    tags=("mixture of experts", "language model", "training", "seed note Q6"),
)
