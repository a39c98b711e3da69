"""`sparsebench lm`: an existing run is never overwritten silently; every flag says what it does and its default."""
from __future__ import annotations

import argparse
import hashlib
import json

import pytest

from harness import cli

TINY = ["--layers", "1", "--embd", "16", "--heads", "2", "--block", "16", "--expert-hidden", "16",
        "--batch", "4", "--experts", "4", "--corpus", "synthetic"]


def _digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_train_refuses_to_overwrite_then_resumes_or_replaces(tmp_path, capsys):
    run = tmp_path / "run"
    assert cli.main(["lm", "train", "--steps", "3", "--out", str(run), *TINY]) == 0
    before = _digest(run / "ckpt.npz")
    capsys.readouterr()

    assert cli.main(["lm", "train", "--steps", "3", "--out", str(run), *TINY]) == 2
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ")
    assert "already holds a run (finished: 3 steps" in lines[0]
    assert "--resume" in lines[0] and "--force" in lines[0]
    assert _digest(run / "ckpt.npz") == before  # untouched

    assert cli.main(["lm", "train", "--steps", "3", "--out", str(run), "--resume", *TINY]) == 0
    assert json.loads((run / "result.json").read_text())["steps"] == 3  # the finished run, continued: no new steps

    assert cli.main(["lm", "train", "--steps", "2", "--out", str(run), "--force", *TINY]) == 0
    assert json.loads((run / "result.json").read_text())["steps"] == 2  # a fresh run replaced it


def test_a_bare_checkpoint_counts_as_a_run(tmp_path, capsys):
    run = tmp_path / "run"
    assert cli.main(["lm", "train", "--steps", "2", "--out", str(run), *TINY]) == 0
    (run / "result.json").unlink()  # a run killed before it finished leaves only its checkpoint
    capsys.readouterr()
    assert cli.main(["lm", "train", "--steps", "2", "--out", str(run), *TINY]) == 2
    assert "already holds a run (a checkpoint)" in capsys.readouterr().err


def test_resume_and_force_exclude_each_other(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["lm", "train", "--resume", "--force", "--out", str(tmp_path)])
    assert exc.value.code == 2 and "not allowed with argument" in capsys.readouterr().err


def test_compare_refuses_to_overwrite_its_runs(tmp_path, capsys):
    argv = ["lm", "compare", "--steps", "2", "--seeds", "1", "--out", str(tmp_path), *TINY]
    assert cli.main(argv) == 0
    capsys.readouterr()
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert "already holds a run" in err and "(and 1 more run folders)" in err
    assert cli.main([*argv, "--resume"]) == 0


def _lm_commands() -> dict[str, argparse.ArgumentParser]:
    parser = cli.build_parser()
    top = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    lm = top.choices["lm"]
    group = next(a for a in lm._actions if isinstance(a, argparse._SubParsersAction))
    return dict(group.choices)


@pytest.mark.parametrize("command", ["train", "sample", "compare"])
def test_every_lm_flag_has_help_and_its_default(command):
    parser = _lm_commands()[command]
    for action in parser._actions:
        if isinstance(action, argparse._HelpAction):
            continue
        name = action.option_strings[0] if action.option_strings else action.dest
        assert action.help and len(action.help) > 10, f"lm {command} {name}: no help text"
        if action.nargs != 0:  # takes a value: say its default (or that it is required)
            assert "default" in action.help or action.required, f"lm {command} {name}: help does not give the default"
            if action.default is not None and isinstance(action.default, (int, float, str)) and name != "--results":
                shown = f"{action.default:g}" if isinstance(action.default, float) else str(action.default)
                assert shown in action.help, f"lm {command} {name}: help says another default than {shown}"


@pytest.mark.parametrize("command", ["train", "compare"])
def test_lm_training_defaults_are_train_configs(command):
    """The CLI spells its defaults out (it must not import numpy to build the parser); they are
    TrainConfig's, so `lm train`, the benchmarks and the README describe one model."""
    from tinylm.train import TrainConfig

    args = _lm_commands()[command].parse_args([])
    defaults = (TrainConfig.batch_size, TrainConfig.lr, TrainConfig.min_lr)
    assert (args.batch, args.lr, args.lr / 10) == pytest.approx(defaults)


def _leading_columns(csv) -> list[list[str]]:
    """model, seed, val_loss and steps of every run (the rest are timings)."""
    return [line.split(",")[:4] for line in csv.read_text().splitlines()]


def test_compare_jobs_trains_side_by_side_to_the_same_result(tmp_path, capsys):
    """--jobs 2 trains each seed's pair in two processes; a step budget makes runs reproducible,
    so the table matches the one-at-a-time compare's, and every run's line is printed."""
    argv = ["lm", "compare", "--steps", "3", "--seeds", "2", *TINY]
    assert cli.main([*argv, "--out", str(tmp_path / "one")]) == 0
    capsys.readouterr()
    assert cli.main([*argv, "--jobs", "2", "--out", str(tmp_path / "two")]) == 0
    err = capsys.readouterr().err
    assert "training 4 of 4 runs, 2 at a time" in err
    assert all(f"{model} seed {s}: val loss" in err for model in ("dense", "moe-e4k2") for s in (0, 1))
    one, two = (_leading_columns(tmp_path / d / "synthetic" / "compare.csv") for d in ("one", "two"))
    assert one == two
    md_one, md_two = ((tmp_path / d / "synthetic" / "compare.md").read_text() for d in ("one", "two"))
    assert "Training time per run" in md_one and "at a time" not in md_one  # the seeds' configs count as one
    assert "The runs trained 2 at a time" in md_two
    assert cli.main([*argv, "--out", str(tmp_path / "two"), "--resume"]) == 0  # rebuilt one at a time from the files
    assert "The runs trained 2 at a time" in (tmp_path / "two" / "synthetic" / "compare.md").read_text()
    capsys.readouterr()
    next((tmp_path / "two" / "synthetic").glob("dense*/result.json")).unlink()  # as if that run had been killed
    assert cli.main([*argv, "--out", str(tmp_path / "two"), "--resume", "--jobs", "2"]) == 0
    assert "training 1 of 4 runs" in capsys.readouterr().err  # what is left, not the plan


def test_compare_jobs_below_one_is_one_clear_error(tmp_path, capsys):
    assert cli.main(["lm", "compare", "--steps", "1", "--jobs", "0", "--out", str(tmp_path), *TINY]) == 2
    err = capsys.readouterr().err
    assert "--jobs must be at least 1" in err and not any(tmp_path.iterdir())
