"""Plots of results records and summary rows: small figures, one axis each, so notebooks can arrange them.

Each function draws into the ``ax`` given, or into a new figure in the project's style
(``lrlib.notebook.plot.new_figure``), and returns the axes. matplotlib is imported only when a
figure is made here, never by importing the other ``lrlib.cifar`` modules.
"""
from __future__ import annotations

import math

import numpy as np

from .profiles import schedule_order

__all__ = ["plot_applied_lr", "plot_accuracy_curves", "plot_lr_scale_sensitivity", "plot_final_accuracy"]


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
