"""lrlib: exact, vectorized learning-rate schedules that agree with PyTorch.

The core needs only numpy:

* ``lrlib.schedules``: every schedule as a pure function of the update index, composed with ``join``;
* ``lrlib.plateau``: ``ReduceOnPlateau``, the schedule driven by a measured metric;
* ``lrlib.lr_finder``: the learning-rate range test, over any training step;
* ``lrlib.checks``: the argument checks every constructor uses;
* ``lrlib.reference``: what PyTorch, Hugging Face and optax compute, for comparisons (PyTorch is
  imported by the functions that step it);
* ``lrlib.torch_adapter``: ``to_torch`` and the range test on a PyTorch model (imports torch).

Above the core: ``lrlib.notebook`` (plots, widgets, the digits training harness, topic helpers for
the notebooks) and ``lrlib.cifar`` (the CIFAR-10 experiment engine).
"""
from .lr_finder import RangeTestResult, exponential_range, range_test
from .plateau import ReduceOnPlateau
from .schedules import (
    Schedule,
    anneal_cos,
    anneal_linear,
    anneal_sqrt,
    constant,
    cosine_annealing,
    cosine_warm_restarts,
    cyclic,
    exponential_decay,
    inverse_sqrt,
    join,
    linear_decay,
    linear_warmup,
    multistep_decay,
    one_cycle,
    one_cycle_momentum,
    polynomial_decay,
    step_decay,
    wsd,
)

__all__ = [
    "Schedule", "constant", "step_decay", "multistep_decay", "exponential_decay", "cosine_annealing",
    "cosine_warm_restarts", "linear_decay", "polynomial_decay", "inverse_sqrt", "cyclic", "one_cycle",
    "one_cycle_momentum", "linear_warmup", "join", "wsd", "anneal_linear", "anneal_cos", "anneal_sqrt",
    "ReduceOnPlateau", "exponential_range", "range_test", "RangeTestResult", "to_torch",
]
__version__ = "0.1.0"


def to_torch(optimizer, schedule, momentum=None):
    """A real ``torch.optim.lr_scheduler.LRScheduler`` applying ``schedule``; see ``lrlib.torch_adapter``."""
    from .torch_adapter import to_torch as make_scheduler
    return make_scheduler(optimizer, schedule, momentum)
