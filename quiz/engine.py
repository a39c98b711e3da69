"""Concept drills: cards read from quiz/cards/<topic>.toml, asked in the terminal or
answered from a file, scored, and recorded like grades (kind "quiz").

The cards are content; this module only knows the card format (quiz/README.md).
Computed answers come from quiz/formulas.py and are
checked against the stored answer whenever the cards load, so a card cannot teach a wrong number.

Scoring: a choice or numeric card is worth 1 when right, 0 otherwise; a free-text card is
self-graded against its checklist and is worth the fraction of points covered. A topic's score
is the mean over the cards asked; skipped cards and cards left after quitting count 0.
"""
from __future__ import annotations

import json
import math
import random
import re
import string
import time
import tomllib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console, Group
from rich.markdown import Markdown
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from harness import record as records

CARDS_DIR = Path(__file__).resolve().parent
KINDS = ("choice", "numeric", "text")
PASS_MARK = 0.8
_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_COMMON = {"id", "kind", "question", "answer", "explanation", "source", "problem"}
_KEYS = {"choice": _COMMON | {"choices", "formula", "params"},
         "numeric": _COMMON | {"formula", "params", "unit", "tolerance"},
         "text": _COMMON | {"checklist"}}


class QuizError(Exception):
    """Bad cards, a bad answers file, or a bad selection: one message naming every fault."""


class AnswerError(ValueError):
    """An answer that cannot be read (not a letter of the choices, not a number, ...)."""


class Quit(Exception):
    """The user asked to stop the session."""


@dataclass(frozen=True)
class Card:
    id: str
    topic: str
    kind: str
    question: str
    answer: str | int | float  # choice: the right choice's text; numeric: the number; text: the model answer
    explanation: str
    sources: tuple[str, ...]
    problem: str | None = None
    choices: tuple[str, ...] = ()
    checklist: tuple[str, ...] = ()
    unit: str = ""
    tolerance: float = 0.0  # relative, numeric cards
    working: str = ""  # the formula's arithmetic, when the answer is computed


@dataclass(frozen=True)
class Topic:
    name: str
    title: str
    summary: str
    order: int
    cards: tuple[Card, ...]


@dataclass(frozen=True)
class Deck:
    topics: dict[str, Topic]  # in teaching order
    sources: dict[str, dict]
    problems: tuple[str, ...]

    def cards(self, topic: str | None = None) -> list[Card]:
        if topic is None:
            return [c for t in self.topics.values() for c in t.cards]
        if topic not in self.topics:
            raise QuizError(f"no quiz topic {topic!r}; topics: {', '.join(self.topics)} "
                            "(see `sparsebench quiz --list`)")
        return list(self.topics[topic].cards)

    def by_id(self) -> dict[str, Card]:
        return {c.id: c for c in self.cards()}


@dataclass(frozen=True)
class Outcome:
    card: Card
    status: str  # "correct" | "wrong" | "partial" | "skipped"
    credit: float
    given: object = None

    def as_dict(self) -> dict:
        return {"id": self.card.id, "kind": self.card.kind, "status": self.status, "credit": self.credit,
                "given": self.given, "expected": expected_text(self.card)}


# -- loading and validating the cards ---------------------------------------------------
def show_number(x: int | float) -> str:
    """How a computed answer is written: 1,234,567 or 0.1667 or 9.341e+10."""
    if isinstance(x, bool):
        return str(x)
    if isinstance(x, int) or (float(x).is_integer() and abs(x) < 1e15):
        return f"{int(x):,}"
    return f"{x:,.0f}" if 1e3 <= abs(x) < 1e15 else f"{x:.4g}"


def load(cards_dir: Path = CARDS_DIR) -> Deck:
    """Every topic under cards_dir/cards/, validated; QuizError lists every fault found."""
    cards_dir = Path(cards_dir)
    faults: list[str] = []
    meta = _read_toml(cards_dir / "references.toml", faults)
    sources = meta.get("source", {}) if isinstance(meta.get("source"), dict) else {}
    for key, src in sources.items():
        if not (isinstance(src, dict) and isinstance(src.get("cite"), str) and isinstance(src.get("url", ""), str)):
            faults.append(f"references.toml: source {key!r} needs a cite string (and a url string if it has one)")
    known_problems = tuple(meta.get("problems", ()))
    formulas = _formulas(cards_dir, faults)
    topics, seen = [], set()
    for path in sorted((cards_dir / "cards").glob("*.toml")):
        data = _read_toml(path, faults)
        head = data.get("topic", {})
        where = f"cards/{path.name}"
        if not isinstance(head, dict) or not isinstance(head.get("title"), str):
            faults.append(f"{where}: needs a [topic] table with a title")
            head = {}
        cards = []
        for i, raw in enumerate(data.get("card", [])):
            card = _card(raw, path.stem, f"{where} card {raw.get('id', f'#{i + 1}')}", sources, known_problems,
                         formulas, faults)
            if card is None:
                continue
            if card.id in seen:
                faults.append(f"{where}: card id {card.id!r} is used twice (ids are unique across topics)")
            seen.add(card.id)
            cards.append(card)
        if not data.get("card"):
            faults.append(f"{where}: no [[card]] entries")
        topics.append(Topic(path.stem, head.get("title", path.stem), head.get("summary", ""),
                            int(head.get("order", 99)), tuple(cards)))
    if not topics:
        faults.append(f"no topic files in {cards_dir / 'cards'}")
    if faults:
        raise QuizError("the quiz cards are broken:\n  " + "\n  ".join(faults))
    topics.sort(key=lambda t: (t.order, t.name))
    return Deck({t.name: t for t in topics}, sources, known_problems)


def _read_toml(path: Path, faults: list[str]) -> dict:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        faults.append(f"{path.name}: {exc}")
        return {}


def _formulas(cards_dir: Path, faults: list[str]) -> dict:
    from harness.problems import load_module

    path = cards_dir / "formulas.py"
    try:
        return dict(load_module(path).FORMULAS)
    except Exception as exc:  # a broken formulas file is the card author's bug: say where
        faults.append(f"{path.name}: {type(exc).__name__}: {exc}")
        return {}


def _card(raw: dict, topic: str, where: str, sources: dict, known_problems: tuple, formulas: dict,
          faults: list[str]) -> Card | None:
    start = len(faults)
    kind = raw.get("kind")
    if kind not in KINDS:
        faults.append(f"{where}: kind must be one of {', '.join(KINDS)}, not {kind!r}")
        return None
    unknown = set(raw) - _KEYS[kind]
    if unknown:
        faults.append(f"{where}: unknown field(s) {', '.join(sorted(unknown))} for a {kind} card")
    for key in ("id", "question", "explanation"):
        if not isinstance(raw.get(key), str) or not raw[key].strip():
            faults.append(f"{where}: needs a non-empty {key}")
    if isinstance(raw.get("id"), str) and not _ID.match(raw["id"]):
        faults.append(f"{where}: id must be lower-case letters, digits and '-'")
    src = raw.get("source")
    if not isinstance(src, list) or not src or any(s not in sources for s in src):
        faults.append(f"{where}: source must be a non-empty list of keys from references.toml, got {src!r}")
    if raw.get("problem") is not None and raw["problem"] not in known_problems:
        faults.append(f"{where}: problem {raw['problem']!r} is not in references.toml's problems list")
    if len(faults) > start:
        return None

    worked = None
    if "formula" in raw or kind == "numeric":
        worked = _compute(raw, where, formulas, faults)
        if worked is None:
            return None
    fields = _VALIDATE[kind](raw, worked, where, faults)
    if fields is None or len(faults) > start:
        return None
    question, explanation = raw["question"], raw["explanation"]
    if worked is not None:
        params = raw.get("params", {})
        shown = show_number(fields["answer"]) if kind == "numeric" else fields["answer"]
        values = {**params, "answer": shown, "working": worked.working, "unit": raw.get("unit", "")}
        try:
            question, explanation = question.format_map(params), explanation.format_map(values)
        except (KeyError, IndexError, ValueError) as exc:
            faults.append(f"{where}: question/explanation placeholder error: {type(exc).__name__}: {exc}")
            return None
        if kind == "numeric" and shown not in explanation:
            faults.append(f"{where}: the explanation must state the answer (use {{answer}} or {{working}})")
            return None
        fields["working"] = worked.working
    return Card(id=raw["id"], topic=topic, kind=kind, question=question.strip(), explanation=explanation.strip(),
                sources=tuple(raw["source"]), problem=raw.get("problem"), **fields)


def _choice_fields(raw: dict, worked, where: str, faults: list[str]) -> dict | None:
    choices, answer = raw.get("choices"), raw.get("answer")
    if not (isinstance(choices, list) and len(choices) >= 2 and all(isinstance(c, str) and c.strip() for c in choices)):
        faults.append(f"{where}: choices must be a list of at least two non-empty strings")
        return None
    if len(set(choices)) != len(choices):
        faults.append(f"{where}: choices repeat")
    if any(re.fullmatch(r"[a-zA-Z]", c.strip()) for c in choices):
        faults.append(f"{where}: a choice may not be a single letter (letters pick choices)")
    if answer not in choices:
        faults.append(f"{where}: answer {answer!r} is not one of the choices")
    if worked is not None and str(worked.value) != answer:
        faults.append(f"{where}: answer {answer!r} disagrees with {raw['formula']}(...) = {worked.value!r}")
    return {"answer": answer, "choices": tuple(choices)}


def _numeric_fields(raw: dict, worked, where: str, faults: list[str]) -> dict | None:
    answer, tol, value = raw.get("answer"), raw.get("tolerance", 0.0), worked.value
    if not isinstance(answer, (int, float)) or isinstance(answer, bool):
        faults.append(f"{where}: a numeric card's answer must be a number")
        return None
    if not isinstance(tol, (int, float)) or not 0 <= tol < 1:
        faults.append(f"{where}: tolerance is relative, 0 <= tolerance < 1")
        return None
    if not isinstance(value, (int, float)):
        faults.append(f"{where}: formula {raw['formula']} gives {value!r}, not a number")
        return None
    if not float(value).is_integer() and tol < 1e-3:
        faults.append(f"{where}: the answer {value!r} is not whole: give a tolerance of at least 1e-3")
    if show_number(answer) != show_number(value):  # whole numbers exactly, others to 4 significant digits
        faults.append(f"{where}: stored answer {answer!r} disagrees with {raw['formula']}(...) = {value!r} "
                      f"(store {show_number(value).replace(',', '_')})")
    named = {f for _, f, _, _ in string.Formatter().parse(raw["question"]) if f}
    missing = [p for p in raw.get("params", {}) if p not in named]
    if missing:
        faults.append(f"{where}: the question must state every input; no {{{'}, {'.join(missing)}}} in it")
    return {"answer": value, "unit": raw.get("unit", ""), "tolerance": float(tol)}


def _text_fields(raw: dict, worked, where: str, faults: list[str]) -> dict | None:
    answer, checklist = raw.get("answer"), raw.get("checklist")
    if not isinstance(answer, str) or not answer.strip():
        faults.append(f"{where}: a text card's answer is its model answer, a non-empty string")
    if not (isinstance(checklist, list) and len(checklist) >= 2 and all(isinstance(c, str) for c in checklist)):
        faults.append(f"{where}: a text card needs a checklist of at least two points")
        return None
    return {"answer": answer, "checklist": tuple(checklist)}


_VALIDATE = {"choice": _choice_fields, "numeric": _numeric_fields, "text": _text_fields}


def _compute(raw: dict, where: str, formulas: dict, faults: list[str]):
    name, params = raw.get("formula"), raw.get("params", {})
    if name not in formulas:
        faults.append(f"{where}: unknown formula {name!r} (formulas.py defines {', '.join(sorted(formulas))})")
        return None
    if not isinstance(params, dict):
        faults.append(f"{where}: params must be a table")
        return None
    try:
        return formulas[name](**params)
    except (TypeError, ValueError, ZeroDivisionError) as exc:
        faults.append(f"{where}: {name}(**params) failed: {type(exc).__name__}: {exc}")
        return None


# -- reading and checking answers -------------------------------------------------------
def expected_text(card: Card) -> str:
    if card.kind == "choice":
        return f"{_letter(card.choices.index(card.answer))}) {card.answer}"
    if card.kind == "numeric":
        return f"{show_number(card.answer)} {card.unit}".strip()
    return "self-graded against the checklist"


def _letter(i: int) -> str:
    return "abcdefghijklmnopqrstuvwxyz"[i]


def parse_choice(card: Card, raw: object) -> int:
    """The index of the chosen choice: a letter as shown, or the choice's exact text."""
    text = str(raw).strip()
    letters = [_letter(i) for i in range(len(card.choices))]
    if text.lower() in letters:
        return letters.index(text.lower())
    for i, choice in enumerate(card.choices):
        if text.casefold() == choice.strip().casefold():
            return i
    raise AnswerError(f"{text!r} is not one of the letters {letters[0]}-{letters[-1]} nor a choice's text")


_SI = {"k": 1e3, "K": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "%": 1e-2}


def parse_number(card: Card, raw: object) -> float:
    """A number: 1234, 1,234, 1.2e3, 1.2k (k M G T), 25%, optionally followed by the card's unit."""
    if isinstance(raw, (int, float)) and not isinstance(raw, bool):
        return float(raw)
    if not isinstance(raw, str):
        raise AnswerError(f"expected a number, got {raw!r}")
    text = raw.strip()
    if card.unit and text.lower().endswith(card.unit.lower()):
        text = text[: -len(card.unit)]
    text = text.replace(",", "").replace("_", "").replace(" ", "")
    scale = 1.0
    if text and text[-1] in _SI:
        text, scale = text[:-1], _SI[text[-1]]
    try:
        value = float(text) * scale
    except ValueError:
        raise AnswerError(f"{raw!r} is not a number (e.g. 1234, 1,234, 1.2e3, 1.2k, 25%)") from None
    if not math.isfinite(value):
        raise AnswerError(f"{raw!r} is not a finite number")
    return value


def parse_covered(card: Card, raw: object) -> list[int]:
    """Checklist points covered, 1-based: [1, 3], "1,3", "all" or "none"; or {covered = ..., answer = "..."}."""
    if isinstance(raw, dict):
        if "covered" not in raw or set(raw) - {"covered", "answer"}:
            raise AnswerError("a text answer table holds covered = [...] and optionally answer = \"...\"")
        raw = raw["covered"]
    points = len(card.checklist)
    if isinstance(raw, str):
        word = raw.strip().lower()
        if word == "all":
            return list(range(1, points + 1))
        if word in ("none", ""):
            return []
        try:
            raw = [int(p) for p in re.split(r"[,\s]+", word) if p]
        except ValueError:
            raise AnswerError(f"{raw!r}: give checklist numbers like 1,3 or 'all' or 'none'") from None
    if not isinstance(raw, list) or not all(isinstance(p, int) and not isinstance(p, bool) for p in raw):
        raise AnswerError(f"{raw!r}: give a list of checklist numbers, 'all' or 'none'")
    bad = [p for p in raw if not 1 <= p <= points]
    if bad:
        raise AnswerError(f"checklist points are numbered 1-{points}; {bad} are not")
    return sorted(set(raw))


def check(card: Card, raw: object) -> Outcome:
    """Score one answer (None = skipped); AnswerError when it cannot be read."""
    if raw is None:
        return Outcome(card, "skipped", 0.0)
    if card.kind == "choice":
        i = parse_choice(card, raw)
        right = card.choices[i] == card.answer
        return Outcome(card, "correct" if right else "wrong", float(right), f"{_letter(i)}) {card.choices[i]}")
    if card.kind == "numeric":
        value = parse_number(card, raw)
        expected = float(card.answer)
        right = abs(value - expected) <= max(card.tolerance * abs(expected), 1e-9 * max(1.0, abs(expected)))
        return Outcome(card, "correct" if right else "wrong", float(right), value)
    covered = parse_covered(card, raw)
    credit = len(covered) / len(card.checklist)
    status = "correct" if credit == 1 else ("wrong" if credit == 0 else "partial")
    return Outcome(card, status, credit, covered)


def load_answers(path: Path, deck: Deck) -> dict[str, object]:
    """A TOML or JSON mapping card id -> answer, every answer readable; QuizError lists every fault."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise QuizError(f"answers file {path}: cannot read it ({exc})") from None
    try:
        if path.suffix == ".json":
            data = json.loads(text)
        elif path.suffix == ".toml":
            data = tomllib.loads(text)
        else:
            raise QuizError(f"answers file {path}: name it .toml or .json (a mapping card id -> answer)")
    except (json.JSONDecodeError, tomllib.TOMLDecodeError) as exc:
        raise QuizError(f"answers file {path}: not valid {path.suffix[1:].upper()}: {exc}") from None
    if not isinstance(data, dict):
        raise QuizError(f"answers file {path}: must be a mapping card id -> answer, not a {type(data).__name__}")
    cards, faults = deck.by_id(), []
    for key, value in data.items():
        if key not in cards:
            faults.append(f"{key!r} is not a card id")
            continue
        try:
            check(cards[key], value)
        except AnswerError as exc:
            faults.append(f"{key}: {exc}")
    if faults:
        raise QuizError(f"answers file {path}:\n  " + "\n  ".join(faults))
    return data


def fraction(credit: float, total: int) -> str:
    """A score as a person reads it: '5.7 / 14', '5 / 14' (credit to one decimal)."""
    shown = f"{credit:.1f}".removesuffix(".0")
    return f"{shown} / {total}"


# -- the session ------------------------------------------------------------------------
def select(deck: Deck, topic: str | None, shuffle: bool, seed: int | None, limit: int | None) -> list[Card]:
    cards = deck.cards(topic)
    if shuffle:
        random.Random(seed).shuffle(cards)
    return cards[:limit] if limit else cards


def run(cards: list[Card], answer: Callable[[Card, int], object],
        feedback: Callable[[Outcome], None] = lambda o: None) -> list[Outcome]:
    """Ask every card in turn; `answer` returns the raw answer (None = skip) or raises Quit."""
    outcomes = []
    for i, card in enumerate(cards):
        try:
            raw = answer(card, i)
        except Quit:
            outcomes += [Outcome(c, "skipped", 0.0) for c in cards[i:]]
            break
        outcome = check(card, raw)
        feedback(outcome)
        outcomes.append(outcome)
    return outcomes


def summarise(outcomes: list[Outcome], deck: Deck) -> list[dict]:
    """One record body per topic in the session (kind "quiz", problem "quiz/<topic>")."""
    by_topic: dict[str, list[Outcome]] = {}
    for o in outcomes:
        by_topic.setdefault(o.card.topic, []).append(o)
    bodies = []
    for topic, outs in by_topic.items():
        credit = sum(o.credit for o in outs)
        score = credit / len(outs)
        bodies.append({"kind": "quiz", "problem": f"quiz/{topic}", "topic": topic,
                       "verdict": "pass" if score >= PASS_MARK else "fail", "score": round(score, 4),
                       "reason": f"{fraction(credit, len(outs))} cards (pass mark {PASS_MARK:.0%})",
                       "asked": len(outs), "credit": credit, "cards_in_topic": len(deck.topics[topic].cards),
                       "pass_mark": PASS_MARK, "cards": [o.as_dict() for o in outs]})
    return bodies


# -- terminal: interactive and non-interactive ------------------------------------------
def _card_view(card: Card, i: int, total: int) -> Panel:
    body: list = [Markdown(card.question)]
    for j, choice in enumerate(card.choices):
        body.append(Text(f"  {_letter(j)}) {choice}"))
    head = f"[{i + 1}/{total}] {card.topic} · {card.kind} · {card.id}"
    return Panel(Group(*body), title=Text(head), title_align="left", expand=False)


def interactive_answer(console: Console, ask: Callable[[str], str], total: int) -> Callable[[Card, int], object]:
    """Ask in the terminal: s skips, q quits; an unreadable answer is asked again."""

    def prompt(text: str) -> str:
        try:
            reply = ask(text).strip()
        except EOFError:  # input ran out (Ctrl-D, or a piped script ended): stop, keep what was answered
            raise Quit from None
        if reply.lower() in ("q", "quit"):
            raise Quit
        return reply

    def answer(card: Card, i: int) -> object:
        console.print(_card_view(card, i, total))
        if card.kind == "text":
            reply = prompt("your answer (Enter to see the model answer, s skip, q quit): ")
            if reply.lower() == "s":
                return None
            console.print(Panel(Markdown(card.answer), title="model answer", title_align="left", expand=False))
            for j, point in enumerate(card.checklist, 1):
                console.print(Text(f"  {j}. {point}"))
        while True:
            if card.kind == "choice":
                reply = prompt(f"your choice (a-{_letter(len(card.choices) - 1)}, s skip, q quit): ")
            elif card.kind == "numeric":
                tol = f", within {card.tolerance * 100:g}%" if card.tolerance else ""
                reply = prompt(f"your answer ({card.unit or 'a number'}{tol}; s skip, q quit): ")
            else:
                reply = prompt("points you covered (e.g. 1,3 · all · none; s skip): ")
            if reply.lower() == "s":
                return None
            try:
                check(card, reply)
                return reply
            except AnswerError as exc:
                console.print(Text(f"  {exc}; try again", style="yellow"))

    return answer


def explain(console: Console, outcome: Outcome, deck: Deck, slugs: Iterable[str]) -> None:
    """The verdict, the explanation, the working, the sources and the coding problem to practise."""
    card, style = outcome.card, {"correct": "bold green", "wrong": "bold red", "partial": "bold yellow"}
    if outcome.status == "skipped":  # a skip still teaches: the right answer, as a wrong answer gets it
        verdict = Text("skipped" + ("; the model answer:" if card.kind == "text" else f": {expected_text(card)}"),
                       style="bold")
    elif card.kind == "text":
        verdict = Text(f"{outcome.status}: {len(outcome.given)} of {len(card.checklist)} points",
                       style=style[outcome.status])
    else:
        verdict = Text(f"{outcome.status}" + ("" if outcome.status == "correct" else f": {expected_text(card)}"),
                       style=style[outcome.status])
    console.print(verdict)
    if outcome.status == "skipped" and card.kind == "text":
        console.print(Panel(Markdown(card.answer), title="model answer", title_align="left", expand=False))
        for j, point in enumerate(card.checklist, 1):
            console.print(Text(f"  {j}. {point}"))
    console.print(Markdown(card.explanation))
    if card.working and card.working not in card.explanation:
        console.print(Text(f"working: {card.working}", style="dim"))
    cites = [deck.sources[s]["cite"] + (f" <{deck.sources[s]['url']}>" if deck.sources[s].get("url") else "")
             for s in card.sources]
    console.print(Text("source: " + "; ".join(cites), style="dim"))
    if card.problem:
        where = (f"sparsebench show {card.problem}" if card.problem in slugs
                 else f"{card.problem} (not in this checkout yet)")
        console.print(Text(f"practise: {where}", style="dim"))
    console.print()


def outcome_table(outcomes: list[Outcome]) -> Table:
    table = Table(title="answers", title_justify="left")
    for col in ("card", "result", "yours", "expected"):
        table.add_column(col)
    for o in outcomes:
        given = "" if o.given is None else (show_number(o.given) if isinstance(o.given, float) else str(o.given))
        points = f" ({fraction(len(o.given or []), len(o.card.checklist))} points)" if o.card.kind == "text" else ""
        table.add_row(o.card.id, o.status + ("" if o.status == "skipped" else points),
                      given, "" if o.status == "correct" else expected_text(o.card))
    return table


def topics_table(deck: Deck) -> Table:
    table = Table(title="quiz topics", title_justify="left")
    for col in ("topic", "title", "cards", "choice", "numeric", "text"):
        table.add_column(col, justify="right" if col not in ("topic", "title") else "left")
    for t in deck.topics.values():
        kinds = [sum(c.kind == k for c in t.cards) for k in KINDS]
        table.add_row(t.name, t.title, str(len(t.cards)), *map(str, kinds))
    table.caption = f"{sum(len(t.cards) for t in deck.topics.values())} cards; `sparsebench quiz TOPIC` to start"
    return table


def best_scores_table(recs: list[dict], author: str, cards_dir: Path = CARDS_DIR) -> Table | Text:
    """Per topic, the author's best quiz score (for `sparsebench list`); a warning if the cards are broken."""
    try:
        deck = load(cards_dir)
    except QuizError as exc:
        return Text(f"quiz scores not shown: {exc}", style="yellow")
    best: dict[str, dict] = {}
    runs: dict[str, int] = {}
    for r in recs:
        if r.get("kind") != "quiz" or r["author"] != author or not isinstance(r.get("score"), (int, float)):
            continue
        runs[r["problem"]] = runs.get(r["problem"], 0) + 1
        if r["score"] > best.get(r["problem"], {}).get("score", -1):
            best[r["problem"]] = r
    table = Table(title=f"quiz topics (best scores for {author})", title_justify="left")
    for col in ("topic", "title", "cards", "your best", "runs"):
        table.add_column(col)
    for t in deck.topics.values():
        r = best.get(f"quiz/{t.name}")
        mine = _score_text(r) if r else "-"
        table.add_row(t.name, t.title, str(len(t.cards)), mine, str(runs.get(f"quiz/{t.name}", 0)))
    return table


def _score_text(r: dict) -> str:
    """'5.7 / 14 (41%)' from a quiz record (older records without `credit`: from score and asked)."""
    asked = r.get("asked")
    if not isinstance(asked, int) or asked < 1:
        return f"{r['score']:.0%}"
    credit = r.get("credit", r["score"] * asked)
    return f"{fraction(credit, asked)} ({r['score']:.0%})"


def command(args, console: Console, ask: Callable[[str], str] | None = None) -> int:
    """`sparsebench quiz`: list topics, or run a session and record one score per topic."""
    from harness import identity
    from harness.problems import slugs

    deck = load()
    if args.list:
        console.print(topics_table(deck))
        return 0
    seed = args.seed
    shuffle = args.shuffle or seed is not None
    if shuffle and seed is None:
        seed = random.SystemRandom().randrange(2**31)  # recorded, so the order can be replayed
    cards = select(deck, args.topic, shuffle, seed, args.limit)
    started = time.monotonic()
    header = f"{len(cards)} cards" + (f", shuffled with seed {seed}" if shuffle else "")
    if args.answers:
        given = load_answers(args.answers, deck)
        console.print(Text(f"{header}, answered from {args.answers}", style="dim"))
        outcomes = run(cards, lambda card, i: given.get(card.id))
        console.print(outcome_table(outcomes))
    else:
        known = set(slugs())
        ask = ask or (lambda text: console.input(Text(text, style="bold")))
        console.print(Text(f"{header}. Type s to skip a card, q to stop.", style="dim"))
        try:
            outcomes = run(cards, interactive_answer(console, ask, len(cards)),
                           lambda o: explain(console, o, deck, known))
        except KeyboardInterrupt:  # Ctrl-C abandons the session; q or Ctrl-D stops it and keeps the score
            console.print(Text("\ninterrupted; nothing recorded", style="yellow"))
            return 130
    if all(o.status == "skipped" for o in outcomes):
        console.print("no card answered; nothing recorded")
        return 0
    author = identity.author(args.author)
    for body in summarise(outcomes, deck):
        body.update(mode="answers-file" if args.answers else "interactive", seed=seed, shuffle=shuffle,
                    limit=args.limit, answers_file=str(args.answers) if args.answers else None,
                    quiz_seconds=round(time.monotonic() - started, 1))
        rec = records.finish(body, author)
        line = Text.assemble((f"{rec['topic']}: ", "bold"), (f"{_score_text(rec)} ", "bold"),
                             (rec["verdict"], "green" if rec["verdict"] == "pass" else "red"),
                             f"  pass mark {PASS_MARK:.0%}")
        if not args.no_record:
            line.append(f"  record: {_rel(records.write(rec, args.results / 'runs'))}", style="dim")
        console.print(line)
    return 0


def _rel(path: Path) -> str:
    try:
        return str(Path(path).resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)
