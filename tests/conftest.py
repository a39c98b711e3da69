import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run from a checkout (or a git worktree) without installing
    sys.path.insert(0, str(ROOT))
