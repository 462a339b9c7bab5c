"""lrlib: exact, vectorized learning-rate schedules, and the tools the notebooks use around them.

The schedules (``lrlib.schedules``) need only numpy. ``to_torch`` imports torch when first used.
"""
from .plateau import ReduceOnPlateau
from .schedules import (Schedule, anneal_cos, anneal_linear, anneal_sqrt, constant, cosine_annealing,
                        cosine_warm_restarts, cyclic, exponential_decay, inverse_sqrt, join,
                        linear_decay, linear_warmup, multistep_decay, one_cycle, one_cycle_momentum,
                        polynomial_decay, step_decay, wsd)

__version__ = "0.1.0"


def to_torch(optimizer, schedule, momentum=None):
    """A real ``torch.optim.lr_scheduler.LRScheduler`` applying ``schedule``; see ``lrlib.torch_adapter``."""
    from .torch_adapter import to_torch as _to_torch
    return _to_torch(optimizer, schedule, momentum)
