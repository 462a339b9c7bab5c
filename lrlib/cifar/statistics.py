"""Aggregate, compare and conclude from the records of results files (``results.load_results``).

numpy and scipy only: the analysis needs no torch. Accuracies are stored as fractions and shown here in
percentage points.

Statistics: a schedule's runs differ only in their seed, so the mean of n seeds comes with the
confidence interval x̄ ± t_{(1+level)/2, n-1} s/√n from Student's t distribution (s the standard
deviation over seeds). Two schedules are compared by the difference of their means with Welch's
interval: x̄_a - x̄_b ± t_{(1+level)/2, ν} √(s_a²/n_a + s_b²/n_b), unequal variances, with the
Welch-Satterthwaite degrees of freedom ν = (v_a + v_b)² / (v_a²/(n_a-1) + v_b²/(n_b-1)), v = s²/n.
The t quantiles come from ``scipy.stats.t``. With 3 seeds these intervals are wide: that is the honest
size of what 3 seeds can tell apart.
"""
from __future__ import annotations

import math

import numpy as np
from scipy import stats

from lrlib.checks import check_factor

from .profiles import schedule_order

__all__ = ["mean_ci", "welch_difference", "summarize", "format_table", "best_scales", "compare", "conclusions"]


def _half_width(se: float, df: float, level: float) -> float:
    """t_{(1+level)/2, df} x se: the half-width of a two-sided t interval at confidence ``level``."""
    level = check_factor("level", level, 0.0, 1.0, high_open=True)
    return float(stats.t.ppf(0.5 + level / 2, df) * se)


def mean_ci(values, level: float = 0.95) -> tuple:
    """(mean, half-width of the t confidence interval); the half-width is nan for fewer than 2 values."""
    values = np.asarray(values, dtype=float)
    if values.size == 0:
        return math.nan, math.nan
    mean = float(values.mean())
    if values.size < 2:
        return mean, math.nan
    return mean, _half_width(values.std(ddof=1) / math.sqrt(values.size), values.size - 1, level)


def welch_difference(a, b, level: float = 0.95) -> tuple:
    """(mean(a) - mean(b), low, high): Welch's confidence interval for the difference of means."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    diff = float(a.mean() - b.mean())
    if a.size < 2 or b.size < 2:
        return diff, math.nan, math.nan
    va, vb = a.var(ddof=1) / a.size, b.var(ddof=1) / b.size
    se = math.sqrt(va + vb)
    if se == 0:
        return diff, diff, diff
    df = (va + vb) ** 2 / (va ** 2 / (a.size - 1) + vb ** 2 / (b.size - 1))
    half = _half_width(se, df, level)
    return diff, diff - half, diff + half


# --------------------------------------------------------------------------------------------------
# Tables

def summarize(records, level: float = 0.95) -> list:
    """One row per (profile, data source, schedule, lr scale): finished runs' mean accuracy and its CI.

    Diverged runs are counted (``diverged``) but not averaged: they have no final accuracy.
    """
    groups = {}
    for r in records:
        key = (r["profile"], r["data_source"], r["schedule"], float(r["lr_scale"]))
        groups.setdefault(key, []).append(r)
    rows = []
    for (profile, source, schedule, scale), runs in sorted(
            groups.items(), key=lambda kv: (kv[0][0], kv[0][1], schedule_order(kv[0][2]), kv[0][3])):
        accuracies = [r["final_test_accuracy"] for r in runs if not r["diverged"]]
        mean, half = mean_ci(accuracies, level)
        rows.append(dict(profile=profile, data_source=source, schedule=schedule, lr_scale=scale,
                         n=len(accuracies), diverged=len(runs) - len(accuracies), mean=mean, ci=half,
                         std=float(np.std(accuracies, ddof=1)) if len(accuracies) > 1 else math.nan,
                         accuracies=accuracies, peak_lr=runs[0]["peak_lr"]))
    return rows


def _pct(x, digits=2):
    return "n/a" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{100 * x:.{digits}f}"


def format_table(rows) -> str:
    """A plain-text table: test accuracy mean +/- 95% CI (t distribution) per schedule and lr scale."""
    lines = []
    for profile, source in dict.fromkeys((r["profile"], r["data_source"]) for r in rows):
        lines.append(f"profile {profile}, data: {source}")
        lines.append(f"  {'schedule':<14} {'lr scale':>8} {'peak lr':>8} {'runs':>4}  "
                     f"test accuracy % (mean +/- 95% CI)")
        for r in rows:
            if (r["profile"], r["data_source"]) != (profile, source):
                continue
            diverged = f"  ({r['diverged']} diverged)" if r["diverged"] else ""
            lines.append(f"  {r['schedule']:<14} {r['lr_scale']:>8g} {r['peak_lr']:>8.3g} {r['n']:>4}  "
                         f"{_pct(r['mean']):>6} +/- {_pct(r['ci'])}{diverged}")
    return "\n".join(lines)


def best_scales(rows) -> dict:
    """For each schedule, its row at the lr scale with the best mean accuracy (its own tuned peak)."""
    best = {}
    for r in rows:
        if r["n"] and (r["schedule"] not in best or r["mean"] > best[r["schedule"]]["mean"]):
            best[r["schedule"]] = r
    return best


# --------------------------------------------------------------------------------------------------
# Comparisons and conclusions written from the numbers

def compare(rows_by_schedule: dict, a: str, b: str, level: float = 0.95):
    """Difference a - b in accuracy with Welch's CI, or None if either schedule is missing."""
    if a not in rows_by_schedule or b not in rows_by_schedule:
        return None
    ra, rb = rows_by_schedule[a], rows_by_schedule[b]
    diff, low, high = welch_difference(ra["accuracies"], rb["accuracies"], level)
    return dict(a=a, b=b, diff=diff, low=low, high=high, n_a=ra["n"], n_b=rb["n"])


def _verdict(c) -> str:
    """One sentence about a comparison; "detectable" only when the 95% CI excludes zero."""
    span = (f"{_pct(c['diff'])} points, 95% CI {_pct(c['low'])} to {_pct(c['high'])}"
            if not math.isnan(c["low"]) else f"{_pct(c['diff'])} points, too few seeds for an interval")
    if not math.isnan(c["low"]) and c["low"] > 0:
        return f"{c['a']} beats {c['b']} ({span})"
    if not math.isnan(c["high"]) and c["high"] < 0:
        return f"{c['a']} is worse than {c['b']} ({span})"
    return f"no difference between {c['a']} and {c['b']} is detectable with these seeds ({span})"


def conclusions(records, profile: str, data_source: str | None = None, lr_scale: float | None = None) -> list:
    """Sentences computed from the runs of one profile (and data source): ranking, seed noise, and the
    questions of the comparison (warmup? one-cycle vs step? cosine vs step? decay at all?).

    Each schedule is taken at its best lr scale when several were run, so no schedule is judged at a
    peak tuned for another; ``lr_scale`` restricts the analysis to one scale instead."""
    runs = [r for r in records if r["profile"] == profile and (data_source is None or r["data_source"] == data_source)
            and (lr_scale is None or float(r["lr_scale"]) == lr_scale)]
    rows = summarize(runs)
    if not rows:
        return [f"No runs of profile {profile!r} found."]
    best = best_scales(rows)
    if not best:
        return [f"Every run of profile {profile!r} diverged."]
    several_scales = len({r["lr_scale"] for r in rows}) > 1
    ranked = sorted(best.values(), key=lambda r: -r["mean"])
    seeds = min(r["n"] for r in ranked)
    text = []
    scale_note = " (each at its best lr scale)" if several_scales else ""
    text.append(f"Ranking{scale_note}: " + ", ".join(
        f"{r['schedule']} {_pct(r['mean'])}% +/- {_pct(r['ci'])}" for r in ranked) + ".")
    with_std = sorted((r for r in ranked if not math.isnan(r["std"])), key=lambda r: r["std"])
    if with_std:
        noise = float(np.median([r["std"] for r in with_std]))
        spread = ranked[0]["mean"] - ranked[-1]["mean"]
        calmest, noisiest = with_std[0], with_std[-1]
        ratio = f", {spread / noise:.1f} times the median noise" if noise > 0 else ""
        text.append(f"Seed noise: the standard deviation over seeds ranges from {_pct(calmest['std'])} points "
                    f"({calmest['schedule']}) to {_pct(noisiest['std'])} ({noisiest['schedule']}), median "
                    f"{_pct(noise)}; the best and worst schedules differ by {_pct(spread)} points"
                    f"{ratio} (n = {seeds} seeds per schedule).")
    diverged = sum(r["diverged"] for r in rows)
    if diverged:
        text.append(f"{diverged} run(s) diverged and are left out of the means.")
    questions = [("Warmup (does it help here?):", "warmup_cosine", "cosine"),
                 ("One-cycle vs step decay at this budget:", "one_cycle", "step"),
                 ("Cosine vs step decay (SGDR's comparison):", "cosine", "step"),
                 ("Decay vs no decay:", "cosine", "constant")]
    for question, a, b in questions:
        c = compare(best, a, b)
        if c is not None:
            text.append(f"{question} {_verdict(c)}.")
    return text
