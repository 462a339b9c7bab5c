"""The learning-rate range test: how large a rate can this model and optimizer take?

Smith (2017, "Cyclical Learning Rates for Training Neural Networks") trains for a few hundred updates
while the rate grows from a tiny to a huge value, and reads the usable range off the curve of loss
against rate: the loss barely moves at first, falls fastest somewhere in the middle, reaches a
minimum, then blows up. fastai's ``lr_find`` made the test popular; it grows the rate geometrically
(equal factors per update, so every decade gets the same number of updates), smooths the loss with a
bias-corrected exponential moving average (beta = 0.98) and stops once the smoothed loss exceeds 4x
the best seen. ``range_test`` does the same, on any model, loss, batches and optimizer:

* the rate of update t is ``start_lr * (end_lr / start_lr) ** (t / (steps - 1))``
  (``exponential_range``), set in the optimizer before the update and read back from it, so
  ``result.lrs`` are the rates actually applied;
* ``result.losses[t]`` is the minibatch loss computed just before update t (with the weights that
  updates 0..t-1 produced), ``result.smoothed[t]`` its bias-corrected moving average;
* a smoothed loss above ``diverge_factor`` x the best one, or a non-finite loss, ends the test
  (``result.diverged_at`` is that update; it is recorded, not raised);
* afterwards the model's and the optimizer's ``state_dict`` (weights, momentum buffers, rates) and
  torch's global random state are restored exactly: the test leaves nothing trained.

Two suggestions for ``max_lr`` are reported, both from the smoothed curve:

* ``suggestion_min_over_10``: the rate at the minimum of the smoothed loss, divided by 10. At the
  minimum the rate is already at the edge of stability (a little more and the loss rises); one
  decade below lies safely on the descending part of the curve. Conservative and robust to noise,
  because a minimum is well defined even on a bumpy curve. fastai's ``lr_min`` rule.
* ``suggestion_steepest``: the rate where the smoothed loss falls fastest per decade of rate (the
  most negative slope d loss / d log10(lr)), searched between the first tenth of the test (where the
  moving average is still settling) and the minimum. This is where one more decade of rate buys the
  most progress; fastai's ``steep`` rule. A derivative of a noisy curve, so it can jump.

Neither is a law: they bracket the region to try. ``suggestion_min_over_10`` is what the notebooks
use as ``max_lr`` for one-cycle (notebook 08 also trains at 1/10x and 10x of it, to show the choice
matters).
"""
from __future__ import annotations

import copy
import math
import numbers
from dataclasses import dataclass, field
from collections.abc import Iterator
from typing import Callable, Iterable

import numpy as np

from .schedules import Schedule

__all__ = ["exponential_range", "range_test", "RangeTestResult", "range_test_digits"]


# --------------------------------------------------------------------------------------------------
# The increasing rate

def _check_positive(name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    value = float(value)
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a finite number > 0, got {value}")
    return value


def _check_steps(steps):
    if isinstance(steps, bool) or not isinstance(steps, numbers.Integral):
        raise TypeError(f"steps must be an integer, got {type(steps).__name__}")
    if steps < 2:
        raise ValueError(f"steps must be an integer >= 2 (the test needs a start and an end), got {steps}")
    return int(steps)


def exponential_range(start_lr: float, end_lr: float, steps: int) -> Schedule:
    """The rising rate of the range test: start_lr * (end_lr / start_lr) ** (t / (steps - 1)).

    Update 0 uses ``start_lr``, update ``steps - 1`` uses ``end_lr``, and each update multiplies the
    rate by the same factor ``(end_lr / start_lr) ** (1 / (steps - 1))``; after ``steps - 1`` it holds
    ``end_lr``. Not a decay: it is an lrlib ``Schedule`` only so that it can be plotted and driven
    like one (``lrlib.to_torch``).
    """
    start_lr = _check_positive("start_lr", start_lr)
    end_lr = _check_positive("end_lr", end_lr)
    if end_lr <= start_lr:
        raise ValueError(f"end_lr must be > start_lr = {start_lr}, got {end_lr}")
    steps = _check_steps(steps)
    log_start, log_ratio = math.log(start_lr), math.log(end_lr / start_lr)

    def formula(t):
        return np.exp(log_start + log_ratio * np.minimum(t, steps - 1) / (steps - 1))
    return Schedule("exponential_range", dict(start_lr=start_lr, end_lr=end_lr, steps=steps),
                    formula, (start_lr, end_lr))


# --------------------------------------------------------------------------------------------------
# The result

@dataclass
class RangeTestResult:
    """What a range test recorded, one entry per update tried.

    ``lrs[t]``: the rate of update t, read from the optimizer (first parameter group).
    ``losses[t]``: the minibatch loss computed before update t (NaN/inf recorded as they came).
    ``smoothed[t]``: bias-corrected exponential moving average of ``losses[:t+1]``.
    ``diverged_at``: the update at which the test stopped for divergence (no update was made there),
    or None if it ran all ``steps``. ``suggestion_min_over_10`` and ``suggestion_steepest``: see the
    module docstring; None when the curve is too short to tell (fewer than 5 finite points).
    """
    lrs: np.ndarray
    losses: np.ndarray
    smoothed: np.ndarray
    diverged_at: int | None
    suggestion_min_over_10: float | None
    suggestion_steepest: float | None
    min_at: int | None = None        # update of the smoothed minimum
    steepest_at: int | None = None   # update of the steepest descent
    params: dict = field(default_factory=dict)

    @property
    def lr_at_min(self) -> float | None:
        return None if self.min_at is None else float(self.lrs[self.min_at])

    def summary(self) -> str:
        """One line per fact, numbers to 2 significant digits (stable text for notebooks)."""
        fmt = lambda x: "none" if x is None else f"{x:.2g}"
        stop = ("ran all updates" if self.diverged_at is None else
                f"diverged at update {self.diverged_at} (lr {self.lrs[self.diverged_at]:.2g})")
        return (f"updates tried: {len(self.lrs)}; {stop}\n"
                f"smoothed loss minimum: {fmt(self.smoothed[self.min_at]) if self.min_at is not None else 'none'}"
                f" at lr {fmt(self.lr_at_min)}\n"
                f"suggestion (min / 10):  {fmt(self.suggestion_min_over_10)}\n"
                f"suggestion (steepest):  {fmt(self.suggestion_steepest)}")

    def plot(self, ax=None, title: str | None = None):
        """Loss against rate (log axis): raw minibatch losses faint, smoothed on top, the two
        suggestions as vertical lines, the divergence point as a cross. Returns the axes."""
        return plot_range_test(self, ax=ax, title=title)


def plot_range_test(result: RangeTestResult, ax=None, title: str | None = None):
    """Draw a ``RangeTestResult`` (see ``RangeTestResult.plot``)."""
    from . import plot
    if ax is None:
        _, ax = plot.new_figure()
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
        top = max(float(body[0]), float(np.nanmin(body))) * 1.6
        ax.set_ylim(0, top)
    ax.legend(loc="upper left")
    if title:
        ax.set_title(title)
    return ax


# --------------------------------------------------------------------------------------------------
# The test

def _batch_stream(batches):
    """Yield (x, y) pairs: an iterable (list, DataLoader) is iterated again when a pass ends and a
    callable called again; a one-shot iterator (a generator object) simply ends when exhausted."""
    if isinstance(batches, Iterator):
        yield from batches
        return
    if hasattr(batches, "__iter__"):
        make = lambda: batches
    elif callable(batches):
        make = batches
    else:
        raise TypeError(f"batches must be an iterable of (x, y) or a callable returning one, "
                        f"got {type(batches).__name__}")
    while True:
        empty = True
        for batch in make():
            empty = False
            yield batch
        if empty:
            raise ValueError("batches yielded no (x, y) pair")


def _smooth(losses: np.ndarray, beta: float) -> np.ndarray:
    """avg_t = beta * avg_{t-1} + (1 - beta) * loss_t, avg_{-1} = 0, divided by 1 - beta^(t+1)."""
    out, avg = np.empty(len(losses)), 0.0
    for t, loss in enumerate(losses):
        avg = beta * avg + (1.0 - beta) * loss
        out[t] = avg / (1.0 - beta ** (t + 1))
    return out


def suggest(lrs, smoothed, diverged_at=None):
    """(min_at, steepest_at) for a smoothed loss curve; None where there are too few finite points."""
    lrs, smoothed = np.asarray(lrs, dtype=np.float64), np.asarray(smoothed, dtype=np.float64)
    end = len(smoothed) if diverged_at is None else diverged_at  # the diverged point is not a candidate
    finite = np.isfinite(smoothed[:end])
    n = int(np.argmin(finite)) if not finite.all() else end      # the finite prefix
    if n < 5:
        return None, None
    curve, log_lr = smoothed[:n], np.log10(lrs[:n])
    min_at = int(np.argmin(curve))
    skip = max(1, n // 10)  # the moving average still settles over the first updates
    if min_at - skip < 2:
        return min_at, None
    slopes = np.diff(curve) / np.diff(log_lr)          # slope between t and t+1
    window = slopes[skip:min_at]
    steepest_at = skip + int(np.argmin(window))
    return min_at, steepest_at


def range_test(model, loss_fn: Callable, batches: Iterable | Callable, optimizer, start_lr: float = 1e-5,
               end_lr: float = 10.0, steps: int = 100, smooth: float = 0.98,
               diverge_factor: float = 4.0) -> RangeTestResult:
    """Run the learning-rate range test and restore the model and optimizer afterwards.

    ``model``: a torch module; ``loss_fn(model(x), y)`` a scalar loss; ``batches``: an iterable of
    ``(x, y)`` (a list or DataLoader is iterated again when exhausted) or a callable returning such an
    iterable (called again for each pass); ``optimizer``: built on ``model``'s parameters, with any
    settings (momentum, weight decay) you will train with. Its rate is overwritten at every update:
    every parameter group gets ``exponential_range(start_lr, end_lr, steps)(t)`` times its ratio to
    the first group's rate (discriminative rates keep their proportions).

    ``smooth``: beta of the moving average, in [0, 1) (0 = no smoothing). ``diverge_factor``: stop
    when the smoothed loss exceeds this multiple of the best smoothed loss (> 1).
    """
    import torch

    schedule = exponential_range(start_lr, end_lr, steps)
    steps = schedule.params["steps"]
    if isinstance(smooth, bool) or not isinstance(smooth, numbers.Real) or not 0.0 <= smooth < 1.0:
        raise ValueError(f"smooth must be a number in [0, 1), got {smooth!r}")
    if (isinstance(diverge_factor, bool) or not isinstance(diverge_factor, numbers.Real)
            or not math.isfinite(diverge_factor) or diverge_factor <= 1.0):
        raise ValueError(f"diverge_factor must be a finite number > 1, got {diverge_factor!r}")
    if not callable(loss_fn):
        raise TypeError(f"loss_fn must be callable, got {type(loss_fn).__name__}")
    if not isinstance(optimizer, torch.optim.Optimizer):
        raise TypeError(f"optimizer must be a torch.optim.Optimizer, got {type(optimizer).__name__}")

    first_lr = optimizer.param_groups[0]["lr"]
    ratios = [group["lr"] / first_lr if first_lr else 1.0 for group in optimizer.param_groups]
    saved_model = copy.deepcopy(model.state_dict())
    saved_optimizer = copy.deepcopy(optimizer.state_dict())
    saved_rng = torch.get_rng_state()
    was_training = model.training

    lrs, losses, smoothed = [], [], []
    avg, best, diverged_at = 0.0, math.inf, None
    try:
        model.train()
        stream = _batch_stream(batches)
        for t in range(steps):
            try:
                x, y = next(stream)
            except StopIteration:
                break
            lr = schedule(t)
            for group, ratio in zip(optimizer.param_groups, ratios):
                group["lr"] = lr * ratio
            loss = loss_fn(model(x), y)
            value = float(loss.item())
            lrs.append(optimizer.param_groups[0]["lr"])  # what the update below uses
            losses.append(value)
            avg = smooth * avg + (1.0 - smooth) * value
            current = avg / (1.0 - smooth ** (t + 1))
            smoothed.append(current)
            if not math.isfinite(current) or (t > 0 and current > diverge_factor * best):
                diverged_at = t
                break
            best = min(best, current)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
    finally:
        model.load_state_dict(saved_model)
        optimizer.load_state_dict(saved_optimizer)
        optimizer.zero_grad(set_to_none=True)
        torch.set_rng_state(saved_rng)
        model.train(was_training)

    lrs, losses, smoothed = (np.asarray(a, dtype=np.float64) for a in (lrs, losses, smoothed))
    min_at, steepest_at = suggest(lrs, smoothed, diverged_at)
    return RangeTestResult(
        lrs=lrs, losses=losses, smoothed=smoothed, diverged_at=diverged_at,
        suggestion_min_over_10=None if min_at is None else float(lrs[min_at]) / 10.0,
        suggestion_steepest=None if steepest_at is None else float(lrs[steepest_at]),
        min_at=min_at, steepest_at=steepest_at,
        params=dict(start_lr=schedule.params["start_lr"], end_lr=schedule.params["end_lr"], steps=steps,
                    smooth=float(smooth), diverge_factor=float(diverge_factor)))


def range_test_digits(*, start_lr: float = 1e-5, end_lr: float = 10.0, steps: int = 100,
                      batch_size: int = 32, optimizer: str = "sgd", momentum: float = 0.9,
                      weight_decay: float = 0.0, model: str = "mlp", width: int = 128, depth: int = 2,
                      smooth: float = 0.98, diverge_factor: float = 4.0, seed: int = 0) -> RangeTestResult:
    """The range test on ``lrlib.demo``'s digits task, with the same model, initial weights
    (``torch.manual_seed(seed)`` then ``make_model``), optimizer settings and batch size as
    ``lrlib.demo.train(..., seed=seed)``, so its suggestion applies to those runs. Batches are
    reshuffled every epoch with a generator seeded by ``seed``; single-threaded, so deterministic."""
    import torch
    from torch import nn

    from .demo import _single_thread, load_digits_split, make_model

    if optimizer not in ("sgd", "adam"):
        raise ValueError(f"optimizer must be 'sgd' or 'adam', got {optimizer!r}")
    if isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral) or batch_size < 1:
        raise ValueError(f"batch_size must be an integer >= 1, got {batch_size!r}")
    x_train, y_train, _, _ = load_digits_split()
    generator = torch.Generator().manual_seed(seed)

    def one_epoch():
        order = torch.randperm(len(x_train), generator=generator)
        for start in range(0, len(x_train), batch_size):
            idx = order[start:start + batch_size]
            yield x_train[idx], y_train[idx]

    with _single_thread():
        torch.manual_seed(seed)
        net = make_model(model, width, depth)
        if optimizer == "sgd":
            opt = torch.optim.SGD(net.parameters(), lr=start_lr, momentum=momentum, weight_decay=weight_decay)
        else:
            opt = torch.optim.Adam(net.parameters(), lr=start_lr, weight_decay=weight_decay)
        return range_test(net, nn.functional.cross_entropy, one_epoch, opt, start_lr=start_lr,
                          end_lr=end_lr, steps=steps, smooth=smooth, diverge_factor=diverge_factor)
