# expected-verdict: WA
"""Honest mistake: returns log-counts of each next character after the previous one, without
dividing by the row total. The rows do not sum to 1, so they are not probabilities (and
unnormalised scores can make any loss look small)."""
import numpy as np


class Bigram:
    def __init__(self, counts: np.ndarray):
        self.counts = counts

    def start(self, n_streams: int) -> None:
        pass

    def step(self, tokens) -> np.ndarray:
        return np.log(self.counts[np.asarray(tokens)])  # forgot: / self.counts.sum(axis=1)

    def describe(self) -> dict:
        return {"total_params": int(self.counts.size), "active_params": int(self.counts.shape[1])}


def train(text: str, seconds: float, seed: int) -> Bigram:
    chars = sorted(set(text))
    ids = np.array([chars.index(c) for c in text])
    counts = np.ones((len(chars), len(chars)))
    np.add.at(counts, (ids[:-1], ids[1:]), 1.0)
    return Bigram(counts)
