"""Learning-rate schedules as pure functions of the step.

A schedule is a callable object: ``s(t)`` is the learning rate for optimizer update number ``t``
(counted from 0). ``t`` may be a non-negative Python/numpy integer (a float comes back) or an integer
numpy array (a float64 array of the same shape comes back). Every formula below is a closed form
written with numpy, so a million steps cost one vectorized expression, never a Python loop.

Conventions (where libraries disagree, this is what lrlib does and why):

* **Step 0 is the first update.** ``s(0)`` is the rate used by the first ``optimizer.step()``,
  exactly what a PyTorch scheduler has set before the first update.
* **Decays end at ``t = total_steps``.** ``cosine_annealing``, ``linear_decay``, ``polynomial_decay``
  reach their end value at ``t = total_steps`` and hold it afterwards (PyTorch's ``CosineAnnealingLR``
  and Hugging Face's cosine schedule instead rise again after the end, because their cosine is
  periodic; holding is what a user who overshoots ``total_steps`` wants).
  If you train for exactly N updates (t = 0..N-1) with ``total_steps=N``, the last update uses the
  value one step before the end, which is PyTorch's convention too.
* **Warmup starts at ``start_lr`` (default 0) at t = 0 and reaches the peak at t = warmup_steps**,
  as in Hugging Face's ``get_*_schedule_with_warmup``. The first update therefore has lr = start_lr.
* **One-cycle follows PyTorch's ``OneCycleLR``**: the peak is at ``t = pct_start*T - 1`` (optax puts it
  at ``int(pct_start*T)``), and the minimum ``max_lr/(div_factor*final_div_factor)`` is reached at the
  last update ``t = T - 1`` and held after it (PyTorch raises an error past ``T``).

Schedules compose: ``linear_warmup`` wraps any schedule, and ``join`` chains schedules in time, each
piece's clock restarting at its boundary (optax's ``join_schedules``).
"""
from __future__ import annotations

import numbers
from itertools import pairwise
from typing import Callable, Sequence

import numpy as np

from .checks import check_choice, check_end_lr, check_factor, check_int, check_lr

__all__ = [
    "Schedule", "constant", "step_decay", "multistep_decay", "exponential_decay",
    "cosine_annealing", "cosine_warm_restarts", "linear_decay", "polynomial_decay",
    "inverse_sqrt", "cyclic", "one_cycle", "one_cycle_momentum", "linear_warmup", "join", "wsd",
    "anneal_linear", "anneal_cos", "anneal_sqrt",
]


# --------------------------------------------------------------------------------------------------
# The schedule object

_BLOCK = 1 << 14  # steps evaluated per vectorized call: 16k float64 = 128 kB, a few such arrays fit in L2

class Schedule:
    """A learning-rate schedule: a pure function of the update index, with its parameters attached.

    ``name`` and ``params`` make the repr (``cosine_annealing(lr=0.1, total_steps=100, min_lr=0.0)``)
    and let widgets and experiment records rebuild or display the schedule. ``formula`` maps an int64
    array of steps to a float64 array of learning rates and is only ever called with valid steps.
    """

    def __init__(self, name: str, params: dict, formula: Callable[[np.ndarray], np.ndarray],
                 lr_range: tuple[float, float]):
        self.name = name
        self.params = dict(params)
        self._formula = formula
        # The interval every value lies in; property tests check it.
        self.lr_range = (float(lr_range[0]), float(lr_range[1]))

    def __call__(self, step):
        t = _as_steps(step)
        # Scalars go through the same 1-d array code as arrays: numpy's scalar arithmetic can round
        # differently in the last bit (x**2 on a numpy scalar calls pow), and s(t) must equal s([t])[0].
        flat = t.reshape(-1)
        values = np.empty(flat.shape)
        # Long inputs are evaluated in blocks that stay in the CPU cache (the same vectorized formula).
        for start in range(0, flat.size, _BLOCK):
            values[start:start + _BLOCK] = self._formula(flat[start:start + _BLOCK])
        return float(values[0]) if t.ndim == 0 else values.reshape(t.shape)

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.params.items())
        return f"{self.name}({args})"


def _as_steps(step) -> np.ndarray:
    """Validate the step argument: a non-negative integer or an integer array."""
    if isinstance(step, (bool, np.bool_)):
        raise TypeError("step must be an integer or an integer numpy array, got a bool")
    if isinstance(step, numbers.Integral):
        t = np.asarray(int(step), dtype=np.int64)
    else:
        t = np.asarray(step)
        if not np.issubdtype(t.dtype, np.integer):
            raise TypeError(f"step must be an integer or an integer numpy array, got {t.dtype} "
                            f"(use np.arange(n), not np.linspace, for step indices)")
        t = t.astype(np.int64)
    if np.any(t < 0):
        raise ValueError("step must be >= 0 (steps count optimizer updates from 0)")
    return t


# --------------------------------------------------------------------------------------------------
# Annealing functions: from `start` to `end` as `pct` goes from 0 to 1 (fastai's vocabulary).
# Written so that pct = 0 gives `start` and pct = 1 gives `end` exactly, not to within rounding.

def anneal_linear(start, end, pct):
    return (1.0 - pct) * start + pct * end


def anneal_cos(start, end, pct):
    # = end + (start - end) * (1 + cos(pi * pct)) / 2, written with (1 + cos x)/2 = sin^2((pi - x)/2) and
    # (1 - cos x)/2 = sin^2(x/2): no cancellation. A step before reaching 0 the textbook form keeps
    # only about 16 - log10(T^2) correct digits; this one is limited by the rounding of pct alone.
    # The arithmetic is done in place on two buffers.
    half_angle = np.multiply(pct, np.pi / 2, out=np.empty(np.shape(pct)))
    to_end = np.sin(half_angle)
    to_end *= to_end
    to_start = np.sin(np.subtract(np.pi / 2, half_angle, out=half_angle), out=half_angle)
    to_start *= to_start
    to_start *= start
    if np.any(end):  # most schedules anneal to 0: then skip a pass over the data
        to_end *= end
        to_start += to_end
    return to_start[()]  # a number for a number, the array for an array


def anneal_sqrt(start, end, pct):
    """The "1 - sqrt" cooldown of warmup-stable-decay (Hägele et al., 2024)."""
    return anneal_linear(start, end, np.sqrt(pct))


_ANNEALERS = {"linear": anneal_linear, "cos": anneal_cos, "cosine": anneal_cos, "sqrt": anneal_sqrt}


# --------------------------------------------------------------------------------------------------
# Argument checks (lrlib.checks), and one for schedules given as arguments

def check_schedule(name, value):
    """An lrlib ``Schedule``: what ``linear_warmup`` and ``join`` wrap."""
    if not isinstance(value, Schedule):
        raise TypeError(f"{name} must be an lrlib Schedule, got {type(value).__name__}")
    return value


# --------------------------------------------------------------------------------------------------
# Decays

def constant(lr: float) -> Schedule:
    """lr at every step."""
    lr = check_lr("lr", lr)
    return Schedule("constant", dict(lr=lr), lambda t: np.full(t.shape, lr), (lr, lr))


def step_decay(lr: float, step_size: int, gamma: float = 0.1) -> Schedule:
    """lr * gamma^floor(t / step_size)  (PyTorch ``StepLR``)."""
    lr = check_lr("lr", lr)
    step_size = check_int("step_size", step_size, 1)
    gamma = check_factor("gamma", gamma, 0.0, 1.0)
    return Schedule("step_decay", dict(lr=lr, step_size=step_size, gamma=gamma),
                    lambda t: lr * gamma ** (t // step_size), (0.0, lr))


def multistep_decay(lr: float, milestones: Sequence[int], gamma: float = 0.1) -> Schedule:
    """lr * gamma^(number of milestones <= t)  (PyTorch ``MultiStepLR``)."""
    lr = check_lr("lr", lr)
    gamma = check_factor("gamma", gamma, 0.0, 1.0)
    if isinstance(milestones, (str, bytes)) or not hasattr(milestones, "__iter__"):
        raise TypeError("milestones must be a sequence of integers")
    milestones = [check_int("milestones[i]", m, 1) for m in milestones]
    if any(b <= a for a, b in pairwise(milestones)):
        raise ValueError(f"milestones must be strictly increasing, got {milestones}")
    edges = np.asarray(milestones, dtype=np.int64)
    return Schedule("multistep_decay", dict(lr=lr, milestones=milestones, gamma=gamma),
                    lambda t: lr * gamma ** np.searchsorted(edges, t, side="right"), (0.0, lr))


def exponential_decay(lr: float, gamma: float) -> Schedule:
    """lr * gamma^t  (PyTorch ``ExponentialLR``); gamma = exp(-k) gives lr * exp(-k t)."""
    lr = check_lr("lr", lr)
    gamma = check_factor("gamma", gamma, 0.0, 1.0)
    return Schedule("exponential_decay", dict(lr=lr, gamma=gamma),
                    lambda t: lr * gamma ** t.astype(np.float64), (0.0, lr))


def cosine_annealing(lr: float, total_steps: int, min_lr: float = 0.0) -> Schedule:
    """min_lr + (lr - min_lr) * (1 + cos(pi * t / T)) / 2 for t <= T, then min_lr.

    Equals PyTorch ``CosineAnnealingLR(T_max=T, eta_min=min_lr)`` for t <= T; PyTorch climbs back up
    after T (its formula is periodic), lrlib holds min_lr.
    """
    lr = check_lr("lr", lr)
    total_steps = check_int("total_steps", total_steps, 1)
    min_lr = check_end_lr("min_lr", min_lr, lr)

    def formula(t):
        return anneal_cos(lr, min_lr, np.minimum(t, total_steps) / total_steps)
    return Schedule("cosine_annealing", dict(lr=lr, total_steps=total_steps, min_lr=min_lr),
                    formula, (min_lr, lr))


def cosine_warm_restarts(lr: float, period: int, period_mult: int = 1, min_lr: float = 0.0) -> Schedule:
    """SGDR (Loshchilov & Hutter, 2017): cosine from lr to min_lr, restarted every cycle.

    Cycle i lasts ``period * period_mult**i`` steps. Equals PyTorch
    ``CosineAnnealingWarmRestarts(T_0=period, T_mult=period_mult, eta_min=min_lr)``. The cycle index is
    found with integer arithmetic (a search in the table of cycle starts), never with a floating-point
    logarithm, which misplaces restarts by one step for some periods.
    """
    lr = check_lr("lr", lr)
    period = check_int("period", period, 1)
    period_mult = check_int("period_mult", period_mult, 1)
    min_lr = check_end_lr("min_lr", min_lr, lr)

    def formula(t):
        if period_mult == 1:
            t_cur, t_i = t % period, period
        else:
            last = int(t.max()) if t.size else 0
            starts, lengths = [0], [period]  # cycles grow geometrically: a short table
            while starts[-1] <= last:
                starts.append(starts[-1] + lengths[-1])
                lengths.append(lengths[-1] * period_mult)
            cycle = np.searchsorted(starts, t, side="right") - 1
            t_cur, t_i = t - np.take(starts, cycle), np.take(lengths, cycle)
        return anneal_cos(lr, min_lr, t_cur / t_i)
    return Schedule("cosine_warm_restarts",
                    dict(lr=lr, period=period, period_mult=period_mult, min_lr=min_lr),
                    formula, (min_lr, lr))


def linear_decay(lr: float, total_steps: int, end_lr: float = 0.0) -> Schedule:
    """lr + (end_lr - lr) * min(t, T) / T  (PyTorch ``LinearLR(start_factor=1, end_factor=end_lr/lr)``)."""
    lr = check_lr("lr", lr)
    total_steps = check_int("total_steps", total_steps, 1)
    end_lr = check_end_lr("end_lr", end_lr, lr)
    return Schedule("linear_decay", dict(lr=lr, total_steps=total_steps, end_lr=end_lr),
                    lambda t: anneal_linear(lr, end_lr, np.minimum(t, total_steps) / total_steps),
                    (end_lr, lr))


def polynomial_decay(lr: float, total_steps: int, power: float = 1.0, end_lr: float = 0.0) -> Schedule:
    """(lr - end_lr) * (1 - min(t, T) / T)^power + end_lr  (PyTorch ``PolynomialLR`` when end_lr = 0)."""
    lr = check_lr("lr", lr)
    total_steps = check_int("total_steps", total_steps, 1)
    power = check_lr("power", power)
    end_lr = check_end_lr("end_lr", end_lr, lr)

    def formula(t):
        return (lr - end_lr) * (1.0 - np.minimum(t, total_steps) / total_steps) ** power + end_lr
    return Schedule("polynomial_decay", dict(lr=lr, total_steps=total_steps, power=power, end_lr=end_lr),
                    formula, (end_lr, lr))


def inverse_sqrt(lr: float, warmup_steps: int) -> Schedule:
    """The Transformer ("Noam") schedule scaled to peak at lr: lr * min(t / W, sqrt(W / t)).

    Linear warmup from 0 to lr over W steps, then decay as 1/sqrt(t). Vaswani et al. write it as
    d_model^-0.5 * min(n^-0.5, n * W^-1.5) with n counted from 1; lrlib counts from 0 like every other
    warmup here, so the peak lr is reached at t = W exactly and t = 0 gives 0.
    """
    lr = check_lr("lr", lr)
    warmup_steps = check_int("warmup_steps", warmup_steps, 1)

    def formula(t):
        tf = t.astype(np.float64)
        return lr * np.minimum(tf / warmup_steps, np.sqrt(warmup_steps / np.maximum(tf, 1.0)))
    return Schedule("inverse_sqrt", dict(lr=lr, warmup_steps=warmup_steps), formula, (0.0, lr))


# --------------------------------------------------------------------------------------------------
# Cyclical schedules

def cyclic(base_lr: float, max_lr: float, step_size_up: int, step_size_down: int | None = None,
           mode: str = "triangular", gamma: float = 1.0) -> Schedule:
    """Cyclical learning rates (Smith, 2017), equal to PyTorch ``CyclicLR``.

    The rate climbs linearly from base_lr to max_lr over step_size_up steps and falls back over
    step_size_down. The amplitude is scaled per cycle (``triangular2``: halved every cycle) or per
    step (``exp_range``: gamma**t).
    """
    base_lr = check_lr("base_lr", base_lr)
    max_lr = check_lr("max_lr", max_lr)
    if max_lr < base_lr:
        raise ValueError(f"max_lr must be >= base_lr = {base_lr}, got {max_lr}")
    step_size_up = check_int("step_size_up", step_size_up, 1)
    step_size_down = step_size_up if step_size_down is None else check_int("step_size_down", step_size_down, 1)
    mode = check_choice("mode", mode, {"triangular", "triangular2", "exp_range"})
    gamma = check_factor("gamma", gamma, 0.0, 1.0)
    cycle_len = step_size_up + step_size_down

    def formula(t):
        cycle, pos = np.divmod(t, cycle_len)  # cycle counts from 0 here, from 1 in PyTorch
        height = np.where(pos <= step_size_up, pos / step_size_up, (cycle_len - pos) / step_size_down)
        if mode == "triangular":
            scale = 1.0
        elif mode == "triangular2":
            scale = 0.5 ** cycle.astype(np.float64)
        else:
            scale = gamma ** t.astype(np.float64)
        return base_lr + (max_lr - base_lr) * height * scale
    return Schedule("cyclic", dict(base_lr=base_lr, max_lr=max_lr, step_size_up=step_size_up,
                                   step_size_down=step_size_down, mode=mode, gamma=gamma),
                    formula, (base_lr, max_lr))


def _one_cycle_phases(total_steps, pct_start, three_phase):
    """Phase end steps as PyTorch's OneCycleLR computes them (floats, so the peak may fall between steps)."""
    total_steps = check_int("total_steps", total_steps, 2)
    pct_start = check_factor("pct_start", pct_start, 0.0, 1.0, high_open=True)
    up_end = pct_start * total_steps - 1.0
    if up_end <= 0:
        raise ValueError(f"pct_start * total_steps must be > 1 so the warm-up phase lasts at least one "
                         f"step, got pct_start={pct_start}, total_steps={total_steps}")
    if three_phase:
        ends = [up_end, 2 * pct_start * total_steps - 2.0, total_steps - 1.0]
        if not ends[1] < ends[2]:
            raise ValueError(f"with three_phase=True pct_start must leave room for the final phase "
                             f"(2*pct_start*total_steps - 2 < total_steps - 1), got pct_start={pct_start}")
    else:
        ends = [up_end, total_steps - 1.0]
        if not ends[0] < ends[1]:
            raise ValueError(f"pct_start must leave at least one step for the decay phase, got {pct_start}")
    return total_steps, pct_start, ends


def _piecewise_anneal(t, ends, levels, anneal):
    """Anneal levels[i] -> levels[i+1] during phase i, which ends at ends[i] (inclusive); hold the last level after."""
    ends, levels = np.asarray(ends), np.asarray(levels)
    starts = np.concatenate([[0.0], ends[:-1]])
    tf = np.minimum(t, ends[-1])
    phase = np.searchsorted(ends, tf, side="left")  # the first phase whose end is >= t
    pct = (tf - starts[phase]) / (ends - starts)[phase]
    return anneal(levels[phase], levels[phase + 1], pct)


def one_cycle(max_lr: float, total_steps: int, pct_start: float = 0.3, div_factor: float = 25.0,
              final_div_factor: float = 1e4, anneal: str = "cos", three_phase: bool = False) -> Schedule:
    """One-cycle (Smith & Topin, 2019) exactly as PyTorch ``OneCycleLR``, t = 0..total_steps-1.

    Up from max_lr/div_factor to max_lr until t = pct_start*T - 1, then down to
    max_lr/(div_factor*final_div_factor) at t = T - 1 (held afterwards). With ``three_phase`` the rate
    first comes back down symmetrically to max_lr/div_factor, then anneals to the minimum.
    """
    max_lr = check_lr("max_lr", max_lr)
    div_factor = check_lr("div_factor", div_factor)
    final_div_factor = check_lr("final_div_factor", final_div_factor)
    anneal = check_choice("anneal", anneal, {"cos", "linear"})
    total_steps, pct_start, ends = _one_cycle_phases(total_steps, pct_start, three_phase)
    initial_lr = max_lr / div_factor
    min_lr = initial_lr / final_div_factor
    levels = [initial_lr, max_lr, initial_lr, min_lr] if three_phase else [initial_lr, max_lr, min_lr]
    params = dict(max_lr=max_lr, total_steps=total_steps, pct_start=pct_start, div_factor=div_factor,
                  final_div_factor=final_div_factor, anneal=anneal, three_phase=bool(three_phase))
    return Schedule("one_cycle", params,
                    lambda t: _piecewise_anneal(t, ends, levels, _ANNEALERS[anneal]),
                    (min(levels), max_lr))


def one_cycle_momentum(total_steps: int, base_momentum: float = 0.85, max_momentum: float = 0.95,
                       pct_start: float = 0.3, anneal: str = "cos", three_phase: bool = False) -> Schedule:
    """The momentum that ``OneCycleLR`` cycles inversely to the rate: max -> base -> max (-> max)."""
    base_momentum = check_factor("base_momentum", base_momentum, 0.0, 1.0, low_open=False)
    max_momentum = check_factor("max_momentum", max_momentum, 0.0, 1.0, low_open=False)
    if base_momentum > max_momentum:
        raise ValueError(f"base_momentum must be <= max_momentum = {max_momentum}, got {base_momentum}")
    anneal = check_choice("anneal", anneal, {"cos", "linear"})
    total_steps, pct_start, ends = _one_cycle_phases(total_steps, pct_start, three_phase)
    levels = ([max_momentum, base_momentum, max_momentum, max_momentum] if three_phase
              else [max_momentum, base_momentum, max_momentum])
    params = dict(total_steps=total_steps, base_momentum=base_momentum, max_momentum=max_momentum,
                  pct_start=pct_start, anneal=anneal, three_phase=bool(three_phase))
    return Schedule("one_cycle_momentum", params,
                    lambda t: _piecewise_anneal(t, ends, levels, _ANNEALERS[anneal]),
                    (base_momentum, max_momentum))


# --------------------------------------------------------------------------------------------------
# Combinators

def linear_warmup(schedule: Schedule, warmup_steps: int, start_lr: float = 0.0) -> Schedule:
    """start_lr + (schedule(0) - start_lr) * t / W for t < W, then schedule(t - W).

    The wrapped schedule starts its own clock when warmup ends, so ``linear_warmup(cosine_annealing(lr,
    N - W), W)`` is Hugging Face's ``get_cosine_schedule_with_warmup(W, N)`` times lr and
    ``linear_warmup(linear_decay(lr, N - W), W)`` is ``get_linear_schedule_with_warmup(W, N)`` times lr.
    """
    schedule = check_schedule("schedule", schedule)
    warmup_steps = check_int("warmup_steps", warmup_steps, 0)
    peak = schedule(0)
    start_lr = check_lr("start_lr", start_lr, allow_zero=True)
    if start_lr > peak:
        raise ValueError(f"start_lr must be in [0, schedule(0)] = [0, {peak}], got {start_lr}")

    def formula(t):
        warm = anneal_linear(start_lr, peak, t / max(warmup_steps, 1))
        return np.where(t < warmup_steps, warm, schedule(np.maximum(t - warmup_steps, 0)))
    low, high = schedule.lr_range
    return Schedule("linear_warmup", dict(schedule=schedule, warmup_steps=warmup_steps, start_lr=start_lr),
                    formula, (min(low, start_lr), high))


def join(schedules: Sequence[Schedule], boundaries: Sequence[int]) -> Schedule:
    """Piecewise in time: schedules[i] runs from boundaries[i-1], its clock restarted there.

    ``join([a, b], [100])`` is a(t) for t < 100 and b(t - 100) from t = 100 on (optax ``join_schedules``).
    """
    schedules = [check_schedule(f"schedules[{i}]", s) for i, s in enumerate(schedules)]
    if isinstance(boundaries, (str, bytes)) or not hasattr(boundaries, "__iter__"):
        raise TypeError("boundaries must be a sequence of integers")
    boundaries = [check_int("boundaries[i]", b, 1) for b in boundaries]
    if len(boundaries) != len(schedules) - 1:
        raise ValueError(f"boundaries must have len(schedules) - 1 = {len(schedules) - 1} entries, "
                         f"got {len(boundaries)}")
    if any(b <= a for a, b in pairwise(boundaries)):
        raise ValueError(f"boundaries must be strictly increasing, got {boundaries}")
    starts = np.asarray([0] + boundaries, dtype=np.int64)

    def formula(t):
        piece = np.searchsorted(starts, t, side="right") - 1
        out = np.empty(t.shape)
        for i, s in enumerate(schedules):
            mask = piece == i
            if mask.any():
                out[mask] = s(t[mask] - starts[i])
        return out
    ranges = [s.lr_range for s in schedules]
    return Schedule("join", dict(schedules=schedules, boundaries=boundaries), formula,
                    (min(r[0] for r in ranges), max(r[1] for r in ranges)))


def _anneal_schedule(name, start, end, steps, anneal):
    """A schedule that anneals start -> end over `steps` steps and holds `end` after."""
    return Schedule(name, dict(start=start, end=end, steps=steps),
                    lambda t: anneal(start, end, np.minimum(t, steps) / steps),
                    (min(start, end), max(start, end)))


def wsd(lr: float, total_steps: int, warmup_steps: int, decay_steps: int, min_lr: float = 0.0,
        decay: str = "linear") -> Schedule:
    """Warmup-stable-decay ("trapezoid"): warm up 0 -> lr, hold lr, then decay to min_lr at t = T.

    Built with ``join``: warmup over [0, W), constant over [W, T - D), decay over [T - D, T], min_lr
    held afterwards. ``decay`` is "linear", "cosine" or "sqrt" (1 - sqrt, Hägele et al. 2024).
    """
    lr = check_lr("lr", lr)
    total_steps = check_int("total_steps", total_steps, 2)
    warmup_steps = check_int("warmup_steps", warmup_steps, 0)
    decay_steps = check_int("decay_steps", decay_steps, 1)
    min_lr = check_end_lr("min_lr", min_lr, lr)
    decay = check_choice("decay", decay, {"linear", "cosine", "sqrt"})
    if warmup_steps + decay_steps > total_steps:
        raise ValueError(f"warmup_steps + decay_steps must be <= total_steps = {total_steps}, "
                         f"got {warmup_steps} + {decay_steps}")
    stable_steps = total_steps - warmup_steps - decay_steps
    pieces, bounds = [], []
    if warmup_steps:
        pieces.append(_anneal_schedule("warmup", 0.0, lr, warmup_steps, anneal_linear))
        bounds.append(warmup_steps)
    if stable_steps:
        pieces.append(constant(lr))
        bounds.append(warmup_steps + stable_steps)
    pieces.append(_anneal_schedule("decay", lr, min_lr, decay_steps, _ANNEALERS[decay]))
    body = join(pieces, bounds[:len(pieces) - 1])
    params = dict(lr=lr, total_steps=total_steps, warmup_steps=warmup_steps, decay_steps=decay_steps,
                  min_lr=min_lr, decay=decay)
    return Schedule("wsd", params, body, (0.0 if warmup_steps else min_lr, lr))
