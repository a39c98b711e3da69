"""200 hidden seeds of every reference and baseline: no false WA (about 5 minutes on 2 busy cores)."""
import pytest

from benchmarks.false_wa import run


@pytest.mark.slow
def test_references_and_baselines_never_get_a_false_verdict():
    failures = run(seeds=200, echo=lambda line: None)
    assert failures == [], "\n".join(failures[:20])
