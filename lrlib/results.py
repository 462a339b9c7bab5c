"""Read, aggregate, compare and plot the results files written by ``lrlib.cifar``.

Only numpy (and matplotlib, through ``lrlib.plot``, for the plots): the analysis needs no torch. Accuracies are
stored as fractions and shown here in percentage points.

Statistics: a schedule's runs differ only in their seed, so the mean over seeds comes with a 95%
confidence interval from Student's t distribution (n - 1 degrees of freedom). Two schedules are
compared by the difference of their means with Welch's interval (unequal variances, Welch-Satterthwaite
degrees of freedom). With 3 seeds these intervals are wide: that is the honest size of what 3 seeds
can tell apart.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

__all__ = ["SCHEDULE_ORDER", "load_results", "t_quantile", "mean_ci", "welch_difference", "summarize",
           "format_table", "best_scales", "compare", "conclusions", "plot_applied_lr",
           "plot_accuracy_curves", "plot_final_accuracy", "plot_lr_scale_sensitivity"]

SCHEDULE_ORDER = ("constant", "step", "cosine", "warmup_cosine", "one_cycle")


def load_results(source) -> list:
    """Records from a results file, a folder of them (every ``*.json``, sorted by name) or a list of paths.

    Each record gets a ``results_file`` field (the file's name) saying where it came from.
    """
    if isinstance(source, (str, Path)):
        source = Path(source)
        paths = sorted(source.glob("*.json")) if source.is_dir() else [source]
    else:
        paths = [Path(p) for p in source]
    records = []
    for path in paths:
        content = json.loads(path.read_text())
        for run in content["runs"]:
            records.append(dict(run, results_file=path.name))
    return records


# --------------------------------------------------------------------------------------------------
# Statistics

def _t_cdf(x: float, df: float) -> float:
    """P(T <= x) for Student's t: 1/2 plus the density integrated from 0 to x (Simpson's rule)."""
    if x < 0:
        return 1.0 - _t_cdf(-x, df)
    u = np.linspace(0.0, x, 4001)
    log_norm = math.lgamma((df + 1) / 2) - math.lgamma(df / 2) - 0.5 * math.log(df * math.pi)
    density = np.exp(log_norm - (df + 1) / 2 * np.log1p(u * u / df))
    h = x / 4000
    integral = h / 3 * (density[0] + 4 * density[1:-1:2].sum() + 2 * density[2:-1:2].sum() + density[-1])
    return 0.5 + integral


def t_quantile(p: float, df: float) -> float:
    """The p-quantile of Student's t with df (> 0, not necessarily integer) degrees of freedom."""
    if not 0 < p < 1:
        raise ValueError(f"p must be in (0, 1), got {p}")
    if not df > 0:
        raise ValueError(f"df must be > 0, got {df}")
    if p < 0.5:
        return -t_quantile(1 - p, df)
    low, high = 0.0, 1.0
    while _t_cdf(high, df) < p:  # bracket the quantile, then bisect
        high *= 2
    for _ in range(60):
        mid = (low + high) / 2
        low, high = (mid, high) if _t_cdf(mid, df) < p else (low, mid)
    return (low + high) / 2


def mean_ci(values, level: float = 0.95) -> tuple:
    """(mean, half-width of the t confidence interval); the half-width is nan for fewer than 2 values."""
    values = np.asarray(values, dtype=float)
    if values.size == 0:
        return math.nan, math.nan
    mean = float(values.mean())
    if values.size < 2:
        return mean, math.nan
    sem = values.std(ddof=1) / math.sqrt(values.size)
    return mean, float(t_quantile(0.5 + level / 2, values.size - 1) * sem)


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
    half = t_quantile(0.5 + level / 2, df) * se
    return diff, diff - half, diff + half


# --------------------------------------------------------------------------------------------------
# Tables

def _order(name):
    return SCHEDULE_ORDER.index(name) if name in SCHEDULE_ORDER else len(SCHEDULE_ORDER)


def summarize(records, level: float = 0.95) -> list:
    """One row per (profile, data source, schedule, lr scale): finished runs' mean accuracy and its CI.

    Diverged runs are counted (``diverged``) but not averaged: they have no final accuracy.
    """
    groups = {}
    for r in records:
        key = (r["profile"], r["data_source"], r["schedule"], float(r["lr_scale"]))
        groups.setdefault(key, []).append(r)
    rows = []
    for (profile, source, schedule, scale), runs in sorted(groups.items(),
                                                           key=lambda kv: (kv[0][0], kv[0][1], _order(kv[0][2]), kv[0][3])):
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
        lines.append(f"  {'schedule':<14} {'lr scale':>8} {'peak lr':>8} {'runs':>4}  test accuracy % (mean +/- 95% CI)")
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
        text.append(f"Seed noise: the standard deviation over seeds ranges from {_pct(calmest['std'])} points "
                    f"({calmest['schedule']}) to {_pct(noisiest['std'])} ({noisiest['schedule']}), median "
                    f"{_pct(noise)}; the best and worst schedules differ by {_pct(spread)} points, "
                    f"{spread / noise:.1f} times the median noise (n = {seeds} seeds per schedule).")
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


# --------------------------------------------------------------------------------------------------
# Plots (small figures, one axis each, so notebooks can arrange them)

def _axis(ax):
    """The axes given, or a new small figure in the project's style (lrlib.plot: dpi 80, 7 x 3 in)."""
    if ax is None:
        from .plot import new_figure
        _, ax = new_figure()
    return ax


def plot_applied_lr(records, ax=None, seed=None, lr_scale=None):
    """The learning rate each update really used (read back from the optimizer), one line per schedule."""
    ax = _axis(ax)
    shown = set()
    for r in sorted(records, key=lambda r: (_order(r["schedule"]), r["seed"])):
        if r["schedule"] in shown or (seed is not None and r["seed"] != seed) or \
                (lr_scale is not None and float(r["lr_scale"]) != lr_scale):
            continue
        shown.add(r["schedule"])
        ax.plot(np.arange(len(r["lr_per_update"])), r["lr_per_update"], label=r["schedule"], lw=1.5)
    ax.set_xlabel("update")
    ax.set_ylabel("applied learning rate")
    ax.legend(fontsize=8)
    return ax


def plot_accuracy_curves(records, ax=None, lr_scale=None):
    """Test accuracy after each epoch: mean over seeds per schedule, shaded between the worst and best seed."""
    ax = _axis(ax)
    by_schedule = {}
    for r in records:
        if not r["diverged"] and (lr_scale is None or float(r["lr_scale"]) == lr_scale):
            by_schedule.setdefault(r["schedule"], []).append([e["test_accuracy"] for e in r["epochs"]])
    for name in sorted(by_schedule, key=_order):
        curves = 100 * np.asarray(by_schedule[name])
        epochs = np.arange(1, curves.shape[1] + 1)
        line, = ax.plot(epochs, curves.mean(0), marker="o", ms=3, label=name)
        ax.fill_between(epochs, curves.min(0), curves.max(0), color=line.get_color(), alpha=0.15)
        ax.set_xticks(epochs)
    ax.set_xlabel("epoch")
    ax.set_ylabel("test accuracy (%)")
    ax.legend(fontsize=8)
    return ax


def plot_lr_scale_sensitivity(rows, ax=None):
    """Mean final accuracy (with its 95% CI) against the lr scale, one line per schedule."""
    ax = _axis(ax)
    by_schedule = {}
    for r in rows:
        if r["n"]:
            by_schedule.setdefault(r["schedule"], []).append(r)
    names = sorted(by_schedule, key=_order)
    for k, name in enumerate(names):
        points = sorted(by_schedule[name], key=lambda r: r["lr_scale"])
        nudge = 1.03 ** (k - (len(names) - 1) / 2)  # side by side, so the error bars do not hide each other
        ax.errorbar([r["lr_scale"] * nudge for r in points], [100 * r["mean"] for r in points],
                    yerr=[0 if math.isnan(r["ci"]) else 100 * r["ci"] for r in points],
                    marker="o", ms=4, capsize=3, label=name)
    scales = sorted({r["lr_scale"] for r in rows})
    ax.set_xscale("log")
    ax.set_xticks(scales, [f"{x:g}" for x in scales])
    ax.minorticks_off()
    ax.set_xlabel("lr scale (peak lr / profile's peak lr)")
    ax.set_ylabel("final test accuracy (%)")
    ax.legend(fontsize=8)
    return ax


def plot_final_accuracy(rows, ax=None):
    """Final test accuracy per schedule (and lr scale): each seed as a dot, mean with its 95% CI."""
    ax = _axis(ax)
    labels = []
    for i, r in enumerate(rows):
        labels.append(r["schedule"] if len({x["lr_scale"] for x in rows}) == 1
                      else f"{r['schedule']}\nx{r['lr_scale']:g}")
        ax.plot([i - 0.12] * r["n"], 100 * np.asarray(r["accuracies"]), "o", color="0.55", ms=4)
        if r["n"]:
            ax.errorbar(i, 100 * r["mean"], yerr=0 if math.isnan(r["ci"]) else 100 * r["ci"],
                        fmt="s", color="C3", capsize=4, ms=5)
    ax.set_xticks(range(len(rows)), labels, fontsize=8)
    ax.set_ylabel("final test accuracy (%)")
    return ax
