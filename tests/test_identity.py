"""Who a grade is recorded under: --author, else solutions/<handle>/, else git, else login."""
from __future__ import annotations

import json
import shutil

import pytest

from harness import ROOT, cli, identity

REFERENCE = ROOT / "problems" / "coo-to-csr" / "reference" / "numpy.py"


def _in_solutions(tmp_path, handle: str):
    file = tmp_path / "solutions" / handle / "coo_to_csr.py"
    file.parent.mkdir(parents=True)
    shutil.copy(REFERENCE, file)
    return file


def test_the_folder_names_the_author(tmp_path):
    assert identity.handle_of(_in_solutions(tmp_path, "Zoe Q")) == "zoe-q"
    assert identity.author(None, tmp_path / "solutions" / "Zoe Q" / "coo_to_csr.py") == "zoe-q"


def test_author_flag_wins_over_the_folder(tmp_path):
    assert identity.author("ada", _in_solutions(tmp_path, "zoe")) == "ada"


@pytest.mark.parametrize("where", ["solutions/examples/x.py", "solutions/_drafts/x.py", "solutions/.git/x.py",
                                   "mine/zoe/x.py", "solutions/x.py"])
def test_folders_that_are_not_handles_fall_back_to_git(tmp_path, monkeypatch, where):
    monkeypatch.setattr(identity, "git_user", lambda: "Git Name")
    assert identity.handle_of(tmp_path / where) is None
    assert identity.author(None, tmp_path / where) == "git-name"


def test_grade_records_the_folder_handle_not_git(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(identity, "git_user", lambda: "Git Name")
    file = _in_solutions(tmp_path, "zoe")
    code = cli.main(["grade", str(file), "--no-timing", "--no-record", "--json"])
    assert code == 0 and json.loads(capsys.readouterr().out)["author"] == "zoe"
    code = cli.main(["grade", str(file), "--no-timing", "--no-record", "--json", "--author", "ada"])
    assert code == 0 and json.loads(capsys.readouterr().out)["author"] == "ada"


def test_grade_all_of_one_persons_folder_records_that_person(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(identity, "git_user", lambda: "Git Name")
    file = _in_solutions(tmp_path, "zoe")
    code = cli.main(["grade", "--all", str(file.parent), "--dry-run"])
    assert code == 0 and capsys.readouterr().out.split("\t")[-1].strip() == "zoe"
