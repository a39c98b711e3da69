"""Quiz ergonomics: options that do not give the answer away by their length, skips that still
teach the answer, and scores written as a person reads them."""
from __future__ import annotations

import io
import json
import re
import tomllib
from pathlib import Path
from types import SimpleNamespace

from rich.console import Console

from harness import problems
from quiz import engine as quiz

CARD_FILES = sorted((quiz.CARDS_DIR / "cards").glob("*.toml"))
DECK = quiz.load()
MAX_LONGEST_RIGHT = 0.40


def _choice_cards() -> list[dict]:
    """Every choice card of every card file present, read straight from the files (so a new
    topic file is covered the moment it exists)."""
    cards = []
    for path in CARD_FILES:
        for card in tomllib.loads(path.read_text(encoding="utf-8")).get("card", []):
            if card.get("kind") == "choice":
                cards.append({**card, "file": path.name})
    return cards


def test_every_card_file_is_in_the_deck():
    assert {p.stem for p in CARD_FILES} == set(DECK.topics)


def test_the_longest_option_is_rarely_the_right_one():
    """A reader who always picks the longest option must not pass: in at most 40% of the choice
    cards is the right option the longest (ties count as longest). New cards must keep this:
    write distractors as long and as plausible as the answer, and move detail from the answer
    into the explanation."""
    cards = _choice_cards()
    assert len(cards) >= 20
    longest = [f"{c['file']}:{c['id']}" for c in cards if len(c["answer"]) == max(map(len, c["choices"]))]
    share = len(longest) / len(cards)
    assert share <= MAX_LONGEST_RIGHT, (f"the right option is the longest in {len(longest)} of {len(cards)} choice "
                                        f"cards ({share:.0%} > {MAX_LONGEST_RIGHT:.0%}): {', '.join(longest)}")


def _explained(card: quiz.Card, raw) -> str:
    out = io.StringIO()
    quiz.explain(Console(file=out, width=100), quiz.check(card, raw), DECK, set(problems.slugs()))
    return " ".join(out.getvalue().split())


def test_a_skipped_card_shows_the_right_answer():
    by_kind = {k: next(c for c in DECK.cards() if c.kind == k) for k in quiz.KINDS}
    for kind in ("choice", "numeric"):
        card = by_kind[kind]
        assert f"skipped: {quiz.expected_text(card)}" in _explained(card, None)
    text = by_kind["text"]
    shown = _explained(text, None)
    assert "skipped; the model answer:" in shown and "─ model answer ─" in shown
    assert all(" ".join(point.split())[:30] in shown for point in text.checklist)


def test_scores_read_as_fractions():
    assert quiz.fraction(5.666667, 14) == "5.7 / 14"
    assert quiz.fraction(5, 14) == "5 / 14" and quiz.fraction(14.0, 14) == "14 / 14"
    assert quiz.fraction(0.04, 3) == "0 / 3"


def test_a_session_prints_its_score_as_a_fraction(tmp_path):
    cards = DECK.cards("routing")
    text = next(c for c in cards if c.kind == "text")
    answers = {c.id: ("abcdefgh"[c.choices.index(c.answer)] if c.kind == "choice" else str(c.answer))
               for c in cards[:3] if c.kind != "text"}
    answers[text.id] = [1]  # one checklist point: partial credit
    (tmp_path / "a.json").write_text(json.dumps(answers), encoding="utf-8")
    out = io.StringIO()
    args = SimpleNamespace(list=False, topic="routing", seed=None, shuffle=False, limit=None,
                           answers=Path(tmp_path / "a.json"), author="tester", no_record=True,
                           results=tmp_path / "results")
    assert quiz.command(args, Console(file=out, width=120)) == 0
    screen = out.getvalue()
    credit = len(answers) - 1 + 1 / len(text.checklist)
    assert f"routing: {quiz.fraction(credit, len(cards))} ({credit / len(cards):.0%}) fail" in screen
    assert f"partial ({quiz.fraction(1, len(text.checklist))} points)" in screen
    score_line = next(line for line in screen.splitlines() if line.startswith("routing: "))
    assert not re.search(r"\b0\.\d{3,}\b", score_line)  # no raw 0.4071-style score
