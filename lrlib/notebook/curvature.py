"""The curvature of the loss along a real training run: lambda_max, the largest eigenvalue of the
Hessian of the training loss.

Gradient descent with rate lr is stable on a quadratic while lr < 2 / L, L the largest curvature
(notebook 01). ``top_hessian_eigenvalue`` measures that curvature on a network by power iteration
on Hessian-vector products; ``SharpnessProbe`` is a hook of ``lrlib.notebook.digits.train`` that
measures it before chosen updates, and ``sharpness_along`` runs a plain-SGD digits training with it.
"""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np
import torch
from torch import nn

from ..schedules import Schedule
from .digits import Hook, StopTraining, load_digits_split, steps_per_epoch, train

__all__ = ["top_hessian_eigenvalue", "SharpnessProbe", "sharpness_along"]


def top_hessian_eigenvalue(model: nn.Module, x: torch.Tensor, y: torch.Tensor, iters: int = 10) -> float:
    """The largest eigenvalue of the Hessian of the cross-entropy loss on (x, y), by power iteration
    v <- H v / |H v| with the Rayleigh quotient v^T H v as the estimate. The Hessian itself is never
    formed (Hessian-vector products by double backpropagation). Fixed start: deterministic."""
    params = [p for p in model.parameters() if p.requires_grad]
    loss = nn.functional.cross_entropy(model(x), y)
    grads = torch.autograd.grad(loss, params, create_graph=True)
    generator = torch.Generator().manual_seed(0)
    vector = [torch.randn(p.shape, generator=generator, dtype=p.dtype) for p in params]
    eigenvalue = math.nan
    for _ in range(iters):
        norm = torch.sqrt(sum((v * v).sum() for v in vector))
        vector = [v / norm for v in vector]
        hessian_vector = torch.autograd.grad(grads, params, vector, retain_graph=True)
        eigenvalue = float(sum((h * v).sum() for h, v in zip(hessian_vector, vector, strict=True)))
        vector = [h.detach() for h in hessian_vector]
    return eigenvalue


class SharpnessProbe(Hook):
    """Before each update listed in ``checkpoints``: lambda_max of the training loss on the fixed
    examples ``(x, y)``. Stops the run after the last checkpoint or at a non-finite loss.
    ``measurements``: ``dict(step, lr, sharpness, loss)`` of numpy arrays, the loss being that of the
    minibatch of each checkpointed update."""

    def __init__(self, checkpoints: Sequence[int], x: torch.Tensor, y: torch.Tensor, iters: int = 10):
        self.wanted = sorted({int(c) for c in checkpoints})
        self.x, self.y, self.iters = x, y, iters
        self._out = dict(step=[], lr=[], sharpness=[], loss=[])

    @property
    def measurements(self) -> dict:
        return {key: np.asarray(values) for key, values in self._out.items()}

    def before_update(self, state):
        loss = state.history["loss"][-1]
        if not math.isfinite(loss) or not self.wanted or state.step > self.wanted[-1]:
            raise StopTraining
        if state.step in self.wanted:
            self._out["step"].append(state.step)
            self._out["lr"].append(state.lr)
            self._out["sharpness"].append(top_hessian_eigenvalue(state.model, self.x, self.y, self.iters))
            self._out["loss"].append(loss)


def sharpness_along(schedule: Schedule, checkpoints: Sequence[int], *, width: int = 128,
                    batch_size: int = 32, seed: int = 0, sample: int = 256, iters: int = 10) -> dict:
    """lambda_max before the updates listed in ``checkpoints`` of the run
    ``train(schedule, momentum=0.0, width=width, batch_size=batch_size, seed=seed)``, on a fixed
    subset of ``sample`` training examples (``SharpnessProbe.measurements``)."""
    x_train, y_train = load_digits_split()[:2]
    subset = torch.randperm(len(x_train), generator=torch.Generator().manual_seed(12345))[:sample]
    probe = SharpnessProbe(checkpoints, x_train[subset], y_train[subset], iters)
    last = max(probe.wanted, default=0)
    train(schedule, epochs=last // steps_per_epoch(batch_size) + 2, batch_size=batch_size, momentum=0.0,
          width=width, divergence_factor=None, hooks=[probe], seed=seed)
    return probe.measurements
