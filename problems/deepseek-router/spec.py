"""deepseek-router: DeepSeek-V3 routing: sigmoid affinities, a selection-only bias, group-limited
top-k, normalised gates, the bias update and the sequence-wise balance loss."""
import numpy as np

from harness import known
from harness.spec import Case, Problem
from problems._common import checks

V3 = dict(E=256, n_groups=8, top_groups=4, k=8)  # DeepSeek-V3's routed experts, groups (nodes) and top-k
ALPHA, GAMMA = 1e-4, 1e-3  # DeepSeek-V3's balance-loss weight and bias update speed
CONFIGS = [(8, 1, 1, 2), (16, 4, 2, 4), (32, 8, 3, 6), (64, 8, 4, 8), (24, 6, 2, 3)]  # E, groups, kept, k


def args_for(logits, bias, k, n_groups, top_groups, seq_len=None, alpha=ALPHA, gamma=GAMMA) -> tuple:
    return (logits, bias, k, n_groups, top_groups, seq_len or max(1, len(logits)), alpha, gamma)


def _known_args(d: dict) -> tuple:
    """deepseek_route's arguments from a case of cases.toml."""
    return (np.array(d["logits"], dtype=np.float64), np.array(d["bias"], dtype=np.float64), d["k"], d["n_groups"],
            d["top_groups"], d["seq_len"], d["alpha"], d["gamma"])


# written out with its answer in cases.toml: the statement's worked example (E = 8 in 4 groups of 2,
# keep 2 groups, top-2, 2 sequences of 2 tokens)
KNOWN = known.cases(__file__, args=_known_args, parts=("expert", "gate", "load", "new_bias", "balance_loss"))


def _inputs(rng: np.random.Generator, T: int, E: int, *, ties: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Continuous logits and biases (no near-ties from rounding); with `ties`, a few expert
    columns copy another column and its bias, so their scores are bit-identical (real ties)."""
    z = rng.standard_normal((T, E)) * 1.5
    b = rng.uniform(-0.1, 0.1, E)
    if ties and E > 2:
        for _ in range(max(1, E // 8)):
            i, j = rng.choice(E, 2, replace=False)
            z[:, j], b[j] = z[:, i], b[i]
    return z, b


def _random(rng: np.random.Generator, T: int) -> tuple:
    E, G, M, k = CONFIGS[int(rng.integers(len(CONFIGS)))]
    n_seq = int(rng.choice([d for d in (1, 2, 5, 10) if T % d == 0] or [1]))
    z, b = _inputs(rng, T, E)
    return args_for(z, b, k, G, M, T // n_seq)


def _bench(rng: np.random.Generator, T: int) -> tuple:
    z, b = _inputs(rng, T, V3["E"], ties=False)
    return args_for(z, b, V3["k"], V3["n_groups"], V3["top_groups"], min(T, 4096))


def _tied_experts(rng):
    z, b = _inputs(rng, 12, 8, ties=False)
    z[:, 3], b[3] = z[:, 2], b[2]  # experts 2 and 3 tie on every token
    z[:, 7], b[7] = z[:, 4], b[4]  # 4 and 7 too (in different groups)
    z[::3] = 0.0  # and on some tokens every affinity is 1/2
    return args_for(z, b, 3, 4, 2, 4)


def _tied_groups(rng):
    z, b = _inputs(rng, 10, 12, ties=False)
    z[:, 9:12], b[9:12] = z[:, 0:3], b[0:3]  # group 3 copies group 0: equal group scores
    z[:, 6:9], b[6:9] = z[:, 3:6][:, ::-1], b[3:6][::-1]  # group 2 is group 1 reversed: the same top-2 sum
    return args_for(z, b, 2, 4, 1, 5)


def _negative(rng):
    z, b = _inputs(rng, 16, 16, ties=False)
    return args_for(z, b - 1.5, 4, 4, 2, 8)  # every biased score below 0: excluded groups must lose to them


def _at_the_mean(rng):
    # k = 2 of E = 4 over T = 4 tokens: the mean load is 2 and every expert gets exactly 2
    z = np.array([[2.0, 1.0, -1.0, -2.0], [-2.0, -1.0, 1.0, 2.0], [2.0, -2.0, 1.0, -1.0], [-1.0, 1.0, -2.0, 2.0]])
    return args_for(z, np.zeros(4), 2, 1, 1, 2)


def _bias_decides(rng):
    z, b = _inputs(rng, 20, 8, ties=False)
    b[:] = 0.0
    b[6], b[7] = 0.9, 0.8  # experts 6 and 7 are chosen by nearly everyone, but gates come from s alone
    return args_for(z, b, 2, 1, 1, 10)


def _huge(rng):
    z = np.array([[1000.0, -3.0, 2.0, -1000.0, 0.5, 1.0],
                  [-1000.0, -999.0, 1.5, 0.0, 1000.0, -2.0],
                  [3.0, 1000.0, -1000.0, 0.25, -0.5, 2.5],
                  [0.0, -1.0, 1000.0, 1.0, -1000.0, 999.0]])
    b = np.array([0.0, 0.01, 0.02, 0.03, 0.04, 0.05])  # distinct: saturated affinities never tie
    return args_for(z, b, 2, 3, 2, 2)


def _v3(rng):
    z, b = _inputs(rng, 64, V3["E"])
    return args_for(z, b, V3["k"], V3["n_groups"], V3["top_groups"], 32)


EDGE_CASES = [
    *KNOWN,
    Case("tied experts", _tied_experts, "copied columns with equal biases: the lower expert index wins"),
    Case("tied groups", _tied_groups, "equal group scores (a copied group, a reversed group): the lower group wins"),
    Case("every biased score negative", _negative,
         "b - 1.5 < 0 everywhere: an excluded group must not win by scoring 0"),
    Case("no group limit", lambda rng: args_for(*_inputs(rng, 30, 16), 4, 1, 1, 10), "n_groups = 1: plain top-k"),
    Case("every group kept", lambda rng: args_for(*_inputs(rng, 30, 16), 4, 4, 4, 15),
         "top_groups = n_groups: the groups restrict nothing"),
    Case("k = all experts of the kept groups", lambda rng: args_for(*_inputs(rng, 20, 16), 8, 4, 2, 20),
         "the two kept groups' 8 experts, by descending biased score"),
    Case("the bias decides", _bias_decides, "experts 6 and 7 win on bias alone; their gates use s, not s + b"),
    Case("loads at the mean", _at_the_mean, "every load equals T*k/E = 2: sign(0) = 0, the bias stays"),
    Case("one token", lambda rng: args_for(*_inputs(rng, 1, 8), 2, 2, 1, 1), "mean load 1/4: loads 1 go down"),
    Case("0 tokens", lambda rng: args_for(np.zeros((0, 8)), np.zeros(8), 2, 4, 2, 1),
         "expert and gate (0, k); every load 0 = the mean: the bias stays; balance loss 0.0"),
    Case("logits of +-1000", _huge, "exp(1000) overflows: a stable sigmoid; exp(-1000) is exactly 0"),
    Case("float32 logits", lambda rng: args_for(_inputs(rng, 40, 16)[0].astype(np.float32),
                                                 _inputs(rng, 1, 16)[1], 4, 4, 2, 20),
         "compute in float64 anyway"),
    Case("one token per sequence", lambda rng: args_for(*_inputs(rng, 6, 8), 2, 4, 2, 1),
         "seq_len = 1: the balance loss averages 6 one-token sequences"),
    Case("DeepSeek-V3 sizes", _v3, "256 routed experts in 8 groups, keep 4, top-8; 2 sequences of 32 tokens"),
]


def _check(args, expected, got):
    """Every rule the routing breaks: experts, gates, load, bias, loss, then float dtypes."""
    logits, k = args[0], args[2]
    T, E = np.shape(logits)
    if not isinstance(got, (tuple, list)) or len(got) != 5:
        return (f"returned {type(got).__name__}; expected DeepSeekRouting(expert, gate, load, new_bias, "
                f"balance_loss) or a plain 5-tuple")
    expert, gate, load, new_bias, loss = got
    rules = checks.Rules()
    ok = {name: not rules.add(checks.STRUCTURE, checks.array(name, value, shape, kinds, what))
          for name, value, shape, kinds, what in (("expert", expert, (T, k), "iu", "an integer dtype"),
                                                  ("gate", gate, (T, k), "f", "float64"),
                                                  ("load", load, (E,), "iu", "an integer dtype"),
                                                  ("new_bias", new_bias, (E,), "f", "float64"))}
    rows = np.flatnonzero((expert != expected.expert).any(axis=1)) if ok["expert"] else np.zeros(0, dtype=int)
    if rows.size:
        lines = [f"expert: {rows.size} of {T} tokens chose different experts (biased score q = sigmoid(z) + b; "
                 f"keep the top_groups groups by the sum of each group's two largest q, then the top k of their "
                 f"experts by q, descending; ties -> the lower index)"]
        for t in rows[:3]:
            lines.append(f"  token {t}: got {expert[t].tolist()}, expected {expected.expert[t].tolist()}")
        rules.add(checks.VALUES, "\n".join(lines))
    if ok["gate"]:
        rules.add(checks.VALUES, checks.close64("gate", gate, expected.gate, rtol=1e-12,
                                                hint="the chosen sigmoid affinities, without the bias, divided by "
                                                     "their sum"))
    if ok["load"] and (load != expected.load).any():
        rules.add(checks.VALUES, f"load: got {load.tolist()[:16]}, expected {expected.load.tolist()[:16]} (tokens "
                                 f"that chose each expert)")
    if ok["new_bias"]:
        rules.add(checks.VALUES, checks.close64("new_bias", new_bias, expected.new_bias, rtol=1e-12, atol=1e-15,
                                                hint="b + gamma * sign(T*k/E - load): up when under-loaded, down "
                                                     "when over, unchanged at the mean"))
    value = checks.scalar(loss)
    want = expected.balance_loss
    if value is None:
        rules.add(checks.STRUCTURE, f"balance_loss must be a float, got {type(loss).__name__}")
    elif not (abs(value - want) <= 1e-9 * abs(want) or value == want):
        rel = abs(value - want) / abs(want) if want else float("inf")
        rules.add(checks.VALUES, f"balance_loss = {value!r}, expected {want!r} (relative error {rel:.3g}, tolerance "
                                 f"1e-09 relative; per sequence alpha * sum_i f_i P_i, f from each token's plain "
                                 f"top-k of the affinities, P from s / sum(s); the mean over sequences)")
    for name, value in (("gate", gate), ("new_bias", new_bias)):
        if ok[name] and value.dtype != np.float64:
            rules.add(checks.DTYPE, f"{name} has dtype {value.dtype}, expected float64")
    return rules.report()


def _describe(args):
    logits, bias, k, G, M, S, alpha, gamma = args
    T, E = np.shape(logits)
    text = (f"T={T} tokens, E={E} experts in {G} groups of {E // G}, keep {M} groups, k={k}, seq_len={S} "
            f"({T // S if S else 0} sequences), alpha={alpha}, gamma={gamma}, logits {np.asarray(logits).dtype}")
    if T * E <= 96:
        with np.printoptions(precision=4, linewidth=120, suppress=True):
            text += f"\nlogits =\n{np.asarray(logits)}\nbias = {np.asarray(bias)}"
    return text


PROBLEM = Problem(
    slug="deepseek-router",
    title="DeepSeek-V3 routing: sigmoid, selection bias, group-limited top-k, balance",
    difficulty="medium",
    entry="deepseek_route",
    edge_cases=EDGE_CASES,
    make_random=_random,
    random_sizes=[10, 100, 1_000, 10_000],
    bench_sizes=[4_096, 16_384, 65_536],
    size_of=lambda args: np.shape(args[0])[0],
    size_unit="tokens",
    expected_exponent=1.0,
    check=_check,
    oracle="numpy",
    timing_reference="numba",
    forbidden_imports=("torch",),
    describe=_describe,
    make_bench=_bench,
    # read the logits (8 B each), write each token's k expert ids and gates (8 B each)
    bytes_of=lambda a: 8.0 * np.size(a[0]) + 16.0 * np.shape(a[0])[0] * a[2],
    tags=("mixture of experts", "routing", "DeepSeek"),
)
