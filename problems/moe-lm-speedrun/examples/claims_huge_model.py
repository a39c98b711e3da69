# expected-verdict: WA
"""Implausible parameter counts: a unigram model that declares a trillion parameters, 10% of
them active, to look like a big sparse MoE on the leaderboard. The grader reads the child's
peak resident memory from /proc; a trillion parameters at even one byte each need ~1 TB, far
more than the child ever held (or could: its memory limit is 4 GiB), so the counts are refused:
WA. (A count that is too low cannot be caught this way: the counts are shown, never ranked.)"""
import numpy as np


class Unigram:
    def __init__(self, logp: np.ndarray):
        self.logp = logp

    def describe(self) -> dict:
        return {"total_params": 10**12, "active_params": 10**11}

    def start(self, n_streams: int) -> None:
        pass

    def step(self, tokens) -> np.ndarray:
        return np.tile(self.logp, (len(tokens), 1))


def train(text: str, seconds: float, seed: int) -> Unigram:
    chars = sorted(set(text))
    counts = np.array([text.count(c) for c in chars], dtype=np.float64) + 1.0
    return Unigram(np.log(counts / counts.sum()))
