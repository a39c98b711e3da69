"""Every problem, generically: its files exist, its references pass, its examples get
exactly their declared verdicts, its starter is gradeable."""
from __future__ import annotations

import pytest

from harness import ROOT, problems
from harness.grader import grade
from harness import examples as sample_submissions

SLUGS = problems.slugs()


def references() -> list[tuple[str, str, object]]:
    """(slug, name, path) for every reference and baseline of every problem."""
    out = []
    for p in problems.all_problems():
        out += [(p.slug, f"reference:{name}", path) for name, path in p.references.items()]
        out += [(p.slug, f"baseline:{name}", path) for name, path in p.baselines.items()]
    return out


EXAMPLES = [e for p in problems.all_problems() for e in sample_submissions.discover(p)]


def test_there_are_problems():
    assert "coo-to-csr" in SLUGS and "csr-transpose" in SLUGS


@pytest.mark.parametrize("slug", SLUGS)
def test_problem_folder_is_complete(slug):
    p = problems.get(slug)
    for name in ("README.md", "spec.py", "starter.py", "editorial.md"):
        assert (p.folder / name).is_file(), f"problems/{slug}/{name} is missing"
    assert p.difficulty in ("easy", "medium", "hard")
    if p.scoring is not None:  # graded by a measured score: no cases, sizes or oracle
        assert p.references, "a scored problem needs a reference that scores"
        return
    assert p.edge_cases, "a problem needs named edge cases"
    assert len(set(c.name for c in p.edge_cases)) == len(p.edge_cases), "edge case names must be unique"
    assert list(p.bench_sizes) == sorted(p.bench_sizes) and len(p.bench_sizes) >= 2
    assert p.oracle in p.references and p.timing_reference in p.references


@pytest.mark.parametrize("slug,name,path", references(), ids=[f"{s}-{n}" for s, n, _ in references()])
def test_reference_passes_its_problem(slug, name, path):
    if not problems.runnable(path):
        pytest.skip(f"{path.name} needs {', '.join(problems.requirements(path))} (an optional extra)")
    rec = grade(problems.get(slug), ROOT / path, plan="off", baseline=name.startswith("baseline"))
    assert rec["verdict"] == "AC", rec["reason"]


@pytest.mark.parametrize("example", EXAMPLES, ids=[f"{e.problem.slug}-{e.name}" for e in EXAMPLES])
def test_example_gets_its_expected_verdict(example):
    with example.file() as path:
        rec = grade(example.problem, path, plan=example.plan, limits=example.grade_limits(example.problem.limits))
    assert rec["verdict"] == example.verdict, rec["reason"]
    if example.flag:
        assert any(f.startswith(example.flag) for f in rec["flags"]), rec["flags"]


@pytest.mark.parametrize("slug", SLUGS)
def test_starter_is_gradeable_and_unsolved(slug):
    p = problems.get(slug)
    rec = grade(p, p.folder / "starter.py", plan="off")
    assert rec["verdict"] == "RE" and "NotImplementedError" in rec["reason"], rec["reason"]
