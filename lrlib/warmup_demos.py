"""Helpers for the warmup notebook (07): warmup around a schedule chosen by name, runs over several
seeds summarized in one table, and the curvature of the loss along a real training run.

* ``warmup_then(then, lr, total_steps, warmup_steps, start_lr)`` builds "warmup, then ``then``" for
  the widget, the wrapped schedule lasting the remaining ``total_steps - warmup_steps`` updates.
* ``run_seeds`` trains every schedule with every seed (``lrlib.demo.train``); ``seed_table`` prints
  what happened: how many runs diverged and when, the largest minibatch loss of the first updates
  (the early spike warmup prevents), and the final validation loss of each seed.
* ``sharpness_along(schedule, checkpoints, ...)`` replays the run ``demo.train(schedule,
  momentum=0.0, ...)`` would make (same initialization, same minibatches, plain SGD) and measures at
  the given updates the largest eigenvalue of the Hessian of the training loss, lambda_max: the
  curvature L of notebook 01's stability limit lr < 2 / L.
"""
from __future__ import annotations

import math
from typing import Mapping, Sequence

import numpy as np
import torch
from torch import nn

from . import schedules
from .demo import _single_thread, load_digits_split, make_model, train
from .schedules import Schedule

__all__ = ["WRAPPED", "warmup_then", "run_seeds", "seed_table", "plot_seed_losses",
           "top_hessian_eigenvalue", "sharpness_along"]

# The schedules the warmup widget can wrap, each built for the updates left after the warmup.
WRAPPED = {
    "constant": lambda lr, steps: schedules.constant(lr),
    "cosine": lambda lr, steps: schedules.cosine_annealing(lr, steps),
    "linear": lambda lr, steps: schedules.linear_decay(lr, steps),
    "polynomial (power 2)": lambda lr, steps: schedules.polynomial_decay(lr, steps, power=2.0),
    "exponential (to lr/100)": lambda lr, steps: schedules.exponential_decay(lr, 0.01 ** (1.0 / steps)),
}


def warmup_then(then: str, lr: float, total_steps: int, warmup_steps: int, start_lr: float = 0.0) -> Schedule:
    """``linear_warmup(WRAPPED[then](lr, total_steps - warmup_steps), warmup_steps, start_lr)``."""
    if then not in WRAPPED:
        raise ValueError(f"then must be one of {list(WRAPPED)}, got {then!r}")
    if not 0 <= warmup_steps < total_steps:
        raise ValueError(f"warmup_steps must be in [0, total_steps) = [0, {total_steps}), got {warmup_steps}")
    return schedules.linear_warmup(WRAPPED[then](lr, total_steps - warmup_steps), warmup_steps, start_lr)


# --------------------------------------------------------------------------------------------------
# Several seeds per schedule

def run_seeds(runs: Mapping[str, Schedule], seeds: Sequence[int], **train_kwargs) -> dict[str, list[dict]]:
    """``{label: [demo.train(schedule, seed=s, **train_kwargs) for s in seeds]}``."""
    return {label: [train(schedule, seed=seed, **train_kwargs) for seed in seeds]
            for label, schedule in runs.items()}


def _cells(values, fmt):
    return " ".join(fmt(v) for v in values)


def seed_table(results: Mapping[str, list[dict]], early_updates: int | None = 10) -> str:
    """One line per schedule: runs diverged (and at which update), the largest minibatch loss over the
    first ``early_updates`` updates of each seed (left out if None), and each seed's final validation
    loss ("div." for a diverged run) with their mean over the runs that finished."""
    spike_header = f"{'max loss, first ' + str(early_updates) + ' updates':32s} " if early_updates else ""
    lines = [f"{'schedule':24s} {'diverged':>8s}  {'at update':14s} {spike_header}final val loss (mean)"]
    for label, histories in results.items():
        diverged = [h for h in histories if h["diverged"]]
        at = ",".join(str(h["diverged_at"]) for h in diverged) or "-"
        spikes = ""
        if early_updates:
            spikes = _cells([float(np.max(h["loss"][:early_updates])) for h in histories], lambda v: f"{v:5.1f}")
            spikes = f"{spikes:32s} "
        finals = [None if h["diverged"] else float(h["val_loss"][-1]) for h in histories]
        done = [f for f in finals if f is not None]
        mean = f"({np.mean(done):.3f})" if done else "(-)"
        lines.append(f"{label:24s} {len(diverged):>4d} / {len(histories):<3d} {at:14s} {spikes}"
                     f"{_cells(finals, lambda v: ' div.' if v is None else f'{v:5.3f}')} {mean}")
    return "\n".join(lines)


def plot_seed_losses(results: Mapping[str, list[dict]], schedules: Mapping[str, Schedule], steps: int,
                     updates: int | None = None, title: str | None = None):
    """Left: the minibatch loss of every seed (one color per schedule, log scale) over the first
    ``updates`` updates (all by default), with a cross where a run diverged. Right: each schedule
    (same labels as ``results``) over ``steps`` updates."""
    from . import plot

    _, (loss_ax, lr_ax) = plot.new_figure(ncols=2)
    for i, (label, histories) in enumerate(results.items()):
        color = f"C{i % 10}"
        for j, h in enumerate(histories):
            loss = h["loss"][:updates]
            loss_ax.plot(np.arange(len(loss)), loss, color=color, alpha=0.7, linewidth=1,
                         label=label if j == 0 else None)
            if h["diverged"] and (updates is None or h["diverged_at"] < updates):
                loss_ax.plot(h["diverged_at"], h["loss"][h["diverged_at"]], "x", color=color, markersize=7)
        plot.plot_schedule(schedules[label], steps, ax=lr_ax, label=label, color=color)
    loss_ax.set(yscale="log", xlabel="update t", ylabel="minibatch loss (x: diverged)")
    loss_ax.legend()
    if title:
        loss_ax.figure.suptitle(title)
    return loss_ax, lr_ax


# --------------------------------------------------------------------------------------------------
# Curvature along a run

def top_hessian_eigenvalue(model: nn.Module, x: torch.Tensor, y: torch.Tensor, iters: int = 10) -> float:
    """The largest eigenvalue of the Hessian of the cross-entropy loss on (x, y), by power iteration
    on Hessian-vector products (the Hessian itself is never formed). Fixed start: deterministic."""
    params = [p for p in model.parameters() if p.requires_grad]
    loss = nn.functional.cross_entropy(model(x), y)
    grads = torch.autograd.grad(loss, params, create_graph=True)
    generator = torch.Generator().manual_seed(0)
    vector = [torch.randn(p.shape, generator=generator) for p in params]
    eigenvalue = math.nan
    for _ in range(iters):
        norm = torch.sqrt(sum((v * v).sum() for v in vector))
        vector = [v / norm for v in vector]
        hessian_vector = torch.autograd.grad(grads, params, vector, retain_graph=True)
        eigenvalue = float(sum((h * v).sum() for h, v in zip(hessian_vector, vector)))  # Rayleigh quotient
        vector = [h.detach() for h in hessian_vector]
    return eigenvalue


def sharpness_along(schedule: Schedule, checkpoints: Sequence[int], *, width: int = 128,
                    batch_size: int = 32, seed: int = 0, sample: int = 256, iters: int = 10) -> dict:
    """lambda_max of the training loss before the updates listed in ``checkpoints``, along the run
    ``demo.train(schedule, momentum=0.0, width=width, batch_size=batch_size, seed=seed)`` makes.

    The run is replayed here (same initialization and minibatch order, plain SGD, rate
    ``schedule(t)`` for update t) because ``train`` does not return its model. The Hessian is taken on
    a fixed subset of ``sample`` training examples. Returns ``dict(step, lr, sharpness, loss)``, the
    loss being that of the minibatch of each checkpointed update; a run that diverges stops early.
    """
    x_train, y_train, _, _ = load_digits_split()
    subset = torch.randperm(len(x_train), generator=torch.Generator().manual_seed(12345))[:sample]
    wanted = sorted(set(int(c) for c in checkpoints))
    out = dict(step=[], lr=[], sharpness=[], loss=[])
    generator = torch.Generator().manual_seed(seed)  # the order of the minibatches, as in train
    with _single_thread():
        torch.manual_seed(seed)
        net = make_model("mlp", width)
        optimizer = torch.optim.SGD(net.parameters(), lr=schedule(0), momentum=0.0)
        t, n = 0, len(x_train)
        while wanted and t <= wanted[-1]:
            order = torch.randperm(n, generator=generator)
            for start in range(0, n, batch_size):
                idx = order[start:start + batch_size]
                loss = nn.functional.cross_entropy(net(x_train[idx]), y_train[idx])
                if not math.isfinite(loss.item()):
                    return {k: np.asarray(v) for k, v in out.items()}
                if t in wanted:
                    out["step"].append(t)
                    out["lr"].append(schedule(t))
                    out["sharpness"].append(top_hessian_eigenvalue(net, x_train[subset], y_train[subset], iters))
                    out["loss"].append(loss.item())
                for group in optimizer.param_groups:
                    group["lr"] = schedule(t)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                t += 1
                if t > wanted[-1]:
                    break
    return {k: np.asarray(v) for k, v in out.items()}
