"""ReduceOnPlateau: the one schedule that is not a function of the step but of a measured metric.

It is a small state machine with the same rules as PyTorch's ``ReduceLROnPlateau``, so for any
sequence of metric values both give the same learning rates:

* an epoch is *better* when the metric beats the best seen so far by more than ``threshold``
  (relative: ``best * (1 - threshold)`` in "min" mode; absolute: ``best - threshold``);
* after more than ``patience`` epochs in a row without improvement the rate is multiplied by
  ``factor`` (never below ``min_lr``; a change smaller than ``eps`` is skipped);
* after a reduction, ``cooldown`` epochs pass during which bad epochs are not counted.

A NaN metric never counts as an improvement.
"""
from __future__ import annotations

import math

from .checks import check_choice, check_factor, check_int, check_lr

__all__ = ["ReduceOnPlateau"]


class ReduceOnPlateau:
    def __init__(self, lr: float, mode: str = "min", factor: float = 0.1, patience: int = 10,
                 threshold: float = 1e-4, threshold_mode: str = "rel", cooldown: int = 0,
                 min_lr: float = 0.0, eps: float = 1e-8):
        self.initial_lr = check_lr("lr", lr)
        self.mode = check_choice("mode", mode, {"min", "max"})
        self.factor = check_factor("factor", factor, 0.0, 1.0, high_open=True)
        self.patience = check_int("patience", patience, 0)
        self.threshold = check_lr("threshold", threshold, allow_zero=True)
        self.threshold_mode = check_choice("threshold_mode", threshold_mode, {"rel", "abs"})
        self.cooldown = check_int("cooldown", cooldown, 0)
        self.min_lr = check_lr("min_lr", min_lr, allow_zero=True)
        self.eps = check_lr("eps", eps, allow_zero=True)
        self.reset()

    @property
    def params(self):
        return dict(lr=self.initial_lr, mode=self.mode, factor=self.factor, patience=self.patience,
                    threshold=self.threshold, threshold_mode=self.threshold_mode,
                    cooldown=self.cooldown, min_lr=self.min_lr, eps=self.eps)

    def __repr__(self):
        return "ReduceOnPlateau(" + ", ".join(f"{k}={v!r}" for k, v in self.params.items()) + ")"

    def reset(self):
        self.lr = self.initial_lr
        self.best = math.inf if self.mode == "min" else -math.inf
        self.num_bad_epochs = 0
        self.cooldown_counter = 0
        self.epoch = 0

    def is_better(self, metric: float) -> bool:
        if self.mode == "min":
            bar = self.best * (1 - self.threshold) if self.threshold_mode == "rel" else self.best - self.threshold
            return metric < bar
        bar = self.best * (1 + self.threshold) if self.threshold_mode == "rel" else self.best + self.threshold
        return metric > bar

    def step(self, metric: float) -> float:
        """Record one epoch's metric; return the learning rate to use for the next epoch."""
        metric = float(metric)
        self.epoch += 1
        if self.is_better(metric):
            self.best = metric
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0  # bad epochs during cooldown do not count
        if self.num_bad_epochs > self.patience:
            new_lr = max(self.lr * self.factor, self.min_lr)
            if self.lr - new_lr > self.eps:
                self.lr = new_lr
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
        return self.lr

    def run(self, metrics) -> list[float]:
        """The learning rate after each metric of a sequence, from a fresh state."""
        self.reset()
        return [self.step(m) for m in metrics]

    def state_dict(self) -> dict:
        return dict(lr=self.lr, best=self.best, num_bad_epochs=self.num_bad_epochs,
                    cooldown_counter=self.cooldown_counter, epoch=self.epoch)

    def load_state_dict(self, state: dict) -> None:
        for key in ("lr", "best", "num_bad_epochs", "cooldown_counter", "epoch"):
            setattr(self, key, state[key])
