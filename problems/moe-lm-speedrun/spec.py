"""moe-lm-speedrun: train a character language model within a time budget; the grade is its
held-out bits per character on text it never saw (a scored problem: see harness.spec.Scoring)."""
from __future__ import annotations

import math

import numpy as np

from harness.seeds import case_seed
from harness.spec import Driver, Limits, Problem, Rejected, Scoring
from tinylm.data import MarkovMixture

SLUG = "moe-lm-speedrun"
# per grading plan: training seconds, training characters, held-out characters
PLANS = {"full": (60.0, 1_000_000, 50_000), "quick": (10.0, 300_000, 10_240), "off": (1.0, 50_000, 4_096)}
CHUNK = 1_024  # held-out text is scored in independent chunks of this many tokens
NORM_TOL = 1e-4  # |logsumexp(row)| allowed: each row must be a distribution
LOOKAHEAD_TOL = 1e-5


def budget(seconds: float) -> float:
    """Wall-clock limit of the train call: the budget plus 50% and 2 s for start-up."""
    return 1.5 * seconds + 2.0


def corpus(secret: str, n_train: int, n_val: int):
    """(train text, val ids, vocabulary, the true model's -log p per val char): a mixture of Markov
    sources whose parameters come from the (leaderboard) secret, so no one can know the text."""
    seed = case_seed(SLUG, "corpus", secret) % 2**31
    mixture = MarkovMixture(seed=seed)
    text, _, nll = mixture.sample(n_train + n_val, np.random.default_rng(seed + 1))
    train, val = text[:n_train], text[n_train:]
    chars = "".join(sorted(set(train)))
    if not set(val) <= set(chars):
        raise RuntimeError("the held-out text uses a character the training text lacks")
    lookup = {c: i for i, c in enumerate(chars)}
    return train, np.array([lookup[c] for c in val], dtype=np.int64), chars, nll[n_train:], mixture


def _logprobs(driver: Driver, ids: np.ndarray, V: int, label: str) -> np.ndarray:
    got = driver.call(ids, on="model", method="logprobs", wall_s=120.0, label=label)
    lp = np.asarray(got)
    if lp.shape != (ids.size, V) or lp.dtype.kind != "f":
        raise Rejected(f"logprobs({ids.size} tokens) returned {lp.dtype} {lp.shape}, expected float ({ids.size}, {V})")
    if not np.isfinite(lp).all():
        raise Rejected(f"logprobs returned NaN or inf (row {int(np.argwhere(~np.isfinite(lp))[0, 0])}): "
                       "give every token some probability")
    norm = np.logaddexp.reduce(lp.astype(np.float64), axis=1)
    bad = np.flatnonzero(np.abs(norm) > NORM_TOL)
    if bad.size:
        raise Rejected(f"logprobs row {bad[0]} is not a distribution: logsumexp = {norm[bad[0]]:.3g}, not 0\n"
                       f"{bad.size} of {ids.size} rows are off by more than {NORM_TOL:g}")
    return lp


def score(driver: Driver, secret: str, plan: str) -> dict:
    seconds, n_train, n_val = PLANS[plan]
    train, val, chars, true_nll, mixture = corpus(secret, n_train, n_val)
    V = len(chars)
    seed = case_seed(SLUG, "seed", secret) % 2**31
    driver.call(train, seconds, seed, keep="model", wall_s=budget(seconds), label="train")
    declared = driver.call(on="model", method="describe", label="describe")
    if not isinstance(declared, dict) or not all(isinstance(declared.get(k), int)
                                                 for k in ("total_params", "active_params")):
        raise Rejected("describe() must return {'total_params': int, 'active_params': int}")
    total_nll, scored, floor = 0.0, 0, 0.0
    rng = np.random.default_rng(case_seed(SLUG, "lookahead", secret))
    probes = set(rng.choice(max(1, val.size // CHUNK), size=min(2, max(1, val.size // CHUNK)), replace=False))
    for i, start in enumerate(range(0, val.size - 1, CHUNK)):
        ids = val[start:start + CHUNK]
        if ids.size < 2:
            break
        lp = _logprobs(driver, ids, V, f"logprobs chunk {i}")
        total_nll -= float(lp[np.arange(ids.size - 1), ids[1:]].sum())
        scored += ids.size - 1
        floor += float(true_nll[start + 1:start + ids.size].sum())
        if i in probes:  # row t may depend on tokens 0..t only: drop the future, nothing may change
            cut = int(rng.integers(1, ids.size))
            head = _logprobs(driver, ids[:cut], V, f"logprobs chunk {i}, first {cut} tokens")
            diff = np.abs(head - lp[:cut]).max(axis=1)
            if (diff > LOOKAHEAD_TOL).any():
                row = int(np.argmax(diff > LOOKAHEAD_TOL))
                raise Rejected(f"row {row} of logprobs changes (by {diff[row]:.3g}) when the tokens after "
                               f"position {cut - 1} are removed: a prediction may not look ahead")
    bpc = total_nll / scored / math.log(2)
    return {"score": bpc, "metrics": {
        "total_params": declared["total_params"], "active_params": declared["active_params"],
        "floor_bpc": round(floor / scored / math.log(2), 4),
        "gap_pct": round(100 * (bpc * scored * math.log(2) / floor - 1), 2),
        "train_seconds": seconds, "train_chars": n_train, "scored_chars": scored}}


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
