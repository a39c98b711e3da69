"""Who is grading: --author, else the handle folder a submission lives in (solutions/<handle>/),
else git's user.name, else the login name, made path-safe.

The folder comes before git because a checkout is shared: `grade solutions/bob/spmv.py`
run on Alice's machine is Bob's submission, and recording it under Alice's git name would
put Bob's score on her line of the leaderboard."""
from __future__ import annotations

import getpass
import subprocess
from pathlib import Path

from harness import ROOT
from harness.record import safe_handle

SOLUTIONS = "solutions"  # the folder of handles: solutions/<handle>/<problem>.py


def handle_of(file: Path | str | None) -> str | None:
    """The handle a submission's folder names: `<handle>` for solutions/<handle>/FILE (any
    folder called solutions/, so a fork or a copy elsewhere works too), else None. The reserved
    folders that hold no person's code (reference/, baselines/, examples/, hidden or _private
    ones) name nobody."""
    from harness.shard import is_handle_folder  # local: shard imports the problem registry

    if file is None:
        return None
    parent = Path(file).resolve().parent
    if parent.parent.name != SOLUTIONS or not is_handle_folder(parent.name):
        return None
    return safe_handle(parent.name)


def author(flag: str | None = None, file: Path | str | None = None) -> str:
    """The recorded author: `flag` (--author), else the handle folder of `file`, else git's
    user.name, else the login name."""
    if flag:
        return safe_handle(flag)
    folder = handle_of(file)
    if folder:
        return folder
    name = git_user()
    if not name:
        try:
            name = getpass.getuser()
        except (OSError, KeyError):
            name = ""
    return safe_handle(name)


def git_user() -> str:
    """git's user.name for this checkout, or "" when git or the setting is missing."""
    try:
        return subprocess.run(["git", "config", "user.name"], cwd=ROOT, capture_output=True, text=True,
                              timeout=5).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""
