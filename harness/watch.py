"""`sparsebench grade FILE --watch`: grade again on every save, until Ctrl-C.

Practising means grading dozens of times an hour; switching to a terminal to type the command
each time breaks the flow. The watch loop polls the file (no extra dependency, and it works
the same on every file system, network mounts included): when its fingerprint (modification
time, size and content hash) changes, it waits until the file has stayed the same for a short
debounce, so an editor's several writes, or a half-written save, produce one grade, then
grades. A file caught half-written is whatever the grader makes of it (a syntax error is CE,
and the next save grades again); a file that is missing for a moment (editors that save by
rename) is waited for, never an error.

The loop takes its clock and sleep as arguments, so tests drive it with a fake clock and
scripted file changes for a bounded number of polls or runs.
"""
from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

POLL_S = 0.3  # how often the file is looked at
DEBOUNCE_S = 0.4  # how long it must stay unchanged before it is graded

Fingerprint = tuple[int, int, str] | None


def pause(seconds: float) -> None:
    """The loop's default sleep: a name of its own, so a test can replace the watch's sleep
    without replacing time.sleep for the grader and its sandbox."""
    time.sleep(seconds)


def fingerprint(file: Path) -> Fingerprint:
    """(mtime_ns, size, sha256) of the file, or None while it is missing or unreadable."""
    try:
        stat = file.stat()
        digest = hashlib.sha256(file.read_bytes()).hexdigest()
    except OSError:
        return None
    return stat.st_mtime_ns, stat.st_size, digest


@dataclass
class Stats:
    """What a loop did: grades run, polls made, and why it stopped."""

    runs: int = 0
    polls: int = 0
    stopped: str = ""  # "interrupted", "max_runs" or "max_polls"


def loop(file: Path, on_change: Callable[[int], None], *, on_missing: Callable[[], None] | None = None,
         clock: Callable[[], float] | None = None, sleep: Callable[[float], None] | None = None,
         poll_s: float = POLL_S, debounce_s: float = DEBOUNCE_S, max_runs: int | None = None,
         max_polls: int | None = None) -> Stats:
    """Call `on_change(run)` once now (run 1) and again after every change of `file`, once it has
    been stable for `debounce_s`; stop on KeyboardInterrupt (Ctrl-C), or after `max_runs` runs
    or `max_polls` polls (for tests). `on_missing()` is called once each time the file goes
    missing. A KeyboardInterrupt inside `on_change` stops the loop too."""
    clock = clock or time.monotonic
    sleep = sleep or pause
    file = Path(file)
    stats = Stats()
    try:
        seen = fingerprint(file)
        stats.runs += 1
        on_change(stats.runs)
        pending_since: float | None = None  # when the latest unseen change was first noticed
        latest = seen
        missing = seen is None
        while True:
            if max_runs is not None and stats.runs >= max_runs:
                stats.stopped = "max_runs"
                return stats
            if max_polls is not None and stats.polls >= max_polls:
                stats.stopped = "max_polls"
                return stats
            sleep(poll_s)
            stats.polls += 1
            now = fingerprint(file)
            if now is None:
                if not missing and on_missing:
                    on_missing()
                missing, pending_since, latest = True, None, None
                continue
            missing = False
            if now == seen:
                pending_since, latest = None, now
                continue
            if now != latest:  # changed (again) since the last poll: restart the debounce
                pending_since, latest = clock(), now
                continue
            if pending_since is not None and clock() - pending_since >= debounce_s:
                seen, pending_since = now, None
                stats.runs += 1
                on_change(stats.runs)
    except KeyboardInterrupt:
        stats.stopped = "interrupted"
        return stats
