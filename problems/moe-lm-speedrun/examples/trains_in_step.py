# expected-verdict: TLE
"""Moves training into `step`, after the budget: each step spends a slice of time "training"
before it answers. Prediction and training cannot be told apart from outside, so the steps
have their own allowance (every step together, on the grader's clock) and a model that keeps
training in them runs into it: TLE. Inside the allowance such work is bounded, not detected."""
import time

import numpy as np


class Busy:
    def __init__(self, V: int):
        self.V = V

    def describe(self) -> dict:
        return {"total_params": 1, "active_params": 1}

    def start(self, n_streams: int) -> None:
        pass

    def step(self, tokens) -> np.ndarray:
        time.sleep(0.25)  # a slice of "training" per step: 255 steps x 0.25 s runs past the allowance
        return np.full((len(tokens), self.V), -np.log(self.V))


def train(text: str, seconds: float, seed: int) -> Busy:
    return Busy(len(set(text)))
