"""Corpora for the tiny LM: character vocabulary, train/val split, and a synthetic corpus whose
entropy rate is known exactly.

- `pydoc`: the standard library's pydoc topics (pydoc_data.topics, ~465k characters): ships with
  every CPython, so training needs no download. Each topic's first 90% goes to train, its last 10%
  to val, so both splits cover every topic.
- a path: any UTF-8 text; the last 10% is val (the convention of the tinyshakespeare figures).
- `synthetic`: a mixture of K random Markov sources over one alphabet (see `MarkovMixture`).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

VAL_FRACTION = 0.1


@dataclass
class Corpus:
    """Train and val token ids over a character vocabulary (`chars[i]` is token i)."""

    name: str
    chars: str
    train: np.ndarray  # int64 ids
    val: np.ndarray
    # synthetic corpora only: the source of every character, and the exact loss floor
    train_source: np.ndarray | None = None
    val_source: np.ndarray | None = None
    entropy_rate: float | None = None  # nats per character
    info: dict = field(default_factory=dict)

    @property
    def vocab_size(self) -> int:
        return len(self.chars)

    def encode(self, text: str) -> np.ndarray:
        lookup = {c: i for i, c in enumerate(self.chars)}
        unknown = sorted(set(text) - set(lookup))
        if unknown:
            raise ValueError(f"characters not in this corpus's vocabulary: {''.join(unknown)!r}")
        return np.array([lookup[c] for c in text], dtype=np.int64)

    def decode(self, ids) -> str:
        return "".join(self.chars[int(i)] for i in ids)


def from_text(name: str, train_text: str, val_text: str) -> Corpus:
    """Vocabulary = every character of both splits, sorted (val never meets an unknown one)."""
    chars = "".join(sorted(set(train_text) | set(val_text)))
    table = np.full(max(map(ord, chars)) + 1, -1, dtype=np.int64)
    table[[ord(c) for c in chars]] = np.arange(len(chars))

    def ids(text: str) -> np.ndarray:
        return table[np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)]

    return Corpus(name, chars, ids(train_text), ids(val_text))


def pydoc_corpus() -> Corpus:
    from pydoc_data.topics import topics

    train, val = [], []
    for key in sorted(topics):
        text = topics[key]
        cut = int(len(text) * (1 - VAL_FRACTION))
        train.append(text[:cut])
        val.append(text[cut:])
    return from_text("pydoc", "\n".join(train), "\n".join(val))


def file_corpus(path: str | Path) -> Corpus:
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    if len(text) < 1000:
        raise ValueError(f"{path} holds only {len(text)} characters; a corpus needs at least 1000")
    cut = int(len(text) * (1 - VAL_FRACTION))
    return from_text(path.stem, text[:cut], text[cut:])


# -- the synthetic mixture of sources --------------------------------------------------------
@dataclass(frozen=True)
class MarkovMixture:
    """K first-order Markov sources over one alphabet of A lowercase letters.

    The text is a sequence of segments. A segment opens with its source's tag (an uppercase
    letter: 'A' for source 0, ...) followed by letters from that source's chain, the first one
    from the source's start distribution. After each letter the segment ends with probability
    `switch` (so lengths are geometric, mean 1/switch); the next source is uniform over the K.

    Seen from the text, the state (source, last character) is a Markov chain that the past
    determines, so the entropy rate is exact: sum over states of stationary probability times
    the entropy of the next character. A model whose context holds the current tag can reach it.
    """

    n_sources: int = 4
    n_letters: int = 16
    switch: float = 1 / 24
    concentration: float = 0.2  # Dirichlet parameter of each transition row: small = peaky rows
    seed: int = 0

    def tables(self) -> tuple[np.ndarray, np.ndarray]:
        """(start (K, A), trans (K, A, A)) probability tables, fixed by the seed."""
        rng = np.random.default_rng(self.seed)
        K, A = self.n_sources, self.n_letters
        start = rng.dirichlet(np.full(A, self.concentration), size=K)
        trans = rng.dirichlet(np.full(A, self.concentration), size=(K, A))
        return start, trans

    def next_symbol_probs(self) -> tuple[np.ndarray, np.ndarray]:
        """States are (source s, letter c) -> index s*A + c, and (source s, just tagged) -> K*A + s.
        Symbols are letters 0..A-1 and tags A..A+K-1. Returns (P (states, symbols), next state
        (states, symbols)): the symbol distribution and where each symbol leads."""
        K, A, q = self.n_sources, self.n_letters, self.switch
        start, trans = self.tables()
        S = K * A + K
        P = np.zeros((S, A + K))
        nxt = np.zeros((S, A + K), dtype=np.int64)
        for s in range(K):
            for c in range(A):
                i = s * A + c
                P[i, :A] = (1 - q) * trans[s, c]
                P[i, A:] = q / K
                nxt[i, :A] = s * A + np.arange(A)
                nxt[i, A:] = K * A + np.arange(K)
            i = K * A + s
            P[i, :A] = start[s]
            nxt[i, :A] = s * A + np.arange(A)
            nxt[i, A:] = i  # unreachable: a tag is never followed by a tag
        return P, nxt

    def entropy_rate(self) -> float:
        """Exact entropy rate in nats per character (the loss floor of a perfect model)."""
        P, nxt = self.next_symbol_probs()
        S = P.shape[0]
        M = np.zeros((S, S))
        np.add.at(M, (np.repeat(np.arange(S), P.shape[1]), nxt.reshape(-1)), P.reshape(-1))
        # stationary distribution: pi M = pi, sum(pi) = 1 (least squares on the stacked system)
        lhs = np.vstack([M.T - np.eye(S), np.ones((1, S))])
        rhs = np.zeros(S + 1)
        rhs[-1] = 1.0
        pi = np.linalg.lstsq(lhs, rhs, rcond=None)[0]
        with np.errstate(divide="ignore", invalid="ignore"):
            h = -np.where(P > 0, P * np.log(P), 0.0).sum(axis=1)
        return float(pi @ h)

    def sample(self, n_chars: int, rng: np.random.Generator) -> tuple[str, np.ndarray, np.ndarray]:
        """(text, source of each character, -log p of each character under the true model).
        Segments are generated in parallel, one letter position at a time."""
        K, A = self.n_sources, self.n_letters
        start, trans = self.tables()
        n_seg = int(n_chars * self.switch * 1.2) + 16  # enough segments, trimmed below
        source = rng.integers(0, K, n_seg)
        length = rng.geometric(self.switch, n_seg)  # letters per segment, >= 1
        width = int(length.max())
        letters = np.zeros((n_seg, width), dtype=np.int64)
        nll = np.zeros((n_seg, width + 1))
        # -log p of each symbol under the true model: a tag follows a letter that ended its
        # segment (q) and names a uniform source (1/K); a segment's first letter comes from the
        # start distribution; every later letter continued the segment (1 - q) and the chain
        nll[:, 0] = math.log(K) - math.log(self.switch)
        cum_start = np.cumsum(start, axis=1)
        letters[:, 0] = _draw(cum_start[source], rng)
        nll[:, 1] = -np.log(start[source, letters[:, 0]])
        cum_trans = np.cumsum(trans, axis=2)
        for j in range(1, width):
            live = np.flatnonzero(length > j)
            prev = letters[live, j - 1]
            letters[live, j] = _draw(cum_trans[source[live], prev], rng)
            nll[live, j + 1] = -np.log(trans[source[live], prev, letters[live, j]]) - math.log(1 - self.switch)
        # flatten: tag, then the segment's letters
        mask = np.arange(width + 1)[None, :] <= length[:, None]
        symbols = np.concatenate([(A + source)[:, None], letters], axis=1)[mask]
        sources = np.repeat(source, length + 1)
        nlls = nll[mask]
        nlls[0] = math.log(K)  # the very first tag follows nothing
        symbols, sources, nlls = symbols[:n_chars], sources[:n_chars], nlls[:n_chars]
        alphabet = "abcdefghijklmnopqrstuvwxyz"[:A] + "ABCDEFGHIJKLMNOPQRSTUVWXYZ"[:K]
        text = "".join(np.array(list(alphabet))[symbols])
        return text, sources, nlls


def _draw(cum: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One draw per row from rows of cumulative probabilities (inverse CDF)."""
    u = rng.random(cum.shape[0])[:, None] * cum[:, -1:]
    return np.minimum((u >= cum).sum(axis=1), cum.shape[1] - 1)


def synthetic_corpus(n_train: int = 1_000_000, n_val: int = 100_000, mixture: MarkovMixture | None = None) -> Corpus:
    """A synthetic corpus; the same every time (its own seed, independent of the training seed)."""
    mixture = mixture or MarkovMixture()
    text, src, _ = mixture.sample(n_train + n_val, np.random.default_rng(mixture.seed + 1))
    corpus = from_text("synthetic", text[:n_train], text[n_train:])
    corpus.train_source, corpus.val_source = src[:n_train], src[n_train:]
    corpus.entropy_rate = mixture.entropy_rate()
    corpus.info = {"mixture": mixture}
    return corpus


def load_corpus(spec: str) -> Corpus:
    """'pydoc' (default), 'synthetic', or a path to a UTF-8 text file."""
    if spec == "pydoc":
        return pydoc_corpus()
    if spec == "synthetic":
        return synthetic_corpus()
    path = Path(spec)
    if not path.is_file():
        raise FileNotFoundError(f"no corpus file {spec!r} (use a path, 'pydoc' or 'synthetic')")
    return file_corpus(path)


def mutual_information(a: np.ndarray, b: np.ndarray) -> float:
    """I(a; b) in bits from the joint counts of two integer labelings of the same items."""
    a, b = np.asarray(a).reshape(-1), np.asarray(b).reshape(-1)
    joint = np.zeros((a.max() + 1, b.max() + 1))
    np.add.at(joint, (a, b), 1.0)
    joint /= joint.sum()
    pa, pb = joint.sum(axis=1, keepdims=True), joint.sum(axis=0, keepdims=True)
    nz = joint > 0
    return float((joint[nz] * np.log2(joint[nz] / (pa @ pb)[nz])).sum())
