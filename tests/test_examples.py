"""Sample submissions (harness/examples.py): whole files and changes of a reference, and the CLI
that shows and grades them."""
from __future__ import annotations

import dataclasses
import json
import shutil

import pytest

from harness import cli, examples, problems

SPMV = problems.get("spmv")
CHANGE = '''verdict = "WA"
base = "numpy"
why = """Honest mistake: drops the last row."""

[[change]]
find = "{find}"
replace = "{replace}"
'''


@pytest.fixture
def problem(tmp_path):
    """spmv with its folder copied to tmp_path, so examples can be written next to its references."""
    shutil.copytree(SPMV.folder / "reference", tmp_path / "reference")
    (tmp_path / "examples").mkdir()
    return dataclasses.replace(SPMV, folder=tmp_path, references=problems._keyed_files(tmp_path / "reference"))


def write(problem, name: str, text: str):
    path = problem.folder / "examples" / name
    path.write_text(text)
    return path


def reference_line(problem) -> str:
    """A line that occurs once in the spmv NumPy reference."""
    lines = problem.reference_path("numpy").read_text().splitlines()
    return next(line for line in lines if lines.count(line) == 1 and "return" in line).strip()


def test_a_change_is_the_reference_with_its_change_and_a_new_docstring(problem):
    line = reference_line(problem)
    write(problem, "broken.toml", CHANGE.format(find=line, replace="return None  # the mistake"))
    (example,) = examples.discover(problem)
    assert example.is_change and example.verdict == "WA" and example.base_path().name == "numpy.py"
    source = example.source()
    assert source.startswith("# expected-verdict: WA\n") and "return None  # the mistake" in source
    assert line not in source and "Honest mistake: drops the last row." in source
    assert "vectorised" not in source.split("\n\n")[0].lower()  # the reference's own docstring is gone
    assert "-" in example.diff() and "+    return None  # the mistake" in example.diff()
    compile(source, "broken.py", "exec")
    with example.file() as path:
        assert path.read_text() == source and path.suffix == ".py"
    assert not path.exists()  # the temporary file is gone after grading


@pytest.mark.parametrize("find", ["this text is not in the reference", "import"])
def test_a_change_that_no_longer_applies_names_the_example(problem, find):
    write(problem, "drifted.toml", CHANGE.format(find=find, replace="x"))
    (example,) = examples.discover(problem)
    with pytest.raises(examples.ExampleError, match=r"drifted\.toml: change 1's `find` text occurs \d+ times"):
        example.source()


@pytest.mark.parametrize("text,message", [
    ('verdict = "WA"\nbase = "numpy"\nwhy = "x"\n', "missing `change`"),
    ('verdict = "OK"\nbase = "numpy"\nwhy = "x"\n[[change]]\nfind = "a"\nreplace = "b"\n', "verdict 'OK'"),
    ('verdict = "WA"\nbase = "fortran"\nwhy = "x"\n[[change]]\nfind = "a"\nreplace = "b"\n', "not a reference"),
    ('verdict = "WA"\nbase = "numpy"\nwhy = "x"\ncolour = 1\n[[change]]\nfind = "a"\nreplace = "b"\n', "unknown keys"),
    ('verdict = "WA"\nbase = "numpy"\nwhy = "x"\n[[change]]\nfind = ""\nreplace = "b"\n', "non-empty `find`"),
    ("verdict = \n", "not valid TOML"),
])
def test_malformed_declarations_are_named(problem, text, message):
    write(problem, "bad.toml", text)
    with pytest.raises(examples.ExampleError, match=message):
        examples.discover(problem)


def test_whole_files_declare_their_verdict_in_a_header(problem):
    write(problem, "slow.py", "# expected-verdict: AC\n# grade-plan: quick\n# limits: wall_s=2\n"
                              '"""Correct but slow."""\ndef spmv(A, x):\n    pass\n')
    write(problem, "bare.py", "def spmv(A, x):\n    pass\n")
    with pytest.raises(examples.ExampleError, match="bare.py needs a first line '# expected-verdict"):
        examples.discover(problem)
    (problem.folder / "examples" / "bare.py").unlink()
    (example,) = examples.discover(problem)
    assert (example.verdict, example.plan, example.limits, example.why) == ("AC", "quick", {"wall_s": 2.0},
                                                                            "Correct but slow.")
    assert example.grade_limits(problem.limits).wall_s == 2.0 and not example.diff()


def test_a_name_used_twice_is_an_error(problem):
    write(problem, "twice.py", "# expected-verdict: AC\n")
    write(problem, "twice.toml", CHANGE.format(find="a", replace="b"))
    with pytest.raises(examples.ExampleError, match="both twice.py and twice.toml"):
        examples.discover(problem)


def test_every_change_example_in_the_tree_applies():
    changes = [e for p in problems.all_problems() for e in examples.discover(p) if e.is_change]
    assert changes, "the tree has honest mistakes written as changes of a reference"
    for e in changes:
        compile(e.source(), e.name, "exec")


def test_cli_lists_shows_and_grades_a_change_example(capsys, tmp_path):
    change = next(e for p in problems.all_problems() for e in examples.discover(p) if e.is_change)
    slug = change.problem.slug
    assert cli.main(["show", slug, "--examples"]) == 0
    assert change.name in capsys.readouterr().out
    assert cli.main(["show", slug, "--example", change.name]) == 0
    out = capsys.readouterr().out
    assert "the whole file as graded" in out and "expected-verdict" in out
    assert cli.main(["show", slug, "--example", "no-such-example"]) == 2
    assert "has no example 'no-such-example'; its examples:" in capsys.readouterr().err
    code = cli.main(["grade", str(change.path), "--no-timing", "--results", str(tmp_path), "--json"])
    assert code == (0 if change.verdict == "AC" else 1)
    record = json.loads(capsys.readouterr().out)
    assert record["verdict"] == change.verdict and record["file"].endswith(f"examples/{change.path.name}")
