"""moe-lm-speedrun reference: an interpolated character n-gram model (Witten-Bell smoothing).

Not a neural network and not an MoE: the yardstick a trained model has to beat. Counting
takes a second, so the time budget is never the limit; the context length is. The order is
the largest n whose dense count table (V^n contexts x V) stays under 4M entries. Streaming is
cheap: each stream keeps its last `order` tokens, and a step looks up one row per order.
"""
import numpy as np


class NGram:
    def __init__(self, ids: np.ndarray, V: int, max_order: int):
        self.V, self.order = V, max_order
        self.counts = []  # counts[n]: (V**n, V), times each next token followed each n-token context
        for n in range(max_order + 1):
            context = self._context_codes(ids, n)[n - 1:-1] if n else np.zeros(ids.size - 1, dtype=np.int64)
            table = np.zeros((V**n, V))
            np.add.at(table, (context, ids[max(n, 1):]), 1.0)
            self.counts.append(table)
        self.history = np.zeros((0, max_order), dtype=np.int64)

    def _context_codes(self, ids: np.ndarray, n: int) -> np.ndarray:
        """code[t] = the n tokens ending at position t, as a base-V number (garbage for t < n-1)."""
        code = np.zeros(ids.size, dtype=np.int64)
        for j in range(n):
            code = code * self.V + np.roll(ids, j)
        return code

    def start(self, n_streams: int) -> None:
        self.history = np.zeros((n_streams, self.order), dtype=np.int64)  # the last `order` tokens, newest last
        self.seen = 0  # tokens each stream has been given

    def step(self, tokens) -> np.ndarray:
        """(streams, V) log-probabilities of each stream's next token, given its tokens so far."""
        self.history = np.concatenate([self.history[:, 1:], np.asarray(tokens, dtype=np.int64)[:, None]], axis=1)
        self.seen += 1
        S = self.history.shape[0]
        p = np.full((S, self.V), 1.0 / self.V)  # order -1: uniform
        for n in range(min(self.order, self.seen) + 1):
            code = np.zeros(S, dtype=np.int64)
            for j in range(self.order - 1, self.order - 1 - n, -1):  # the last n tokens, newest first (as counted)
                code = code * self.V + self.history[:, j]
            c = self.counts[n][code]
            total = c.sum(axis=1, keepdims=True)
            types = (c > 0).sum(axis=1, keepdims=True)
            with np.errstate(invalid="ignore", divide="ignore"):
                mixed = (c + types * p) / (total + types)  # Witten-Bell: back off by the number of types
            p = np.where(total > 0, mixed, p)
        return np.log(p)

    def describe(self) -> dict:
        n = sum(int((t > 0).sum()) for t in self.counts)
        return {"total_params": n, "active_params": n}


def train(text: str, seconds: float, seed: int) -> NGram:
    chars = sorted(set(text))
    lookup = {c: i for i, c in enumerate(chars)}
    ids = np.array([lookup[c] for c in text], dtype=np.int64)
    V = len(chars)
    order = 1
    while V ** (order + 1) * V <= 4_000_000:
        order += 1
    return NGram(ids, V, order)
