"""Hints: parsed from every statement's <details> blocks, shown by `show`, one at a time by `hint`."""
from __future__ import annotations

import re

import pytest

from harness import cli, problems, statement

SLUGS = problems.slugs()


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _words(text: str) -> str:
    """A hint's text as the terminal shows it: Markdown marks gone, whitespace collapsed."""
    return " ".join(re.sub(r"[`*]", "", text).split())


def _screen(out: str) -> str:
    return " ".join(out.split())


@pytest.mark.parametrize("slug", SLUGS)
def test_every_statement_has_hints_and_all_are_parsed(slug):
    text = (problems.get(slug).folder / "README.md").read_text(encoding="utf-8")
    found = statement.hints(text)
    assert found, f"problems/{slug}/README.md has no <details> hints"
    assert len(found) == text.count("<details>") == text.count("</details>")
    assert [h.number for h in found] == list(range(1, len(found) + 1))
    rendered = statement.render(text)
    assert not re.search(r"</?(details|summary|code|em)>", rendered), "raw HTML left for rich to drop"
    assert all(h.text in rendered for h in found)
    hidden = statement.render(text, show_hints=False, slug=slug)
    assert not any(h.text in hidden for h in found) and f"sparsebench hint {slug} 1" in hidden


def test_parsing_is_general():
    text = ("intro\n<details>\n  <summary>Capacity</summary>\n\nWalk <code>expert.T</code> &amp; count:"
            "<br>k &gt; 1 is <em>fine</em>.\n</details>\n<DETAILS><summary>2</summary>two</DETAILS>\n")
    one, two = statement.hints(text)
    assert one.title == "Hint 1: Capacity" and one.text == "Walk `expert.T` & count:\nk > 1 is *fine*."
    assert two.title == "Hint 2" and two.text == "two"
    assert statement.render("no hints here") == "no hints here"


@pytest.mark.parametrize("slug", ["coo-to-csr", "moe-backward"])
def test_show_renders_every_hint(capsys, slug):
    found = statement.hints((problems.get(slug).folder / "README.md").read_text(encoding="utf-8"))
    code, out, _ = run(capsys, "show", slug)
    assert code == 0
    screen = _screen(out)
    for h in found:
        assert f"Hint {h.number}." in screen and _words(h.text)[:50] in screen


def test_show_no_hints_hides_them(capsys):
    found = statement.hints((problems.get("spmv").folder / "README.md").read_text(encoding="utf-8"))
    code, out, _ = run(capsys, "show", "spmv", "--no-hints")
    screen = _screen(out)
    assert code == 0 and "3 hints hidden" in screen and "sparsebench hint spmv 1" in screen
    assert not any(_words(h.text)[:40] in screen for h in found)


def test_hint_reveals_one_hint_and_names_the_next(capsys):
    found = statement.hints((problems.get("spgemm").folder / "README.md").read_text(encoding="utf-8"))
    code, out, _ = run(capsys, "hint", "spgemm")
    screen = _screen(out)
    assert code == 0 and f"hint 1 of {len(found)}" in screen and _words(found[0].text)[:40] in screen
    assert not any(_words(h.text)[:40] in screen for h in found[1:])
    assert "next: sparsebench hint spgemm 2" in screen
    assert len(out.splitlines()) <= 3 + len(found[0].text) // 40  # the hint's panel and one line: no statement
    code, out, _ = run(capsys, "hint", "spgemm", str(len(found)))
    screen = _screen(out)
    assert code == 0 and _words(found[-1].text)[:40] in screen and "that was the last hint" in screen
    assert "sparsebench show spgemm --editorial" in screen


def test_hint_out_of_range_is_one_clear_error(capsys):
    n = len(statement.hints((problems.get("spmv").folder / "README.md").read_text(encoding="utf-8")))
    code, out, err = run(capsys, "hint", "spmv", str(n + 1))
    assert code == 2 and out == "" and f"spmv has {n} hints (1-{n}); there is no hint {n + 1}" in err
    with pytest.raises(SystemExit):
        cli.main(["hint", "spmv", "0"])
    capsys.readouterr()
