"""Every problem, generically: its files exist, its references pass, its examples get
exactly their declared verdicts, its oracle is deterministic, its starter is gradeable.

The checks themselves live in harness/checkup.py, which `sparsebench check-problem SLUG` runs
too, so an author sees before pushing exactly what these tests will say."""
from __future__ import annotations

import pytest

from harness import checkup, problems
from harness import examples as sample_submissions

SLUGS = problems.slugs()


def references() -> list[tuple[str, str, object, bool]]:
    """(slug, label, path, is a baseline) for every reference and baseline of every problem."""
    return [(p.slug, label, path, baseline) for p in problems.all_problems()
            for label, path, baseline in checkup.submissions(p)]


REFERENCES = references()
EXAMPLES = [e for p in problems.all_problems() for e in sample_submissions.discover(p)]


def _passed(findings: list[checkup.Finding]) -> None:
    """Fail with every FAIL finding's full text; skip when the only outcome is a skip."""
    failed = [f for f in findings if f.failed]
    assert not failed, "\n".join(f"{f.line()}\n{f.detail}" for f in failed)
    if findings and all(f.status == checkup.SKIP for f in findings):
        pytest.skip(findings[0].detail)


def test_there_are_problems():
    assert "coo-to-csr" in SLUGS and "csr-transpose" in SLUGS


@pytest.mark.parametrize("slug", SLUGS)
def test_problem_folder_is_complete(slug):
    problem, loaded = checkup.load(slug)
    _passed([loaded])
    _passed(checkup.folder(problem) + checkup.spec_shape(problem))


@pytest.mark.parametrize("slug,label,path,baseline", REFERENCES,
                         ids=[f"{s}-{label.replace(' ', ':')}" for s, label, _, _ in REFERENCES])
def test_reference_passes_its_problem(slug, label, path, baseline):
    _passed([checkup.submission(problems.get(slug), label, path, baseline)])


@pytest.mark.parametrize("example", EXAMPLES, ids=[f"{e.problem.slug}-{e.name}" for e in EXAMPLES])
def test_example_gets_its_expected_verdict(example):
    _passed([checkup.example(example)])


@pytest.mark.parametrize("slug", SLUGS)
def test_oracle_is_deterministic_per_seed(slug):
    _passed([checkup.oracle_deterministic(problems.get(slug))])


@pytest.mark.parametrize("slug", SLUGS)
def test_starter_is_gradeable_and_unsolved(slug):
    _passed([checkup.starter(problems.get(slug))])
