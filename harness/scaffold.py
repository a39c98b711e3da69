"""Write a new problem folder from harness/templates/problem/ (`sparsebench new-problem SLUG`).

The template is a small real problem (the sum of a vector) rather than empty stubs, so the new
folder grades AC and passes `check-problem` before its author changes a line: every later failure
is then the author's edit, seen one at a time. Template files end in `.tmpl` (so neither ruff nor
pytest reads them as code) and use `{{slug}}`, `{{entry}}` and `{{title}}` placeholders.
"""
from __future__ import annotations

import keyword
import os
import re
import shutil
import tempfile
from pathlib import Path

from harness import ROOT

TEMPLATE = ROOT / "harness" / "templates" / "problem"
SLUG = re.compile(r"[a-z][a-z0-9]*(-[a-z0-9]+)*")
MAX_SLUG = 40


class ScaffoldError(ValueError):
    """A slug that cannot name a new problem; the message says why and what would."""


def check_slug(slug: str, problems_dir: Path) -> None:
    """Raise ScaffoldError unless `slug` can name a new folder under `problems_dir`."""
    if not SLUG.fullmatch(slug) or len(slug) > MAX_SLUG:
        raise ScaffoldError(f"{slug!r} is not a problem slug: use lowercase letters, digits and single dashes, "
                            f"starting with a letter, at most {MAX_SLUG} characters (e.g. sparse-softmax)")
    entry = slug.replace("-", "_")
    if keyword.iskeyword(entry) or keyword.issoftkeyword(entry):
        raise ScaffoldError(f"{slug!r} would make the entry function {entry}(), a Python keyword: choose another slug")
    if (problems_dir / slug).exists():
        raise ScaffoldError(f"problems/{slug} already exists: choose another slug, or edit that folder")


def render(slug: str) -> dict[str, str]:
    """{relative path: text} of the new folder: the template with its placeholders filled in."""
    values = {"slug": slug, "entry": slug.replace("-", "_"),
              "title": f"{slug.replace('-', ' ').capitalize()} (template task: sum a vector)"}
    out = {}
    for path in sorted(TEMPLATE.rglob("*.tmpl")):
        text = path.read_text(encoding="utf-8")
        for key, value in values.items():
            text = text.replace("{{" + key + "}}", value)
        if "{{" in text:
            raise ScaffoldError(f"{path.relative_to(ROOT)}: unknown placeholder left after filling "
                                f"{', '.join(values)}")
        out[str(path.relative_to(TEMPLATE).with_suffix(""))] = text
    return out


def create(slug: str, problems_dir: Path = ROOT / "problems") -> list[Path]:
    """Write problems/<slug>/ and return its files. The folder appears whole or not at all: it is
    written under a `_`-prefixed name (which the loader ignores) and renamed into place."""
    check_slug(slug, problems_dir)
    files = render(slug)
    staging = Path(tempfile.mkdtemp(prefix=f"_new-{slug}-", dir=problems_dir))
    try:
        for rel, text in files.items():
            (staging / rel).parent.mkdir(parents=True, exist_ok=True)
            (staging / rel).write_text(text, encoding="utf-8")
        staging.chmod(problems_dir.stat().st_mode & 0o777)  # mkdtemp makes it private; match its neighbours
        os.rename(staging, problems_dir / slug)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return [problems_dir / slug / rel for rel in files]
