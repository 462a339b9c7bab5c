"""The digits task and the one training loop every digits demo of the notebooks runs on.

The task is scikit-learn's handwritten digits (1,797 real 8x8 images, 10 classes), which ships with
scikit-learn, so the demos need no download: a fixed stratified 60/20/20 split into training,
validation and test images, standardized with the training statistics. Choices (a peak learning
rate, a schedule) are made on the validation split; the test split is only evaluated once, on the
final model, and reported separately. The model is a small MLP.

Everything is computed in float64. A run is a long chain of updates, and in float32 the last-bit
differences between CPUs' kernels (AVX2, AVX-512, portable) grow along it into visible differences
of the final loss; in float64 they stay far below the digits the notebooks print, except in runs
near divergence, where any difference grows: report those as failed, not by their loss.

``train(schedule, ...)`` is minibatch SGD (or Adam) whose rate comes from an lrlib schedule through
``lrlib.to_torch``, or, for a ``ReduceOnPlateau``, is set once per epoch from the validation loss.
Each update t of the loop is::

    loss = cross_entropy(model(x_t), y_t)      # the minibatch of update t, with the weights after t-1
    record lr and loss; hooks' before_update   # a hook may stop the run here (StopTraining)
    optimizer.zero_grad(); loss.backward(); optimizer.step(); scheduler.step()

and after each epoch the validation loss and accuracy are recorded, then the hooks' ``after_epoch``
run; the final model's test loss and accuracy are recorded at the end of a run that did not diverge.
Hooks (fastai's callbacks, kept tiny) are how the range test, the curvature measurement and
divergence detection ride on the same loop. ``train`` returns a ``History``: the per-update rate and
loss, the per-epoch metrics, and the trained model.
"""
from __future__ import annotations

import math
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple, Sequence

import numpy as np
import torch
from torch import nn

from ..lr_finder import RangeTestRecorder, RangeTestResult, exponential_range
from ..plateau import ReduceOnPlateau
from ..schedules import Schedule
from ..torch_adapter import to_torch

__all__ = ["VAL_FRACTION", "TEST_FRACTION", "DigitsSplit", "load_digits_split", "steps_per_epoch", "make_model",
           "StopTraining", "Hook",
           "TrainingState", "History", "StopOnDivergence", "train", "range_test_digits"]

VAL_FRACTION = 0.2
TEST_FRACTION = 0.2


class DigitsSplit(NamedTuple):
    x_train: torch.Tensor
    y_train: torch.Tensor
    x_val: torch.Tensor
    y_val: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor


@lru_cache(maxsize=1)
def load_digits_split(seed: int = 0) -> DigitsSplit:
    """Digits as standardized float64 tensors in a fixed stratified train/validation/test split."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    data = load_digits()
    x, y = data.data.astype(np.float64), data.target
    x_rest, x_test, y_rest, y_test = train_test_split(x, y, test_size=TEST_FRACTION, random_state=seed, stratify=y)
    x_train, x_val, y_train, y_val = train_test_split(
        x_rest, y_rest, test_size=VAL_FRACTION / (1 - TEST_FRACTION), random_state=seed, stratify=y_rest)
    # Standardize with training statistics only; constant border pixels get std 1 to avoid 0/0.
    mean, std = x_train.mean(0), x_train.std(0)
    std[std == 0] = 1.0

    def as_x(a):
        return torch.from_numpy((a - mean) / std)

    def as_y(a):
        return torch.from_numpy(a.astype(np.int64))
    return DigitsSplit(as_x(x_train), as_y(y_train), as_x(x_val), as_y(y_val), as_x(x_test), as_y(y_test))


def steps_per_epoch(batch_size: int) -> int:
    """Updates per epoch on the digits training split (the last, smaller batch is kept)."""
    return math.ceil(len(load_digits_split()[0]) / batch_size)


def make_model(kind: str = "mlp", width: int = 128, depth: int = 2) -> nn.Module:
    """'mlp': 64 -> width -> 10 with ReLU. 'deep': ``depth`` hidden layers and no normalization, a
    network whose first updates are fragile at a high learning rate. float64 parameters."""
    if kind == "mlp":
        return nn.Sequential(nn.Linear(64, width), nn.ReLU(), nn.Linear(width, 10)).double()
    if kind == "deep":
        layers, fan_in = [], 64
        for _ in range(depth):
            layers += [nn.Linear(fan_in, width), nn.ReLU()]
            fan_in = width
        return nn.Sequential(*layers, nn.Linear(fan_in, 10)).double()
    raise ValueError(f"kind must be 'mlp' or 'deep', got {kind!r}")


# --------------------------------------------------------------------------------------------------
# Hooks

class StopTraining(Exception):
    """Raised by a hook to end the run: the update in progress is not made."""


@dataclass
class TrainingState:
    """What a hook sees: the model and optimizer, the update index ``step`` (from 0), the epoch
    (from 0), the minibatch ``loss`` tensor of this update (before the backward pass), the rate
    ``lr`` this update will use, and the ``history`` recorded so far."""
    model: nn.Module
    optimizer: torch.optim.Optimizer
    history: History
    step: int = 0
    epoch: int = 0
    loss: torch.Tensor | None = None
    lr: float = math.nan


class Hook:
    """A per-step hook: override ``before_update`` and/or ``after_epoch``; raise ``StopTraining`` to
    end the run."""

    def before_update(self, state: TrainingState) -> None:
        pass

    def after_epoch(self, state: TrainingState) -> None:
        pass


class History(dict):
    """A run's record, a dict: ``lr`` and ``loss`` per update; ``train_loss``, ``val_loss`` and
    ``val_acc`` per epoch; ``test_loss`` and ``test_acc`` of the final model (nan if it diverged);
    ``steps_per_epoch``; ``diverged`` and ``diverged_at`` (update index). The trained model is the
    attribute ``model``."""
    model: nn.Module | None = None


class StopOnDivergence(Hook):
    """Marks the run diverged and stops it when a minibatch loss is not finite or exceeds
    ``factor`` times max(first minibatch loss, 1). A diverged run is a result, not an error."""

    def __init__(self, factor: float = 10.0):
        self.factor, self.first = factor, None

    def before_update(self, state):
        value = state.history["loss"][-1]
        self.first = value if self.first is None else self.first
        if not math.isfinite(value) or value > self.factor * max(self.first, 1.0):
            state.history["diverged"], state.history["diverged_at"] = True, state.step
            raise StopTraining


class StepOnPlateau(Hook):
    """Sets every group's rate after each epoch to ``plateau.step(validation loss)``."""

    def __init__(self, plateau: ReduceOnPlateau):
        self.plateau = plateau

    def after_epoch(self, state):
        new_lr = self.plateau.step(state.history["val_loss"][-1])
        for group in state.optimizer.param_groups:
            group["lr"] = new_lr


# --------------------------------------------------------------------------------------------------
# The training loop

@contextmanager
def _one_thread():
    # One thread: as fast as any for a network this small, and the same result on any core count.
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def _evaluate(model, x, y):
    with torch.no_grad():
        logits = model(x)
        return nn.functional.cross_entropy(logits, y).item(), (logits.argmax(1) == y).float().mean().item()


def train(schedule, *, epochs: int = 10, batch_size: int = 32, optimizer: str = "sgd",
          momentum: float = 0.9, weight_decay: float = 0.0, model: str = "mlp", width: int = 128,
          depth: int = 2, label_noise: float = 0.0, momentum_schedule: Schedule | None = None,
          divergence_factor: float | None = 10.0, hooks: Sequence[Hook] = (), seed: int = 0) -> History:
    """Train on digits with ``schedule`` (an lrlib Schedule, or a ReduceOnPlateau driven by the
    validation loss) and return the ``History`` (with the trained ``model``).

    ``seed`` fixes the noisy labels, the initial weights and the minibatch order, drawn in an order
    that notebook 02's hand-written loop repeats: a generator seeded with ``seed`` draws the noisy
    labels; ``torch.manual_seed(seed)`` initializes the weights; the generator then draws one
    permutation per epoch. ``label_noise`` replaces that fraction of training labels by random ones,
    which keeps the minibatch gradients noisy to the end. ``momentum_schedule`` cycles SGD's
    momentum (Adam's beta1) with the rate.
    ``divergence_factor``: see ``StopOnDivergence`` (None: never stop for divergence). ``hooks``
    run after it, in order.
    """
    if not isinstance(schedule, (Schedule, ReduceOnPlateau)):
        raise TypeError(f"schedule must be an lrlib Schedule or ReduceOnPlateau, got {type(schedule).__name__}")
    if optimizer not in ("sgd", "adam"):
        raise ValueError(f"optimizer must be 'sgd' or 'adam', got {optimizer!r}")
    if not 0.0 <= label_noise < 1.0:
        raise ValueError(f"label_noise must be in [0, 1), got {label_noise}")
    x_train, y_train, x_val, y_val, x_test, y_test = load_digits_split()
    generator = torch.Generator().manual_seed(seed)
    if label_noise:
        flip = torch.rand(len(y_train), generator=generator) < label_noise
        y_train = torch.where(flip, torch.randint(0, 10, y_train.shape, generator=generator), y_train)
    n, spe = len(x_train), math.ceil(len(x_train) / batch_size)
    history = History(lr=[], loss=[], train_loss=[], val_loss=[], val_acc=[], steps_per_epoch=spe,
                      test_loss=math.nan, test_acc=math.nan, diverged=False, diverged_at=None)
    all_hooks = [StopOnDivergence(divergence_factor)] if divergence_factor is not None else []
    plateau = schedule if isinstance(schedule, ReduceOnPlateau) else None
    if plateau:
        plateau.reset()
        all_hooks.append(StepOnPlateau(plateau))
    all_hooks += list(hooks)

    with _one_thread():
        torch.manual_seed(seed)
        net = make_model(model, width, depth)
        lr0 = plateau.initial_lr if plateau else schedule(0)
        if optimizer == "sgd":
            opt = torch.optim.SGD(net.parameters(), lr=lr0, momentum=momentum, weight_decay=weight_decay)
        else:
            opt = torch.optim.Adam(net.parameters(), lr=lr0, weight_decay=weight_decay)
        scheduler = None if plateau else to_torch(opt, schedule, momentum=momentum_schedule)
        state = TrainingState(model=net, optimizer=opt, history=history)
        try:
            for epoch in range(epochs):
                state.epoch = epoch
                order = torch.randperm(n, generator=generator)
                epoch_losses = []
                for start in range(0, n, batch_size):
                    idx = order[start:start + batch_size]
                    loss = nn.functional.cross_entropy(net(x_train[idx]), y_train[idx])
                    state.loss, state.lr = loss, opt.param_groups[0]["lr"]
                    history["lr"].append(state.lr)
                    history["loss"].append(loss.item())
                    for hook in all_hooks:
                        hook.before_update(state)
                    opt.zero_grad(set_to_none=True)
                    loss.backward()
                    opt.step()
                    if scheduler:
                        scheduler.step()
                    epoch_losses.append(history["loss"][-1])
                    state.step += 1
                val_loss, val_acc = _evaluate(net, x_val, y_val)
                history["train_loss"].append(float(np.mean(epoch_losses)))
                history["val_loss"].append(val_loss)
                history["val_acc"].append(val_acc)
                for hook in all_hooks:
                    hook.after_epoch(state)
        except StopTraining:
            pass
        if not history["diverged"]:
            history["test_loss"], history["test_acc"] = _evaluate(net, x_test, y_test)
    for key in ("lr", "loss", "train_loss", "val_loss", "val_acc"):
        history[key] = np.asarray(history[key], dtype=np.float64)
    history.model = net
    return history


# --------------------------------------------------------------------------------------------------
# The range test on the same loop

class RecordRangeTest(Hook):
    """Feeds each update's rate and loss to a ``RangeTestRecorder``; stops at divergence or after
    ``steps`` updates (the diverged update is not made)."""

    def __init__(self, recorder: RangeTestRecorder, steps: int):
        self.recorder, self.steps = recorder, steps

    def before_update(self, state):
        if state.step >= self.steps or self.recorder.record(state.lr, state.history["loss"][-1]):
            raise StopTraining


def range_test_digits(*, start_lr: float = 1e-5, end_lr: float = 10.0, steps: int = 100,
                      batch_size: int = 32, optimizer: str = "sgd", momentum: float = 0.9,
                      weight_decay: float = 0.0, model: str = "mlp", width: int = 128, depth: int = 2,
                      smooth: float = 0.98, diverge_factor: float = 4.0, seed: int = 0) -> RangeTestResult:
    """The range test (``lrlib.lr_finder``) run by ``train`` itself: the same model, initial weights,
    optimizer settings, batch size and minibatch order as ``train(..., seed=seed)``, with the rate
    ``exponential_range(start_lr, end_lr, steps)``, so its suggestion applies to those runs."""
    schedule = exponential_range(start_lr, end_lr, steps)
    recorder = RangeTestRecorder(smooth, diverge_factor, params=schedule.params)
    train(schedule, epochs=math.ceil((steps + 1) / steps_per_epoch(batch_size)), batch_size=batch_size,
          optimizer=optimizer, momentum=momentum, weight_decay=weight_decay, model=model, width=width,
          depth=depth, divergence_factor=None, hooks=[RecordRangeTest(recorder, steps)], seed=seed)
    return recorder.result()
