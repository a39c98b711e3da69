"""pytest-benchmark set-up: the checkout first on sys.path, and the machine's yardsticks
(STREAM triad, GEMM; measured once per machine and cached) recorded in the JSON output so
`python -m benchmarks.report` can give % of bandwidth for the machine the figures came from."""
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run from a checkout (or a git worktree) without installing
    sys.path.insert(0, str(ROOT))

from benchmarks.common import SCALE, THREADS  # noqa: E402


def pytest_benchmark_update_machine_info(config, machine_info):
    """Record the STREAM-triad and GEMM yardsticks (cached per machine) with the results, so
    the report can give % of bandwidth for the machine the figures came from."""
    from harness import yardstick

    machine_info["sparsebench_yardstick"] = {str(t): yardstick.lookup(t) for t in THREADS}
    machine_info["sparsebench_scale"] = SCALE
