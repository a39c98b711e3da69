"""`sparsebench compare`: ties on identical distributions and on small differences, wins on
clear ones, and the noise floor grows with the machine's noise."""
from __future__ import annotations

import json

import pytest

from harness import ROOT, cli, record as records
from harness.compare import CompareError, compare
from tests.fake_records import record


def test_identical_distributions_are_a_tie():
    for seed in range(5):
        a = record("alice", "coo-to-csr", 1.5, seed=seed, noise=0.05)
        b = record("bob", "coo-to-csr", 1.5, seed=100 + seed, noise=0.05)
        result = compare(a, b)
        assert result.verdict == "tie", result.reason
        assert all(s.verdict == "tie" for s in result.sizes)


def test_a_record_against_itself_is_a_tie_with_ratio_one():
    a = record("alice", "coo-to-csr", 1.5)
    result = compare(a, a)
    assert result.verdict == "tie" and result.ratio == pytest.approx(1.0)
    assert result.ci[0] <= 1.0 <= result.ci[1]


def test_a_clear_difference_is_a_win_either_way_round():
    fast, slow = record("alice", "coo-to-csr", 2.0, seed=1), record("bob", "coo-to-csr", 1.0, seed=2)
    ab, ba = compare(fast, slow), compare(slow, fast)
    assert ab.verdict == "A" and ba.verdict == "B", (ab.reason, ba.reason)
    assert ab.ratio == pytest.approx(2.0, rel=0.05) and ab.ci[0] > 1.0
    assert all(s.verdict == "A" and s.p_value < 1e-6 for s in ab.sizes)
    assert ab.reason.startswith("A is") and "faster" in ab.reason


def test_three_percent_on_a_noisy_machine_is_a_tie():
    a = record("alice", "coo-to-csr", 1.03, seed=1, noise=0.10)
    b = record("bob", "coo-to-csr", 1.00, seed=2, noise=0.10)
    result = compare(a, b)
    assert result.verdict == "tie", result.reason
    assert result.noise_floor > 0.05, "a noisy machine raises the floor above the 5% minimum"


def test_three_percent_is_a_tie_even_when_measurable():
    a = record("alice", "coo-to-csr", 1.03, seed=1, noise=0.002, reps=200)
    b = record("bob", "coo-to-csr", 1.00, seed=2, noise=0.002, reps=200)
    result = compare(a, b)
    assert result.ci[0] > 1.0, "so many quiet calls do detect the 3%"
    assert result.verdict == "tie" and "noise floor" in result.reason
    assert compare(a, b, min_effect=0.01).verdict == "A", "a lower floor, when asked for, lets it through"


def test_twenty_percent_on_a_quiet_machine_is_a_win():
    a = record("alice", "coo-to-csr", 1.2, seed=1, noise=0.02)
    b = record("bob", "coo-to-csr", 1.0, seed=2, noise=0.02)
    assert compare(a, b).verdict == "A"


def test_raw_times_compare_the_submissions_directly():
    fast, slow = record("alice", "coo-to-csr", 2.0, seed=1), record("bob", "coo-to-csr", 1.0, seed=2)
    result = compare(fast, slow, raw=True)
    assert result.measure == "time" and result.verdict == "A" and result.ratio == pytest.approx(2.0, rel=0.05)


def test_too_few_calls_are_undecided():
    a = record("alice", "coo-to-csr", 3.0, seed=1, reps=3)
    b = record("bob", "coo-to-csr", 1.0, seed=2, reps=3)
    result = compare(a, b)
    assert result.verdict == "undecided" and "--quick" in result.reason


def test_what_cannot_be_compared():
    a = record("alice", "coo-to-csr", 1.0)
    with pytest.raises(CompareError, match="different problems"):
        compare(a, record("bob", "csr-transpose", 1.0))
    with pytest.raises(CompareError, match="only timed AC"):
        compare(a, record("bob", "coo-to-csr", verdict="WA"))
    old = record("bob", "coo-to-csr", 1.0)
    for t in old["timings"]:
        del t["sub_times_s"]
    with pytest.raises(CompareError, match="regrade"):
        compare(a, old)
    with pytest.raises(CompareError, match="no size in common"):
        compare(a, record("bob", "coo-to-csr", 1.0, sizes=(7, 70)))


def test_compare_command_on_two_records(tmp_path, capsys):
    fast = records.write(record("alice", "coo-to-csr", 2.0, seed=1), tmp_path)
    slow = records.write(record("bob", "coo-to-csr", 1.0, seed=2), tmp_path)
    assert cli.main(["compare", str(fast), str(slow)]) == 0
    out = capsys.readouterr().out
    assert "A is faster" in out and "noise floor 5.0%" in out and "Mann-Whitney" in out
    assert cli.main(["compare", str(slow), str(slow), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["verdict"] == "tie"


def test_compare_command_errors_are_one_line(tmp_path, capsys):
    rec = records.write(record("alice", "coo-to-csr", 2.0), tmp_path)
    other = records.write(record("bob", "csr-transpose", 1.0, rid="other"), tmp_path)
    assert cli.main(["compare", str(rec), str(other)]) == 2
    assert cli.main(["compare", str(rec), str(tmp_path / "missing.json")]) == 2
    errors = capsys.readouterr().err.strip().splitlines()
    assert len(errors) == 2 and "different problems" in errors[0] and "no such file" in errors[1]


@pytest.mark.slow
def test_compare_two_submissions_graded_now(capsys):
    """The reference against a dictionary-based one: the reference wins, beyond any floor."""
    ref = ROOT / "problems" / "coo-to-csr" / "reference" / "numpy.py"
    naive = ROOT / "problems" / "coo-to-csr" / "examples" / "naive_dict.py"
    assert cli.main(["compare", str(ref), str(naive), "--problem", "coo-to-csr", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["verdict"] == "A"
