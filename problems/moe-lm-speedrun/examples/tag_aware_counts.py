# expected-verdict: AC
"""Know your data: the next character depends on the current source (named by the last
uppercase tag) and the previous character. Count (source, previous, next) triples; before
the first tag of a stream, fall back to plain bigram counts. Reaches the floor in a second."""
import numpy as np


class TagCounts:
    def __init__(self, tag_of: np.ndarray, triples: np.ndarray, bigrams: np.ndarray):
        self.tag_of = tag_of  # token id -> source index, -1 for a lowercase letter
        self.triples = np.log(triples / triples.sum(axis=2, keepdims=True))
        self.bigrams = np.log(bigrams / bigrams.sum(axis=1, keepdims=True))

    def start(self, n_streams: int) -> None:
        self.source = np.full(n_streams, -1)  # each stream's current source: its last tag so far

    def step(self, tokens) -> np.ndarray:
        ids = np.asarray(tokens, dtype=np.int64)
        tag = self.tag_of[ids]
        self.source = np.where(tag >= 0, tag, self.source)
        out = self.bigrams[ids].copy()
        known = self.source >= 0
        out[known] = self.triples[self.source[known], ids[known]]
        return out

    def describe(self) -> dict:
        n = self.triples.size + self.bigrams.size
        return {"total_params": n, "active_params": self.triples.shape[2]}


def _current_source(ids: np.ndarray, tag_of: np.ndarray) -> np.ndarray:
    """Source index of the last tag at or before each position (-1 before the first tag)."""
    is_tag = tag_of[ids] >= 0
    last = np.maximum.accumulate(np.where(is_tag, np.arange(ids.size), -1))
    return np.where(last >= 0, tag_of[ids[np.maximum(last, 0)]], -1)


def train(text: str, seconds: float, seed: int) -> TagCounts:
    chars = sorted(set(text))
    lookup = {c: i for i, c in enumerate(chars)}
    ids = np.array([lookup[c] for c in text], dtype=np.int64)
    tags = [i for i, c in enumerate(chars) if c.isupper()]
    tag_of = np.full(len(chars), -1)
    tag_of[tags] = np.arange(len(tags))
    V, K = len(chars), max(1, len(tags))
    source = _current_source(ids, tag_of)
    triples = np.full((K, V, V), 0.01)  # a little mass everywhere: no infinite losses
    ok = source[:-1] >= 0
    np.add.at(triples, (source[:-1][ok], ids[:-1][ok], ids[1:][ok]), 1.0)
    bigrams = np.full((V, V), 0.01)
    np.add.at(bigrams, (ids[:-1], ids[1:]), 1.0)
    return TagCounts(tag_of, triples, bigrams)
