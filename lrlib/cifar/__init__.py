"""Compare learning-rate schedules on CIFAR-10: one small, fast ConvNet trained many times.

Only the schedule, its peak (lr scale) and the seed vary between runs, so accuracy differences are the
schedule's doing or seed noise. Modules: ``profiles`` (every hyperparameter), ``data``, ``network``,
``training`` (one run), ``sweep`` (many, resumable), ``results`` (the files), ``statistics``, ``plots``;
the command line is ``python -m lrlib.cifar --help``. Importing this package, ``results``, ``statistics``
or ``plots`` imports no torch; ``run_sweep`` brings it on first use.
"""
from .profiles import PROFILES, SCHEDULE_NAMES, Profile, default_profile, make_schedule

__all__ = ["Profile", "PROFILES", "SCHEDULE_NAMES", "default_profile", "make_schedule", "run_sweep"]


def __getattr__(name):
    if name == "run_sweep":  # imported on first use: it brings torch
        from .sweep import run_sweep
        return run_sweep
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
