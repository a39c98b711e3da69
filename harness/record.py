"""Grade records: one JSON file per grade under results/runs/, written once, atomically.

Schema (version 1), every record a JSON object with at least:
  schema_version  int, 1
  kind            "grade" (a graded submission) or another producer's kind (e.g. "quiz");
                  leaderboards rank only "grade" records
  id              str, unique (timestamp-author-problem-sha8-pid+random); the file name
  timestamp       str, ISO 8601 UTC
  author          str, path-safe handle
  problem         str, slug
  file, sha256    submission path (relative to the repo when inside it) and content hash
  verdict         "AC" | "WA" | "RE" | "TLE" | "MLE" | "CE";  reason: one line
  failure         null, or {case, size, inputs?, diff?, traceback?, output?}
  cases           [{name, size, status ("pass" or a verdict), seconds?, message?}]
  timings         [{size, measure, reps, sub_median_s, sub_spread, ref_median_s, ref_spread,
                    speedup, sub_overhead_s, ref_overhead_s, sub_times_s?, ref_times_s?,
                    gbytes_per_s?, gflops?, bandwidth_pct?}]
                  sub_times_s, ref_times_s: the `reps` timed calls of the submission and of the
                  reference, in call order; element i of both timed the same input, back to back.
                  Older records lack them (`sparsebench compare` then asks for a regrade).
  score           geometric mean of speedups (reference time / submission time), null unless timed AC
  slope, reference_slope, expected_exponent   log-log scaling exponents
  flags           [str]: scaling, timer and review warnings
  first_call_s    {submission, reference}: first call, JIT compilation included (not ranked)
  threads, plan, baseline, limits, seeds, size_unit, machine{cpu, cores, libraries, git_commit, ...}
  yardstick       null, or {threads, triad_gbytes_per_s, gemm_gflops, measured_at, cached, ...}
                  (harness.yardstick; only when the problem has a bytes model and speed is timed),
                  or {threads, error}
  grade_seconds   float
"""
from __future__ import annotations

import json
import os
import re
import secrets
import tempfile
from datetime import datetime, timezone
from pathlib import Path


from harness import ROOT

SCHEMA_VERSION = 1
RUNS_DIR = ROOT / "results" / "runs"
REQUIRED = ("schema_version", "id", "timestamp", "author", "problem", "verdict", "score")


class RecordError(ValueError):
    """A file in results/runs/ that is not a valid record."""


def finish(record: dict, author: str) -> dict:
    """Stamp identity fields onto a grader's record."""
    now = datetime.now(timezone.utc)
    record = {"schema_version": SCHEMA_VERSION, "kind": "grade", "timestamp": now.isoformat(timespec="seconds"),
              "author": author, **record}
    tag = record.get("sha256", "")[:8] or record["kind"]
    unique = f"{os.getpid()}{secrets.token_hex(3)}"
    record["id"] = safe_handle(f"{now:%Y%m%dT%H%M%S%f}-{author}-{record['problem']}-{tag}-{unique}")
    return record


def write(record: dict, runs_dir: Path = RUNS_DIR) -> Path:
    """Write the record atomically (temp file in the same folder, fsync, rename)."""
    runs_dir = Path(runs_dir)
    runs_dir.mkdir(parents=True, exist_ok=True)
    final = runs_dir / f"{record['id']}.json"
    fd, tmp = tempfile.mkstemp(dir=runs_dir, prefix=".tmp-", suffix=".json")
    try:
        with os.fdopen(fd, "w") as fh:
            json.dump(record, fh, indent=1, default=_jsonable)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, final)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return final


def _jsonable(value):
    import numpy as np

    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def read(path: Path) -> dict:
    """One record, validated; RecordError names what is wrong."""
    try:
        record = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RecordError(f"{path.name}: not readable JSON ({exc})") from None
    if not isinstance(record, dict):
        raise RecordError(f"{path.name}: not a JSON object")
    if record.get("schema_version") != SCHEMA_VERSION:
        raise RecordError(f"{path.name}: unknown schema_version {record.get('schema_version')!r} "
                          f"(this sparsebench reads version {SCHEMA_VERSION})")
    missing = [k for k in REQUIRED if k not in record]
    if missing:
        raise RecordError(f"{path.name}: missing field(s) {', '.join(missing)}")
    return record


def scan(runs_dir: Path = RUNS_DIR) -> tuple[list[dict], list[str]]:
    """All valid records, and one message per file that was skipped."""
    records, problems = [], []
    for path in sorted(Path(runs_dir).glob("*.json")) if Path(runs_dir).is_dir() else []:
        if path.name.startswith(".tmp-"):
            continue  # a record still being written
        try:
            records.append(read(path))
        except RecordError as exc:
            problems.append(str(exc))
    return records, problems


def safe_handle(name: str) -> str:
    """A path-safe author handle: lower case letters, digits, '.', '_' and '-'."""
    handle = re.sub(r"[^a-z0-9._-]+", "-", name.strip().lower()).strip("-.")
    return handle or "anonymous"


