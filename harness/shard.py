"""The work list of `sparsebench grade --all ROOT`, and its deterministic split into shards.

ROOT is one of two things, told apart by what it holds:

- one person's folder (e.g. solutions/alice/): it holds at least one file named after a
  problem (coo_to_csr.py). Those files are the work; the author is --author, else the
  folder's name when it sits in a solutions/ folder, else git's user (harness/identity.py).
- a folder of handles (e.g. solutions/): it holds no such file itself, and every subfolder
  is a handle whose problem-named files are the work, recorded under that handle. The
  reserved subfolders reference/, baselines/ and examples/ (and hidden or _private ones)
  are not people and are skipped.

A shard I/N (1 <= I <= N) takes every N-th item of the work list sorted by
(handle, problem), starting at the I-th: the shards are disjoint, together they are the
whole list, their sizes differ by at most one, and every machine that sees the same
checkout computes the same split.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from collections.abc import Iterable

from harness import problems
from harness.record import safe_handle

RESERVED = frozenset({"reference", "baselines", "examples"})


class ShardError(ValueError):
    """A bad --shard value or ROOT: the message says what is expected."""


@dataclass(frozen=True, order=True)
class Work:
    """One file to grade: `handle` is its folder's name, made path-safe. It is the recorded
    author in a folder of handles; in one person's folder the author is decided by
    harness.identity.author (--author, else solutions/<handle>/, else git's)."""

    handle: str
    problem: str
    file: Path
    from_folder_name: bool = True

    @property
    def author(self) -> str | None:
        return self.handle if self.from_folder_name else None


def parse_shard(text: str) -> tuple[int, int]:
    """'2/4' -> (2, 4); anything else raises ShardError with one clear message."""
    m = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text or "")
    if not m:
        raise ShardError(f"--shard expects I/N, e.g. 2/4 for the second of four shards; got {text!r}")
    i, n = int(m.group(1)), int(m.group(2))
    if n < 1 or not 1 <= i <= n:
        raise ShardError(f"--shard {text.strip()}: need 1 <= I <= N (shards count from 1), e.g. 1/{max(n, 1)}")
    return i, n


def _problem_files(folder: Path) -> list[tuple[str, Path]]:
    """(slug, file) for each file in `folder` named after a problem."""
    out = []
    for slug in problems.slugs():
        f = folder / f"{slug.replace('-', '_')}.py"
        if f.is_file():
            out.append((slug, f))
    return out


def is_handle_folder(name: str) -> bool:
    return name not in RESERVED and not name.startswith((".", "_"))


def work_list(root: Path) -> list[Work]:
    """Every submission under ROOT (see the module docstring), sorted by (handle, problem)."""
    root = Path(root)
    if not root.is_dir():
        raise ShardError(f"--all needs a folder, {str(root)!r} is not one")
    own = _problem_files(root)
    if own:
        return sorted(Work(safe_handle(root.name), slug, f, from_folder_name=False) for slug, f in own)
    items = []
    for sub in sorted(p for p in root.iterdir() if p.is_dir() and is_handle_folder(p.name)):
        items += [Work(safe_handle(sub.name), slug, f) for slug, f in _problem_files(sub)]
    return sorted(items)


def shard(items: Iterable[Work], index: int, count: int) -> list[Work]:
    """The index-th of `count` shards (1-based) of `items`: every count-th item in sorted order."""
    if count < 1 or not 1 <= index <= count:
        raise ShardError(f"shard {index}/{count}: need 1 <= I <= N")
    return sorted(items)[index - 1::count]


def restrict(items: Iterable[Work], paths: Iterable[str]) -> list[Work]:
    """The items whose file is one of `paths` (e.g. the lines of `git diff --name-only`)."""
    wanted = {Path(p.strip()).resolve() for p in paths if p.strip()}
    return [w for w in items if w.file.resolve() in wanted]
