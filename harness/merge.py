"""Merge the records of many grading runs (CI shards, other machines) into one runs folder.

Every file is validated as a record; bad ones are reported by path and left out. Records
are deduplicated by id with pandas: the same id with the same content is one record; the
same id with different content is a conflict (records are written once, never edited),
reported, and the copy already in the target (else the first one given) is kept.
"""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from harness import record as records

SAFE_ID = re.compile(r"[a-z0-9][a-z0-9._-]*")  # what records.finish makes; never a path
MAX_ID = 200  # and a file name the file system takes


@dataclass
class MergeReport:
    files: int = 0  # record files read from the sources
    written: list[Path] = field(default_factory=list)
    already: int = 0  # ids the target already had, same content
    duplicates: int = 0  # repeated ids among the sources, same content
    conflicts: list[str] = field(default_factory=list)
    bad: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.bad or self.conflicts)


def _json_files(source: Path) -> list[Path]:
    if source.is_file():
        return [source]
    return sorted(p for p in source.rglob("*.json") if not p.name.startswith(".tmp-"))


def _load(path: Path, report: MergeReport) -> dict | None:
    try:
        rec = records.read(path)
    except records.RecordError as exc:
        reason = str(exc).removeprefix(f"{path.name}: ")
        report.bad.append(f"{path}: {reason}")
        return None
    if not isinstance(rec["id"], str) or len(rec["id"]) > MAX_ID or not SAFE_ID.fullmatch(rec["id"]):
        report.bad.append(f"{path}: id {str(rec['id'])[:80]!r} is not a path-safe record id")
        return None
    return rec


def _digest(rec: dict) -> str:
    return hashlib.sha256(json.dumps(rec, sort_keys=True, default=str).encode()).hexdigest()


def merge(sources: list[Path], out: Path) -> MergeReport:
    """Copy every valid record under `sources` (folders, searched recursively, or files)
    into `out`, once per id."""
    out = Path(out)
    report = MergeReport()
    rows: list[dict] = []
    present, _ = records.scan(out)
    rows += [{"id": r["id"], "digest": _digest(r), "path": str(out / f"{r['id']}.json"), "in_out": True, "rec": r}
             for r in present]
    for source in map(Path, sources):
        if not source.exists():
            report.bad.append(f"{source}: no such file or folder")
            continue
        for path in _json_files(source):
            if path.resolve().parent == out.resolve():
                continue  # the target itself, already counted
            report.files += 1
            rec = _load(path, report)
            if rec is not None:
                rows.append({"id": rec["id"], "digest": _digest(rec), "path": str(path), "in_out": False, "rec": rec})
    if not rows:
        return report
    df = pd.DataFrame(rows)
    variants = df.drop_duplicates(["id", "digest"])
    for rid, group in variants.groupby("id", sort=True):
        if len(group) > 1:
            report.conflicts.append(f"id {rid}: {len(group)} different records ({', '.join(group['path'])}); "
                                    f"kept {group['path'].iloc[0]}")
    keep = df.drop_duplicates("id", keep="first")  # rows already in `out` come first
    report.already = int(df[~df["in_out"]]["id"].isin(df[df["in_out"]]["id"]).sum())
    report.duplicates = int((~df["in_out"]).sum()) - report.already - int((~keep["in_out"]).sum())
    for rec in keep[~keep["in_out"]]["rec"]:
        report.written.append(records.write(rec, out))
    return report
