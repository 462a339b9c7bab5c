"""Short, real training runs for the notebooks: seconds on a laptop CPU.

The task is scikit-learn's handwritten digits (1,797 real 8x8 images, 10 classes), which ships with
scikit-learn, so the demos need no download. A small network is trained with minibatch SGD (or Adam)
and the learning rate comes from an lrlib schedule, applied per update through ``lrlib.to_torch``;
or, for ``ReduceOnPlateau``, set once per epoch from the validation loss.

Every run records what was actually applied: the rate read from the optimizer at each update, the
training loss of each minibatch, and the validation loss and accuracy after each epoch. A run whose
loss becomes NaN or explodes stops and is marked diverged; it is a result, not an error.
"""
from __future__ import annotations

import math
from contextlib import contextmanager
from functools import lru_cache

import numpy as np
import torch
from torch import nn

from .plateau import ReduceOnPlateau
from .schedules import Schedule
from .torch_adapter import to_torch

__all__ = ["load_digits_split", "steps_per_epoch", "make_model", "train"]

VAL_FRACTION = 0.2
DIVERGENCE_FACTOR = 10.0  # a minibatch loss 10x the first one (or NaN) counts as diverged


@lru_cache(maxsize=1)
def load_digits_split(seed: int = 0):
    """Digits as standardized float32 tensors: (x_train, y_train, x_val, y_val), a fixed stratified split."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    data = load_digits()
    x_train, x_val, y_train, y_val = train_test_split(
        data.data.astype(np.float32), data.target, test_size=VAL_FRACTION, random_state=seed,
        stratify=data.target)
    # Standardize with training statistics only; constant border pixels get std 1 to avoid 0/0.
    mean, std = x_train.mean(0), x_train.std(0)
    std[std == 0] = 1.0
    as_x = lambda a: torch.from_numpy((a - mean) / std)
    as_y = lambda a: torch.from_numpy(a.astype(np.int64))
    return as_x(x_train), as_y(y_train), as_x(x_val), as_y(y_val)


def steps_per_epoch(batch_size: int) -> int:
    """Updates per epoch on the digits training split (the last, smaller batch is kept)."""
    return math.ceil(len(load_digits_split()[0]) / batch_size)


def make_model(kind: str = "mlp", width: int = 128, depth: int = 2) -> nn.Module:
    """'mlp': 64 -> width -> 10 with ReLU. 'deep': `depth` hidden layers and no normalization, the
    kind of network whose first steps are fragile at a high learning rate (the warmup notebook)."""
    if kind == "mlp":
        return nn.Sequential(nn.Linear(64, width), nn.ReLU(), nn.Linear(width, 10))
    if kind == "deep":
        layers, fan_in = [], 64
        for _ in range(depth):
            layers += [nn.Linear(fan_in, width), nn.ReLU()]
            fan_in = width
        return nn.Sequential(*layers, nn.Linear(fan_in, 10))
    raise ValueError(f"kind must be 'mlp' or 'deep', got {kind!r}")


@contextmanager
def _single_thread():
    # One thread: as fast as any for a network this small, and bit-for-bit reproducible on any machine.
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
          seed: int = 0) -> dict:
    """Train on digits with ``schedule`` (an lrlib Schedule, or a ReduceOnPlateau driven by val loss).

    ``label_noise`` replaces that fraction of training labels by random ones, which keeps the
    minibatch gradients noisy to the end: the regime where decaying the rate matters most.
    Returns a history dict: ``lr`` and ``loss`` per update; ``val_loss``, ``val_acc`` and
    ``train_loss`` per epoch; ``steps_per_epoch``; ``diverged`` and ``diverged_at`` (update index).
    """
    if not isinstance(schedule, (Schedule, ReduceOnPlateau)):
        raise TypeError(f"schedule must be an lrlib Schedule or ReduceOnPlateau, got {type(schedule).__name__}")
    if optimizer not in ("sgd", "adam"):
        raise ValueError(f"optimizer must be 'sgd' or 'adam', got {optimizer!r}")
    if not 0.0 <= label_noise < 1.0:
        raise ValueError(f"label_noise must be in [0, 1), got {label_noise}")
    x_train, y_train, x_val, y_val = load_digits_split()
    generator = torch.Generator().manual_seed(seed)
    if label_noise:
        flip = torch.rand(len(y_train), generator=generator) < label_noise
        y_train = torch.where(flip, torch.randint(0, 10, y_train.shape, generator=generator), y_train)

    with _single_thread():
        torch.manual_seed(seed)
        net = make_model(model, width, depth)
        plateau = schedule if isinstance(schedule, ReduceOnPlateau) else None
        lr0 = plateau.initial_lr if plateau else schedule(0)
        if optimizer == "sgd":
            opt = torch.optim.SGD(net.parameters(), lr=lr0, momentum=momentum, weight_decay=weight_decay)
        else:
            opt = torch.optim.Adam(net.parameters(), lr=lr0, weight_decay=weight_decay)
        if plateau:
            plateau.reset()
            scheduler = None
        else:
            scheduler = to_torch(opt, schedule, momentum=momentum_schedule)

        n, spe = len(x_train), math.ceil(len(x_train) / batch_size)
        history = dict(lr=[], loss=[], train_loss=[], val_loss=[], val_acc=[], steps_per_epoch=spe,
                       diverged=False, diverged_at=None)
        first_loss = None
        for epoch in range(epochs):
            order = torch.randperm(n, generator=generator)
            epoch_losses = []
            for start in range(0, n, batch_size):
                idx = order[start:start + batch_size]
                loss = nn.functional.cross_entropy(net(x_train[idx]), y_train[idx])
                value = loss.item()
                first_loss = value if first_loss is None else first_loss
                history["lr"].append(opt.param_groups[0]["lr"])
                history["loss"].append(value)
                if not math.isfinite(value) or value > DIVERGENCE_FACTOR * max(first_loss, 1.0):
                    history["diverged"], history["diverged_at"] = True, len(history["loss"]) - 1
                    return _finish(history)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                if scheduler:
                    scheduler.step()
                epoch_losses.append(value)
            val_loss, val_acc = _evaluate(net, x_val, y_val)
            history["train_loss"].append(float(np.mean(epoch_losses)))
            history["val_loss"].append(val_loss)
            history["val_acc"].append(val_acc)
            if plateau:
                new_lr = plateau.step(val_loss)
                for group in opt.param_groups:
                    group["lr"] = new_lr
    return _finish(history)


def _finish(history):
    for key in ("lr", "loss", "train_loss", "val_loss", "val_acc"):
        history[key] = np.asarray(history[key], dtype=np.float64)
    return history
