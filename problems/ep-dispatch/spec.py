"""ep-dispatch: expert parallelism's dispatch and combine, simulated: P ranks, E/P experts each,
the send counts, send and receive buffers of the all-to-all, the combine, and the traffic."""
import numpy as np

from harness import known
from harness.spec import Case, Limits, Problem
from problems._common import checks, moe

BENCH = dict(P=16, ranks_per_node=4, E=64, k=8, D=32)  # 4 nodes of 4 ranks, 4 experts per rank, top-8

def _known_args(d: dict) -> tuple:
    """ep_dispatch's arguments from a case of cases.toml."""
    x, gate, w = (np.array(d[name], dtype=np.float32) for name in ("x", "gate", "w"))
    return x, np.array(d["expert"], dtype=np.int64), gate, w, d["ranks_per_node"]


# written out with its answer in cases.toml: the statement's worked example (P = 4 ranks in 2 nodes
# of 2, E = 8 experts, rank r holding 2r and 2r+1, T = 2 tokens per rank, k = 2)
KNOWN = known.cases(__file__, args=_known_args,
                    parts=("send_counts", "send_token", "recv_x", "recv_expert", "recv_gate", "y", "traffic"))


def routing(rng: np.random.Generator, P: int, T: int, E: int, k: int, *, ranks_per_node: int = 1,
            nodes: int | None = None, hot: float = 0.0) -> np.ndarray:
    """(P, T, k) int64: k distinct experts per token, uniformly at random; with `nodes`, only from
    that many nodes per token (node-limited routing); `hot` adds that weight to rank 0's experts."""
    keys = rng.random((P, T, E))
    if hot:
        keys[..., : E // P] += hot
    if nodes is not None:
        n_nodes = P // ranks_per_node
        per_node = E // n_nodes
        chosen = rng.random((P, T, n_nodes)).argsort(axis=2)[..., :nodes]
        allowed = np.zeros((P, T, n_nodes), dtype=bool)
        np.put_along_axis(allowed, chosen, True, axis=2)
        keys += np.repeat(allowed, per_node, axis=2) * 10.0  # experts of the chosen nodes first
    return np.argsort(-keys, axis=2, kind="stable")[..., :k].astype(np.int64)


def layer(rng: np.random.Generator, P: int, T: int, E: int, k: int, D: int, ranks_per_node: int, **routing_options):
    expert = routing(rng, P, T, E, k, ranks_per_node=ranks_per_node, **routing_options)
    gate = rng.random((P, T, k)).astype(np.float32) + np.float32(0.05)
    gate /= gate.sum(axis=2, keepdims=True)
    x = rng.standard_normal((P, T, D)).astype(np.float32)
    w = rng.standard_normal((E, D)).astype(np.float32)
    return x, expert, gate, w, ranks_per_node


def _random(rng: np.random.Generator, tokens: int) -> tuple:
    P, rpn, L, k = [(4, 2, 2, 2), (8, 4, 2, 4), (8, 2, 4, 6), (16, 4, 1, 4), (2, 1, 3, 3)][int(rng.integers(5))]
    T = max(1, tokens // P)
    nodes = None if rng.random() < 0.5 or P // rpn < 2 else int(rng.integers(1, P // rpn))
    return layer(rng, P, T, P * L, k, 8, rpn, nodes=nodes)


def _bench(rng: np.random.Generator, tokens: int) -> tuple:
    b = BENCH
    return layer(rng, b["P"], tokens // b["P"], b["E"], b["k"], b["D"], b["ranks_per_node"])


def _case(name, P, T, E, k, D, rpn, note="", **options):
    return Case(name, lambda rng: layer(rng, P, T, E, k, D, rpn, **options), note)


def _local(rng):
    x, expert, gate, w, rpn = layer(rng, 4, 6, 8, 2, 4, 2)
    expert[:] = (2 * np.arange(4))[:, None, None] + np.array([0, 1])  # rank r uses only its own experts 2r, 2r+1
    return x, expert, gate, w, rpn


def _same_rank(rng):
    x, expert, gate, w, rpn = layer(rng, 4, 5, 16, 3, 4, 2)
    expert[:] = np.array([12, 13, 14])  # every token: three experts, all on rank 3
    return x, expert, gate, w, rpn


def _int32(rng):
    x, expert, gate, w, rpn = layer(rng, 4, 5, 8, 2, 3, 2)
    return x, expert.astype(np.int32), gate, w, rpn


EDGE_CASES = [
    *KNOWN,
    Case("every expert local", _local, "each rank's tokens use only its own experts: only the diagonal is sent"),
    Case("three experts on one remote rank", _same_rank, "one row per token for rank 3 (not three), with 3 slots"),
    _case("one rank", 1, 7, 4, 2, 4, 1, "P = 1: everything local, no traffic"),
    _case("one node", 4, 6, 8, 3, 4, 4, "ranks_per_node = P: nothing crosses a node"),
    _case("one rank per node", 4, 6, 8, 3, 4, 1, "node traffic = rank traffic, the per-node dedup equals the per-rank"),
    _case("a hot rank", 4, 16, 8, 2, 4, 2, "most tokens want rank 0's experts: rank 0 receives most rows", hot=0.9),
    _case("k = E: every token to every rank", 4, 3, 8, 8, 3, 2, "P rows per token, 2 slots each"),
    _case("0 tokens per rank", 4, 0, 8, 2, 4, 2, "empty buffers, zero traffic, y of shape (4, 0, D)"),
    _case("node-limited routing", 8, 20, 32, 6, 4, 2, "each token's experts on at most 2 of 4 nodes", nodes=2),
    Case("int32 expert ids", _int32, "any integer dtype in, any integer dtype out"),
]


def _as_list(name, value, P):
    if not isinstance(value, (list, tuple)) or len(value) != P:
        return None, f"{name} must be a list of {P} arrays (one per rank), got {type(value).__name__}"
    return list(value), None


def _check(args, expected, got):
    x, expert, gate, w, rpn = args
    P, T, D = x.shape
    k = expert.shape[2]
    if not isinstance(got, (tuple, list)) or len(got) != 7:
        return (f"returned {type(got).__name__}; expected EPDispatch(send_counts, send_token, recv_x, recv_expert, "
                f"recv_gate, y, traffic) or a plain 7-tuple")
    counts, send_token, recv_x, recv_expert, recv_gate, y, traffic = got
    problem = checks.array("send_counts", counts, (P, P), "iu", "an integer dtype")
    if problem:
        return problem
    bad = np.argwhere(counts != expected.send_counts)
    if bad.size:
        r, d = bad[0]
        return (f"send_counts: {len(bad)} of {P * P} entries differ (one row per token per destination rank that "
                f"holds at least one of its experts; expert e lives on rank e // (E/P))\n"
                f"  send_counts[{r}, {d}]: got {counts[r, d]}, expected {expected.send_counts[r, d]}")
    lists = {}
    for name, value in (("send_token", send_token), ("recv_x", recv_x), ("recv_expert", recv_expert),
                        ("recv_gate", recv_gate)):
        lists[name], problem = _as_list(name, value, P)
        if problem:
            return problem
    sends, recvs = expected.send_counts.sum(axis=1), expected.send_counts.sum(axis=0)
    for r in range(P):
        got_r, want_r = lists["send_token"][r], expected.send_token[r]
        problem = checks.array(f"send_token[{r}]", got_r, (int(sends[r]),), "iu", "an integer dtype")
        if problem:
            return problem
        if (got_r != want_r).any():
            i = int(np.flatnonzero(got_r != want_r)[0])
            return (f"send_token[{r}]: rank {r}'s send buffer is in the wrong order at row {i}: got token {got_r[i]}, "
                    f"expected {want_r[i]} (destination-major: all rows for rank 0, then rank 1, ...; tokens in "
                    f"ascending order within a destination)")
    rules = checks.Rules()  # from here on every rule is listed: the buffers, y, traffic, then dtypes
    for d in range(P):
        n = int(recvs[d])
        for name, shape, kinds, what in (("recv_x", (n, D), "f", str(x.dtype)), ("recv_expert", (n, k), "iu", "int"),
                                         ("recv_gate", (n, k), "f", str(gate.dtype))):
            value = lists[name][d]
            if rules.add(checks.STRUCTURE, checks.array(f"{name}[{d}]", value, shape, kinds, what)):
                continue
            want = getattr(expected, name)[d]
            if name != "recv_expert" and value.dtype != want.dtype:
                rules.add(checks.DTYPE, f"{name}[{d}] has dtype {value.dtype}, expected {want.dtype} "
                                        f"(the input's dtype)")
            if not np.array_equal(value, want):
                i = int(np.flatnonzero((value != want).reshape(n, -1).any(axis=1))[0])
                hint = {"recv_x": "rows from source rank 0 first, then 1, ..., each source's rows in its send order",
                        "recv_expert": "the token's expert ids in slot order, -1 where the expert lives elsewhere",
                        "recv_gate": "the slot's gate where its expert lives on this rank, else 0"}[name]
                rules.add(checks.VALUES, f"{name}[{d}]: row {i} of rank {d}'s receive buffer differs ({hint})\n"
                                         f"  got {value[i].tolist()[:8]}, expected {want[i].tolist()[:8]}")
    if not rules.add(checks.STRUCTURE, checks.array("y", y, x.shape, "f", str(x.dtype))):
        message = moe.compare_scaled("y", y.reshape(P * T, D), expected.y.reshape(P * T, D), rtol=moe.FORWARD_RTOL)
        rules.add(checks.VALUES, message.replace("y(", "y[rank*T + token](", 1) if message else None)
        if y.dtype != x.dtype:
            rules.add(checks.DTYPE, f"y has dtype {y.dtype}, expected {x.dtype} (the dtype of x)")
    if not isinstance(traffic, dict):
        rules.add(checks.STRUCTURE, f"traffic must be a dict of rank_bytes, node_bytes, node_bytes_dedup, got "
                                    f"{type(traffic).__name__}")
    else:
        for key, want in expected.traffic.items():
            value = traffic.get(key)
            if checks.scalar(value) is None or checks.scalar(value) != want:
                rules.add(checks.VALUES, f"traffic[{key!r}] = {value!r}, expected {want} (bytes of activation rows, "
                                         f"dispatch direction: rank_bytes between different ranks, node_bytes between "
                                         f"ranks of different nodes, node_bytes_dedup once per token per other node "
                                         f"it needs)")
                break
    return rules.report()


def _rows(args) -> int:
    x, expert, _, w, _ = args
    P, T, _ = x.shape
    owner = expert // (w.shape[0] // P)
    sorted_owner = np.sort(owner, axis=2)
    return int((np.diff(sorted_owner, axis=2) != 0).sum() + owner[..., :1].size)  # distinct ranks per token


def _describe(args):
    x, expert, gate, w, rpn = args
    P, T, D = x.shape
    text = (f"P={P} ranks ({P // rpn} nodes of {rpn}), E={w.shape[0]} experts ({w.shape[0] // P} per rank), "
            f"T={T} tokens per rank, k={expert.shape[2]}, D={D}")
    if P * T <= 16:
        text += f"\nexpert =\n{np.asarray(expert)}"
    return text


PROBLEM = Problem(
    slug="ep-dispatch",
    title="Expert-parallel dispatch and combine: the all-to-all, simulated",
    difficulty="medium",
    entry="ep_dispatch",
    edge_cases=EDGE_CASES,
    make_random=_random,
    random_sizes=[16, 200, 2_000, 20_000],
    bench_sizes=[16_384, 65_536, 131_072],
    size_of=lambda args: args[0].shape[0] * args[0].shape[1],
    size_unit="tokens",
    expected_exponent=1.0,
    check=_check,
    oracle="numpy",
    timing_reference="numba",
    forbidden_imports=("torch",),
    describe=_describe,
    make_bench=_bench,
    # read x and the routing, write the receive buffers and y: 4 B per activation, 12 B per (expert, gate) slot
    bytes_of=lambda a: 4.0 * a[0].shape[2] * (2 * a[0].shape[0] * a[0].shape[1] + _rows(a)) + 12.0 * a[1].size,
    limits=Limits(wall_s=30.0, mem_mb=8192),
    tags=("mixture of experts", "expert parallelism", "DeepSeek"),
)
