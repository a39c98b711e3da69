"""A problem statement for the terminal: its hints, and Markdown that rich can render.

Statements (problems/<slug>/README.md) keep each hint in a `<details><summary>…</summary>…</details>`
block, so a browser folds it away. rich's Markdown drops raw HTML, so the terminal showed an
empty Hints heading. This module parses those blocks (any summary, any number of lines, the
few inline tags statements use) and turns them into plain Markdown, for `show` (every hint,
or none) and `hint` (one at a time, never the editorial).
"""
from __future__ import annotations

import html
import re
from dataclasses import dataclass

DETAILS = re.compile(r"<details>\s*<summary>(?P<summary>.*?)</summary>(?P<body>.*?)</details>",
                     re.DOTALL | re.IGNORECASE)
_INLINE = [  # the inline HTML a hint may use, as Markdown
    (re.compile(r"<code>(.*?)</code>", re.DOTALL | re.IGNORECASE), r"`\1`"),
    (re.compile(r"<(?:em|i)>(.*?)</(?:em|i)>", re.DOTALL | re.IGNORECASE), r"*\1*"),
    (re.compile(r"<(?:strong|b)>(.*?)</(?:strong|b)>", re.DOTALL | re.IGNORECASE), r"**\1**"),
    (re.compile(r"<br\s*/?>", re.IGNORECASE), "\n"),
    (re.compile(r"</?p>", re.IGNORECASE), "\n"),
]


@dataclass(frozen=True)
class Hint:
    """One hint: its number (1-based, in statement order), its summary and its text as Markdown."""

    number: int
    summary: str
    text: str

    @property
    def title(self) -> str:
        """'Hint 2' for the statements' numbered summaries, 'Hint 2: Capacity' for a worded one."""
        plain = self.summary.strip()
        return f"Hint {self.number}" if plain in ("", str(self.number)) else f"Hint {self.number}: {plain}"


def to_markdown(fragment: str) -> str:
    """Inline HTML (code, em, strong, br, p) and entities (&gt;) as Markdown text."""
    for pattern, replacement in _INLINE:
        fragment = pattern.sub(replacement, fragment)
    return html.unescape(fragment).strip()


def hints(text: str) -> list[Hint]:
    """Every `<details>` block of a statement, in order."""
    return [Hint(i, to_markdown(m["summary"]), to_markdown(m["body"])) for i, m in enumerate(DETAILS.finditer(text), 1)]


def render(text: str, *, show_hints: bool = True, slug: str = "") -> str:
    """The statement as Markdown rich can render: each hint as a bold-titled paragraph, or,
    with `show_hints=False`, one line saying how many there are and how to reveal one."""
    found = hints(text)
    if not found:
        return text
    spans = list(DETAILS.finditer(text))
    out, last = [], 0
    for i, (m, hint) in enumerate(zip(spans, found)):
        out.append(text[last:m.start()])
        if show_hints:  # a paragraph each: the blocks sit on adjacent lines, which Markdown would join
            out.append(f"\n\n**{hint.title}.** {hint.text}\n\n")
        elif i == 0:
            n = len(found)
            out.append(f"\n\n*{n} hint{'s' if n != 1 else ''} hidden: `sparsebench hint {slug or 'SLUG'} 1` "
                       f"reveals the first.*\n\n")
        last = m.end()
    out.append(text[last:])
    return re.sub(r"\n{3,}", "\n\n", "".join(out))
