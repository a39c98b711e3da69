# expected-verdict: TLE
"""Moves all of training into `start`, the last call before the first scored step: `train`
and `describe` return at once. `start` is part of the one budget for everything before scoring,
so training there for four times the budget is TLE, as in `train`."""
import time

import numpy as np


class Late:
    def __init__(self, V: int, seconds: float):
        self.V, self.seconds = V, seconds

    def describe(self) -> dict:
        return {"total_params": 1, "active_params": 1}

    def start(self, n_streams: int) -> None:
        time.sleep(4 * self.seconds + 3)  # "training" just before the clock used to stop mattering

    def step(self, tokens) -> np.ndarray:
        return np.full((len(tokens), self.V), -np.log(self.V))


def train(text: str, seconds: float, seed: int) -> Late:
    return Late(len(set(text)), seconds)
