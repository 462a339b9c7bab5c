"""Drive a real PyTorch optimizer with an lrlib schedule.

``to_torch(optimizer, schedule)`` returns a genuine ``torch.optim.lr_scheduler.LRScheduler``: use it
exactly like PyTorch's own schedulers, calling ``scheduler.step()`` once after every
``optimizer.step()``. Before update number t the optimizer's learning rate is ``schedule(t)``.
"""
from __future__ import annotations

import torch
from torch.optim.lr_scheduler import LRScheduler

from .schedules import Schedule

__all__ = ["ScheduleLR", "to_torch"]


class ScheduleLR(LRScheduler):
    """Sets every parameter group's rate to ``schedule(t) * group_initial_lr / first_group_initial_lr``.

    Groups keep their ratio to the first group (a head trained at 10x the backbone's rate stays at 10x).
    With ``momentum`` (a schedule too) the SGD ``momentum`` or Adam's ``beta1`` follows it, as one-cycle
    prescribes.

    ``state_dict()`` holds the position (``last_epoch``), not the schedules: they are code and
    parameters, rebuilt by the training script before ``load_state_dict`` resumes at the same step.
    """

    def __init__(self, optimizer: torch.optim.Optimizer, schedule: Schedule,
                 momentum: Schedule | None = None, last_epoch: int = -1):
        if not callable(schedule):
            raise TypeError(f"schedule must be an lrlib Schedule, got {type(schedule).__name__}")
        if momentum is not None:
            if not callable(momentum):
                raise TypeError(f"momentum must be an lrlib Schedule or None, got {type(momentum).__name__}")
            for group in optimizer.param_groups:
                if "momentum" not in group and "betas" not in group:
                    raise ValueError("momentum schedule given, but the optimizer has neither 'momentum' "
                                     f"(SGD) nor 'betas' (Adam): {type(optimizer).__name__}")
        self.schedule = schedule
        self.momentum = momentum
        self.group_ratios = self._group_ratios(optimizer)
        super().__init__(optimizer, last_epoch)

    @staticmethod
    def _group_ratios(optimizer):
        # On resume PyTorch keeps each group's construction-time rate in "initial_lr".
        initial = [group.get("initial_lr", group["lr"]) for group in optimizer.param_groups]
        if initial[0] == 0:
            # A schedule that starts at 0 (warmup from 0) naturally yields an optimizer built with
            # lr=0: then every group follows the schedule, unless a ratio was clearly intended.
            if any(lr != 0 for lr in initial):
                raise ValueError("the first param group's lr is 0 while others are not, so the groups' "
                                 "ratios are undefined: build the optimizer with each group's peak lr")
            return [1.0] * len(initial)
        return [lr / initial[0] for lr in initial]

    def get_lr(self):
        lr = self.schedule(self.last_epoch)
        return [lr * ratio for ratio in self.group_ratios]

    def step(self, epoch=None):
        super().step(epoch)
        if self.momentum is not None:
            m = self.momentum(self.last_epoch)
            for group in self.optimizer.param_groups:
                if "momentum" in group:
                    group["momentum"] = m
                else:
                    group["betas"] = (m, *group["betas"][1:])

    def state_dict(self):
        return {k: v for k, v in self.__dict__.items() if k not in ("optimizer", "schedule", "momentum")}


def to_torch(optimizer: torch.optim.Optimizer, schedule: Schedule, momentum: Schedule | None = None) -> ScheduleLR:
    """A PyTorch scheduler that applies ``schedule`` (and optionally a ``momentum`` schedule)."""
    return ScheduleLR(optimizer, schedule, momentum)
