# expected-verdict: AC
"""A cheat that tries to read the future, through every channel a model has from inside the
sandbox, and bets 0.99 on whatever next token it finds:

- the grader's own frames on the stack: the command being served names this step's input
  file, so the next step's input would sit beside it (it is written only after this step's
  answer has been read), and the folder may hold other files;
- the grader's memory: every process visible in /proc whose memory it can read is searched
  for the tokens this stream has shown so far, laid out as the grader's int64 array would be,
  and the word after them is the next token.

With the streaming API the next token is nowhere yet when its distribution is asked for, and
the sandbox hides the grader's processes, so every channel comes back empty: the model falls
back to the uniform distribution and scores log2(V) bits/char, AC and worthless. Were any channel
to work (a machine without the sandbox's PID namespace, with the grader's memory readable), its
0.99 bets would put the score far below the floor, and the grade would be WA."""
import os
import sys

import numpy as np


def _future_input(step_input: str) -> np.ndarray | None:
    """The next call's input file, if the grader had written it already."""
    folder, name = os.path.split(step_input)
    number = int("".join(c for c in name if c.isdigit()) or 0)
    for candidate in [f"in{number + 1}.npz", *sorted(os.listdir(folder))]:
        path = os.path.join(folder, candidate)
        if candidate != name and os.path.isfile(path):
            try:
                with np.load(path, allow_pickle=False) as npz:
                    arrays = [npz[k] for k in npz.files if k.startswith("a")]
                return arrays[0] if arrays else None
            except Exception:  # noqa: BLE001 - whatever it is, it is not the future
                continue
    return None


def _command_input() -> str | None:
    """The input path of the command being served, from the grader's frame on the stack."""
    frame = sys._getframe(1)
    while frame is not None:
        command = frame.f_locals.get("command")
        if isinstance(command, dict) and isinstance(command.get("input"), str):
            return command["input"]
        frame = frame.f_back
    return None


def _find_in_memory(pattern: bytes) -> tuple[int, int] | None:
    """(pid, address) of `pattern` in the readable memory of another visible process."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry}/maps") as maps, open(f"/proc/{entry}/mem", "rb", buffering=0) as mem:
                for line in maps:
                    span, perms = line.split()[:2]
                    lo, hi = (int(x, 16) for x in span.split("-"))
                    if "r" not in perms or hi - lo > 1 << 30:
                        continue
                    try:
                        mem.seek(lo)
                        chunk = mem.read(hi - lo)
                    except (OSError, OverflowError, ValueError):
                        continue
                    at = chunk.find(pattern)
                    if at >= 0:
                        return int(entry), lo + at
        except (OSError, ValueError):
            continue
    return None


class Peeker:
    def __init__(self, V: int):
        self.V = V

    def start(self, n_streams: int) -> None:
        self.seen: list[list[int]] = [[] for _ in range(n_streams)]
        self.where: tuple[int, int] | None = None  # (pid, address) of stream 0's tokens in another process

    def describe(self) -> dict:
        return {"total_params": 1, "active_params": 1}

    def step(self, tokens) -> np.ndarray:
        ids = np.asarray(tokens, dtype=np.int64)
        for s, x in enumerate(ids):
            self.seen[s].append(int(x))
        guess = np.full(ids.size, -1)
        path = _command_input()
        future = _future_input(path) if path else None
        if future is not None and future.shape == ids.shape:
            guess = future.astype(np.int64)
        t = len(self.seen[0])
        if self.where is None and t == 12:  # 96 bytes: unique enough to search for
            self.where = _find_in_memory(np.array(self.seen[0], dtype=np.int64).tobytes())
        if self.where is not None:
            pid, address = self.where
            try:
                with open(f"/proc/{pid}/mem", "rb", buffering=0) as mem:
                    mem.seek(address + 8 * t)
                    guess[0] = int(np.frombuffer(mem.read(8), dtype=np.int64)[0])
            except (OSError, ValueError):
                pass
        p = np.full((ids.size, self.V), 1.0 / self.V)
        bet = (guess >= 0) & (guess < self.V)
        p[bet] = 0.01 / self.V
        p[np.flatnonzero(bet), guess[bet]] += 0.99
        return np.log(p)


def train(text: str, seconds: float, seed: int) -> Peeker:
    return Peeker(len(set(text)))
