"""Text a submission (or a record from elsewhere) supplied, made inert before it is shown.

A submission decides its exception messages, its tracebacks and what it prints, and a record
merged from another machine decides every string in it: any of them may carry terminal escape
sequences (an OSC that retitles the window, a CSI that clears the screen and paints a fake
"AC"), other C0/C1 control characters (a carriage return that overwrites the line), Unicode
bidi overrides (U+202E, which shows text reversed), lone surrogates (which cannot be written as
UTF-8 at all) or markdown table syntax. `clean` removes all of them; the grader applies it
where such text enters a record (`clean_tree` over the record as built), and every renderer
(terminal, markdown, HTML) applies it again to what it shows, since a record may come from
anywhere. Newlines and tabs survive only in a block (a traceback, a diff, captured output),
never in a one-line field.
"""
from __future__ import annotations

import re
import unicodedata
from typing import Any

# ESC-introduced sequences, removed whole: CSI (ESC [ ... final), OSC / DCS / SOS / PM / APC
# strings (up to BEL or ST, or to the end when unterminated), and two- or three-byte escapes
_ESCAPES = re.compile(r"""
      \x1b\[[0-?]*[ -/]*[@-~]?                     # CSI, 7-bit
    | \x9b[0-?]*[ -/]*[@-~]?                       # CSI, 8-bit
    | (?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f]).*?(?:\x07|\x1b\\|\x9c|(?=\n)|\Z)  # OSC, DCS, SOS, PM, APC
    | \x1b[ -/]*[0-~]?                             # any other escape (ESC c, ESC 7, ESC ( B, a lone ESC)
""", re.VERBOSE | re.DOTALL)
_KEEP_FORMAT = {"\u200c", "\u200d"}  # zero-width (non-)joiners: parts of emoji and scripts, inert
BLOCK_KEYS = ("traceback", "diff", "output", "inputs")  # record fields shown as blocks (newlines kept)


def _drop(ch: str, block: bool) -> str:
    if ch in "\n\t":
        return ch if block else " "
    category = unicodedata.category(ch)
    if category in ("Cc", "Cs") or (category == "Cf" and ch not in _KEEP_FORMAT):
        return ""  # C0, DEL, C1; lone surrogates; bidi overrides and isolates, other format characters
    if category in ("Zl", "Zp"):  # U+2028, U+2029: line breaks by another name
        return "\n" if block else " "
    return ch


def clean(text: Any, *, block: bool = False, limit: int | None = None) -> str:
    """`text` (anything: it is made a string) with every escape sequence and control character
    removed. `block`: keep newlines and tabs (a CR LF becomes a newline); otherwise they become
    spaces. `limit`: at most that many characters, the cut said."""
    s = text if isinstance(text, str) else str(text)
    if block:
        s = s.replace("\r\n", "\n")
    s = _ESCAPES.sub("", s)
    if not s.isprintable() or "\n" in s or "\t" in s:
        s = "".join(_drop(ch, block) for ch in s)
    if limit is not None and len(s) > limit:
        s = s[:limit] + f"… [{len(s) - limit:,} characters cut]"
    return s


def clean_tree(value: Any, *, block: bool = False) -> Any:
    """A JSON-like value (dicts, lists, strings, numbers) with every string, keys included,
    cleaned; fields named in BLOCK_KEYS keep their newlines."""
    if isinstance(value, str):
        return clean(value, block=block)
    if isinstance(value, dict):
        return {clean(k) if isinstance(k, str) else k: clean_tree(v, block=isinstance(k, str) and k in BLOCK_KEYS)
                for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(clean_tree(v, block=block) for v in value)
    return value


def cell(value: Any, limit: int = 200) -> str:
    """One markdown table cell: cleaned, on one line, `|` and backslashes escaped, at most `limit`
    characters (a cell is not the place for a traceback)."""
    s = clean(value, limit=limit)
    return s.replace("\\", "\\\\").replace("|", "\\|")


def mathtext_safe(value: Any, limit: int = 60) -> str:
    """A label for a matplotlib chart: cleaned, short, and with `$` escaped, so a name cannot
    start mathtext (a malformed one raises and takes the whole page down); a leading `_`, which
    matplotlib reads as "leave me out of the legend", gets a space before it."""
    label = clean(value, limit=limit).replace("$", r"\$")
    return f" {label}" if label.startswith("_") else label
