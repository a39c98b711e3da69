# expected-verdict: AC
"""The look-ahead probe's hole, tried on the stream: the old grader scored a chunk and then asked
again with a prefix of it, so a model that answered the first time from the whole chunk (the
future included) and replayed that answer when asked again was never caught.

This model does the same on the stream: it records every token it is shown and every answer it
gives, and whenever the grader asks about a position it has already seen, whether by restarting
the streams or by sending a stream's tokens again, it answers from the record, betting 0.99 on
the token that came next. The grader streams each position once and reveals token t+1 only after
the answer for it is in, so the record never holds the future when it is asked for: the model
answers with its honest bigram counts every time, and the score is the bigram's."""
import numpy as np


class Replayer:
    def __init__(self, logp: np.ndarray):
        self.logp = logp  # bigram log-probabilities, (V, V)
        self.record: dict[tuple, int] = {}  # a stream's tokens so far -> the token that followed
        self.replays = 0

    def start(self, n_streams: int) -> None:
        self.history = [() for _ in range(n_streams)]

    def describe(self) -> dict:
        return {"total_params": int(self.logp.size), "active_params": int(self.logp.shape[1])}

    def step(self, tokens) -> np.ndarray:
        ids = np.asarray(tokens, dtype=np.int64)
        out = self.logp[ids].copy()
        for s, x in enumerate(ids):
            before, self.history[s] = self.history[s], self.history[s] + (int(x),)
            if before:
                self.record[before] = int(x)  # what followed `before`: the answer a re-ask would want
            known = self.record.get(self.history[s])
            if known is not None:  # this position was shown before, and what came after it too
                self.replays += 1
                row = np.full(self.logp.shape[1], 0.01 / self.logp.shape[1])
                row[known] += 0.99
                out[s] = np.log(row)
        return out


def train(text: str, seconds: float, seed: int) -> Replayer:
    chars = sorted(set(text))
    ids = np.array([chars.index(c) for c in text])
    counts = np.ones((len(chars), len(chars)))
    np.add.at(counts, (ids[:-1], ids[1:]), 1.0)
    return Replayer(np.log(counts / counts.sum(axis=1, keepdims=True)))
