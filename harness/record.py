"""Grade records: one JSON file per grade under results/runs/, written once, atomically.

The grader builds a record as a typed value (harness/schema.py: `Record` and its parts) in
one place, `Grader.record`; `Record.to_dict()` is the JSON object below, and `finish` stamps
who, when and the id onto it. Readers (leaderboard, merge, compare, the HTML page) take the
JSON objects as they are, so records written by any earlier grader of schema version 1 still
load. This module stays light to import (no numpy, no dataclasses): every writer and reader
of records imports it.

Schema (version 1), every record a JSON object with at least:
  schema_version  int, 1
  kind            "grade" (a graded submission), "score" (a problem graded by a scoring hook)
                  or another producer's kind (e.g. "quiz"); leaderboards rank "grade" records
                  by speed and "score" records apart, in their own direction
  id              str, unique (timestamp-author-problem-sha8-pid+random); the file name
  timestamp       str, ISO 8601 UTC
  author          str, path-safe handle
  problem         str, slug
  file, sha256    submission path (relative to the repo when inside it) and content hash
  verdict         "AC" | "WA" | "RE" | "TLE" | "MLE" | "CE";  reason: one line
  failure         null, or {case?, size?, line?, inputs?, diff?, traceback?, output?}
  cases           [{name, size, status ("pass", a verdict, or "not run"), seconds?, message?, wall_s?}]
                  every case, in the order run (records before issue 13, and --first-failure
                  grades, stop at the first failure); "not run": an earlier case ended the
                  child's run (a time-out, a forbidden operation, too many crashes), the message
                  says which; wall_s: the grader's clock (scored)
  timings         [{size, measure, reps, sub_median_s, sub_spread, ref_median_s, ref_spread,
                    speedup, sub_overhead_s, ref_overhead_s, sub_times_s?, ref_times_s?,
                    gbytes_per_s?, bandwidth_pct?, gflops?, gemm_pct?}]
                  bandwidth_pct: GB/s over the yardstick's STREAM triad; gemm_pct: GFLOP/s over its
                  dense GEMM rate in the problem's gemm_dtype
                  sub_times_s, ref_times_s: the `reps` timed calls of the submission and of the
                  reference, in call order; element i of both timed the same input, back to back.
                  Older records lack them (`sparsebench compare` then asks for a regrade).
                  speedup_lo?, speedup_hi?: the speedup's 95% bootstrap interval over the timed pairs
                  (absent with one pair and in records from before adaptive timing)
  score           geometric mean of speedups (reference time / submission time), null unless timed AC;
                  for kind "score", the hook's measured score, null unless AC
  score_interval? [lo, hi]: the score's 95% bootstrap interval (each size's pairs resampled);
                  absent when not timed, with one pair per size, and in older records
  interrupted?    {during: "timing", sizes_timed, sizes_planned}: Ctrl-C stopped the timing after
                  the verdict; the verdict (AC) stands, score and slope are null (speed not
                  measured: never ranked), timings holds the sizes finished before it
  slope, reference_slope, expected_exponent   log-log scaling exponents (null for kind "score")
  flags           [str]: scaling, timer, threads, review (and grader) warnings
  notes?          [str]: the checker's remarks on answers that passed (int64 indices where int32
                  suffices); never a failure, absent when there are none (and in older records)
  timer_check     null, or the timing phase on the grader's clock: {calls, phase_wall_s,
                  sub_reported_s, sub_seen_s, ref_reported_s, ref_seen_s, unexplained_s, replayed?,
                  untimed?}; untimed: the larger sizes a plan's phase budget left out (quick, for
                  slow code), so the score covers the smaller sizes only
                  (absent for kind "score")
  sandbox         {network, filesystem, processes: how the submission was isolated ("isolated ..." or
                  "audit-hook only: <why>"), output: {bytes, kept_bytes, cut_bytes}, calls,
                  background_cpu_s, between_calls_s, processes_started, other_threads_cpu_s, children}, or {note} when
                  no child was started
  first_call_s    {submission?, reference?}: first call, JIT compilation included (not ranked)
  jit_reused      true when the file's compiled Numba code came from an earlier grade of the same
                  bytes (harness/jitcache.py; absent otherwise)
  threads, plan, baseline, limits, seeds{hidden, derivation, secret_id}, size_unit,
  machine{cpu, cores, libraries, git_commit, ...}
  yardstick       null, or {threads, triad_gbytes_per_s, gemm_gflops, measured_at, cached, ...}
                  (harness.yardstick; only when the problem has a bytes model or a gemm_dtype and speed
                  is timed; gemm_gflops_float32 in records from after it was added),
                  or {threads, error}
  score_unit, lower_is_better, metrics{name: scalar}   kind "score" only
  grade_seconds   float
"""
from __future__ import annotations

import json
import os
import re
import secrets
import tempfile
from datetime import datetime, UTC
from pathlib import Path

from harness import ROOT

SCHEMA_VERSION = 1
RUNS_DIR = ROOT / "results" / "runs"
REQUIRED = ("schema_version", "id", "timestamp", "author", "problem", "verdict", "score")


class RecordError(ValueError):
    """A file in results/runs/ that is not a valid record."""


def finish(record: dict, author: str) -> dict:
    """Stamp identity fields onto a grader's record."""
    now = datetime.now(UTC)
    record = {"schema_version": SCHEMA_VERSION, "kind": "grade", "timestamp": now.isoformat(timespec="seconds"),
              "author": author, **record}
    tag = record.get("sha256", "")[:8] or record["kind"]
    unique = f"{os.getpid()}{secrets.token_hex(3)}"
    record["id"] = safe_handle(f"{now:%Y%m%dT%H%M%S%f}-{author}-{record['problem']}-{tag}-{unique}")
    return record


def write(record: dict, runs_dir: Path = RUNS_DIR) -> Path:
    """Write the record atomically: a temp file in the same folder, fsync, then a hard
    link to its final name (which never replaces an existing record), and an fsync of
    the folder so the new name survives a crash. A process killed at any point leaves
    the whole record or none (at worst a stray .tmp- file, which readers skip)."""
    runs_dir = Path(runs_dir)
    runs_dir.mkdir(parents=True, exist_ok=True)
    final = runs_dir / f"{record['id']}.json"
    text = json.dumps(record, indent=1, default=_jsonable)  # fails before any file exists
    fd, tmp = tempfile.mkstemp(dir=runs_dir, prefix=".tmp-", suffix=".json")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.link(tmp, final)  # FileExistsError rather than overwrite: records are written once
        except FileExistsError:
            raise
        except OSError:  # a file system without hard links
            os.replace(tmp, final)
    finally:
        Path(tmp).unlink(missing_ok=True)
    _fsync_dir(runs_dir)
    return final


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _jsonable(value):
    import numpy as np

    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


MAX_RECORD_BYTES = 64 << 20  # a grade's record is a few hundred kB at most


def read(path: Path) -> dict:
    """One record, validated; RecordError names what is wrong. Any file at all gives a record or a
    RecordError, never another exception (nesting too deep to parse, a number too long to convert)."""
    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise RecordError(f"{path.name}: not readable ({exc.strerror})") from None
    if size > MAX_RECORD_BYTES:
        raise RecordError(f"{path.name}: {size:,} bytes, more than a record can be")
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:  # JSONDecodeError is a ValueError
        raise RecordError(f"{path.name}: not readable JSON ({type(exc).__name__}: {str(exc)[:200]})") from None
    if not isinstance(record, dict):
        raise RecordError(f"{path.name}: not a JSON object")
    if record.get("schema_version") != SCHEMA_VERSION:
        raise RecordError(f"{path.name}: unknown schema_version {record.get('schema_version')!r} "
                          f"(this sparsebench reads version {SCHEMA_VERSION})")
    missing = [k for k in REQUIRED if k not in record]
    if missing:
        raise RecordError(f"{path.name}: missing field(s) {', '.join(missing)}")
    wrong = [k for k, ok in _FIELD_TYPES.items() if k in record and not ok(record[k])]
    if wrong:
        raise RecordError(f"{path.name}: field(s) of the wrong type: {', '.join(wrong)}")
    return record


def _number_or_none(v) -> bool:
    return v is None or (isinstance(v, (int, float)) and not isinstance(v, bool))


_FIELD_TYPES = {  # what the leaderboard relies on; anything else is the producer's business
    "id": lambda v: isinstance(v, str), "timestamp": lambda v: isinstance(v, str),
    "author": lambda v: isinstance(v, str), "problem": lambda v: isinstance(v, str),
    "verdict": lambda v: isinstance(v, str), "score": _number_or_none, "slope": _number_or_none,
    "kind": lambda v: isinstance(v, str), "flags": lambda v: isinstance(v, list),
    "timings": lambda v: v is None or (isinstance(v, list) and all(isinstance(t, dict) and "size" in t for t in v)),
}


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


