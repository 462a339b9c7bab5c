"""lrlib with PyTorch: a scheduler that applies a schedule, and the range test on a model.

``to_torch(optimizer, schedule)`` returns a genuine ``torch.optim.lr_scheduler.LRScheduler``: use it
exactly like PyTorch's own schedulers, calling ``scheduler.step()`` once after every
``optimizer.step()``. Before update number t the optimizer's learning rate is ``schedule(t)``.

``range_test_model(model, loss_fn, batches, optimizer)`` runs ``lrlib.range_test`` with
``training_step`` on a model and leaves the model and optimizer as they were (``restored``).
"""
from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager

import torch
from torch.optim.lr_scheduler import LRScheduler

from .lr_finder import RangeTestRecorder, RangeTestResult, exponential_range, range_test
from .schedules import Schedule

__all__ = ["ScheduleLR", "to_torch", "training_step", "restored", "range_test_model"]


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


# --------------------------------------------------------------------------------------------------
# The range test on a PyTorch model

def _batch_stream(batches):
    """Yield (x, y) pairs: an iterable (list, DataLoader) is iterated again when a pass ends and a
    callable called again; a one-shot iterator (a generator object) simply ends when exhausted."""
    if isinstance(batches, Iterator):
        yield from batches
        return
    if hasattr(batches, "__iter__"):
        def make():
            return batches
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


def training_step(model: torch.nn.Module, loss_fn: Callable, batches: Iterable | Callable,
                  optimizer: torch.optim.Optimizer) -> Callable[[float], float]:
    """``step(lr)``: set the rate, take the next batch, compute ``loss_fn(model(x), y)``, update.

    Every parameter group gets ``lr`` times its ratio to the first group's rate at the time of this
    call (discriminative rates keep their proportions). ``step`` returns the loss of the batch (before
    the update) and raises ``StopIteration`` when a one-shot iterator of batches is exhausted.
    """
    if not callable(loss_fn):
        raise TypeError(f"loss_fn must be callable, got {type(loss_fn).__name__}")
    if not isinstance(optimizer, torch.optim.Optimizer):
        raise TypeError(f"optimizer must be a torch.optim.Optimizer, got {type(optimizer).__name__}")
    first_lr = optimizer.param_groups[0]["lr"]
    ratios = [group["lr"] / first_lr if first_lr else 1.0 for group in optimizer.param_groups]
    stream = _batch_stream(batches)

    def step(lr: float) -> float:
        x, y = next(stream)
        for group, ratio in zip(optimizer.param_groups, ratios, strict=True):
            group["lr"] = lr * ratio
        loss = loss_fn(model(x), y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        return float(loss.item())
    return step


@contextmanager
def restored(model: torch.nn.Module, optimizer: torch.optim.Optimizer):
    """On leaving the block (also through an exception), put back the model's and the optimizer's
    ``state_dict`` (weights, momentum buffers, rates), the train/eval mode and torch's global random
    state, and clear the gradients: whatever ran inside leaves nothing trained."""
    saved_model = copy.deepcopy(model.state_dict())
    saved_optimizer = copy.deepcopy(optimizer.state_dict())
    saved_rng = torch.get_rng_state()
    was_training = model.training
    try:
        yield
    finally:
        model.load_state_dict(saved_model)
        optimizer.load_state_dict(saved_optimizer)
        optimizer.zero_grad(set_to_none=True)
        torch.set_rng_state(saved_rng)
        model.train(was_training)


def range_test_model(model: torch.nn.Module, loss_fn: Callable, batches: Iterable | Callable,
                     optimizer: torch.optim.Optimizer, start_lr: float = 1e-5, end_lr: float = 10.0,
                     steps: int = 100, smooth: float = 0.98, diverge_factor: float = 4.0) -> RangeTestResult:
    """``lrlib.range_test`` on a PyTorch model, in training mode, restored afterwards (``restored``).

    ``loss_fn(model(x), y)`` is a scalar loss; ``batches`` an iterable of ``(x, y)`` (a list or
    DataLoader is iterated again when exhausted) or a callable returning one; ``optimizer`` is built
    on the model's parameters with the settings you will train with (momentum, weight decay).
    """
    exponential_range(start_lr, end_lr, steps)  # check the arguments before touching the model
    RangeTestRecorder(smooth, diverge_factor)
    step = training_step(model, loss_fn, batches, optimizer)
    with restored(model, optimizer):
        model.train()
        return range_test(step, start_lr, end_lr, steps, smooth, diverge_factor)
