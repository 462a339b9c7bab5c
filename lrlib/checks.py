"""Argument checks shared by every lrlib constructor.

Each check returns the value converted to a plain Python number (or the value itself) and raises a
``TypeError`` (wrong kind of value) or a ``ValueError`` (out of range) whose message names the
parameter and the accepted range, so a learner who moves a slider too far reads what to change.
"""
from __future__ import annotations

import math
import numbers

__all__ = ["check_lr", "check_int", "check_end_lr", "check_factor", "check_choice"]


def check_lr(name: str, value, *, allow_zero: bool = False) -> float:
    """A finite real number > 0 (>= 0 with ``allow_zero``): learning rates, thresholds, tolerances."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    value = float(value)
    if not math.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be a finite number {bound}, got {value}")
    return value


def check_int(name: str, value, minimum: int) -> int:
    """An integer (not a bool) >= ``minimum``: step counts, periods, patience."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__}")
    value = int(value)
    if value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value}")
    return value


def check_end_lr(name: str, value, lr: float, lr_name: str = "lr") -> float:
    """A rate in [0, lr]: where a decay ends."""
    value = check_lr(name, value, allow_zero=True)
    if value > lr:
        raise ValueError(f"{name} must be in [0, {lr_name}] = [0, {lr}], got {value}")
    return value


def check_factor(name: str, value, low: float, high: float, *, low_open: bool = True,
                 high_open: bool = False) -> float:
    """A real number in the interval from ``low`` to ``high``, each end open or closed."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    value = float(value)
    too_low = value <= low if low_open else value < low
    too_high = value >= high if high_open else value > high
    if not math.isfinite(value) or too_low or too_high:
        interval = ("(" if low_open else "[") + f"{low}, {high}" + (")" if high_open else "]")
        raise ValueError(f"{name} must be in {interval}, got {value}")
    return value


def check_choice(name: str, value, choices):
    """One of ``choices``."""
    if value not in choices:
        raise ValueError(f"{name} must be one of {sorted(choices)}, got {value!r}")
    return value
