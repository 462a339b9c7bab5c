"""Statistics over seeds, shared by the digits demos and the CIFAR-10 study (numpy and scipy only).

A run's result depends on its seed, so a schedule's result is a sample of n runs:

* ``mean_ci``: the mean and the half-width of its confidence interval from Student's t with n - 1
  degrees of freedom, ``t_{(1+level)/2, n-1} * s / sqrt(n)``;
* ``paired_comparison``: two schedules run with the same seeds are compared seed by seed, by the
  mean of the differences, its t interval and the paired t-test's p-value (the seed's share of the
  noise cancels); ``paired_difference`` is its (mean, low, high).
"""
from __future__ import annotations

import math

import numpy as np
from scipy import stats

from ..checks import check_factor

__all__ = ["mean_ci", "paired_comparison", "paired_difference"]


def mean_ci(values, level: float = 0.95) -> tuple[float, float]:
    """(mean, half-width of the t confidence interval); the half-width is nan for fewer than 2 values."""
    level = check_factor("level", level, 0.0, 1.0, high_open=True)
    values = np.asarray(values, dtype=np.float64)
    if values.size == 0:
        return math.nan, math.nan
    mean = float(values.mean())
    if values.size < 2:
        return mean, math.nan
    sem = float(values.std(ddof=1)) / math.sqrt(values.size)
    return mean, float(stats.t.ppf(0.5 + level / 2, values.size - 1) * sem)


def paired_comparison(a, b, level: float = 0.95) -> dict:
    """a - b seed by seed (a[i] and b[i] ran with the same seed): ``diff`` = the mean difference d̄,
    (``low``, ``high``) = d̄ ± t_{(1+level)/2, n-1} s_d/√n, and ``p``, the paired t-test's two-sided
    p-value for t = d̄ / (s_d/√n) (``scipy.stats.ttest_rel``). When every difference is the same the
    t statistic is 0/0 or ±inf: then p = 1 if they are all 0 and 0 otherwise, and the interval is d̄."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.shape != b.shape or a.ndim != 1 or a.size < 2:
        raise ValueError(f"a and b must pair at least 2 seeds one to one, got shapes {a.shape} and {b.shape}")
    level = check_factor("level", level, 0.0, 1.0, high_open=True)
    d = a - b
    if np.all(d == d[0]):
        return dict(diff=float(d[0]), low=float(d[0]), high=float(d[0]), p=float(d[0] == 0), n=d.size)
    result = stats.ttest_rel(a, b)
    low, high = result.confidence_interval(level)
    return dict(diff=float(d.mean()), low=float(low), high=float(high), p=float(result.pvalue), n=d.size)


def paired_difference(a, b, level: float = 0.95) -> tuple[float, float, float]:
    """(mean of a - b, low, high) of ``paired_comparison``."""
    c = paired_comparison(a, b, level)
    return c["diff"], c["low"], c["high"]
