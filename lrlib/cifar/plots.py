"""Plots of results records and summary rows: small figures, one axis each, so notebooks can arrange them.

Each function draws into the ``ax`` given, or into a new figure in the project's style
(``lrlib.notebook.plot.new_figure``), and returns the axes. matplotlib is imported only when a
figure is made here, never by importing the other ``lrlib.cifar`` modules.
"""
from __future__ import annotations

import math

import numpy as np

from .profiles import budget_label, schedule_order
from .statistics import study_finals, study_grids

__all__ = ["plot_applied_lr", "plot_accuracy_curves", "plot_lr_scale_sensitivity", "plot_final_accuracy",
           "plot_peak_robustness", "plot_budget_ranking", "plot_training_loss"]


def _axis(ax):
    """The axes given, or those of a new small figure in the project's style (dpi 80, 7 x 3 in)."""
    if ax is None:
        from lrlib.notebook.plot import new_figure
        _, ax = new_figure()
    return ax


def plot_applied_lr(records, ax=None, seed=None, lr_scale=None):
    """The learning rate each update really used (read back from the optimizer), one line per schedule."""
    ax = _axis(ax)
    shown = set()
    for r in sorted(records, key=lambda r: (schedule_order(r["schedule"]), r["seed"])):
        if r["schedule"] in shown or (seed is not None and r["seed"] != seed) or \
                (lr_scale is not None and float(r["lr_scale"]) != lr_scale):
            continue
        shown.add(r["schedule"])
        ax.plot(np.arange(len(r["lr_per_update"])), r["lr_per_update"], label=r["schedule"], lw=1.5)
    ax.set_xlabel("update")
    ax.set_ylabel("applied learning rate")
    ax.legend()
    return ax


def plot_accuracy_curves(records, ax=None, lr_scale=None):
    """Test accuracy after each epoch: mean over seeds per schedule, shaded between the worst and best seed."""
    ax = _axis(ax)
    by_schedule = {}
    for r in records:
        if not r["diverged"] and (lr_scale is None or float(r["lr_scale"]) == lr_scale):
            by_schedule.setdefault(r["schedule"], []).append([e["test_accuracy"] for e in r["epochs"]])
    for name in sorted(by_schedule, key=schedule_order):
        curves = 100 * np.asarray(by_schedule[name])
        epochs = np.arange(1, curves.shape[1] + 1)
        line, = ax.plot(epochs, curves.mean(0), marker="o", ms=5, label=name)
        ax.fill_between(epochs, curves.min(0), curves.max(0), color=line.get_color(), alpha=0.15)
        ax.set_xticks(epochs)
    ax.set_xlabel("epoch")
    ax.set_ylabel("test accuracy (%)")
    ax.legend()
    return ax


def plot_lr_scale_sensitivity(rows, ax=None):
    """Mean final accuracy (with its 95% CI) against the lr scale, one line per schedule."""
    ax = _axis(ax)
    by_schedule = {}
    for r in rows:
        if r["n"]:
            by_schedule.setdefault(r["schedule"], []).append(r)
    names = sorted(by_schedule, key=schedule_order)
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
    ax.legend()
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
    ax.set_xticks(range(len(rows)), labels)
    ax.set_ylabel("final test accuracy (%)")
    return ax


# --------------------------------------------------------------------------------------------------
# A study's records (lrlib.cifar.study)

def plot_peak_robustness(records, budget: float, arm: str = "base", schedules=None, ax=None):
    """The robustness plot of a study: mean validation accuracy of the grid runs against the peak lr
    (log scale), one line per schedule of ``arm`` at ``budget``; the peak each schedule was given (its
    best) is drawn as a large marker. A flat line tolerates a badly chosen peak; a sharp one does not."""
    ax = _axis(ax)
    rows = [g for g in study_grids(records) if g["arm"] == arm and g["budget"] == float(budget)
            and (schedules is None or g["schedule"] in schedules)]
    if not rows:
        raise ValueError(f"no grid runs of arm {arm!r} at budget {budget} in these records")
    for g in rows:
        line, = ax.plot(g["peaks"], 100 * np.asarray(g["scores"]), marker="o", ms=4, lw=1.5, label=g["schedule"])
        chosen = g["steps"].index(g["chosen"])
        # scatter, not plot: a marker drawn with plot would advance the style's colour and line-style cycle
        ax.scatter([g["peaks"][chosen]], [100 * g["scores"][chosen]], s=100, color=line.get_color(),
                   edgecolors="black", zorder=3)
    ax.set_xscale("log")
    peaks = sorted({peak for g in rows for peak in g["peaks"]})  # ticks at the peaks tried, as plain numbers
    ax.set_xticks(peaks, [f"{peak:.3g}" for peak in peaks])
    ax.minorticks_off()
    ax.set_xlabel("peak learning rate")
    ax.set_ylabel("validation accuracy (%)")
    ax.set_title(f"{arm} arm, budget {budget_label(budget)}: accuracy against the peak")
    ax.legend(ncol=2)
    return ax


def plot_budget_ranking(records, arm: str = "base", schedules=None, ax=None):
    """Final test accuracy (mean with its 95% CI over the fresh seeds, each at its own chosen peak)
    against the training budget, one line per schedule of ``arm``: where lines cross, the ranking
    depends on the budget."""
    ax = _axis(ax)
    rows = [f for f in study_finals(records) if f["arm"] == arm and (schedules is None or f["schedule"] in schedules)]
    if not rows:
        raise ValueError(f"no final runs of arm {arm!r} in these records")
    budgets = sorted({f["budget"] for f in rows})
    names = sorted({f["schedule"] for f in rows}, key=schedule_order)
    for k, name in enumerate(names):
        mine = sorted((f for f in rows if f["schedule"] == name), key=lambda f: f["budget"])
        x = [budgets.index(f["budget"]) + 0.06 * (k - (len(names) - 1) / 2) for f in mine]  # side by side
        ci = [0 if math.isnan(f["ci"]) else 100 * f["ci"] for f in mine]
        ax.errorbar(x, [100 * f["mean"] for f in mine], yerr=ci, marker="o", ms=5, capsize=3, lw=1.5, label=name)
    ax.set_xticks(range(len(budgets)), [budget_label(b) for b in budgets])
    ax.set_xlabel("training budget (fraction of the profile's epochs)")
    ax.set_ylabel("test accuracy (%)")
    ax.legend(ncol=2)
    return ax


def plot_training_loss(records, ax=None, window: int = 25, label=None):
    """The training loss of every update, as a moving average over ``window`` updates, one line per
    record (labelled by ``label(record)``, default: schedule, peak lr and seed)."""
    ax = _axis(ax)
    label = label or (lambda r: f"{r['schedule']}, peak {r['peak_lr']:.3g}, seed {r['seed']}")
    for r in records:
        loss = np.array([np.nan if v is None else v for v in r["loss_per_update"]], dtype=float)
        w = max(1, min(window, len(loss)))
        smooth = np.convolve(loss, np.ones(w) / w, mode="valid")
        ax.plot(np.arange(w - 1, len(loss)), smooth, lw=1.5, label=label(r))
    ax.set_xlabel("update")
    ax.set_ylabel(f"training loss ({window}-update average)")
    ax.legend()
    return ax
