"""Every command of the workflow in the README, run as a user would (in-process, via main())."""
from __future__ import annotations

import json
import shutil

import pytest

from harness import ROOT, cli, examples, problems

EXAMPLE = ROOT / "problems" / "coo-to-csr" / "examples" / "naive_dict.py"


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_list_shows_problems_and_my_best(tmp_path, capsys):
    code, out, _ = run(capsys, "grade", "coo-to-csr", str(EXAMPLE), "--quick", "--author", "ada", "--results",
                       str(tmp_path))
    assert code == 0
    code, out, _ = run(capsys, "list", "--author", "ada", "--results", str(tmp_path))
    assert code == 0 and "coo-to-csr" in out and "csr-transpose" in out and "easy" in out
    assert "x" in out.split("coo-to-csr", 1)[1].splitlines()[0]  # a score on coo-to-csr's row


def test_show_renders_statement_and_editorial(capsys):
    code, out, _ = run(capsys, "show", "coo-to-csr")
    assert code == 0 and "canonical" in out.lower() and "(1, 1, 5)" in out
    code, out, _ = run(capsys, "show", "csr-transpose", "--editorial")
    assert code == 0 and "counting sort" in out.lower()


def test_unknown_problem_is_one_clear_error(capsys):
    code, _, err = run(capsys, "show", "coo-to-csx")
    assert code == 2 and "no problem named 'coo-to-csx'" in err and "coo-to-csr" in err


def test_new_writes_the_starter_and_refuses_to_overwrite(capsys, monkeypatch):
    handle = "pytest-new-handle"
    target = ROOT / "solutions" / handle / "coo_to_csr.py"
    try:
        code, out, _ = run(capsys, "new", "coo-to-csr", "--author", handle)
        assert code == 0 and target.read_text() == (ROOT / "problems/coo-to-csr/starter.py").read_text()
        code, _, err = run(capsys, "new", "coo-to-csr", "--author", handle)
        assert code == 2 and "already exists" in err and "--force" in err
    finally:
        shutil.rmtree(target.parent, ignore_errors=True)


def test_grade_json_prints_the_record_and_writes_it(tmp_path, capsys):
    code, out, _ = run(capsys, "grade", "coo-to-csr", str(EXAMPLE), "--json", "--no-timing", "--author", "ada",
                       "--results", str(tmp_path))
    rec = json.loads(out)
    assert code == 0 and rec["verdict"] == "AC" and rec["author"] == "ada" and rec["problem"] == "coo-to-csr"
    assert (tmp_path / "runs" / f"{rec['id']}.json").is_file()


def test_grade_wrong_submission_exits_1_and_explains(tmp_path, capsys):
    wrong = ROOT / "problems/coo-to-csr/examples/forgets_duplicates.toml"  # a reference with a named change
    code, out, _ = run(capsys, "grade", "coo-to-csr", str(wrong), "--no-timing", "--results", str(tmp_path))
    assert code == 1 and "WA" in out and "duplicate" in out


def test_grade_infers_the_problem_from_the_file_name(tmp_path, capsys):
    sub = tmp_path / "mine" / "csr_transpose.py"
    sub.parent.mkdir()
    shutil.copy(ROOT / "problems/csr-transpose/reference/numpy.py", sub)
    code, out, _ = run(capsys, "grade", str(sub), "--no-timing", "--json", "--results", str(tmp_path))
    assert code == 0 and json.loads(out)["problem"] == "csr-transpose"


def test_grade_all_grades_every_matching_file(tmp_path, capsys):
    folder = tmp_path / "handle"
    folder.mkdir()
    shutil.copy(ROOT / "problems/coo-to-csr/reference/numpy.py", folder / "coo_to_csr.py")
    (folder / "csr_transpose.py").write_text(examples.get(problems.get("csr-transpose"), "forgets_shape").source())
    (folder / "notes.py").write_text("x = 1\n")
    code, out, _ = run(capsys, "grade", "--all", str(folder), "--no-timing", "--json", "--results", str(tmp_path))
    recs = json.loads(out)
    assert code == 1 and {r["problem"]: r["verdict"] for r in recs} == {"coo-to-csr": "AC", "csr-transpose": "WA"}


def test_leaderboard_command_writes_md_and_csv(tmp_path, capsys):
    run(capsys, "grade", "coo-to-csr", str(EXAMPLE), "--quick", "--author", "ada", "--results", str(tmp_path))
    (tmp_path / "runs" / "garbage.json").write_text("{")
    code, out, err = run(capsys, "leaderboard", "--results", str(tmp_path))
    assert code == 0 and "ada" in out and "garbage.json" in err
    assert "ada" in (tmp_path / "leaderboard.md").read_text()
    assert "ada" in (tmp_path / "leaderboard.csv").read_text()


@pytest.mark.parametrize("argv,message", [
    (["grade", "coo-to-csr", "nope.py"], "no such file"),
    (["grade", "notes.txt"], "cannot tell the problem"),
    (["grade", "--all", "/nonexistent"], "is not one"),
    (["grade"], "usage: sparsebench grade"),
])
def test_bad_grade_arguments_are_one_clear_error(capsys, argv, message):
    code, _, err = run(capsys, *argv)
    assert code == 2 and message in err


@pytest.mark.parametrize("flag", ["--threads=0", "--threads=two", "--wall=-1", "--mem=0"])
def test_bad_flags_are_rejected_by_argparse(capsys, flag):
    with pytest.raises(SystemExit) as exc:
        cli.main(["grade", "coo-to-csr", str(EXAMPLE), flag])
    assert exc.value.code == 2
    assert flag.split("=")[0] in capsys.readouterr().err


def test_console_script_is_installed():
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-m", "harness.cli", "--help"], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0 and "grade" in out.stdout and "leaderboard" in out.stdout


def test_yardstick_table_without_the_benchmarks_folder_says_so(monkeypatch, capsys):
    """An installed copy has no benchmarks/: every other command works, `yardstick table` names why not."""
    def missing():
        raise ImportError("No module named 'benchmarks'")

    monkeypatch.setattr(cli, "_yardstick_table", missing)
    assert cli.main(["yardstick", "table"]) == 2
    assert "benchmarks/yardstick_table.py" in capsys.readouterr().err
    assert cli.main(["list"]) == 0
