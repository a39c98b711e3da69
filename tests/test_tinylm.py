"""The tiny sparse LM (tinylm): gradients by finite differences, routing
contract, E = 1 against dense, determinism, checkpoints, corpora, a short training run, CLI."""
from __future__ import annotations

import json
import math
from dataclasses import replace

import numpy as np
import pytest

from harness import ROOT, cli
from tinylm import data, model as M, train as TR

SHAKESPEARE = ROOT.parent / "shared" / "data" / "tinyshakespeare.txt"
if not SHAKESPEARE.is_file():  # a git worktree sits one level deeper than a checkout
    SHAKESPEARE = ROOT.parent.parent / "shared" / "data" / "tinyshakespeare.txt"

TINY = dict(vocab_size=7, block_size=6, n_layer=2, n_head=2, n_embd=8, n_expert=4, top_k=2, expert_hidden=5,
            aux_coef=0.1, z_coef=0.05)


def tiny_model(rng, **overrides):
    cfg = M.Config(**{**TINY, **overrides})
    params = M.init_params(cfg, rng, np.float64)
    for name in params:  # weights far from init: LN gains != 1, large router logits, real gradients
        params[name] = params[name] + 0.3 * rng.standard_normal(params[name].shape)
    idx = rng.integers(0, cfg.vocab_size, (2, 5))
    targets = rng.integers(0, cfg.vocab_size, (2, 5))
    return cfg, params, idx, targets


@pytest.fixture(params=["numpy", "numba"])
def kernels(request):
    """Run the test with the MoE kernels in NumPy and again with their Numba versions."""
    M.use_numba(request.param == "numba")
    yield request.param
    M.use_numba(False)


# -- gradients --------------------------------------------------------------------------------
@pytest.mark.parametrize("overrides", [{}, {"top_k": 1}, {"capacity_factor": 0.5}, {"top_k": 4},
                                       {"dense": True}, {"n_expert": 1, "top_k": 1}],
                         ids=["k2", "k1", "capacity-drops", "k=E", "dense", "E1"])
def test_gradient_matches_finite_differences(overrides, kernels):
    """Every parameter entry of a small float64 model, routing decisions held fixed."""
    rng = np.random.default_rng(1)
    cfg, params, idx, targets = tiny_model(rng, **overrides)
    stats, grads = M.loss_and_grads(params, cfg, idx, targets)
    assert set(grads) == set(params)
    fixed = None if cfg.dense else M.routing_of(stats)
    if overrides.get("capacity_factor"):
        assert not all(s["kept"].all() for s in stats["layers"]), "the case must drop some assignments"
    h = 1e-6
    for name, p in params.items():
        flat, numeric = p.reshape(-1), np.empty(p.size)
        for i in range(p.size):
            old = flat[i]
            flat[i] = old + h
            up = M.forward(params, cfg, idx, targets, fixed)[1]["loss"]
            flat[i] = old - h
            down = M.forward(params, cfg, idx, targets, fixed)[1]["loss"]
            flat[i] = old
            numeric[i] = (up - down) / (2 * h)
        np.testing.assert_allclose(grads[name].reshape(-1), numeric, rtol=1e-5, atol=1e-8, err_msg=name)
    assert any(np.abs(g).max() > 1e-3 for g in grads.values())


def test_held_routing_reproduces_the_forward_pass(kernels):
    rng = np.random.default_rng(2)
    cfg, params, idx, targets = tiny_model(rng, capacity_factor=0.75)
    _, stats, _ = M.forward(params, cfg, idx, targets)
    _, again, _ = M.forward(params, cfg, idx, targets, M.routing_of(stats))
    assert again["loss"] == stats["loss"]


def test_one_expert_equals_the_dense_model(kernels):
    rng = np.random.default_rng(3)
    cfg, params, idx, targets = tiny_model(rng, n_expert=1, top_k=1, aux_coef=0.0, z_coef=0.0)
    dense_cfg = replace(cfg, dense=True)
    assert dense_cfg.dense_hidden == cfg.expert_hidden
    dense = {k: v for k, v in params.items() if ".moe." not in k}
    for l in range(cfg.n_layer):
        dense[f"blocks.{l}.ffn.w1"] = params[f"blocks.{l}.moe.w1"][0]
        dense[f"blocks.{l}.ffn.w2"] = params[f"blocks.{l}.moe.w2"][0]
    logits, stats, cache = M.forward(params, cfg, idx, targets)
    d_logits, d_stats, d_cache = M.forward(dense, dense_cfg, idx, targets)
    np.testing.assert_allclose(logits, d_logits, rtol=1e-12, atol=1e-12)
    assert stats["ce"] == pytest.approx(d_stats["ce"], rel=1e-12)
    grads, d_grads = M.backward(params, cfg, cache), M.backward(dense, dense_cfg, d_cache)
    for name, g in d_grads.items():
        mine = grads[name.replace("ffn", "moe")][0] if ".ffn." in name else grads[name]
        np.testing.assert_allclose(mine, g, rtol=1e-10, atol=1e-12, err_msg=name)
    np.testing.assert_array_equal(grads["blocks.0.moe.router"], 0.0)  # softmax over one expert is constant


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("overrides", [{}, {"top_k": 1}, {"capacity_factor": 0.5}, {"n_expert": 1, "top_k": 1}])
def test_numba_kernels_agree_with_numpy(overrides, dtype):
    """A forward and backward pass, and an AdamW step, through each set of kernels."""
    rng = np.random.default_rng(5)
    cfg, params, idx, targets = tiny_model(rng, **overrides)
    params = {k: v.astype(dtype) for k, v in params.items()}
    tc = TR.TrainConfig(minutes=None, max_steps=1)
    out = {}
    for on in (False, True):
        M.use_numba(on)
        try:
            p = {k: v.copy() for k, v in params.items()}
            stats, grads = M.loss_and_grads(p, cfg, idx, targets)
            TR.AdamW(p, tc).step(p, {k: g.copy() for k, g in grads.items()}, 1e-2, 0.5)
            out[on] = stats, grads, p
        finally:
            M.use_numba(False)
    rtol = 1e-10 if dtype == np.float64 else 2e-5
    assert out[True][0]["loss"] == pytest.approx(out[False][0]["loss"], rel=rtol)
    for layer_np, layer_nb in zip(out[False][0]["layers"], out[True][0]["layers"]):
        np.testing.assert_array_equal(layer_np["expert"], layer_nb["expert"])
        np.testing.assert_array_equal(layer_np["kept"], layer_nb["kept"])
    for name in params:
        for i in (1, 2):  # gradients, then the updated parameters
            want, got = out[False][i][name], out[True][i][name]
            assert got.dtype == dtype, name
            np.testing.assert_allclose(got, want, rtol=rtol, atol=rtol * np.abs(want).max(), err_msg=name)


def test_train_uses_numba_for_runs_that_amortise_a_compile():
    assert TR.wants_numba(TR.TrainConfig(minutes=5.0)) and not TR.wants_numba(TR.TrainConfig(minutes=0.5))
    assert not TR.wants_numba(TR.TrainConfig(minutes=None, max_steps=10))
    assert TR.wants_numba(TR.TrainConfig(minutes=None, max_steps=10, numba=True))
    assert not TR.wants_numba(TR.TrainConfig(minutes=5.0, numba=False))


def test_dense_baseline_matches_active_parameters():
    cfg = M.Config(vocab_size=65)
    moe, dense = M.param_counts(cfg), M.param_counts(replace(cfg, dense=True))
    assert dense["total"] == dense["active"] == moe["active"]
    assert moe["total"] > 2.5 * moe["active"]
    params = M.init_params(cfg, np.random.default_rng(0))
    assert sum(p.size for p in params.values()) == moe["total"]
    assert all(p.dtype == np.float32 for p in params.values())


# -- routing: the moe-router contract ---------------------------------------------------------
def test_route_ties_go_to_the_lower_expert_and_gates_follow_the_contract():
    logits = np.array([[1.0, 3.0, 3.0, 0.0], [0.0, 0.0, 0.0, 0.0], [5.0, 1.0, 2.0, 2.0]])
    r = M.route(logits, 2, None)
    np.testing.assert_array_equal(r.expert, [[1, 2], [0, 1], [0, 2]])
    np.testing.assert_allclose(r.gate.sum(axis=1), 1.0)
    np.testing.assert_allclose(r.gate[0], [0.5, 0.5])
    one = M.route(logits, 1, None)
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(one.gate[:, 0], probs[np.arange(3), one.expert[:, 0]])  # raw probability
    assert one.gate[2, 0] < 1.0
    lse = np.log(np.exp(logits).sum(axis=1))
    assert r.z_loss == pytest.approx(np.mean(lse**2))
    f = np.bincount(r.expert[:, 0], minlength=4) / 3
    assert r.aux_loss == pytest.approx(4 * f @ probs.mean(axis=0))


def test_route_capacity_fills_first_choices_first():
    # E = 2, k = 2, T = 4, cf = 0.5 -> C = ceil(0.5 * 4 * 2 / 2) = 2 slots per expert
    logits = np.array([[2.0, 0.0], [2.0, 0.0], [2.0, 0.0], [0.0, 2.0]])
    r = M.route(logits, 2, 0.5)
    # 1st choices in token order: tokens 0, 1 fill expert 0, token 2 is dropped, token 3 takes expert 1;
    # then 2nd choices: token 0 -> expert 1 (its 2nd and last slot), tokens 1, 2 -> expert 1 full,
    # token 3 -> expert 0 full
    np.testing.assert_array_equal(r.kept, [[True, True], [True, False], [False, False], [True, False]])
    assert M.route(logits, 2, 100.0).kept.all()


def test_route_is_stable_for_huge_logits_and_balanced_aux_is_one():
    r = M.route(np.array([[1e4, -1e4], [-1e4, 1e4]]), 1, None)
    assert np.isfinite(r.gate).all() and np.isfinite(r.z_loss)
    np.testing.assert_array_equal(r.expert[:, 0], [0, 1])
    assert r.aux_loss == pytest.approx(1.0)
    assert r.z_loss == pytest.approx(1e8)


# -- determinism and checkpoints --------------------------------------------------------------
SMALL = dict(n_layer=1, n_head=2, n_embd=16, block_size=16, n_expert=4, top_k=2, expert_hidden=16)


@pytest.fixture(scope="module")
def pydoc():
    return data.pydoc_corpus()


def small_run(corpus, tmp_path=None, steps=4, **kw):
    cfg = TR.model_config(corpus, **SMALL)
    tc = TR.TrainConfig(minutes=None, max_steps=steps, batch_size=4, warmup_steps=2, eval_windows=4,
                        final_eval_windows=8, **kw)
    return cfg, tc


def test_a_seed_makes_training_deterministic(pydoc):
    cfg, tc = small_run(pydoc)
    a, b = TR.train(cfg, tc, pydoc), TR.train(cfg, tc, pydoc)
    assert a["val_loss"] == b["val_loss"]
    for name in a["params"]:
        np.testing.assert_array_equal(a["params"][name], b["params"][name])
    c = TR.train(cfg, replace(tc, seed=1), pydoc)
    assert c["val_loss"] != a["val_loss"]


def test_save_load_gives_the_same_logits(tmp_path):
    rng = np.random.default_rng(4)
    cfg, params, idx, _ = tiny_model(rng, capacity_factor=1.25)
    M.save(tmp_path / "m", params, cfg)
    loaded, cfg2, _ = M.load(tmp_path / "m")
    assert cfg2 == cfg and set(loaded) == set(params)
    np.testing.assert_array_equal(M.forward(loaded, cfg2, idx)[0], M.forward(params, cfg, idx)[0])


def test_resume_after_a_kill_continues_the_same_run(pydoc, tmp_path):
    cfg, tc = small_run(pydoc, steps=6, checkpoint_every_s=0.0)
    straight = TR.train(cfg, tc, pydoc)

    def kill_after_4(info):
        if info["step"] == 4:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        TR.train(cfg, tc, pydoc, tmp_path, progress=kill_after_4)
    _, _, _, _, state = TR.load_checkpoint(tmp_path)
    assert state.step == 4
    resumed = TR.train(cfg, tc, pydoc, tmp_path, resume=True)
    assert resumed["steps"] == 6
    for name in straight["params"]:
        np.testing.assert_array_equal(resumed["params"][name], straight["params"][name], err_msg=name)
    assert json.loads((tmp_path / "result.json").read_text())["steps"] == 6


def test_short_training_lowers_the_loss(pydoc):
    cfg, tc = small_run(pydoc, steps=60, lr=3e-3)
    before = TR.evaluate(M.init_params(cfg, np.random.default_rng(0)), cfg, pydoc,
                         TR.eval_windows(pydoc.val.size, cfg.block_size, 8))["val_loss"]
    assert before == pytest.approx(math.log(pydoc.vocab_size), abs=0.05)  # an untrained model is uniform
    result = TR.train(cfg, tc, pydoc)
    assert result["val_loss"] < before - 0.8, (before, result["val_loss"])
    assert len(result["load"]) == 1 and min(result["load"][0]) > 0  # every expert gets tokens


def test_schedule_and_clipping():
    tc = TR.TrainConfig(lr=1e-3, min_lr=1e-4, warmup_steps=10)
    assert TR.learning_rate(tc, 0, 0.0) == pytest.approx(1e-4)
    assert TR.learning_rate(tc, 10, 0.0) == pytest.approx(1e-3)
    assert TR.learning_rate(tc, 50, 0.5) == pytest.approx(5.5e-4)
    assert TR.learning_rate(tc, 99, 1.0) == pytest.approx(1e-4)
    grads = {"a": np.full(4, 3.0), "b": np.full(4, 4.0)}
    assert TR.clip_grads(grads, 1.0) == pytest.approx(10.0)
    assert math.sqrt(sum((g**2).sum() for g in grads.values())) == pytest.approx(1.0)


# -- corpora ----------------------------------------------------------------------------------
def test_synthetic_entropy_rate_matches_an_empirical_estimate():
    mix = data.MarkovMixture()
    exact = mix.entropy_rate()
    text, source, nll = mix.sample(400_000, np.random.default_rng(7))
    stderr = nll.std() / math.sqrt(nll.size)
    assert abs(nll.mean() - exact) < 4 * stderr, (exact, nll.mean(), stderr)
    assert 0.5 < exact < math.log(mix.n_letters)
    # a source with no randomness: one letter forever (switch ~ 0) has entropy ~ 0
    assert data.MarkovMixture(n_sources=1, n_letters=2, switch=1e-9, concentration=1e-3).entropy_rate() < 1e-3
    assert len(text) == source.size == 400_000 and set(text) <= set("abcdefghijklmnopABCD")
    tags = np.frombuffer(text.encode(), dtype=np.uint8) < ord("a")
    np.testing.assert_array_equal(source[tags], np.frombuffer(text.encode(), dtype=np.uint8)[tags] - ord("A"))


def test_mutual_information():
    rng = np.random.default_rng(0)
    a = rng.integers(0, 4, 100_000)
    assert data.mutual_information(a, a) == pytest.approx(2.0, abs=0.01)
    assert data.mutual_information(a, rng.integers(0, 4, a.size)) < 0.01


def test_pydoc_corpus_is_deterministic_and_round_trips(pydoc):
    again = data.pydoc_corpus()
    assert pydoc.chars == again.chars and np.array_equal(pydoc.val, again.val)
    assert pydoc.val.size == pytest.approx(0.1 * (pydoc.train.size + pydoc.val.size), rel=0.01)
    assert pydoc.decode(pydoc.encode("def f(x):")) == "def f(x):"


@pytest.mark.skipif(not SHAKESPEARE.is_file(), reason="../shared/data/tinyshakespeare.txt is not here")
def test_tinyshakespeare_split_matches_the_published_convention():
    c = data.file_corpus(SHAKESPEARE)
    assert c.vocab_size == 65 and c.train.size + c.val.size == 1_115_394
    assert c.val.size == 1_115_394 - int(1_115_394 * 0.9)


# -- command line -----------------------------------------------------------------------------
TINY_CLI = ["--layers", "1", "--embd", "16", "--heads", "2", "--block", "16", "--expert-hidden", "16",
            "--batch", "4", "--experts", "4"]


def test_cli_train_sample_compare(tmp_path, capsys):
    run = tmp_path / "run"
    assert cli.main(["lm", "train", "--steps", "3", "--out", str(run), *TINY_CLI]) == 0
    assert (run / "ckpt.npz").is_file() and (run / "ckpt.json").is_file()
    capsys.readouterr()
    assert cli.main(["lm", "sample", "--checkpoint", str(run), "--prompt", "def ", "--tokens", "20"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("def ") and len(out.rstrip("\n")) >= 20
    assert cli.main(["lm", "sample", "--checkpoint", str(run), "--prompt", "\u4e2d"]) == 2
    assert cli.main(["lm", "compare", "--corpus", "synthetic", "--steps", "2", "--seeds", "1",
                     "--out", str(tmp_path / "cmp"), *TINY_CLI]) == 0
    folder = tmp_path / "cmp" / "synthetic"
    for name in ("compare.csv", "compare.md", "loss.png"):
        assert (folder / name).is_file(), name
    table = (folder / "compare.md").read_text()
    assert "dense" in table and "moe-e4k2" in table and "entropy rate" in table


# -- the compare verdict ----------------------------------------------------------------------
def _rows(moe, dense, tok=(1000.0, 1000.0)):
    import pandas as pd

    return pd.DataFrame([{"model": "moe-e8k2", "val_loss": v, "tokens_per_s": tok[0]} for v in moe]
                        + [{"model": "dense", "val_loss": v, "tokens_per_s": tok[1]} for v in dense])


def test_verdict_says_who_won_with_an_interval():
    from tinylm.compare import verdict

    win = verdict(_rows([1.600, 1.602, 1.598], [1.630, 1.633, 1.627], tok=(950.0, 1000.0)))
    assert win["winner"] == "moe" and win["margin"] == pytest.approx(0.030)
    assert 0 < win["low"] < 0.030 < win["high"] and win["spreads"] > 3
    assert win["throughput_ratio"] == pytest.approx(0.95)
    assert win["text"].startswith("MoE won")
    lose = verdict(_rows([1.630, 1.633, 1.627], [1.600, 1.602, 1.598]))
    assert lose["winner"] == "dense" and lose["text"].startswith("Dense won")
    # a margin of 2 spreads is no win, even where (10 seeds) the interval is clear of 0
    noise = np.array([-1, 1] * 5) * 0.005
    tie = verdict(_rows(1.600 + noise, 1.6105 + noise))
    assert tie["winner"] is None and tie["text"].startswith("No clear winner")
    assert tie["low"] > 0 and 1.5 < tie["spreads"] < 3
    one = verdict(_rows([1.6], [1.7]))
    assert one["winner"] is None and "one seed" in one["text"]


def test_verdict_pairs_the_seeds_when_each_has_both_models():
    """A host that slows down between pairs widens each model's spread (no clear winner by the
    rule) while every pair, trained side by side, shows MoE lower: the paired line says so."""
    import pandas as pd

    from tinylm.compare import verdict

    drift = np.array([0.0, 0.02, 0.04])  # later pairs got fewer steps
    rows = pd.DataFrame([{"model": m, "seed": s, "val_loss": base + d, "tokens_per_s": 1000.0}
                         for s, d in enumerate(drift) for m, base in (("moe-e8k2", 1.40), ("dense", 1.43))])
    rows.loc[5, "val_loss"] += 0.006  # seed 2's pair: MoE lower by 0.036
    out = verdict(rows)
    assert out["winner"] is None and out["spreads"] < 3
    assert (out["pairs"], out["paired_wins"]) == (3, 3)
    assert out["paired_min"] == pytest.approx(0.03) and out["paired_max"] == pytest.approx(0.036)
    assert 0 < out["paired_low"] < 0.032 < out["paired_high"]
    assert "lower in 3 of 3 seeds" in out["text"] and "not the rule above" in out["text"]
    assert "pairs" not in verdict(rows.drop(index=5))  # seed 2 has no dense run: nothing to pair


def test_the_throughput_profile_wraps_only_functions_the_model_has():
    """benchmarks/tinylm_throughput.py --profile times tinylm.model's functions by name; a name
    the model lost (a renamed kernel) must fail here, not in the middle of a benchmark."""
    from benchmarks import tinylm_throughput

    missing = [name for name in tinylm_throughput.PARTS if not callable(getattr(M, name, None))]
    assert not missing, f"PARTS names functions tinylm.model does not have: {missing}"


# -- equal time by calibration ----------------------------------------------------------------
def test_calibrate_times_both_models_side_by_side():
    from tinylm.throughput import calibrate

    corpus = data.load_corpus("synthetic")
    cfg = M.Config(**{**TINY, "vocab_size": corpus.vocab_size})
    tc = TR.TrainConfig(minutes=1.0, batch_size=2, numba=False)
    cal = calibrate(cfg, tc, corpus, rounds=4)
    assert cal.moe_step_s > 0 and cal.dense_step_s > 0 and cal.rounds == 4 and cal.clock == "wall"
    assert cal.low <= cal.ratio <= cal.high
    steps = cal.steps()
    assert steps == {"moe": round(60 / cal.moe_step_s), "dense": round(60 / cal.dense_step_s)}


def test_a_calibrated_compare_gives_each_model_the_steps_of_its_rate(tmp_path):
    """The budget becomes steps per model (the slower model fewer), the runs keep them, the
    tables say so, and a compare by the clock afterwards drops the stale calibration."""
    from tinylm.compare import CALIBRATION, compare, stored_calibration
    from tinylm.throughput import Calibration

    corpus = data.load_corpus("synthetic")
    cfg = M.Config(**{**TINY, "vocab_size": corpus.vocab_size})
    cal = Calibration(moe_step_s=20.0, dense_step_s=15.0, ratio=0.75, low=0.7, high=0.8, rounds=20, clock="cpu",
                      minutes=1.0)
    assert cal.steps() == {"moe": 3, "dense": 4}
    tc = TR.TrainConfig(minutes=1.0, batch_size=2, numba=False, final_eval_windows=4)
    out = compare(corpus, "syn", cfg, tc, 2, tmp_path, calibration=cal)
    rows = out["rows"].set_index(["model", "seed"])
    assert [rows.loc[("moe-e4k2", s), "steps"] for s in (0, 1)] == [3, 3]
    assert [rows.loc[("dense", s), "steps"] for s in (0, 1)] == [4, 4]
    folder = tmp_path / "syn"
    assert stored_calibration(folder) == cal
    assert out["verdict"]["calibration"]["moe_step_s"] == 20.0
    md = (folder / "compare.md").read_text()
    assert "each model's steps in 1 min at its calibrated rate" in md
    assert "MoE 2e+04 ms a step, 3 steps; dense 1.5e+04 ms, 4 steps" in md
    compare(corpus, "syn", cfg, replace(tc, minutes=None, max_steps=2), 1, tmp_path)
    assert not (folder / CALIBRATION).exists()


def test_cli_compare_calibrates_and_resume_keeps_the_calibration(tmp_path, capsys):
    args = ["lm", "compare", "--corpus", "synthetic", "--seeds", "1", "--out", str(tmp_path), "--numba", "off",
            *TINY_CLI]
    assert cli.main([*args, "--calibrate", "--steps", "3"]) == 2
    assert "--calibrate turns --minutes into steps" in capsys.readouterr().err
    assert cli.main([*args, "--calibrate", "--minutes", "0.01"]) == 0
    first = json.loads((tmp_path / "synthetic" / "calibration.json").read_text())
    steps = json.loads((tmp_path / "synthetic" / "dense-s0" / "result.json").read_text())["steps"]
    assert steps == round(0.6 / first["dense_step_s"])
    capsys.readouterr()
    assert cli.main([*args, "--resume"]) == 0  # no training, no new calibration: the stored one
    assert "the runs' calibration" in capsys.readouterr().err
    assert json.loads((tmp_path / "synthetic" / "calibration.json").read_text()) == first
    assert "Equal training time by calibration" in (tmp_path / "synthetic" / "compare.md").read_text()
