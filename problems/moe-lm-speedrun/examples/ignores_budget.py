# expected-verdict: TLE
"""Ignores the time budget: keeps "training" for four times the seconds it was given. Everything
before scoring (train, describe, start) is stopped at 1.5 x budget + 2 s, all calls together."""
import time

import numpy as np


class Uniform:
    def __init__(self, V: int):
        self.V = V

    def start(self, n_streams: int) -> None:
        pass

    def step(self, tokens) -> np.ndarray:
        return np.full((len(tokens), self.V), -np.log(self.V))

    def describe(self) -> dict:
        return {"total_params": 1, "active_params": 1}


def train(text: str, seconds: float, seed: int) -> Uniform:
    time.sleep(4 * seconds + 3)
    return Uniform(len(set(text)))
