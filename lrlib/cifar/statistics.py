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

A study (``lrlib.cifar.study``) runs every schedule with the same final seeds, so its comparisons are
paired: the differences d_i = a_i - b_i of the seeds give d̄ ± t_{(1+level)/2, n-1} s_d/√n and the
paired t-test's two-sided p-value (``scipy.stats.ttest_rel``). The study makes many comparisons, so
their p-values are corrected with Holm's step-down method before a "beats" is claimed: among m
comparisons, the chance of any false claim stays below alpha.
"""
from __future__ import annotations

import math

import numpy as np
from scipy import stats

from lrlib.checks import check_factor
from lrlib.notebook.statistics import mean_ci, paired_comparison

from .plan import best_step, score
from .profiles import QUESTIONS, budget_label, schedule_order

__all__ = ["mean_ci", "welch_difference", "summarize", "format_table", "best_scales", "compare", "conclusions",
           "holm", "paired_comparison", "study_grids", "study_finals", "study_comparisons", "format_study_report"]


def _half_width(se: float, df: float, level: float) -> float:
    """t_{(1+level)/2, df} x se: the half-width of a two-sided t interval at confidence ``level``."""
    level = check_factor("level", level, 0.0, 1.0, high_open=True)
    return float(stats.t.ppf(0.5 + level / 2, df) * se)


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


# --------------------------------------------------------------------------------------------------
# A study: its grids, its final runs, and paired comparisons with Holm's correction

def holm(p_values) -> np.ndarray:
    """Holm's adjusted p-values, in the order given. With the m p-values sorted, p_(1) <= ... <= p_(m),
    the adjusted p_(i) = max_{j <= i} min(1, (m - j + 1) p_(j)); claiming the comparisons whose adjusted
    p-value is below alpha makes any false claim among all m less likely than alpha."""
    p = np.asarray(p_values, dtype=float)
    order = np.argsort(p, kind="stable")
    adjusted = np.empty_like(p)
    adjusted[order] = np.minimum(1.0, np.maximum.accumulate((p.size - np.arange(p.size)) * p[order]))
    return adjusted


def _study_order(key):
    arm, budget, schedule = key
    return budget, arm, schedule_order(schedule)


def _groups(records, phase):
    """{(arm, budget, schedule): [records]} of one phase."""
    groups = {}
    for r in records:
        if r["phase"] == phase:
            groups.setdefault((r["arm"], float(r["budget"]), r["schedule"]), []).append(r)
    return groups


def study_grids(records) -> list:
    """One row per (arm, budget, schedule) of a study's grid runs: the ``steps`` tried, their ``peaks``,
    each one's mean validation accuracy over its seeds (``scores``; a diverged run scores chance, see
    ``plan.score``), the ``seeds`` and ``diverged`` runs per step, the ``chosen`` step (``plan.best_step``,
    as the study chose) and whether it sits at an edge of the grid (``at_edge``: the grid ran out of
    extensions with the best peak at its end, so the optimum may lie beyond)."""
    rows = []
    for (arm, budget, schedule), runs in sorted(_groups(records, "grid").items(), key=lambda kv: _study_order(kv[0])):
        by_step = {}
        for r in runs:
            by_step.setdefault(int(r["peak_step"]), []).append(r)
        steps = sorted(by_step)
        means = {k: float(np.mean([score(r) for r in by_step[k]])) for k in steps}
        chosen = best_step(means)
        rows.append(dict(arm=arm, budget=budget, schedule=schedule, steps=steps,
                         peaks=[by_step[k][0]["peak_lr"] for k in steps], scores=[means[k] for k in steps],
                         seeds=[len(by_step[k]) for k in steps],
                         diverged=[sum(r["diverged"] for r in by_step[k]) for k in steps],
                         chosen=chosen, at_edge=chosen in (steps[0], steps[-1]),
                         updates=runs[0]["updates"], batch=runs[0]["global_batch_size"]))
    return rows


def study_finals(records, level: float = 0.95) -> list:
    """One row per (arm, budget, schedule) of a study's final runs: the ``seeds``, each one's test
    accuracy (``accuracies``; a diverged run counts at chance, see ``plan.score``), ``n``, ``diverged``,
    the ``mean`` and the half-width ``ci`` of its t interval, and the peak they ran at."""
    rows = []
    for (arm, budget, schedule), runs in sorted(_groups(records, "final").items(), key=lambda kv: _study_order(kv[0])):
        runs = sorted(runs, key=lambda r: r["seed"])
        accuracies = [score(r) for r in runs]
        mean, half = mean_ci(accuracies, level)
        rows.append(dict(arm=arm, budget=budget, schedule=schedule, seeds=[r["seed"] for r in runs],
                         accuracies=accuracies, n=len(runs), diverged=sum(r["diverged"] for r in runs),
                         mean=mean, ci=half, peak_lr=runs[0]["peak_lr"], peak_step=runs[0]["peak_step"],
                         updates=runs[0]["updates"], batch=runs[0]["global_batch_size"]))
    return rows


def _paired_verdict(c, alpha, level) -> str:
    """ "X beats Y by d points (CI; p)" when the Holm-adjusted p-value is below alpha, else "not distinguishable"."""
    a, b, ci = c["a"], c["b"], f"{level:.0%} CI"
    if c["p_holm"] < alpha:
        sign = 1 if c["diff"] > 0 else -1
        winner, loser = (a, b) if sign > 0 else (b, a)
        low, high = sorted((sign * c["low"], sign * c["high"]))
        return (f"{winner} beats {loser} by {_pct(abs(c['diff']))} points ({ci} {_pct(low)} to {_pct(high)}, "
                f"Holm-adjusted p = {c['p_holm']:.2g})")
    return (f"{a} and {b} are not distinguishable ({a} - {b} = {100 * c['diff']:+.2f} points, {ci} "
            f"{_pct(c['low'])} to {_pct(c['high'])}, Holm-adjusted p = {c['p_holm']:.2g})")


def study_comparisons(records, questions=QUESTIONS, level: float = 0.95, alpha: float = 0.05) -> list:
    """The study's paired comparisons: each question (``profiles.QUESTIONS``) at every budget where both
    of its schedules have final runs, over the seeds they share (``paired_comparison``); the p-values of
    all the comparisons made are Holm-adjusted together (``p_holm``), and ``sentence`` states the verdict:
    "beats" when p_holm < alpha, else "not distinguishable"."""
    alpha = check_factor("alpha", alpha, 0.0, 1.0, high_open=True)
    finals = {(r["arm"], r["budget"], r["schedule"]): r for r in study_finals(records, level)}
    made = []
    for budget in sorted({budget for _, budget, _ in finals}):
        for question in questions:
            rows = [finals.get((question.arm, budget, name)) for name in (question.a, question.b)]
            if None in rows:
                continue
            a, b = (dict(zip(row["seeds"], row["accuracies"], strict=True)) for row in rows)
            seeds = sorted(set(a) & set(b))
            if len(seeds) < 2:
                continue
            c = paired_comparison([a[s] for s in seeds], [b[s] for s in seeds], level)
            made.append(dict(c, a=question.a, b=question.b, arm=question.arm, budget=budget, asks=question.asks))
    for c, adjusted in zip(made, holm([c["p"] for c in made]), strict=True):
        c["p_holm"] = float(adjusted)
        c["sentence"] = _paired_verdict(c, alpha, level)
    return made


def _budget_text(budget, epochs, updates, batch) -> str:
    span = budget * epochs
    return (f"budget {budget_label(budget)} ({span:g} epoch{'s' * (span != 1)}: {updates} "
            f"updates of batch {batch})")


def format_study_report(records, level: float = 0.95, alpha: float = 0.05) -> str:
    """A study's report as text: every grid (mean validation accuracy per peak, the chosen one in brackets),
    the final runs ranked per budget and arm (test accuracy mean +/- CI over the fresh seeds), and the
    paired comparisons with Holm-adjusted p-values."""
    if not records:
        return "No runs recorded in this study."
    first = records[0]
    epochs = first["profile_settings"]["epochs"]
    grid_runs = sum(r["phase"] == "grid" for r in records)
    lines = [f"Study of profile {first['profile']} on {first['data_source']}: {grid_runs} grid runs scored on the "
             f"validation split, {len(records) - grid_runs} final runs scored on the test set.", "",
             "Peak grids: validation accuracy % per peak lr (mean over the grid seeds), [chosen]:"]
    heading = None
    for g in study_grids(records):
        if (g["budget"], g["arm"]) != heading:
            heading = g["budget"], g["arm"]
            lines.append(f"  {g['arm']} arm, {_budget_text(g['budget'], epochs, g['updates'], g['batch'])}")
        cells = []
        for k, peak, mean, diverged in zip(g["steps"], g["peaks"], g["scores"], g["diverged"], strict=True):
            cell = f"{peak:.3g}: {_pct(mean, 1)}" + (f" ({diverged} diverged)" if diverged else "")
            cells.append(f"[{cell}]" if k == g["chosen"] else cell)
        edge = "  (best at the grid's edge: the optimum may lie beyond)" if g["at_edge"] else ""
        lines.append(f"    {g['schedule']:<24} " + "  ".join(cells) + edge)
    finals = study_finals(records, level)
    if finals:
        lines += ["", f"Final runs: test accuracy % (mean +/- {level:.0%} CI over the fresh seeds) at each "
                      f"chosen peak, best first:"]
        for budget, arm in dict.fromkeys((f["budget"], f["arm"]) for f in finals):
            rows = sorted((f for f in finals if (f["budget"], f["arm"]) == (budget, arm)), key=lambda f: -f["mean"])
            lines.append(f"  {arm} arm, {_budget_text(budget, epochs, rows[0]['updates'], rows[0]['batch'])}")
            for f in rows:
                diverged = f"  ({f['diverged']} diverged, counted at chance)" if f["diverged"] else ""
                lines.append(f"    {f['schedule']:<24} {_pct(f['mean']):>6} +/- {_pct(f['ci'])}  "
                             f"(peak lr {f['peak_lr']:.3g}, {f['n']} seeds){diverged}")
    comparisons = study_comparisons(records, level=level, alpha=alpha)
    if comparisons:
        lines += ["", f"Comparisons: paired over the same seeds, Holm-adjusted over the {len(comparisons)} made "
                      f"(a claim needs adjusted p < {alpha:g}):"]
        for c in comparisons:
            budget = budget_label(c["budget"])
            lines.append(f"  budget {budget}, {c['asks']}: {c['sentence']}.")
    return "\n".join(lines)
