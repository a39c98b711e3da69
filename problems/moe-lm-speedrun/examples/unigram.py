# expected-verdict: AC
"""Correct and weak: character frequencies, no context at all. Every row is the same
distribution; the score is the entropy of the character distribution (in bits)."""
import numpy as np


class Unigram:
    def __init__(self, logp: np.ndarray):
        self.logp = logp

    def start(self, n_streams: int) -> None:
        self.n = n_streams

    def step(self, tokens) -> np.ndarray:
        return np.tile(self.logp, (len(tokens), 1))

    def describe(self) -> dict:
        return {"total_params": int(self.logp.size), "active_params": int(self.logp.size)}


def train(text: str, seconds: float, seed: int) -> Unigram:
    chars = sorted(set(text))
    counts = np.array([text.count(c) for c in chars], dtype=np.float64) + 1.0
    return Unigram(np.log(counts / counts.sum()))
