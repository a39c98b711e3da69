"""sparsebench's grader: loads problem specs, runs submissions in a sandbox, records and ranks.

Nothing in this package knows about a particular problem; problems plug in through
`harness.spec.Problem` (see problems/<slug>/spec.py).
"""
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
__version__ = "0.1.0"
