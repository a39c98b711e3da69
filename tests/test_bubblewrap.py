"""The private file system (harness/bubblewrap.py), what a grade says when it runs with less, and the
clean-up of whatever a child leaves behind."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from harness import ROOT, bubblewrap, cli, problems
from harness.grader import grade
from harness.sandbox import REQUIRE_ENV, SANDBOX_ENV, SandboxUnavailable, printable, remove_tree

COO_TO_CSR = problems.get("coo-to-csr")
EXAMPLES = ROOT / "problems" / "coo-to-csr" / "examples"
HAVE_BWRAP = bubblewrap.probe()[0] is not None


def _pairs(args: list[str], flag: str) -> list[tuple[str, str]]:
    return [(args[i + 1], args[i + 2]) for i, a in enumerate(args) if a == flag]


def test_a_submissions_view(tmp_path):
    file = tmp_path / "coo_to_csr.py"
    file.write_text("")
    args = bubblewrap.View(file=file, inbox=tmp_path / "in", forbidden=("scipy.sparse", "torch", "problems")).args()
    for flag in ("--unshare-all", "--unshare-user", "--disable-userns", "--die-with-parent", "--new-session"):
        assert flag in args
    assert args[args.index("--cap-drop") + 1] == "ALL" and args[args.index("--uid") + 1] == "65534"
    binds = dict((dst, src) for src, dst in _pairs(args, "--ro-bind"))
    assert binds[str(ROOT / "harness")] == str(ROOT / "harness") and str(ROOT) not in binds, "harness/, not the repo"
    assert binds[str(file.resolve())] == str(file.resolve()) and binds[bubblewrap.INBOX] == str(tmp_path / "in")
    assert not any(d.startswith(str(ROOT / p)) for d in binds for p in ("problems", "solutions", "results", "tinylm"))
    devices = [dst for _, dst in _pairs(args, "--dev-bind")]
    assert devices == [f"/dev/{d}" for d in bubblewrap.DEVICES] and "--dev" not in args, "no tty, pts, shm"
    assert args.index("--tmpfs") < args.index(str(file.resolve())), "the tmpfs first: a file under /tmp stays visible"
    assert ("--remount-ro", "/proc") == tuple(args[args.index("--proc") + 2:args.index("--proc") + 4])
    assert args[-3:] == ["/", "--chdir", bubblewrap.TMP] and args[-4] == "--remount-ro"
    assert not _pairs(args, "--bind"), "nothing of the host is writable"


def test_forbidden_libraries_are_covered_where_they_live():
    hidden = bubblewrap.masks(("scipy.sparse", "torch", "problems", "not_installed_anywhere"))
    import scipy

    assert Path(scipy.__file__).parent / "sparse" in hidden
    assert not any(ROOT / "problems" == h for h in hidden), "the repository is not in the view: nothing to cover"
    args = bubblewrap.View(file=None, inbox=None, forbidden=("scipy.sparse",)).args()
    covered = {dst: src for src, dst in _pairs(args, "--ro-bind")}
    sparse = str(Path(scipy.__file__).parent / "sparse")
    assert (Path(covered[sparse]) / "__init__.py").read_text().startswith("raise ImportError")


def test_a_trusted_view_sees_the_repository_and_its_cache(tmp_path):
    args = bubblewrap.View(file=ROOT / "problems" / "spmv" / "reference" / "numba.py", inbox=None, trusted=True,
                           writable=[tmp_path]).args()
    assert (str(ROOT), str(ROOT)) in _pairs(args, "--ro-bind") and _pairs(args, "--bind") == [(str(tmp_path),) * 2]


@pytest.mark.skipif(not HAVE_BWRAP, reason=f"bubblewrap does not work here: {bubblewrap.probe()[1]}")
def test_with_bubblewrap_the_record_says_so():
    rec = grade(COO_TO_CSR, EXAMPLES / "naive_dict.py", plan="off")
    assert rec["verdict"] == "AC" and rec["sandbox"]["level"] == "bubblewrap"
    assert rec["sandbox"]["user"].startswith("uid 65534") and rec["sandbox"]["cpu_accounting"] != "none"
    assert cli._weaker_sandbox(rec) is None


def test_a_weaker_sandbox_is_said_loudly(monkeypatch, capsys):
    monkeypatch.delenv(REQUIRE_ENV, raising=False)
    monkeypatch.setenv(SANDBOX_ENV, "namespaces")
    rec = grade(COO_TO_CSR, EXAMPLES / "naive_dict.py", plan="off")
    assert rec["verdict"] == "AC" and rec["sandbox"]["level"] in ("namespaces", "audit-hook only")
    assert rec["sandbox"]["filesystem"].startswith(("read-only", "audit-hook only"))
    code = cli.main(["grade", "coo-to-csr", str(EXAMPLES / "naive_dict.py"), "--no-timing", "--no-record"])
    err = capsys.readouterr().err
    assert code == 0 and "warning:" in err and "not 'bubblewrap'" in err


def test_a_run_that_requires_bubblewrap_refuses_anything_less(monkeypatch, capsys):
    monkeypatch.setenv(SANDBOX_ENV, "audit-hook")
    monkeypatch.setenv(REQUIRE_ENV, "bubblewrap")
    with pytest.raises(SandboxUnavailable):
        grade(COO_TO_CSR, EXAMPLES / "naive_dict.py", plan="off")
    code = cli.main(["grade", "coo-to-csr", str(EXAMPLES / "naive_dict.py"), "--no-timing", "--no-record"])
    assert code == 2 and f"{REQUIRE_ENV}=bubblewrap" in capsys.readouterr().err


def test_without_bubblewrap_the_nested_folders_are_cleaned_up(monkeypatch):
    monkeypatch.delenv(REQUIRE_ENV, raising=False)
    monkeypatch.setenv(SANDBOX_ENV, "namespaces")
    before = {p for p in Path(os.environ.get("TMPDIR", "/tmp")).glob("sparsebench-*")}
    rec = grade(COO_TO_CSR, EXAMPLES / "attack_7_nested_folders.py", plan="off")
    assert rec["verdict"] == "AC", rec["reason"]
    mine = {p for p in Path(os.environ.get("TMPDIR", "/tmp")).glob("sparsebench-*")} - before
    leftovers = [p for p in mine if (p / "d").exists()]
    assert not leftovers, leftovers


def test_remove_tree_survives_depth_unreadable_folders_and_links(tmp_path):
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "keep.txt").write_text("precious")
    top = tmp_path / "work"
    top.mkdir()
    fd = os.open(top, os.O_RDONLY)
    for _ in range(3000):  # deeper than recursion and PATH_MAX allow
        os.mkdir("d", dir_fd=fd)
        nxt = os.open("d", os.O_RDONLY, dir_fd=fd)
        os.close(fd)
        fd = nxt
    os.symlink(str(victim), "link", dir_fd=fd)
    os.mkdir("locked", 0, dir_fd=fd)
    os.close(fd)
    remove_tree(top)
    assert not top.exists() and (victim / "keep.txt").read_text() == "precious"
    remove_tree(tmp_path / "never-there")  # never raises


def _strings(value) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in _strings(k) + _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def test_escape_sequences_from_the_child_are_spelled_out():
    rec = grade(COO_TO_CSR, EXAMPLES / "attack_7_terminal_escapes.py", plan="off")
    assert rec["verdict"] == "RE" and "\\x1b]0;" in rec["reason"]
    assert not [s for s in _strings(rec) if any(ord(ch) < 32 and ch not in "\n\t" for ch in s)]
    assert printable("ok\n\ttab \x1b[2J \x9b \x7f") == "ok\n\ttab \\x1b[2J \\u009b \\x7f"
