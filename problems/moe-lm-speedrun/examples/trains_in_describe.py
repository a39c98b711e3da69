# expected-verdict: TLE
"""Moves training out of `train`: `train` returns at once, and the work goes into `describe`,
which the old grader called without any budget (it checked only `train`'s time). Here each
method alone stays inside the limit, 0.8 x (1.5 x budget + 2 s), but everything before scoring
shares one wall-clock budget on the grader's clock, so the two together run past it: TLE."""
import time

import numpy as np


class Slow:
    def __init__(self, V: int, seconds: float):
        self.V, self.seconds = V, seconds

    def describe(self) -> dict:
        time.sleep(0.8 * (1.5 * self.seconds + 2))  # "training", where no clock used to look
        return {"total_params": 1, "active_params": 1}

    def start(self, n_streams: int) -> None:
        pass

    def step(self, tokens) -> np.ndarray:
        return np.full((len(tokens), self.V), -np.log(self.V))


def train(text: str, seconds: float, seed: int) -> Slow:
    time.sleep(0.8 * (1.5 * seconds + 2))
    return Slow(len(set(text)), seconds)
