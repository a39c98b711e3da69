"""Hardware yardsticks: measured, cached per machine and thread count, and turned by the
grader into a '% of bandwidth' for problems with a bytes model."""
import json

import numpy as np
import pytest

from harness import cli, problems, yardstick
from harness.grader import grade


def test_measure_here_reports_positive_rates():
    y = yardstick.measure_here(1, n_triad=1 << 16, gemm_n=64)
    assert y["threads"] == 1 and y["triad_elements"] == 1 << 16 and y["gemm_n"] == 64
    assert y["triad_gbytes_per_s"] > 0 and y["gemm_gflops"] > 0


def test_measure_runs_in_a_fresh_interpreter_with_threads_fixed():
    y = yardstick.measure(2, n_triad=1 << 16, gemm_n=64)
    assert y["threads"] == 2 and y["triad_gbytes_per_s"] > 0


def test_triad_arrays_are_several_times_the_cache():
    n = yardstick.triad_elements()
    assert n >= yardstick.MIN_TRIAD_ELEMENTS and 8 * n >= min(4 * yardstick._last_level_cache_bytes(),
                                                               8 * yardstick.MAX_TRIAD_ELEMENTS)


@pytest.fixture
def fake_measure(monkeypatch):
    calls = []

    def measure(threads, *args, **kwargs):
        calls.append(threads)
        return {"threads": threads, "triad_gbytes_per_s": 10.0 * threads, "gemm_gflops": 50.0,
                "triad_elements": 1, "gemm_n": 1, "measured_at": "now"}

    monkeypatch.setattr(yardstick, "measure", measure)
    return calls


def test_lookup_measures_once_per_thread_count_then_reads_the_cache(tmp_path, fake_measure):
    path = tmp_path / "yardstick.json"
    first = yardstick.lookup(1, path=path)
    assert first["cached"] is False and first["triad_gbytes_per_s"] == 10.0
    again = yardstick.lookup(1, path=path)
    assert again["cached"] is True and again["triad_gbytes_per_s"] == 10.0
    assert yardstick.lookup(2, path=path)["triad_gbytes_per_s"] == 20.0
    assert fake_measure == [1, 2]
    yardstick.lookup(1, path=path, refresh=True)
    assert fake_measure == [1, 2, 1]
    stored = json.loads(path.read_text())
    assert list(stored) == [yardstick.machine_key()] and set(stored[yardstick.machine_key()]) == {"1", "2"}


def test_a_failed_measurement_is_reported_not_raised_nor_cached(tmp_path, monkeypatch):
    def broken(threads, *args, **kwargs):
        raise RuntimeError("no numpy here")

    monkeypatch.setattr(yardstick, "measure", broken)
    path = tmp_path / "yardstick.json"
    assert yardstick.lookup(1, path=path) == {"threads": 1, "error": "no numpy here"}
    assert not path.exists()


@pytest.fixture
def fake_lookup(monkeypatch):
    seen = []

    def lookup(threads, **kwargs):
        seen.append(threads)
        return {"threads": threads, "triad_gbytes_per_s": 4.0, "gemm_gflops": 50.0, "cached": True}

    monkeypatch.setattr(yardstick, "lookup", lookup)
    return seen


def test_grader_reports_percent_of_bandwidth_for_a_bytes_model(fake_lookup):
    spmv = problems.get("spmv")
    record = grade(spmv, spmv.reference_path(spmv.timing_reference), plan="quick")
    assert record["verdict"] == "AC" and fake_lookup == [1]
    assert record["yardstick"]["triad_gbytes_per_s"] == 4.0
    for row in record["timings"]:
        assert row["bandwidth_pct"] == pytest.approx(100.0 * row["gbytes_per_s"] / 4.0)


def test_no_yardstick_without_a_bytes_model_or_without_timing(fake_lookup):
    spgemm, spmv = problems.get("spgemm"), problems.get("spmv")
    record = grade(spgemm, spgemm.reference_path(spgemm.timing_reference), plan="quick")
    assert record["yardstick"] is None and all("bandwidth_pct" not in t for t in record["timings"])
    assert grade(spmv, spmv.reference_path(spmv.timing_reference), plan="off")["yardstick"] is None
    assert fake_lookup == []


def test_cli_prints_the_yardsticks(fake_lookup, capsys):
    assert cli.main(["yardstick", "--threads", "1", "2"]) == 0
    out = capsys.readouterr().out
    assert "4.0 GB/s" in out and "threads=2" in out and fake_lookup == [1, 2]


def test_the_gemm_peer_multiplies_into_one_output():
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((5, 3)).astype(np.float32), rng.standard_normal((3, 4)).astype(np.float32)
    one_pass = yardstick.gemm_pass(a, b)
    out = one_pass()
    np.testing.assert_allclose(out, a @ b, rtol=1e-6)
    a *= 2.0
    assert one_pass() is out, "the same output every call: no allocation in the timed call"
    np.testing.assert_allclose(out, a @ b, rtol=1e-6)
    assert out.dtype == np.float32


@pytest.mark.parametrize("flops,m,k", [(2.0 * 8192 * 512 * 4096, 8192, 512), (2.0 * 8192 * 512 * 1024, 8192, 512),
                                       (2.0 * 8192 * 512 * 4104, 8192, 512), (2.0 * 100 * 16 * 7, 100, 16),
                                       (2.0 * 512 * 256 * 256, 512, 256)])
def test_the_dense_peer_keeps_its_flops_off_a_power_of_two_width(flops, m, k):
    m2, k2, n = yardstick.equal_flop_shape(flops, m, k)
    assert k2 == k
    assert n < yardstick.ALIASED_COLUMNS or n % yardstick.ALIASED_COLUMNS, "an aliasing width"
    assert abs(2.0 * m2 * k * n - flops) <= flops * 0.5 / m + 2.0 * k * n, "the FLOPs kept"
    if round(flops / (2.0 * m * k)) % yardstick.ALIASED_COLUMNS:
        assert (m2, n) == (m, round(flops / (2.0 * m * k))), "a harmless width is left alone"
