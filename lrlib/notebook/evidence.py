"""Claims drawn from training runs, as code: several seeds, a confidence interval, a verdict.

A run of a small network depends on its seed (initial weights, minibatch order) as much as on its
schedule, so one run proves nothing. The notebooks compare schedules like this:

* each schedule gets its own best peak learning rate, chosen on the *validation* split from a small
  log-spaced grid (``best_peak``), so no schedule is judged at a rate tuned for another;
* at that peak it runs with ``n`` seeds, summarized by the mean and its 95% t interval
  (``lrlib.notebook.statistics.mean_ci``);
* two schedules run with the same seeds are compared seed by seed (``paired_difference``);
  ``verdict`` says "A beats B by d (CI)" when the interval excludes 0, and calls it a tie otherwise;
* the held-out *test* split is reported separately and never used for a choice.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np

from .digits import History, train
from .statistics import mean_ci, paired_difference

__all__ = ["mean_ci", "paired_difference", "format_ci", "verdict", "run_seeds", "final", "failed_runs", "PeakSearch",
           "best_peak"]


def format_ci(values, digits: int = 3, scale: float = 1.0) -> str:
    """``"0.375 +/- 0.020"``: the mean and the 95% half-width, rounded to ``digits`` decimals."""
    mean, half = mean_ci(np.asarray(values, dtype=np.float64) * scale)
    return f"{mean:.{digits}f} +/- {half:.{digits}f}"


def verdict(name_a: str, a, name_b: str, b, *, lower_is_better: bool = True, digits: int = 3) -> tuple[str, int]:
    """A sentence and a sign for a paired comparison: +1 when a beats b (the 95% interval of the
    differences a - b excludes 0 on a's side), -1 when b beats a, 0 for a tie."""
    diff, low, high = paired_difference(a, b)
    a_better = high < 0 if lower_is_better else low > 0
    b_better = low > 0 if lower_is_better else high < 0
    interval = f"(95% CI of {name_a} - {name_b}: {low:+.{digits}f} to {high:+.{digits}f})"
    if a_better:
        return f"{name_a} beats {name_b} by {abs(diff):.{digits}f} {interval}", 1
    if b_better:
        return f"{name_b} beats {name_a} by {abs(diff):.{digits}f} {interval}", -1
    return f"{name_a} and {name_b} tie: the difference {diff:+.{digits}f} is inside the noise {interval}", 0


def run_seeds(schedule, seeds: Sequence[int], **train_kwargs) -> list[History]:
    """``[train(schedule, seed=s, **train_kwargs) for s in seeds]``."""
    return [train(schedule, seed=seed, **train_kwargs) for seed in seeds]


def final(histories: Sequence[History], key: str = "val_loss") -> np.ndarray:
    """The last value of ``key`` of each run (per-epoch ``val_*``, or the final ``test_*``); a diverged
    run counts as ``inf`` for a loss and 0 for an accuracy (it did not train)."""
    worst = 0.0 if "acc" in key else math.inf
    return np.array([worst if h["diverged"] else float(np.asarray(h[key]).reshape(-1)[-1]) for h in histories])


@dataclass
class PeakSearch:
    """What ``best_peak`` tried: ``peaks``, the validation metric of every (peak, seed) in ``scores``
    (rows: peaks), the chosen ``peak`` and its ``histories``."""
    peaks: np.ndarray
    scores: np.ndarray
    peak: float
    histories: list = field(repr=False)
    metric: str = "val_loss"

    def scores_at(self, peak: float) -> np.ndarray:
        """The metric of every seed at ``peak`` (one of ``peaks``), in seed order."""
        matches = np.flatnonzero(self.peaks == peak)
        if not matches.size:
            raise ValueError(f"peak must be one of {self.peaks.tolist()}, got {peak!r}")
        return self.scores[int(matches[0])]

    def table(self) -> str:
        """One line per peak: the mean +/- 95% CI of the metric over the seeds, or how many seeds
        failed (diverged, or ended worse than a uniform guess: loss above ln 10, accuracy at or below
        1/10), since such runs' values depend on the last bits of the arithmetic."""
        rows = [f"{'peak':>8s}  {self.metric} over {self.scores.shape[1]} seeds (mean +/- 95% CI)"]
        for peak, row in zip(self.peaks, self.scores, strict=True):
            failed = int(np.sum(failed_runs(row, self.metric)))
            text = format_ci(row) if not failed else f"{failed}/{row.size} failed"
            mark = "  <- chosen" if peak == self.peak else ""
            rows.append(f"{peak:8.3g}  {text}{mark}")
        return "\n".join(rows)


def failed_runs(scores, metric: str = "val_loss") -> np.ndarray:
    """True for a run that did not train: diverged (inf loss, 0 accuracy) or ended worse than a
    uniform guess over the 10 classes (loss above ln 10, accuracy at or below 1/10)."""
    scores = np.asarray(scores, dtype=np.float64)
    return scores <= 0.1 if "acc" in metric else ~(scores <= math.log(10))


def best_peak(make_schedule: Callable[[float], object], peaks: Sequence[float], seeds: Sequence[int],
              metric: str = "val_loss", **train_kwargs) -> PeakSearch:
    """Train ``make_schedule(peak)`` for every peak and seed; choose the peak with the best mean
    final validation ``metric`` (lowest loss or highest accuracy; a peak with a diverged seed is
    never chosen). The test split plays no part."""
    peaks = np.asarray(peaks, dtype=np.float64)
    runs = [run_seeds(make_schedule(float(p)), seeds, **train_kwargs) for p in peaks]
    scores = np.array([final(hs, metric) for hs in runs])
    means = scores.mean(axis=1)
    best = int(np.argmax(means) if "acc" in metric else np.argmin(means))
    return PeakSearch(peaks=peaks, scores=scores, peak=float(peaks[best]), histories=runs[best], metric=metric)
