"""% of the machine's GEMM rate: problems that name a gemm_dtype get it in their grades, measured
per dtype by the yardstick; older cached yardsticks without the figure are measured again."""
import json

import pytest

from harness import problems, yardstick
from harness.grader import grade


def test_measure_here_has_a_gemm_rate_per_dtype():
    y = yardstick.measure_here(1, n_triad=1 << 16, gemm_n=64)
    assert y["gemm_gflops"] > 0 and y["gemm_gflops_float32"] > 0
    assert yardstick.gemm_key("float64") == "gemm_gflops" and yardstick.gemm_key("float32") == "gemm_gflops_float32"
    with pytest.raises(ValueError):
        yardstick.gemm_key("float16")


def test_a_cached_entry_without_a_needed_figure_is_measured_again(tmp_path, monkeypatch):
    calls = []

    def measure(threads, *args, **kwargs):
        calls.append(threads)
        return {"threads": threads, "triad_gbytes_per_s": 5.0, "gemm_gflops": 40.0, "gemm_gflops_float32": 80.0}

    monkeypatch.setattr(yardstick, "measure", measure)
    path = tmp_path / "yardstick.json"
    old = {"threads": 1, "triad_gbytes_per_s": 5.0, "gemm_gflops": 40.0}  # written before float32 existed
    path.write_text(json.dumps({yardstick.machine_key(): {"1": old}}))
    assert yardstick.lookup(1, path=path)["cached"] is True and calls == []  # nothing more needed
    fresh = yardstick.lookup(1, path=path, need=("gemm_gflops_float32",))
    assert fresh["cached"] is False and fresh["gemm_gflops_float32"] == 80.0 and calls == [1]
    assert yardstick.lookup(1, path=path, need=("gemm_gflops_float32",))["cached"] is True and calls == [1]


@pytest.fixture
def fake_lookup(monkeypatch):
    seen = []

    def lookup(threads, **kwargs):
        seen.append(kwargs.get("need", ()))
        return {"threads": threads, "triad_gbytes_per_s": 4.0, "gemm_gflops": 50.0, "gemm_gflops_float32": 100.0,
                "cached": True}

    monkeypatch.setattr(yardstick, "lookup", lookup)
    return seen


@pytest.mark.parametrize("slug, rate", [("sddmm", 50.0), ("sparse-attention", 100.0)])
def test_grades_report_percent_of_the_gemm_rate_in_the_problems_dtype(fake_lookup, slug, rate):
    p = problems.get(slug)
    record = grade(p, p.reference_path(p.timing_reference), plan="quick")
    assert record["verdict"] == "AC", record["reason"]
    assert fake_lookup == [(yardstick.gemm_key(p.gemm_dtype),)]
    for row in record["timings"]:
        assert row["gemm_pct"] == pytest.approx(100.0 * row["gflops"] / rate)
        assert row["bandwidth_pct"] == pytest.approx(100.0 * row["gbytes_per_s"] / 4.0)


def test_no_gemm_percentage_without_a_gemm_dtype(fake_lookup):
    spmv = problems.get("spmv")
    assert spmv.gemm_dtype is None
    record = grade(spmv, spmv.reference_path(spmv.timing_reference), plan="quick")
    assert all("gemm_pct" not in t for t in record["timings"]) and fake_lookup == [()]
