# expected-verdict: AC
# expected-flag: threads
"""Moves training past the budget into a background thread: `train` returns a model at once and
leaves a thread counting bigrams (over and over, as a long training run would) while the grader
streams the held-out text; each step answers with whatever counts the thread has so far. The
budget's clock stops at the first step, but the thread's CPU does not go unseen (most of it
falls inside the steps' windows, where the main thread waits for the GIL the thread holds; the
grader counts every thread's CPU but the main one's): the record is flagged `threads`, so it
goes to the leaderboard's review table instead of being ranked."""
import threading
import time

import numpy as np


class Background:
    def __init__(self, ids: np.ndarray, V: int):
        self.ids, self.V = ids, V
        self.counts = np.ones((V, V))
        self.thread = threading.Thread(target=self._train, daemon=True)
        self.thread.start()

    def _train(self) -> None:
        deadline = time.perf_counter() + 120
        while time.perf_counter() < deadline:  # "epochs" of counting, long after the budget
            counts = np.ones((self.V, self.V))
            np.add.at(counts, (self.ids[:-1], self.ids[1:]), 1.0)
            self.counts = counts

    def describe(self) -> dict:
        return {"total_params": self.V * self.V, "active_params": self.V}

    def start(self, n_streams: int) -> None:
        pass

    def step(self, tokens) -> np.ndarray:
        counts = self.counts[np.asarray(tokens, dtype=np.int64)]
        return np.log(counts / counts.sum(axis=1, keepdims=True))


def train(text: str, seconds: float, seed: int) -> Background:
    chars = sorted(set(text))
    lookup = {c: i for i, c in enumerate(chars)}
    return Background(np.array([lookup[c] for c in text], dtype=np.int64), len(chars))
