"""Known-answer cases as data (problems/<slug>/cases.toml, harness/known.py): checked against the
oracle when a spec loads, graded as edge cases, and the same numbers as the statements' examples."""
from __future__ import annotations

import math
import re
import shutil

import numpy as np
import pytest

from harness import known, problems
from harness.types import CSR

WITH_CASES = [slug for slug in problems.slugs() if (problems.PROBLEMS_DIR / slug / known.FILE).is_file()]


@pytest.fixture
def copied(tmp_path, monkeypatch):
    """problems.get on a temporary copy of one problem folder (spmv), which the test may break."""
    shutil.copytree(problems.PROBLEMS_DIR / "spmv", tmp_path / "spmv")
    monkeypatch.setattr(problems, "PROBLEMS_DIR", tmp_path)
    problems.get.cache_clear()
    yield tmp_path / "spmv"
    problems.get.cache_clear()  # the real spmv again for the tests that follow


@pytest.mark.parametrize("old,new,message", [
    ("expected = [0.0, 10.0, 28.0, 0.0]", "expected = [0.0, 10.0, 27.0, 0.0]",
     r"problems/spmv/cases\.toml: case 'seed-note 4x4 example': the answer\[2\]: expected 27\.0, "
     r"the oracle gives 28\.0"),
    ("input.x = [1.0, 2.0, 3.0, 4.0]", "input.x = [1.0, 2.0]",
     r"case 'seed-note 4x4 example': the oracle \(reference/numpy\.py\) raised ValueError"),
    (None, '\n[[case]]\nname = "no matrix"\ninput.x = [1.0]\nexpected = [1.0]\n',
     r"case 'no matrix': spec.py cannot build the arguments from its input \(KeyError: 'A'\)"),
], ids=["a wrong answer", "the oracle raises", "an input the spec cannot read"])
def test_a_broken_known_case_makes_the_problem_fail_to_load_naming_it(copied, old, new, message):
    data = copied / known.FILE
    text = data.read_text()
    assert old is None or old in text
    data.write_text(text + new if old is None else text.replace(old, new))
    with pytest.raises(problems.ProblemError, match=message):
        problems.get("spmv")


def test_the_copy_loads_when_it_is_intact(copied):
    problem = problems.get("spmv")
    assert problem.folder == copied
    assert any(isinstance(c, known.KnownCase) for c in problem.edge_cases)


def test_a_case_the_spec_does_not_list_is_an_error(copied):
    spec = copied / "spec.py"
    assert "    *KNOWN,\n" in spec.read_text()
    spec.write_text(spec.read_text().replace("    *KNOWN,\n", ""))
    with pytest.raises(problems.ProblemError, match="case 'seed-note 4x4 example' is not among spec.py's edge cases"):
        problems.get("spmv")


@pytest.mark.parametrize("text,message", [
    ('[[case]]\nname = "no answer"\ninput.x = [1.0]\n', "case 'no answer' needs a name, an input table"),
    ('[[case]]\nname = "a"\ninput.x = [1.0]\nexpected = 1\ncolour = 2\n', "case 'a': unknown keys colour"),
    ('[[case]]\nname = "a"\ninput.x = [1.0]\nexpected = 1\ndecimals = -1\n', "decimals must be a whole number"),
    ('[[case]]\nname = "a"\ninput = {}\nexpected = 1\n[[case]]\nname = "a"\ninput = {}\nexpected = 1\n',
     "the name is used twice"),
    ("[[case]\n", "not valid TOML"),
    ('title = "x"\n', r"must hold only \[\[case\]\] tables"),
])
def test_a_malformed_cases_file_is_named(copied, text, message):
    (copied / known.FILE).write_text(text)
    with pytest.raises(problems.ProblemError, match=r"cases\.toml.*" + message):
        problems.get("spmv")


@pytest.mark.parametrize("slug", WITH_CASES)
def test_known_cases_are_edge_cases_with_their_data_as_arguments(slug):
    problem = problems.get(slug)  # loading it checked every known answer against the oracle
    cases = [c for c in problem.edge_cases if isinstance(c, known.KnownCase)]
    assert [c.name for c in cases] == known.names_in_file(problem.folder)
    for case in cases:
        first, again = case.make(np.random.default_rng(0)), case.make(None)
        assert problem.size_of(first) == problem.size_of(again), "a known case does not depend on the seed"


def test_answers_compare_as_data():
    csr = CSR(np.array([0, 1]), np.array([2]), np.array([0.73105]), (1, 3))
    got = known.plain(csr)
    assert got == {"indptr": [0, 1], "indices": [2], "data": [0.73105], "shape": [1, 3]}
    assert known.difference({"data": [0.7311]}, got, 4) is None  # a table names only some parts
    assert "data[0]: expected 0.7311 (written to 5 decimals), the oracle gives 0.73105" in \
        known.difference({"data": [0.7311]}, got, 5)
    assert known.difference({"data": [0.7311]}, got, None) is not None
    assert "no part 'values'" in known.difference({"values": [1.0]}, got, None)
    assert "expected 2 items" in known.difference([1.0, 2.0], [1.0], None)
    assert known.difference([math.nan, math.inf], [math.nan, math.inf], None) is None
    assert known.difference([True], [1], None) is not None and known.difference([1], [True], None) is not None
    assert known.difference(3.0, 3.0 + 1e-15, None) is None


# -- the statements' worked examples are these cases -----------------------------------------
NUMBER = re.compile(r"(?<![\w.])-?\d+(?:\.\d*)?")


def example_code(readme: str) -> str:
    """The code of a statement's `## Example` section: fenced blocks and inline code."""
    section = re.search(r"^## Example\s*$(.*?)(?=^## |\Z)", readme, re.M | re.S)
    if section is None:
        return ""
    text = section.group(1)
    fenced = re.findall(r"```[^\n]*\n(.*?)```", text, re.S)
    inline = re.findall(r"`([^`\n]+)`", re.sub(r"```.*?```", "", text, flags=re.S))
    return "\n".join(fenced + inline).replace("\u2212", "-")


def numbers_of(data) -> list[float]:
    """Every number in a case's data, with the length of every list (a shape is numbers too)."""
    if isinstance(data, dict):
        return [n for v in data.values() for n in numbers_of(v)]
    if isinstance(data, list):
        return [float(len(data))] + [n for v in data for n in numbers_of(v)]
    return [float(data)] if isinstance(data, (int, float)) and not isinstance(data, bool) else []


STATEMENTS = [s for s in problems.slugs() if example_code((problems.PROBLEMS_DIR / s / "README.md").read_text())]


def test_the_statements_with_a_worked_example():
    assert {"coo-to-csr", "csr-transpose", "spmv", "spmm", "spgemm", "moe-router", "moe-forward", "moe-backward",
            "moe-lm-loss"} <= set(STATEMENTS)


@pytest.mark.parametrize("slug", STATEMENTS)
def test_each_statement_example_number_is_in_its_known_case(slug):
    problem = problems.get(slug)
    statement = [c for c in problem.edge_cases if isinstance(c, known.KnownCase) and c.statement]
    assert statement, f"problems/{slug}/README.md has an Example: cases.toml needs it as a case with statement = true"
    data = [n for c in statement for n in numbers_of(c.input) + numbers_of(c.expected)]
    written = [float(m) for m in NUMBER.findall(example_code((problem.folder / "README.md").read_text()))]
    missing = sorted({n for n in written if not any(abs(n - d) <= 1e-9 * max(1.0, abs(n)) for d in data)})
    assert not missing, f"README.md's example of {slug} writes {missing}, which its cases.toml does not hold"
