"""The learning-rate range test (Smith, 2017), generic over a training step.

The test trains for ``steps`` updates while the rate grows geometrically from ``start_lr`` to
``end_lr``, the rate of update t being

    lr_t = start_lr * (end_lr / start_lr) ** (t / (steps - 1))          (``exponential_range``)

and records the loss of each update. The loss is smoothed with a bias-corrected exponential moving
average,

    avg_t = beta * avg_{t-1} + (1 - beta) * loss_t,  avg_{-1} = 0,  smoothed_t = avg_t / (1 - beta^(t+1)),

and the test stops at the first update whose smoothed loss is non-finite or exceeds
``diverge_factor`` times the best smoothed loss so far (that update is ``diverged_at``).

Two rates are suggested from the smoothed curve:

* ``suggestion_min_over_10``: the rate at the minimum of the smoothed loss, divided by 10
  (fastai's ``lr_min``);
* ``suggestion_steepest``: the rate where the smoothed loss falls fastest per decade of rate, the most
  negative ``d smoothed / d log10(lr)``, searched between the first tenth of the test and the minimum
  (fastai's ``steep``).

``range_test(train_step, ...)`` needs only a function ``train_step(lr) -> loss`` that makes one update
at rate ``lr`` and returns the loss of the minibatch it used. ``RangeTestRecorder`` is the same
bookkeeping for a training loop that calls it once per update (``record(lr, loss)``).
``lrlib.torch_adapter.range_test_model`` runs the test on a PyTorch model and restores it afterwards.
"""
from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from .checks import check_int, check_lr
from .schedules import Schedule

__all__ = ["exponential_range", "RangeTestResult", "RangeTestRecorder", "suggest", "range_test"]


def exponential_range(start_lr: float, end_lr: float, steps: int) -> Schedule:
    """The rising rate of the range test: start_lr * (end_lr / start_lr) ** (t / (steps - 1)).

    Update 0 uses ``start_lr``, update ``steps - 1`` uses ``end_lr``, each update multiplies the rate
    by ``(end_lr / start_lr) ** (1 / (steps - 1))``, and ``end_lr`` is held afterwards.
    """
    start_lr = check_lr("start_lr", start_lr)
    end_lr = check_lr("end_lr", end_lr)
    if end_lr <= start_lr:
        raise ValueError(f"end_lr must be > start_lr = {start_lr}, got {end_lr}")
    steps = check_int("steps", steps, 2)
    log_start, log_ratio = math.log(start_lr), math.log(end_lr / start_lr)

    def formula(t):
        return np.exp(log_start + log_ratio * np.minimum(t, steps - 1) / (steps - 1))
    return Schedule("exponential_range", dict(start_lr=start_lr, end_lr=end_lr, steps=steps),
                    formula, (start_lr, end_lr))


@dataclass
class RangeTestResult:
    """What a range test recorded, one entry per update tried.

    ``lrs[t]``: the rate of update t. ``losses[t]``: the loss of update t (NaN/inf recorded as they
    came). ``smoothed[t]``: the bias-corrected moving average of ``losses[:t+1]``. ``diverged_at``:
    the update at which the test stopped for divergence, or None if it ran all its updates.
    ``suggestion_min_over_10``, ``suggestion_steepest``: see the module docstring; None when the
    curve has fewer than 5 finite points. ``min_at``, ``steepest_at``: the updates they come from.
    """
    lrs: np.ndarray
    losses: np.ndarray
    smoothed: np.ndarray
    diverged_at: int | None
    suggestion_min_over_10: float | None
    suggestion_steepest: float | None
    min_at: int | None = None
    steepest_at: int | None = None
    params: dict = field(default_factory=dict)

    @property
    def lr_at_min(self) -> float | None:
        return None if self.min_at is None else float(self.lrs[self.min_at])

    def summary(self) -> str:
        """One line per fact, numbers to 2 significant digits."""
        def fmt(x):
            return "none" if x is None else f"{x:.2g}"
        stop = ("ran all updates" if self.diverged_at is None else
                f"diverged at update {self.diverged_at} (lr {self.lrs[self.diverged_at]:.2g})")
        minimum = fmt(self.smoothed[self.min_at]) if self.min_at is not None else "none"
        return (f"updates tried: {len(self.lrs)}; {stop}\n"
                f"smoothed loss minimum: {minimum} at lr {fmt(self.lr_at_min)}\n"
                f"suggestion (min / 10):  {fmt(self.suggestion_min_over_10)}\n"
                f"suggestion (steepest):  {fmt(self.suggestion_steepest)}")


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
    steepest_at = skip + int(np.argmin(slopes[skip:min_at]))
    return min_at, steepest_at


class RangeTestRecorder:
    """The bookkeeping of a range test inside any training loop.

    Call ``record(lr, loss)`` once per update; it returns True when the test must stop (the smoothed
    loss diverged: then that update is ``diverged_at``). ``result()`` computes the suggestions.
    """

    def __init__(self, smooth: float = 0.98, diverge_factor: float = 4.0, params: dict | None = None):
        if isinstance(smooth, bool) or not isinstance(smooth, numbers.Real) or not 0.0 <= smooth < 1.0:
            raise ValueError(f"smooth must be a number in [0, 1), got {smooth!r}")
        if (isinstance(diverge_factor, bool) or not isinstance(diverge_factor, numbers.Real)
                or not math.isfinite(diverge_factor) or diverge_factor <= 1.0):
            raise ValueError(f"diverge_factor must be a finite number > 1, got {diverge_factor!r}")
        self.smooth, self.diverge_factor = float(smooth), float(diverge_factor)
        self.params = dict(params or {}, smooth=self.smooth, diverge_factor=self.diverge_factor)
        self.lrs, self.losses, self.smoothed = [], [], []
        self.diverged_at = None
        self._average, self._best = 0.0, math.inf

    def record(self, lr: float, loss: float) -> bool:
        t = len(self.losses)
        self.lrs.append(float(lr))
        self.losses.append(float(loss))
        self._average = self.smooth * self._average + (1.0 - self.smooth) * float(loss)
        current = self._average / (1.0 - self.smooth ** (t + 1))
        self.smoothed.append(current)
        if not math.isfinite(current) or (t > 0 and current > self.diverge_factor * self._best):
            self.diverged_at = t
            return True
        self._best = min(self._best, current)
        return False

    def result(self) -> RangeTestResult:
        lrs, losses, smoothed = (np.asarray(a, dtype=np.float64) for a in (self.lrs, self.losses, self.smoothed))
        min_at, steepest_at = suggest(lrs, smoothed, self.diverged_at)
        return RangeTestResult(
            lrs=lrs, losses=losses, smoothed=smoothed, diverged_at=self.diverged_at,
            suggestion_min_over_10=None if min_at is None else float(lrs[min_at]) / 10.0,
            suggestion_steepest=None if steepest_at is None else float(lrs[steepest_at]),
            min_at=min_at, steepest_at=steepest_at, params=self.params)


def range_test(train_step: Callable[[float], float], start_lr: float = 1e-5, end_lr: float = 10.0,
               steps: int = 100, smooth: float = 0.98, diverge_factor: float = 4.0) -> RangeTestResult:
    """Run the range test with ``train_step(lr)``, which makes one update at rate ``lr`` and returns
    its loss. Stops after ``steps`` updates, at divergence, or when ``train_step`` raises
    ``StopIteration`` (its data ran out)."""
    schedule = exponential_range(start_lr, end_lr, steps)
    recorder = RangeTestRecorder(smooth, diverge_factor, params=schedule.params)
    if not callable(train_step):
        raise TypeError(f"train_step must be callable, got {type(train_step).__name__}")
    for t in range(schedule.params["steps"]):
        lr = schedule(t)
        try:
            loss = train_step(lr)
        except StopIteration:
            break
        if recorder.record(lr, loss):
            break
    return recorder.result()
