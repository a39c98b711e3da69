"""moe-lm-speedrun: train a character language model within `seconds`; graded by held-out bits/char.

Read the statement: `sparsebench show moe-lm-speedrun`. Grade: `sparsebench grade moe-lm-speedrun THIS_FILE`.
"""
import time

import numpy as np


class Model:
    def describe(self) -> dict:
        """Your model's size: {"total_params": int, "active_params": int} (both >= 1, active <= total)."""
        return {"total_params": 1, "active_params": 1}

    def start(self, n_streams: int) -> None:
        """n_streams held-out texts are about to be streamed to you, side by side: reset your state."""
        raise NotImplementedError

    def step(self, tokens: np.ndarray) -> np.ndarray:
        """tokens[s]: the next token of stream s. Return (n_streams, V) log-probabilities: row s is
        the distribution of stream s's token after this one, given every token of s seen so far."""
        raise NotImplementedError


def train(text: str, seconds: float, seed: int) -> Model:
    deadline = time.perf_counter() + seconds  # train, describe and start share this budget
    chars = sorted(set(text))  # token i is chars[i]
    # build a model, train it until `deadline`, return it
    raise NotImplementedError("write train")
