"""moe-lm-speedrun: train a character language model within `seconds`; graded by held-out bits/char.

Read the statement: `sparsebench show moe-lm-speedrun`. Grade: `sparsebench grade moe-lm-speedrun THIS_FILE`.
"""
import time

import numpy as np


class Model:
    def logprobs(self, tokens: np.ndarray) -> np.ndarray:
        """(n, V) log-probabilities: row t is the distribution of token t+1 given tokens[0..t]."""
        raise NotImplementedError

    def describe(self) -> dict:
        return {"total_params": 0, "active_params": 0}


def train(text: str, seconds: float, seed: int) -> Model:
    deadline = time.perf_counter() + seconds
    chars = sorted(set(text))  # token i is chars[i]
    # build a model, train it until `deadline`, return it
    raise NotImplementedError("write train")
