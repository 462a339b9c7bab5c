"""Plotting helpers shared by every notebook.

Every helper draws into an ``ax`` you pass, or creates a figure in the project's style
(``STYLE``), and returns the axes it drew on; in a notebook the inline backend shows the figure
once, at the end of the cell. Figures are created with ``matplotlib.pyplot`` so the inline backend
displays them. The only helper that displays a figure itself, ``show``, closes it afterwards, so a
figure is never shown twice.
"""
from __future__ import annotations

from typing import Callable, Mapping, Sequence

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
from cycler import cycler

from ..checks import check_int
from ..reference import relative_difference

__all__ = ["DPI", "FIGSIZE", "PANEL_WIDTH", "STYLE", "style", "styled", "new_figure", "show", "plot_schedule",
           "plot_schedules", "plot_lr_and_loss", "plot_training_runs", "plot_vs_torch", "moving_average",
           "label_schedule_axes", "plot_range_test"]

DPI = 80                # an 8.5 x 3.8 inch figure is 680 x 304 pixels
FIGSIZE = (8.5, 3.8)    # one panel; wider figures for several panels, see new_figure
PANEL_WIDTH = 5.5       # inches per panel of a figure with several columns

# rcParams shared by all notebooks, kept in one place so every figure looks the same: text of
# 11-12 pt (legible on a projector at 100% zoom) and 20 distinct line styles (the 10 colours of
# tab10 solid, then dashed) before any repeats.
STYLE = {
    "figure.dpi": DPI,
    "savefig.dpi": DPI,
    "figure.figsize": FIGSIZE,
    "font.size": 12,
    "axes.titlesize": 12,
    "axes.labelsize": 12,
    "legend.fontsize": 11,
    "xtick.labelsize": 11,
    "ytick.labelsize": 11,
    "figure.titlesize": 13,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "lines.linewidth": 2.0,
    "axes.prop_cycle": cycler(linestyle=["-", "--"]) * cycler(color=mpl.colormaps["tab10"].colors),
}


def style() -> None:
    """Apply the project's rcParams (``STYLE``). Call once per notebook."""
    mpl.rcParams.update(STYLE)


def styled():
    """``with plot.styled(): ...``: artists made inside get the project's style, rcParams unchanged."""
    return mpl.rc_context(STYLE)


def new_figure(ncols: int = 1, figsize: tuple[float, float] | None = None, nrows: int = 1):
    """A figure with ``nrows x ncols`` panels, returned as ``(fig, ax)`` or ``(fig, axes_array)``.

    The default width is ``FIGSIZE[0]`` for one panel and ``PANEL_WIDTH`` per panel beyond, the height
    ``FIGSIZE[1]`` per row. The dpi is always ``DPI``, whatever the rcParams say (the inline backend may
    have reset them).
    """
    if figsize is None:
        width = FIGSIZE[0] if ncols == 1 else PANEL_WIDTH * ncols
        figsize = (width, FIGSIZE[1] * nrows)
    # constrained layout keeps tick labels and legends inside the small figure
    fig, axes = plt.subplots(nrows, ncols, figsize=figsize, dpi=DPI, layout="constrained",
                             squeeze=True)
    return fig, axes


def show(fig) -> None:
    """Display ``fig`` now and close it, so the inline backend does not show it a second time."""
    from IPython.display import display
    display(fig)
    plt.close(fig)


def _axes_or_new(ax):
    """The axes to draw on: the one given, or the single panel of a new figure."""
    if ax is not None:
        return ax
    _, ax = new_figure()
    return ax


def label_schedule_axes(ax, logy: bool = False, title: str | None = None) -> None:
    """Label a learning-rate plot: update t across, learning rate up (log scale with ``logy``)."""
    ax.set_xlabel("update t")
    ax.set_ylabel("learning rate")
    if logy:
        ax.set_yscale("log")
        ax.autoscale(axis="y")
    if title:
        ax.set_title(title)


def _start_y_at_zero(ax, line) -> None:
    """Make the y range start exactly at 0, keeping autoscaling on for curves drawn later.

    Learning rates are >= 0 and a zero baseline shows how far they decay. ``ax.set_ylim(bottom=0)``
    would freeze the top too, clipping a higher curve added afterwards.
    """
    if ax.get_yscale() != "linear":
        return
    line.sticky_edges.y.append(0.0)  # no margin below 0
    ax.update_datalim([(0.0, 0.0)])   # 0 belongs to the range even if every rate is > 0
    ax.autoscale_view()


# --------------------------------------------------------------------------------------------------
# Schedules

def plot_schedule(schedule: Callable, steps: int, ax=None, label: str | None = None, **line_kwargs):
    """Draw ``schedule(t)`` for t = 0 .. steps-1 and return the axes.

    The schedule is evaluated once, on the whole array ``np.arange(steps)`` (lrlib schedules are
    vectorized). ``label`` defaults to the schedule's repr, e.g. ``step_decay(lr=0.1, ...)``;
    ``line_kwargs`` go to ``ax.plot`` (color, linestyle, ...).
    """
    steps = check_int("steps", steps, 1)
    ax = _axes_or_new(ax)
    t = np.arange(steps)
    (line,) = ax.plot(t, schedule(t), label=repr(schedule) if label is None else label, **line_kwargs)
    _start_y_at_zero(ax, line)
    label_schedule_axes(ax, logy=ax.get_yscale() == "log")
    return ax


def plot_schedules(schedules: Mapping[str, Callable], steps: int, ax=None, title: str | None = None,
                   logy: bool = False):
    """Overlay several schedules (``{legend label: schedule}``) over the same ``steps`` updates."""
    ax = _axes_or_new(ax)
    for label, schedule in schedules.items():
        plot_schedule(schedule, steps, ax=ax, label=label)
    label_schedule_axes(ax, logy=logy)
    if title:
        ax.set_title(title)
    ax.legend()
    return ax


# --------------------------------------------------------------------------------------------------
# Training curves

def moving_average(values: Sequence[float], window: int) -> np.ndarray:
    """Mean of each run of ``window`` consecutive values (shorter at the start, so the length stays).

    Per-update losses are noisy; a moving average shows the trend a learning-rate change causes.
    """
    values = np.asarray(values, dtype=np.float64)
    if window <= 1 or values.size == 0:
        return values
    sums = np.cumsum(np.insert(values, 0, 0.0))
    ends = np.arange(1, values.size + 1)
    starts = np.maximum(ends - window, 0)
    return (sums[ends] - sums[starts]) / (ends - starts)


def plot_lr_and_loss(lrs: Sequence[float], losses: Sequence[float], ax=None, title: str | None = None,
                     smooth: int = 1, logy_loss: bool = False):
    """Training loss (left axis) and learning rate (right axis) against the update index.

    ``lrs[t]`` and ``losses[t]`` belong to update t. With ``smooth > 1`` the raw loss is drawn faintly
    and its moving average over ``smooth`` updates on top. Returns ``(loss_ax, lr_ax)``.
    """
    loss_ax = _axes_or_new(ax)
    t = np.arange(len(losses))
    loss_color, lr_color = "C0", "C1"
    if smooth > 1:
        loss_ax.plot(t, losses, color=loss_color, alpha=0.25, linewidth=0.8)
        loss_ax.plot(t, moving_average(losses, smooth), color=loss_color, label="loss")
    else:
        loss_ax.plot(t, losses, color=loss_color, label="loss")
    loss_ax.set_xlabel("update t")
    loss_ax.set_ylabel("training loss", color=loss_color)
    if logy_loss:
        loss_ax.set_yscale("log")

    lr_ax = loss_ax.twinx()
    (lr_line,) = lr_ax.plot(np.arange(len(lrs)), lrs, color=lr_color, label="learning rate")
    lr_ax.set_ylabel("learning rate", color=lr_color)
    _start_y_at_zero(lr_ax, lr_line)
    lr_ax.grid(False)  # one grid (the loss axis's) is enough
    lr_ax.spines["right"].set_visible(True)
    if title:
        loss_ax.set_title(title)
    return loss_ax, lr_ax


def _epoch_ends(history: Mapping, n_epochs: int) -> np.ndarray:
    """Update index at the end of each epoch, where per-epoch values (val_loss, ...) are drawn."""
    steps_per_epoch = history.get("steps_per_epoch")
    if steps_per_epoch is None:
        # Without it, spread the epochs evenly over the recorded updates.
        steps_per_epoch = len(history["loss"]) / max(n_epochs, 1)
    return np.arange(1, n_epochs + 1) * steps_per_epoch


def plot_training_runs(histories: Mapping[str, Mapping], title: str | None = None, smooth: int = 1,
                       logy_loss: bool = False, axes=None):
    """Compare training runs: loss curves in the left panel, learning rates in the right one.

    A history is a dict with per-update lists ``"lr"`` and ``"loss"`` and optionally per-epoch
    ``"val_loss"`` (drawn dashed with markers on the loss panel, same color as the run) and
    ``"val_acc"`` (a third panel), placed at epoch ends using ``"steps_per_epoch"``.
    Returns the array of axes.
    """
    has_acc = any("val_acc" in h for h in histories.values())
    if axes is None:
        _, axes = new_figure(ncols=3 if has_acc else 2)
    loss_ax, lr_ax = axes[0], axes[1]

    for i, (name, history) in enumerate(histories.items()):
        color = f"C{i % 10}"
        losses = history["loss"]
        loss_ax.plot(np.arange(len(losses)), moving_average(losses, smooth), color=color, label=name)
        if "val_loss" in history:
            ends = _epoch_ends(history, len(history["val_loss"]))
            loss_ax.plot(ends, history["val_loss"], color=color, linestyle="--", marker="o",
                         markersize=5)
        (lr_line,) = lr_ax.plot(np.arange(len(history["lr"])), history["lr"], color=color, label=name)
        _start_y_at_zero(lr_ax, lr_line)
        if has_acc and "val_acc" in history:
            ends = _epoch_ends(history, len(history["val_acc"]))
            axes[2].plot(ends, history["val_acc"], color=color, marker="o", markersize=5, label=name)

    loss_ax.set_xlabel("update t")
    loss_ax.set_ylabel("loss (dashed: validation)" if any("val_loss" in h for h in histories.values())
                       else "training loss")
    if logy_loss:
        loss_ax.set_yscale("log")
    loss_ax.legend()
    label_schedule_axes(lr_ax)
    if has_acc:
        axes[2].set_xlabel("update t")
        axes[2].set_ylabel("validation accuracy")
    if title:
        loss_ax.figure.suptitle(title)
    return axes


# --------------------------------------------------------------------------------------------------
# lrlib against PyTorch

def plot_vs_torch(schedule: Callable, torch_lrs: Sequence[float], axes=None, title: str | None = None,
                  torch_label: str = "PyTorch"):
    """lrlib's curve against the rates a PyTorch scheduler applied, and their relative difference.

    ``torch_lrs[t]`` is the learning rate PyTorch used for update t (read from
    ``optimizer.param_groups[0]["lr"]`` before each ``optimizer.step()``). Left panel: both curves
    (PyTorch as dots on top of lrlib's line). Right panel: ``|lrlib - torch| / |torch|`` per update; the
    title gives its maximum, a few 1e-16 meaning "equal up to rounding". Returns the two axes.
    """
    torch_lrs = np.asarray(torch_lrs, dtype=np.float64)
    t = np.arange(len(torch_lrs))
    ours = schedule(t)
    if axes is None:
        _, axes = new_figure(ncols=2)
    curve_ax, diff_ax = axes[0], axes[1]

    (our_line,) = curve_ax.plot(t, ours, label="lrlib")
    _start_y_at_zero(curve_ax, our_line)
    marker_every = max(1, len(t) // 60)  # at most ~60 dots, so the line stays visible
    curve_ax.plot(t, torch_lrs, linestyle="none", marker=".", markevery=marker_every, color="C3",
                  label=torch_label)
    label_schedule_axes(curve_ax)
    curve_ax.legend()
    curve_ax.set_title(title if title else repr(schedule), fontsize=11)

    rel = relative_difference(ours, torch_lrs)
    diff_ax.plot(t, rel, color="C2")
    diff_ax.set_xlabel("update t")
    diff_ax.set_ylabel("relative difference")
    diff_ax.set_title(f"max relative difference = {np.max(rel) if rel.size else 0.0:.1e}")
    return axes


# --------------------------------------------------------------------------------------------------
# The learning-rate range test

def plot_range_test(result, ax=None, title: str | None = None):
    """Loss against rate (log axis) of a ``lrlib.RangeTestResult``: raw losses faint, smoothed on
    top, the two suggestions as vertical lines, the smoothed minimum as a dot, the divergence point
    as a dotted line. Returns the axes."""
    ax = _axes_or_new(ax)
    lrs, finite = result.lrs, np.isfinite(result.losses)
    ax.plot(lrs[finite], result.losses[finite], color="C0", alpha=0.3, linewidth=0.8, label="minibatch loss")
    ok = np.isfinite(result.smoothed)
    ax.plot(lrs[ok], result.smoothed[ok], color="C0", label="smoothed loss")
    for value, name, color in ((result.suggestion_min_over_10, "min / 10", "C2"),
                               (result.suggestion_steepest, "steepest", "C1")):
        if value is not None:
            ax.axvline(value, color=color, linestyle="--", linewidth=1.2, label=f"{name}: {value:.2g}")
    if result.min_at is not None:
        ax.plot([lrs[result.min_at]], [result.smoothed[result.min_at]], "o", color="C3", markersize=4,
                label=f"minimum at lr {lrs[result.min_at]:.2g}")
    if result.diverged_at is not None:
        ax.axvline(lrs[result.diverged_at], color="C3", linewidth=0.8, linestyle=":",
                   label=f"stopped (diverged) at lr {lrs[result.diverged_at]:.2g}")
    ax.set_xscale("log")
    ax.set_xlabel("learning rate (log scale)")
    ax.set_ylabel("training loss")
    # Show the interesting part: from below the best loss to a little above the starting loss.
    body = result.smoothed[ok]
    if body.size:
        ax.set_ylim(0, max(float(body[0]), float(np.nanmin(body))) * 1.6)
    ax.legend(loc="upper left")
    if title:
        ax.set_title(title)
    return ax
