"""Adding a problem, for real: `new-problem` in a throwaway copy of the tree, then `grade` and
`check-problem` on the result, as a new contributor would run them, touching nothing outside
the new folder. The copy is self-contained because harness.ROOT comes from harness/__init__.py's
own location."""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

from harness import ROOT

COPIED = ("harness", "problems", "quiz", "tinylm", "pyproject.toml")
SLUG = "demo-sum"
FILES = ("README.md", "spec.py", "starter.py", "editorial.md", "reference/numpy.py",
         "examples/float32_accumulator.toml")


def _copy_tree(dst: Path) -> None:
    for name in COPIED:
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, dst / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(src, dst / name)


def _listing(root: Path) -> dict[str, str]:
    """{relative path: sha256} of every file under root."""
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def _run(cwd: Path, *argv: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "SPARSEBENCH_SECRET")}
    env.update(PYTHONDONTWRITEBYTECODE="1", COLUMNS="200")  # no .pyc in the copy; rich wraps at 200
    return subprocess.run([sys.executable, *argv], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def test_new_problem_grades_and_checks_clean_in_a_copy_of_the_tree(tmp_path):
    tree = tmp_path / "tree"
    tree.mkdir()
    _copy_tree(tree)
    root = _run(tree, "-c", "import harness; print(harness.ROOT)")
    assert root.stdout.strip() == str(tree.resolve()), "the copy must run its own harness, not the checkout's"
    before = _listing(tree)

    made = _run(tree, "-m", "harness.cli", "new-problem", SLUG)
    assert made.returncode == 0, made.stderr
    folder = tree / "problems" / SLUG
    for name in FILES:
        assert (folder / name).is_file() and f"problems/{SLUG}/{name}" in made.stdout

    graded = _run(tree, "-m", "harness.cli", "grade", SLUG, f"problems/{SLUG}/reference/numpy.py",
                  "--no-timing", "--no-record", "--author", "pytest")
    assert graded.returncode == 0 and "AC" in graded.stdout, graded.stdout + graded.stderr
    mistake = _run(tree, "-m", "harness.cli", "grade", SLUG, f"problems/{SLUG}/examples/float32_accumulator.toml",
                   "--no-timing", "--no-record", "--author", "pytest")
    assert mistake.returncode == 1 and "WA" in mistake.stdout, mistake.stdout + mistake.stderr

    checked = _run(tree, "-m", "harness.cli", "check-problem", SLUG)
    lines = checked.stdout.splitlines()
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert all(line.split()[0] in ("ok", "warn", "skip") for line in lines[:-1]), checked.stdout
    for expected in ("ok   spec:", "ok   statement:", "ok   editorial:", "ok   oracle: deterministic",
                     "ok   reference numpy: AC", "ok   example float32_accumulator: WA as declared",
                     "ok   starter: loads and raises NotImplementedError"):
        assert any(line.startswith(expected) for line in lines), f"{expected!r} not in:\n{checked.stdout}"
    assert lines[-1].startswith(f"{SLUG}:") and "(clean)" in lines[-1]

    after = _listing(tree)
    inside = f"problems/{SLUG}/"
    assert {k: v for k, v in after.items() if not k.startswith(inside)} == before, "files changed outside the folder"
    assert sorted(k for k in after if k.startswith(inside)) == sorted(inside + name for name in FILES)
    assert not (ROOT / "problems" / SLUG).exists(), "the checkout itself must be untouched"

    again = _run(tree, "-m", "harness.cli", "new-problem", SLUG)
    assert again.returncode == 2 and "error:" in again.stderr and "already exists" in again.stderr

    # An author's first mistakes, each named on its own FAIL line, and exit status 1.
    readme = folder / "README.md"
    readme.write_text(readme.read_text().replace("## Hints", "## Tips"))
    starter = folder / "starter.py"
    starter.write_text(starter.read_text().replace('raise NotImplementedError("write demo_sum")', "return 0.0"))
    broken = _run(tree, "-m", "harness.cli", "check-problem", SLUG)
    fails = [line for line in broken.stdout.splitlines() if line.startswith("FAIL")]
    assert broken.returncode == 1, broken.stdout + broken.stderr
    assert any(line.startswith("FAIL statement: no section Hints") for line in fails), broken.stdout
    assert any(line.startswith("FAIL starter: WA") for line in fails), broken.stdout
    assert len(fails) == 2, broken.stdout
