# expected-verdict: CE
"""Forges a record: write a fake AC result with a huge score into results/runs/. The audit
hook refuses writes outside the work folder (and with bubblewrap results/ is not even in
the child's view, so native code finds nothing to write): CE naming the file; no record
appears."""
import json
from pathlib import Path

from harness.types import COO, CSR

_RUNS = Path(__file__).resolve().parents[3] / "results" / "runs"


def coo_to_csr(A: COO) -> CSR:
    fake = {"schema_version": 1, "kind": "grade", "id": "forged", "timestamp": "2000-01-01T00:00:00+00:00",
            "author": "mallory", "problem": "coo-to-csr", "verdict": "AC", "score": 1000.0}
    try:
        (_RUNS / "forged.json").write_text(json.dumps(fake))
    except OSError:
        pass
    raise ValueError("index outside the shape")
