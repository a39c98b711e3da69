"""sparsebench's grader: loads problem specs, runs submissions in a sandbox, records and ranks.

Nothing in this package knows about a particular problem; problems plug in through
`harness.spec.Problem` (see problems/<slug>/spec.py). For notebooks and scripts,
`from harness import grade` grades a solution and returns its record (harness/api.py).
"""
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
__version__ = "0.1.0"


def __getattr__(name: str):
    """`from harness import grade`: the Python API (harness/api.py), imported on first use so
    that `import harness` stays as light as the sandboxed child needs it (no numpy)."""
    if name == "grade":
        from harness.api import grade

        return grade
    raise AttributeError(f"module 'harness' has no attribute {name!r}")
