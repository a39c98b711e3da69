"""moe-lm-speedrun's scoring: the held-out text is streamed (token t+1 only after its distribution
is in), one budget covers everything before scoring, parameter counts are checked for plausibility,
and a score below the floor beyond chance is refused, whatever channel the information came from."""
from __future__ import annotations

import contextlib
import importlib.util
import math
import types

import numpy as np
import pytest

from harness import problems
from harness.grader import grade
from harness.problems import load_module
from harness.spec import Problem, Rejected, Scoring

SPEEDRUN = problems.get("moe-lm-speedrun")
spec = load_module(SPEEDRUN.folder / "spec.py")


def _module(path):
    loader = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(loader)
    loader.loader.exec_module(module)
    return module


class InProcess:
    """A Driver that runs the model in this process (no sandbox): to test the hook's own logic."""

    def __init__(self, train, peak: int | None = 64 << 20):
        self.train, self.peak, self.kept, self.calls = train, peak, {}, []

    def call(self, *args, keep=None, on=None, method=None, wall_s=None, label=""):
        self.calls.append((label, args))
        if keep:
            self.kept[keep] = self.train(*args)
            return None
        return getattr(self.kept[on], method)(*args)

    @contextlib.contextmanager
    def budget(self, seconds, what):
        yield types.SimpleNamespace(used_s=0.0)

    def peak_memory(self):
        return self.peak


@pytest.fixture
def captured(monkeypatch):
    """The corpus each score() call draws, kept for the test (what a leak would give a model)."""
    seen = []
    real = spec.corpus

    def corpus(*args, **kwargs):
        seen.append(real(*args, **kwargs))
        return seen[-1]

    monkeypatch.setattr(spec, "corpus", corpus)
    return seen


class Knows:
    """A model handed the held-out text (as a leak would): bets `confidence` on the true next token."""

    def __init__(self, seen, V, confidence=0.99):
        self.seen, self.V, self.confidence = seen, V, confidence

    def describe(self):
        return {"total_params": 1, "active_params": 1}

    def start(self, n):
        self.t = -1

    def step(self, tokens):
        self.t += 1
        nxt = self.seen[-1].streams[:, self.t + 1]
        p = np.full((tokens.size, self.V), (1 - self.confidence) / self.V)
        p[np.arange(tokens.size), nxt] += self.confidence
        return np.log(p)


def test_a_model_that_knows_the_future_is_refused_by_the_floor(captured):
    driver = InProcess(lambda text, seconds, seed: Knows(captured, len(set(text))))
    with pytest.raises(Rejected, match="below the floor"):
        spec.score(driver, "", "off")


def test_a_slight_leak_is_refused_too(captured):
    """Right about the next token 20% of the time, uniform otherwise: still far below the floor."""

    class Slight(Knows):
        def step(self, tokens):
            leak = super().step(tokens)
            return np.logaddexp(np.log(0.8 / self.V), np.log(0.2) + leak)

    driver = InProcess(lambda text, seconds, seed: Slight(captured, len(set(text))))
    with pytest.raises(Rejected, match="below the floor"):
        spec.score(driver, "", "off")


class NearTruth:
    """The floor's own model (the true tables, and each stream's source even before its first
    tag), its every row perturbed by a fixed random factor exp(noise * z): as close to the floor
    as a model can come, on either side of it by chance."""

    def __init__(self, data, sources, noise, rng):
        mixture = data.mixture
        self.P, self.nxt = mixture.next_symbol_probs()
        self.K, self.A = mixture.n_sources, mixture.n_letters
        alphabet = "abcdefghijklmnopqrstuvwxyz"[:self.A] + "ABCDEFGHIJKLMNOPQRSTUVWXYZ"[:self.K]
        self.symbol = np.array([alphabet.index(c) for c in data.chars])  # token id -> symbol
        self.sources = sources
        logp = np.log(np.maximum(self.P, 1e-300)) + noise * rng.standard_normal(self.P.shape)
        self.rows = logp[:, self.symbol]
        self.rows -= np.logaddexp.reduce(self.rows, axis=1, keepdims=True)

    def describe(self):
        return {"total_params": 1, "active_params": 1}

    def start(self, n):
        self.state = None

    def step(self, tokens):
        sym = self.symbol[np.asarray(tokens)]
        K, A = self.K, self.A
        if self.state is None:  # a stream's first token: its source is the one drawn for it
            self.state = np.where(sym >= A, K * A + sym - A, self.sources * A + np.minimum(sym, A - 1))
        else:
            self.state = self.nxt[self.state, sym]
        return self.rows[self.state]


def _sourced_corpus(seed, rng):
    """spec.corpus's draw for plan "off", keeping each stream's source at its first character."""
    mixture = spec.MarkovMixture(seed=seed)
    _, n_train, n_streams, length = spec.PLANS["off"]
    train, _, _ = mixture.sample(n_train, rng)
    chars = "".join(sorted(set(train)))
    streams, nll, sources = [], [], []
    while len(streams) < n_streams:
        text, source, char_nll = mixture.sample(spec.BURN_IN + length, rng)
        kept = text[spec.BURN_IN:]
        if set(kept) <= set(chars):
            streams.append([chars.index(c) for c in kept])
            nll.append(char_nll[spec.BURN_IN:])
            sources.append(source[spec.BURN_IN])
    return spec.Corpus(train, chars, np.array(streams), np.array(nll), mixture), np.array(sources)


@pytest.mark.parametrize("noise", [0.0, 0.02, 0.1])
def test_the_floors_own_model_is_never_refused(monkeypatch, noise):
    """False WA: the true model, exact or perturbed, on 10 grades' worth of fresh text each, is
    never refused (the exact one scores the floor to rounding)."""
    for trial in range(10):
        rng = np.random.default_rng([trial, int(noise * 1000)])
        data, sources = _sourced_corpus(int(rng.integers(2**31)), rng)
        if len(data.chars) != data.mixture.n_sources + data.mixture.n_letters:
            continue  # a symbol the training text lacks: the true rows would not be over its vocabulary
        model = NearTruth(data, sources, noise, rng)
        monkeypatch.setattr(spec, "corpus", lambda *a, data=data, **k: data)
        out = spec.score(InProcess(lambda text, seconds, seed, model=model: model), "", "off")
        assert out["metrics"]["gap_pct"] > (-0.01 if noise == 0 else -5), out["metrics"]


def test_each_step_gets_one_token_per_stream_and_never_the_next(captured):
    class Recorder:
        def describe(self):
            return {"total_params": 3, "active_params": 2}

        def start(self, n):
            self.n, self.got = n, []

        def step(self, tokens):
            self.got.append(np.array(tokens))
            return np.full((tokens.size, 20), -math.log(20))

    model = Recorder()
    driver = InProcess(lambda text, seconds, seed: model)
    out = spec.score(driver, "", "off")
    data = captured[-1]
    _, _, n_streams, length = spec.PLANS["off"]
    assert model.n == n_streams and len(model.got) == length - 1
    for t, tokens in enumerate(model.got):  # step t held column t only: token t+1 was still in the grader
        assert tokens.shape == (n_streams,) and tokens.dtype == np.int64
        assert np.array_equal(tokens, data.streams[:, t])
    assert [label for label, _ in driver.calls[:3]] == ["train", "describe", "start"]
    assert out["metrics"]["scored_chars"] == n_streams * (length - 1)
    assert out["score"] == pytest.approx(math.log2(20))


def test_the_texts_are_fresh_every_grade_and_the_tables_follow_the_secret():
    a, b = spec.corpus("s3cret", 5_000, 4, 64), spec.corpus("s3cret", 5_000, 4, 64)
    assert a.mixture == b.mixture and a.train != b.train and not np.array_equal(a.streams, b.streams)
    c, d = spec.corpus("", 5_000, 4, 64), spec.corpus("", 5_000, 4, 64)
    assert c.mixture != d.mixture  # no secret: fresh randomness, so nobody can know the tables
    for x in (a, b, c, d):
        assert x.streams.shape == (4, 64) and x.streams.max() < len(x.chars) and x.streams.min() >= 0


@pytest.mark.parametrize("declared,message", [
    ({"total_params": 10, "active_params": 11}, "exceeds"),
    ({"total_params": 0, "active_params": 0}, "at least 1"),
    ({"total_params": -5, "active_params": 1}, "at least 1"),
    ({"total_params": 10.0, "active_params": 1}, "must return"),
    ({"total_params": True, "active_params": True}, "must return"),
    ({"total_params": "10", "active_params": 1}, "must return"),
    ({"active_params": 1}, "must return"),
    ([10, 1], "must return"),
    ({"total_params": 10**12, "active_params": 10}, "more than the child's memory ever held"),
])
def test_implausible_parameter_counts_are_refused(declared, message):
    with pytest.raises(Rejected, match=message):
        spec.check_counts(declared, 50 << 20, 4 << 30)


def test_plausible_counts_pass_and_the_memory_limit_stands_in_without_proc():
    assert spec.check_counts({"total_params": 40_000_000, "active_params": 5}, 50 << 20, 4 << 30) == (40_000_000, 5)
    assert spec.check_counts({"total_params": 3 << 30, "active_params": 1}, None, 4 << 30) == (3 << 30, 1)
    with pytest.raises(Rejected, match="memory limit"):
        spec.check_counts({"total_params": 5 << 30, "active_params": 1}, None, 4 << 30)


def test_the_tinylm_baseline_streams_the_rows_of_its_windows():
    """The key/value-cached stream gives the rows the windowed forward pass gives (row t from the
    window starting at half * max(0, t // half - 1)), to float32 rounding."""
    from tinylm import model as M

    baseline = _module(SPEEDRUN.baselines["tinylm"])
    cfg = M.Config(vocab_size=12, block_size=16, n_layer=2, n_embd=32, n_head=4, expert_hidden=32)
    params = M.init_params(cfg, np.random.default_rng(0))
    model = baseline.TinyLM(params, cfg)
    tokens = np.random.default_rng(1).integers(0, 12, (3, 70))
    model.start(3)
    got = np.stack([model.step(tokens[:, t]) for t in range(70)], axis=1)
    half = cfg.block_size // 2
    for t in range(70):
        start = half * max(0, t // half - 1)
        logits, _, _ = M.forward(params, cfg, tokens[:, start:t + 1])
        want = M.log_softmax(logits[:, -1].astype(np.float64))
        assert np.abs(got[:, t] - want).max() < 1e-5, t


def test_the_ngram_reference_streams_what_it_counted():
    """Row t of the stream is the Witten-Bell mixture over the contexts that end at token t."""
    ngram = _module(SPEEDRUN.references["ngram"])
    text, _, _ = spec.MarkovMixture(seed=2).sample(20_000, np.random.default_rng(3))
    model = ngram.train(text, 1.0, 0)
    chars = sorted(set(text))
    ids = np.array([chars.index(c) for c in text[:300]])
    model.start(1)
    rows = [model.step(ids[t:t + 1])[0] for t in range(300)]
    for t in (0, 1, 2, 50, 299):
        p = np.full(model.V, 1.0 / model.V)
        for n in range(min(model.order, t + 1) + 1):
            code = 0
            for j in range(n):
                code = code * model.V + ids[t - j]  # newest token most significant, as counted
            c = model.counts[n][code]
            if c.sum() > 0:
                p = (c + (c > 0).sum() * p) / (c.sum() + (c > 0).sum())
        assert np.allclose(np.exp(rows[t]), p), t
        assert abs(np.logaddexp.reduce(rows[t])) < 1e-9


# -- the Driver's budget, on a real sandboxed child ---------------------------------------------
SLOW = '''
import time
class M:
    def wait(self, s):
        time.sleep(s)
        return s
def make(a):
    time.sleep(a)
    return M()
'''


def _toy(hook):
    return Problem(slug="toy-budget", title="toy", difficulty="easy", entry="make",
                   scoring=Scoring(run=hook, unit="u", arity=1))


def test_one_budget_is_shared_by_every_call_inside_it(tmp_path):
    def hook(driver, secret, plan):
        with driver.budget(2.0, "toy budget"):
            driver.call(0.8, keep="m")
            driver.call(0.8, on="m", method="wait")  # each alone is well inside; together 1.6 s
            driver.call(0.8, on="m", method="wait")  # and this one runs past 2 s
        return {"score": 0.0}

    (tmp_path / "make.py").write_text(SLOW)
    rec = grade(_toy(hook), tmp_path / "make.py", plan="off")
    assert rec["verdict"] == "TLE", rec["reason"]
    assert "toy budget of 2 s ran out in m.wait" in rec["reason"] and "finished before: make" in rec["reason"]
    assert [c["name"] for c in rec["cases"]] == ["make", "m.wait"]


def test_a_budget_outlasts_the_per_call_limit_and_repeated_calls_are_one_case(tmp_path):
    def hook(driver, secret, plan):
        with driver.budget(5.0, "toy budget") as used:
            driver.call(1.2, keep="m")  # past the per-call limit of 1 s set below: the budget governs
        for _ in range(3):
            driver.call(0.01, on="m", method="wait")
        return {"score": used.used_s, "metrics": {"peak": driver.peak_memory()}}

    (tmp_path / "make.py").write_text(SLOW)
    from harness.spec import Limits
    rec = grade(_toy(hook), tmp_path / "make.py", plan="off", limits=Limits(wall_s=1.0))
    assert rec["verdict"] == "AC", rec["reason"]
    assert 1.2 <= rec["score"] < 5.0
    assert [c["name"] for c in rec["cases"]] == ["make", "m.wait ×3"]
    assert rec["cases"][1]["seconds"] == pytest.approx(0.03, abs=0.02)
    assert rec["metrics"]["peak"] > 10 << 20  # an interpreter's worth of resident memory, read from /proc


# -- the attacks, graded ---------------------------------------------------------------------
@pytest.mark.parametrize("name", ["peeks_ahead", "caches_previous_answer"])
def test_the_peeking_attacks_gain_nothing(name):
    path = SPEEDRUN.folder / "examples" / f"{name}.py"
    rec = grade(SPEEDRUN, path, plan="off")
    assert rec["verdict"] == "AC", rec["reason"]
    floor = rec["metrics"]["floor_bpc"]
    assert rec["score"] > floor + 0.3  # bigram-level or worse: nowhere near what a peek would give
    if name == "peeks_ahead":  # nothing found on any channel: the uniform distribution exactly
        assert rec["score"] == pytest.approx(math.log2(20), abs=1e-6)


def test_the_reference_is_bounded_by_its_table_not_its_time():
    """The statement's reason for a NumPy-only reference: its score comes from its context length
    (the largest order whose dense count table stays under 4M entries), and the time it is given
    changes nothing it learns, so a compiled version would score the same."""
    ref = load_module(SPEEDRUN.reference_path("ngram"))
    data = spec.corpus("reference-bound", 50_000, 2, 64)
    short, long = ref.train(data.train, 1.0, 0), ref.train(data.train, 600.0, 0)
    assert short.order == long.order and all(np.array_equal(a, b) for a, b in zip(short.counts, long.counts))
    V = short.V
    assert V ** short.order * V <= 4_000_000 < V ** (short.order + 1) * V
