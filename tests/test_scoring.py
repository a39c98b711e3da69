"""Scored problems (harness.spec.Scoring): a hook drives the sandboxed submission through the
Driver (keep a result in the sandbox, call its methods), and the record ranks by the score."""
from __future__ import annotations

import json

import pytest

from harness import leaderboard, record as records
from harness.grader import grade
from harness.spec import Case, Problem, Rejected, Scoring


def _hook(driver, secret, plan):
    driver.call(3, keep="m")
    got = driver.call(4, on="m", method="times")
    if got != 12:
        raise Rejected(f"3 * 4 is 12, got {got}\nthe kept object was built from 3")
    return {"score": float(driver.call(on="m", method="cost")), "metrics": {"plan": plan}}


TOY = Problem(slug="toy-scored", title="toy", difficulty="easy", entry="make",
              scoring=Scoring(run=_hook, unit="units", lower_is_better=True, arity=1))

GOOD = '''
class M:
    def __init__(self, a):
        self.a = a
    def times(self, b):
        return self.a * b
    def cost(self):
        return COST
def make(a):
    return M(a)
'''


def submission(tmp_path, body: str, name: str = "make.py"):
    path = tmp_path / name
    path.write_text(body)
    return path


def test_a_hook_keeps_an_object_in_the_sandbox_and_scores_it(tmp_path):
    rec = grade(TOY, submission(tmp_path, "COST = 2.5\n" + GOOD), plan="off")
    assert rec["verdict"] == "AC", rec["reason"]
    assert rec["kind"] == "score" and rec["score"] == 2.5 and rec["score_unit"] == "units"
    assert rec["lower_is_better"] is True and rec["metrics"] == {"plan": "off"} and rec["timings"] == []
    assert [c["name"] for c in rec["cases"]] == ["make", "m.times", "m.cost"]


def test_rejected_is_wrong_answer_with_its_diff(tmp_path):
    rec = grade(TOY, submission(tmp_path, "COST = 1.0\n" + GOOD.replace("self.a * b", "self.a + b")), plan="off")
    assert rec["verdict"] == "WA" and rec["reason"] == "3 * 4 is 12, got 7" and rec["score"] is None
    assert "built from 3" in rec["failure"]["diff"]


def test_a_missing_method_is_a_runtime_error(tmp_path):
    rec = grade(TOY, submission(tmp_path, "COST = 1.0\n" + GOOD.replace("def times", "def twice")), plan="off")
    assert rec["verdict"] == "RE" and "times" in rec["reason"]


def test_a_slow_kept_call_times_out(tmp_path):
    def hook(driver, secret, plan):
        driver.call(1, keep="m", wall_s=0.5)
        return {"score": 0.0}

    slow = Problem(slug="toy-slow", title="toy", difficulty="easy", entry="make",
                   scoring=Scoring(run=hook, unit="u", arity=1))
    rec = grade(slow, submission(tmp_path, "import time\ndef make(a):\n    time.sleep(5)\n"), plan="off")
    assert rec["verdict"] == "TLE" and "0.5 s" in rec["reason"]


def test_a_problem_without_a_hook_needs_its_oracle_fields():
    with pytest.raises(TypeError, match="check"):
        Problem(slug="broken", title="t", difficulty="easy", entry="f", edge_cases=[Case("c", lambda rng: ())],
                bench_sizes=[1], make_random=lambda rng, n: (), size_of=lambda a: 1.0,
                oracle="x.py", timing_reference="x.py")


def test_scored_records_rank_in_their_own_direction(tmp_path):
    runs = tmp_path / "runs"
    for author, cost in (("ada", 3.0), ("bob", 1.5), ("ada", 2.0)):
        rec = grade(TOY, submission(tmp_path, f"COST = {cost}\n" + GOOD, f"{author}{cost}.py"), plan="off")
        records.write(records.finish(rec, author), runs)
    out = leaderboard.build(runs, tmp_path)
    table = out["scored"]["toy-scored"]
    assert list(table["author"]) == ["bob", "ada"] and list(table.iloc[:, 2]) == [1.5, 2.0]
    assert out["overall"].empty  # a measured score is not a speedup: kept out of the overall geomean
    assert "## toy-scored" in (tmp_path / "leaderboard.md").read_text()
    assert json.loads((runs / f"{records.scan(runs)[0][0]['id']}.json").read_text())["kind"] == "score"
