# expected-verdict: WA
"""A cheat: row t is meant to predict token t+1 from tokens 0..t, but this model reads token
t+1 from its input and bets on it. The grader asks again with the future cut off; the rows
change, so the grade is WA however good the score looked."""
import numpy as np


class Oracle:
    def __init__(self, V: int):
        self.V = V

    def logprobs(self, tokens) -> np.ndarray:
        ids = np.asarray(tokens)
        p = np.full((ids.size, self.V), 0.01 / self.V)
        p[np.arange(ids.size - 1), ids[1:]] += 0.99  # the answer, read from the future
        p[-1] += 0.99 / self.V  # the last row has no future to read
        return np.log(p)

    def describe(self) -> dict:
        return {"total_params": 0, "active_params": 0}


def train(text: str, seconds: float, seed: int) -> Oracle:
    return Oracle(len(set(text)))
