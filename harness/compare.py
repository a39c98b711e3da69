"""Is A faster than B? A significance test on the per-call times, with a stated noise floor.

The samples, per size, are the per-call speedups ref_i / sub_i: the grader times the
reference on the same input right beside each call, so drift between A's run and B's run
(another machine, a busier moment) cancels, as it does in the score. `raw=True` compares
the submissions' own per-call times instead: fair only for two runs on one quiet machine.

- per size: Mann-Whitney U (two-sided) on the two samples, and the ratio of their medians;
- overall: the geometric mean over sizes of those ratios, with a 95% bootstrap interval
  (each size's calls resampled);
- verdict: A or B is faster only when the interval excludes 1 *and* the ratio is beyond
  the noise floor: the larger of `min_effect` (5%) and half the per-call spread (the
  interquartile range over the median, the typical distance of one call from the median).
  Otherwise it is a tie: a 3% difference is never a win, and on a noisy machine more is not.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import numpy as np
from scipy.stats import mannwhitneyu

from harness import stats

MIN_EFFECT = 0.05  # differences under 5% are ties, however many calls were timed
MIN_CALLS = 5  # fewer timed calls per side than this cannot support a test
ALPHA = 0.05
BOOTSTRAP = 4000


class CompareError(ValueError):
    """Two things that cannot be compared, and why."""


@dataclass
class SizeResult:
    size: int
    calls_a: int
    calls_b: int
    median_a: float  # median speedup (or time, when raw)
    median_b: float
    ratio: float  # > 1: A faster
    p_value: float
    spread: float  # the larger relative IQR of the two samples
    verdict: str  # "A", "B", "tie" or "too few calls"


@dataclass
class Comparison:
    problem: str
    a: str
    b: str
    measure: str  # "speedup" or "time"
    sizes: list[SizeResult] = field(default_factory=list)
    ratio: float = math.nan  # geometric mean over sizes of the per-size ratios
    ci: tuple[float, float] = (math.nan, math.nan)
    noise_floor: float = MIN_EFFECT
    verdict: str = "tie"  # "A", "B", "tie" or "undecided"
    reason: str = ""
    left_out: list[int] = field(default_factory=list)  # sizes only one side has

    def as_dict(self) -> dict:
        """The comparison as JSON-ready data: NaN (no test, no interval) becomes null, so the
        output is valid JSON and never says `nan`."""
        return _no_nan(asdict(self))


def _no_nan(value):
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {k: _no_nan(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_no_nan(v) for v in value]
    return value


def samples(record: dict, *, raw: bool = False) -> dict[int, np.ndarray]:
    """Per size, the per-call samples of one record: speedups, or times when raw."""
    rows = record.get("timings") or []
    if record.get("verdict") != "AC" or not rows:
        raise CompareError(f"{_name(record)} is {record.get('verdict')} with no timings: only timed AC grades "
                           f"can be compared ({record.get('reason', '')})")
    if any("sub_times_s" not in t or "ref_times_s" not in t for t in rows):
        raise CompareError(f"{_name(record)} has no per-call times (graded before sparsebench kept them): regrade it")
    out = {}
    for t in rows:
        sub = np.asarray(t["sub_times_s"], dtype=np.float64)
        ref = np.asarray(t["ref_times_s"], dtype=np.float64)
        keep = (sub > 0) & (ref > 0)
        out[int(t["size"])] = sub[keep] if raw else ref[keep] / sub[keep]
    return out


def compare(a: dict, b: dict, *, raw: bool = False, min_effect: float = MIN_EFFECT, seed: int = 0) -> Comparison:
    """Compare two timed AC records of the same problem (see the module docstring)."""
    if a.get("problem") != b.get("problem"):
        raise CompareError(f"different problems: {_name(a)} is {a.get('problem')}, {_name(b)} is {b.get('problem')}")
    sa, sb = samples(a, raw=raw), samples(b, raw=raw)
    common = sorted(set(sa) & set(sb))
    result = Comparison(a["problem"], *labels(a, b), "time" if raw else "speedup",
                        left_out=sorted(set(sa) ^ set(sb)))
    if not common:
        raise CompareError(f"no size in common: {_name(a)} has {sorted(sa)}, {_name(b)} has {sorted(sb)}")
    usable = []
    for n in common:
        x, y = sa[n], sb[n]
        ma, mb = stats.median(x), stats.median(y)
        row = SizeResult(n, x.size, y.size, ma, mb, ratio=(mb / ma) if raw else (ma / mb), p_value=math.nan,
                         spread=max(stats.spread(x), stats.spread(y)), verdict="too few calls")
        if min(x.size, y.size) >= MIN_CALLS:
            row.p_value = float(mannwhitneyu(x, y, alternative="two-sided").pvalue)
            usable.append((row, x, y))
        result.sizes.append(row)
    if not usable:
        result.verdict = "undecided"
        result.reason = f"fewer than {MIN_CALLS} timed calls per size on a side: grade without --quick"
        return result
    result.noise_floor = max(min_effect, 0.5 * float(np.median([row.spread for row, _, _ in usable])))
    floor = math.log1p(result.noise_floor)
    threshold = ALPHA / len(usable)  # Bonferroni over sizes for the per-size marks
    for row, _, _ in usable:
        beyond = row.p_value < threshold and abs(math.log(row.ratio)) > floor
        row.verdict = ("A" if row.ratio > 1 else "B") if beyond else "tie"
    logs = _bootstrap_log_ratio([(x, y) for _, x, y in usable], raw, np.random.default_rng(seed))
    point = float(np.mean([math.log(row.ratio) for row, _, _ in usable]))
    lo, hi = np.percentile(logs, [100 * ALPHA / 2, 100 * (1 - ALPHA / 2)])
    result.ratio, result.ci = math.exp(point), (math.exp(lo), math.exp(hi))
    significant = lo > 0 or hi < 0
    if significant and abs(point) > floor:
        result.verdict = "A" if point > 0 else "B"
        result.reason = (f"{'A' if point > 0 else 'B'} is {math.exp(abs(point)):.3g}x faster: the 95% interval "
                         f"excludes 1 and the difference is beyond the {100 * result.noise_floor:.1f}% noise floor")
    elif significant:
        result.reason = (f"a real but small difference ({100 * (math.exp(abs(point)) - 1):.1f}%), "
                         f"within the {100 * result.noise_floor:.1f}% noise floor")
    else:
        result.reason = "the 95% interval includes 1: no detectable difference"
    return result


def _bootstrap_log_ratio(pairs: list[tuple[np.ndarray, np.ndarray]], raw: bool,
                         rng: np.random.Generator) -> np.ndarray:
    """Bootstrap replicates of the mean over sizes of log(median A / median B) (or B/A for times)."""
    total = np.zeros(BOOTSTRAP)
    for x, y in pairs:
        mx = np.median(x[rng.integers(0, x.size, (BOOTSTRAP, x.size))], axis=1)
        my = np.median(y[rng.integers(0, y.size, (BOOTSTRAP, y.size))], axis=1)
        total += np.log(my / mx) if raw else np.log(mx / my)
    return total / len(pairs)


def _name(record: dict) -> str:
    return str(record.get("file") or record.get("id") or "?")


def labels(a: dict, b: dict) -> tuple[str, str]:
    """What to call A and B: their files, and when that is the same file (a submission graded
    twice, before and after a change), each one's author, date and record id as well, so a
    reader can tell which is which. Two grades of one file made now, with no record yet, are
    told apart as 1st and 2nd."""
    name_a, name_b = _name(a), _name(b)
    if name_a != name_b:
        return name_a, name_b
    details = []
    for rec in (a, b):
        parts = [rec.get("author"), _when(rec.get("timestamp")), f"record {rec['id']}" if rec.get("id") else None]
        details.append(", ".join(p for p in parts if p) or "graded now")
    if details[0] == details[1]:
        details = [f"{details[0]}, 1st", f"{details[1]}, 2nd"]
    return f"{name_a} ({details[0]})", f"{name_b} ({details[1]})"


def _when(timestamp: str | None) -> str | None:
    """'2026-01-02 03:04 UTC' from a record's ISO timestamp (minutes are enough to tell grades apart)."""
    if not timestamp:
        return None
    from datetime import datetime

    try:
        moment = datetime.fromisoformat(timestamp)
    except ValueError:
        return timestamp
    zone = " UTC" if moment.utcoffset() is not None and not moment.utcoffset() else ""
    return f"{moment:%Y-%m-%d %H:%M}{zone}"
