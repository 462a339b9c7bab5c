"""What other libraries actually do, for checking lrlib against them.

* ``torch_lrs`` steps a real PyTorch scheduler attached to a real optimizer and records the learning
  rate (and momentum) in force at each update: the ground truth, not the scheduler's formula.
* ``torch_scheduler_for`` names the PyTorch scheduler equivalent to an lrlib schedule.
* ``hf_*`` and ``optax_*`` re-state the Hugging Face and optax schedules from their documented
  definitions (neither library is a dependency), so the notebooks can show where conventions differ.
"""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from .schedules import Schedule

__all__ = ["relative_difference", "torch_lrs", "torch_plateau_lrs", "torch_scheduler_for", "compare_with_torch",
           "hf_linear_with_warmup", "hf_cosine_with_warmup", "optax_warmup_cosine_decay", "optax_cosine_onecycle"]


def torch_lrs(make_scheduler, steps: int, lr: float = 1.0, momentum: float = 0.9):
    """Learning rates (and momenta) a PyTorch scheduler applies at updates 0..steps-1.

    ``make_scheduler(optimizer)`` builds the scheduler. The loop is the canonical one:
    ``optimizer.step()`` then ``scheduler.step()``, and the rate is read from the optimizer's param
    group just before each update, which is what the update actually used.
    """
    import torch

    param = torch.zeros(1, requires_grad=True)
    optimizer = torch.optim.SGD([param], lr=lr, momentum=momentum)
    scheduler = make_scheduler(optimizer)
    lrs, momenta = np.empty(steps), np.empty(steps)
    for t in range(steps):
        lrs[t] = optimizer.param_groups[0]["lr"]
        momenta[t] = optimizer.param_groups[0]["momentum"]
        param.grad = torch.zeros_like(param)
        optimizer.step()
        scheduler.step()
    return lrs, momenta


def torch_plateau_lrs(metrics: Sequence[float], lr: float, **kwargs) -> np.ndarray:
    """The rates a real ``torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, **kwargs)`` sets after
    each ``scheduler.step(metric)``, read from the optimizer (what the next epoch uses)."""
    import torch

    param = torch.zeros(1, requires_grad=True)
    optimizer = torch.optim.SGD([param], lr=lr)
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, **kwargs)
    lrs = []
    for metric in metrics:
        optimizer.step()
        scheduler.step(float(metric))
        lrs.append(optimizer.param_groups[0]["lr"])
    return np.asarray(lrs)


def torch_scheduler_for(schedule: Schedule):
    """A function ``optimizer -> PyTorch scheduler`` equivalent to ``schedule``, or None if PyTorch has none.

    Equivalent means: the same learning rate at every update, given an optimizer created with
    ``lr = schedule(0)`` (cosine_annealing: for t <= total_steps; one_cycle: for t < total_steps).
    """
    from torch.optim import lr_scheduler as S

    p = schedule.params
    makers = {
        "constant": lambda o: S.LambdaLR(o, lambda t: 1.0),
        "step_decay": lambda o: S.StepLR(o, step_size=p["step_size"], gamma=p["gamma"]),
        "multistep_decay": lambda o: S.MultiStepLR(o, milestones=p["milestones"], gamma=p["gamma"]),
        "exponential_decay": lambda o: S.ExponentialLR(o, gamma=p["gamma"]),
        "cosine_annealing": lambda o: S.CosineAnnealingLR(o, T_max=p["total_steps"], eta_min=p["min_lr"]),
        "cosine_warm_restarts": lambda o: S.CosineAnnealingWarmRestarts(
            o, T_0=p["period"], T_mult=p["period_mult"], eta_min=p["min_lr"]),
        "linear_decay": lambda o: S.LinearLR(o, start_factor=1.0, end_factor=p["end_lr"] / p["lr"],
                                             total_iters=p["total_steps"]),
        "cyclic": lambda o: S.CyclicLR(o, base_lr=p["base_lr"], max_lr=p["max_lr"],
                                       step_size_up=p["step_size_up"], step_size_down=p["step_size_down"],
                                       mode=p["mode"], gamma=p["gamma"], cycle_momentum=False),
        "one_cycle": lambda o: S.OneCycleLR(o, max_lr=p["max_lr"], total_steps=p["total_steps"],
                                            pct_start=p["pct_start"], anneal_strategy=p["anneal"],
                                            div_factor=p["div_factor"],
                                            final_div_factor=p["final_div_factor"],
                                            three_phase=p["three_phase"]),
    }
    if schedule.name == "polynomial_decay" and p["end_lr"] == 0:
        return lambda o: S.PolynomialLR(o, total_iters=p["total_steps"], power=p["power"])
    return makers.get(schedule.name)


def relative_difference(ours, theirs) -> np.ndarray:
    """|ours - theirs| / |theirs|, 0 where both are 0 (a schedule that decays to exactly 0) and inf
    where only theirs is 0."""
    ours, theirs = np.asarray(ours, dtype=np.float64), np.asarray(theirs, dtype=np.float64)
    diff = np.abs(ours - theirs)
    scale = np.abs(theirs)
    return np.divide(diff, scale, out=np.where(diff == 0, 0.0, np.inf), where=scale > 0)


def compare_with_torch(schedule: Schedule, steps: int) -> dict:
    """lrlib's values next to PyTorch's over updates 0..steps-1, and the largest relative difference."""
    make = torch_scheduler_for(schedule)
    if make is None:
        raise ValueError(f"PyTorch has no scheduler equivalent to {schedule.name}")
    ours = schedule(np.arange(steps))
    theirs, _ = torch_lrs(make, steps, lr=float(ours[0]))
    rel = relative_difference(ours, theirs)
    return dict(lrlib=ours, torch=theirs, max_rel_diff=float(rel.max()), worst_step=int(rel.argmax()))


# --------------------------------------------------------------------------------------------------
# Hugging Face transformers (optimization.py): LambdaLR multipliers, restated from their definitions

def hf_linear_with_warmup(num_warmup_steps: int, num_training_steps: int):
    """Multiplier of ``get_linear_schedule_with_warmup``: step/W during warmup, then linear to 0 at N."""
    def multiplier(step):
        step = np.asarray(step, dtype=np.float64)
        warm = step / max(1, num_warmup_steps)
        decay = np.maximum(0.0, (num_training_steps - step) / max(1, num_training_steps - num_warmup_steps))
        return np.where(step < num_warmup_steps, warm, decay)
    return multiplier


def hf_cosine_with_warmup(num_warmup_steps: int, num_training_steps: int, num_cycles: float = 0.5):
    """Multiplier of ``get_cosine_schedule_with_warmup``: step/W, then half a cosine to 0 at N."""
    def multiplier(step):
        step = np.asarray(step, dtype=np.float64)
        warm = step / max(1, num_warmup_steps)
        progress = (step - num_warmup_steps) / max(1, num_training_steps - num_warmup_steps)
        decay = np.maximum(0.0, 0.5 * (1.0 + np.cos(math.pi * num_cycles * 2.0 * progress)))
        return np.where(step < num_warmup_steps, warm, decay)
    return multiplier


# --------------------------------------------------------------------------------------------------
# optax (schedules/_schedule.py), restated from their definitions

def optax_warmup_cosine_decay(init_value, peak_value, warmup_steps, decay_steps, end_value=0.0):
    """``optax.warmup_cosine_decay_schedule``: linear init->peak over W, cosine to end at decay_steps.

    Note that optax's ``decay_steps`` is the *total* length, warmup included.
    """
    def schedule(step):
        step = np.asarray(step, dtype=np.float64)
        warm = init_value + (peak_value - init_value) * step / max(1, warmup_steps)
        frac = np.clip(step - warmup_steps, 0, decay_steps - warmup_steps) / (decay_steps - warmup_steps)
        cos = end_value + (peak_value - end_value) * 0.5 * (1.0 + np.cos(math.pi * frac))
        return np.where(step < warmup_steps, warm, cos)
    return schedule


def optax_cosine_onecycle(transition_steps, peak_value, pct_start=0.3, div_factor=25.0, final_div_factor=1e4):
    """``optax.cosine_onecycle_schedule``: a piecewise cosine interpolation through
    (0, peak/div), (int(pct_start*T), peak), (T, peak/(div*final_div)), held after T.
    """
    knots = np.array([0.0, int(pct_start * transition_steps), transition_steps])
    init = peak_value / div_factor
    values = [init, peak_value, init / final_div_factor]

    def schedule(step):
        step = np.minimum(np.asarray(step, dtype=np.float64), transition_steps)
        i = np.clip(np.searchsorted(knots, step, side="right") - 1, 0, 1)
        frac = (step - knots[i]) / (knots[i + 1] - knots[i])
        a, b = np.take(values, i), np.take(values, i + 1)
        return b + (a - b) * 0.5 * (1.0 + np.cos(math.pi * frac))
    return schedule
