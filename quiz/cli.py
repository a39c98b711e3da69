"""`sparsebench quiz`: the drills from the command line.

Registered by harness/cli.py; the engine (quiz/engine.py) loads when the command runs.
"""
from __future__ import annotations

import argparse
from pathlib import Path


def add_parser(sub, parents: list, positive_int) -> None:
    """Add the `quiz` command to the top-level subparsers."""
    p = sub.add_parser("quiz", parents=parents,
                       help="concept drills: sparse formats, sparse products, MoE (the seed note's questions)")
    p.add_argument("topic", nargs="?", help="one topic (default: all; see --list)")
    p.add_argument("--list", action="store_true", help="show the topics and their card counts")
    p.add_argument("--answers", type=Path, metavar="FILE",
                   help="answer from a TOML/JSON file mapping card id -> answer, not interactively")
    p.add_argument("--shuffle", action="store_true", help="shuffle the cards")
    p.add_argument("--seed", type=int, help="seed for --shuffle, to replay an order (implies --shuffle)")
    p.add_argument("--limit", type=positive_int, help="ask at most N cards")
    p.add_argument("--author", help="handle recorded with the score (default: git user.name, else login)")
    p.add_argument("--no-record", action="store_true", help="do not write a record under results/runs/")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from harness.cli import UsageError, console
    from quiz import engine

    try:
        return engine.command(args, console)
    except engine.QuizError as exc:
        raise UsageError(str(exc)) from None
