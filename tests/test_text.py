"""harness/text.py: submission-supplied text made inert (escape sequences, C0/C1 controls, bidi
overrides, lone surrogates, markdown table syntax), where it enters a record and where it is shown."""
from __future__ import annotations

import io
import json
import unicodedata

import pytest
from hypothesis import given, settings, strategies as st
from rich.console import Console

from harness import problems, text
from harness.grader import grade
from harness.render import grade_panel

FAKE_AC = "\x1b]0;sparsebench: AC\x07\x1b[2J\x1b[H\x1b[1;42;97m AC \x1b[0m all passed"


def controls(s: str, *, block: bool = False) -> list[str]:
    """The characters of `s` that must not reach a terminal, a page or a table."""
    allowed = "\n\t" if block else ""
    return [c for c in s if c not in allowed and (unicodedata.category(c) in ("Cc", "Cs", "Zl", "Zp")
                                                   or (unicodedata.category(c) == "Cf" and c not in "\u200c\u200d"))]


@pytest.mark.parametrize("raw,shown", [
    ("\x1b]0;title\x07hello", "hello"),  # OSC, BEL-terminated: the window title
    ("\x1b]8;;https://evil\x1b\\click\x1b]8;;\x1b\\", "click"),  # OSC 8 hyperlink, ST-terminated
    ("\x1b[2J\x1b[H AC", " AC"),  # CSI: clear and home
    ("\x1b[1;42;97mAC\x1b[0m", "AC"),  # SGR colours
    ("\x9b2Kgone\x9d0;t\x9c", "gone"),  # 8-bit CSI and OSC
    ("reset\x1bc now", "reset now"),  # ESC c
    ("abc\u202edef\u202c", "abcdef"),  # bidi override and pop
    ("\u2066iso\u2069", "iso"),  # bidi isolate
    ("over\rwrite", "overwrite"),  # a carriage return rewrites the line
    ("bell\x07 nul\x00 del\x7f", "bell nul del"),
    ("half \ud800 surrogate", "half  surrogate"),  # not even writable as UTF-8
    ("two\nlines\tand a tab", "two lines and a tab"),
    ("sep\u2028arated", "sep arated"),
    ("\x1b]2;unterminated\nnext", " next"),  # an OSC that never ends stops at the line's end
    ("naïve café 日本 👩‍💻", "naïve café 日本 👩‍💻"),  # ordinary text (a ZWJ emoji) is left alone
])
def test_clean_removes_what_could_act_on_a_terminal(raw, shown):
    assert text.clean(raw) == shown
    assert not controls(text.clean(raw))


def test_a_block_keeps_its_lines_and_nothing_else():
    raw = "Traceback:\r\n  line 1\n\tx\x1b[31m = 1\x1b[0m\u202e\n"
    assert text.clean(raw, block=True) == "Traceback:\n  line 1\n\tx = 1\n"


def test_limit_says_what_it_cut():
    assert text.clean("x" * 50, limit=10) == "x" * 10 + "… [40 characters cut]"


def test_cells_stay_one_cell():
    assert text.cell("a|b\nc\\d") == "a\\|b c\\\\d"
    assert text.mathtext_safe("$\\frac$") == "\\$\\frac\\$"
    assert text.mathtext_safe("_ada") == " _ada"  # matplotlib leaves "_..." labels out of a legend


def test_clean_tree_keeps_newlines_in_blocks_only():
    rec = {"reason": "a\nb\x1b[2J", "failure": {"traceback": "t\nu\x1b]0;x\x07", "diff": "d\ne", "case": "c\nd"},
           "cases": [{"name": "n\x07", "message": "m\nn"}], "k\x1b[1m": 1.5, "n": None}
    assert text.clean_tree(rec) == {"reason": "a b", "failure": {"traceback": "t\nu", "diff": "d\ne", "case": "c d"},
                                    "cases": [{"name": "n", "message": "m n"}], "k": 1.5, "n": None}


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=st.characters(exclude_categories=()), max_size=200) | st.text(
    alphabet=st.sampled_from(list("\x1b[]();0123456789mHJK\x07\\\x9b\x9d\x9c\u202e\r\n\tPX^_ ac|")), max_size=60))
def test_no_input_leaves_a_control_character(raw):
    once = text.clean(raw)
    assert not controls(once) and "\x1b" not in once
    assert text.clean(once) == once  # idempotent: cleaning twice (record, then renderer) changes nothing more
    block = text.clean(raw, block=True)
    assert not controls(block, block=True)
    cell = text.cell(raw)
    assert "\n" not in cell and all(cell[i - 1] == "\\" for i, c in enumerate(cell) if c == "|")
    once.encode("utf-8")  # writable: no lone surrogate survives


def test_the_fake_ac_message_is_re_and_inert_everywhere():
    """problems/coo-to-csr/examples/cheat_fake_ac_message.py: the message would clear the terminal
    and paint a green AC; it is RE, its record holds no control character, and the panel shown in a
    colour terminal carries none of its sequences (only rich's own colours)."""
    p = problems.get("coo-to-csr")
    rec = grade(p, p.folder / "examples" / "cheat_fake_ac_message.py", plan="off")
    assert rec["verdict"] == "RE" and rec["reason"].startswith("RuntimeError:")
    assert "AC" in rec["reason"] and "coo-to-csr  score 9.87x" in rec["reason"]  # shown, as plain text
    for key, value in _strings(rec):
        assert not controls(value, block=key in text.BLOCK_KEYS), (key, value)
    colour = io.StringIO()
    Console(file=colour, force_terminal=True, color_system="truecolor", width=150).print(grade_panel(rec))
    shown = colour.getvalue()
    for sequence in ("\x1b]", "\x1b[2J", "\x1b[H", "\x1bc", "\x9b", "\u202e", "\r"):
        assert sequence not in shown, repr(sequence)
    plain = io.StringIO()
    Console(file=plain, force_terminal=False, color_system=None, width=150).print(grade_panel(rec))
    assert "\x1b" not in plain.getvalue() and "RE" in plain.getvalue()


def test_the_panel_cleans_a_record_from_elsewhere():
    rec = {"verdict": "AC\x1b[2J", "problem": "p\u202e", "file": "f\x1b]0;t\x07.py", "author": "[/bold]x",
           "reason": FAKE_AC, "failure": {"traceback": FAKE_AC + "\nline"}, "flags": [FAKE_AC],
           "score": 1.0, "score_unit": "[red]u", "metrics": {"k\x07": "v\x1b[1m", "n": 3}}
    out = io.StringIO()
    Console(file=out, force_terminal=False, color_system=None, width=200).print(grade_panel(rec))
    shown = out.getvalue()
    assert "\x1b" not in shown and "\u202e" not in shown and "[/bold]x" in shown and "[red]u" in shown


def _strings(value, key=""):
    if isinstance(value, str):
        yield key, value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield key, k
            yield from _strings(v, k)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v, key)


def test_records_written_as_json_stay_clean():
    rec = text.clean_tree({"reason": FAKE_AC, "failure": {"output": FAKE_AC + "\n"}})
    assert "\\u001b" not in json.dumps(rec) and "\x1b" not in json.dumps(rec, ensure_ascii=False)
