"""harness/checkup.py and harness/scaffold.py in process: slug rules, the template, and checks
that must catch what they claim to catch (a missing section, an oracle that is not deterministic)."""
from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from harness import checkup, cli, problems, scaffold

SLUG = "demo-check"


@pytest.fixture
def folder(tmp_path, monkeypatch) -> Path:
    """A freshly scaffolded problem in a problems folder of its own (the loader pointed at it)."""
    monkeypatch.setattr(problems, "PROBLEMS_DIR", tmp_path)
    problems.get.cache_clear()
    scaffold.create(SLUG, tmp_path)
    yield tmp_path / SLUG
    problems.get.cache_clear()


def _edit(path: Path, find: str, replace: str) -> None:
    text = path.read_text()
    assert text.count(find) == 1, f"{find!r} must occur once in {path.name}"
    path.write_text(text.replace(find, replace))


@pytest.mark.parametrize("slug", ["Foo", "foo_bar", "-foo", "foo-", "foo--bar", "1foo", "", "a" * 41, "foo bar"])
def test_a_slug_must_be_lowercase_words_with_dashes(slug, tmp_path):
    with pytest.raises(scaffold.ScaffoldError, match="is not a problem slug"):
        scaffold.check_slug(slug, tmp_path)


@pytest.mark.parametrize("slug", ["class", "match"])
def test_a_slug_must_not_make_a_keyword_entry(slug, tmp_path):
    with pytest.raises(scaffold.ScaffoldError, match="keyword"):
        scaffold.check_slug(slug, tmp_path)


def test_new_problem_refuses_bad_and_existing_slugs(capsys):
    assert cli.main(["new-problem", "Not_A_Slug"]) == 2
    assert "error:" in capsys.readouterr().err
    assert cli.main(["new-problem", "spmv"]) == 2
    assert "problems/spmv already exists" in capsys.readouterr().err


@pytest.mark.parametrize("slug", ["demo-sum", "sddmm", "top2-router"])
def test_the_template_renders_to_valid_files(slug):
    files = scaffold.render(slug)
    assert {"README.md", "spec.py", "starter.py", "editorial.md", "reference/numpy.py"} <= set(files)
    assert any(name.startswith("examples/") for name in files)
    for name, text in files.items():
        assert "{{" not in text and "}}" not in text, name
        if name.endswith(".py"):
            compile(text, name, "exec")
        if name.endswith(".toml"):
            tomllib.loads(text)
    assert f'slug="{slug}"' in files["spec.py"] and f"def {slug.replace('-', '_')}(" in files["starter.py"]


def test_the_scaffold_passes_the_checks_that_need_no_grade(folder):
    problem, loaded = checkup.load(SLUG)
    findings = [loaded, *checkup.folder(problem), *checkup.spec_shape(problem), checkup.oracle_deterministic(problem)]
    assert not [f for f in findings if f.failed], [f.line() for f in findings]
    assert not [f for f in findings if "no section" in f.detail], "the template has every section"


def test_a_missing_required_section_fails_and_a_recommended_one_warns(folder):
    _edit(folder / "README.md", "## Hints", "## Tips")
    _edit(folder / "README.md", "## Where real code differs", "## Further reading")
    found = {(f.status, f.detail.split(" (")[0]) for f in checkup.statement(checkup.load(SLUG)[0])}
    assert (checkup.FAIL, "no section Hints") in found
    assert (checkup.WARN, "no section Where real code differs") in found


def test_a_missing_editorial_and_statement_fail(folder):
    (folder / "editorial.md").unlink()
    (folder / "README.md").unlink()
    failed = [f.what for f in checkup.folder(checkup.load(SLUG)[0]) if f.failed]
    assert failed == ["file README.md", "file editorial.md"]


def test_an_oracle_with_hidden_state_is_not_deterministic(folder):
    _edit(folder / "reference" / "numpy.py", "return float(np.sum(x, dtype=np.float64))",
          "return float(np.sum(x, dtype=np.float64)) + np.random.random()")
    finding = checkup.oracle_deterministic(checkup.load(SLUG)[0])
    assert finding.failed and "different answers" in finding.detail


def test_a_case_that_ignores_its_rng_is_not_deterministic(folder):
    _edit(folder / "spec.py", "return (rng.standard_normal(n),)", "return (np.random.standard_normal(n),)")
    finding = checkup.oracle_deterministic(checkup.load(SLUG)[0])
    assert finding.failed and "two builds from one seed differ" in finding.detail and "random/1000" in finding.detail


def test_a_spec_that_does_not_load_is_one_fail_and_stops_the_check(folder):
    (folder / "spec.py").write_text("PROBLEM = (\n")
    findings = list(checkup.check(SLUG))
    assert len(findings) == 1 and findings[0].failed and "failed to import" in findings[0].detail


def test_check_problem_on_no_folder_is_a_usage_error(capsys):
    assert cli.main(["check-problem", "no-such-problem"]) == 2
    err = capsys.readouterr().err
    assert "no problem folder problems/no-such-problem" in err and "new-problem" in err


@pytest.mark.parametrize("slug", problems.slugs())
def test_every_statement_says_where_real_code_differs(slug):
    """Issue 13: each statement lists its deliberate rules beside what common libraries do."""
    problem = problems.get(slug)
    warned = [f.detail for f in checkup.statement(problem) if f.status == checkup.WARN]
    assert not [d for d in warned if "Where real code differs" in d], warned
    text = (problem.folder / "README.md").read_text(encoding="utf-8")
    section = text.split("## Where real code differs", 1)[1].split("\n## ", 1)[0]
    entries = [line for line in section.splitlines()
               if line.lstrip("> ").startswith("- ") or (line.startswith("| ") and not line.startswith("| here"))]
    assert len(entries) >= 3, f"{slug}: the section lists {len(entries)} rules, want at least 3"
