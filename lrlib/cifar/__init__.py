"""Compare learning-rate schedules on CIFAR-10: one small, fast ConvNet trained many times.

Only the schedule, its peak (lr scale), the training budget and the seed vary between runs, so accuracy
differences are the schedule's doing or seed noise. Modules: ``profiles`` (every hyperparameter and the
study's design), ``data``, ``network``, ``training`` (one run), ``sweep`` (many, resumable), ``plan``
(a study's runs), ``study`` (training them: resumable, shardable), ``results`` (the files),
``statistics``, ``plots``; the command line is ``python -m lrlib.cifar --help``. Importing this package,
``plan``, ``results``, ``statistics`` or ``plots`` imports no torch; ``run_sweep`` and ``run_study``
bring it on first use.
"""
from .profiles import PROFILES, SCHEDULE_NAMES, STUDY_SCHEDULES, Profile, default_profile, make_schedule

__all__ = ["Profile", "PROFILES", "SCHEDULE_NAMES", "STUDY_SCHEDULES", "default_profile", "make_schedule",
           "run_sweep", "run_study"]


def __getattr__(name):
    if name == "run_sweep":  # imported on first use: it brings torch
        from .sweep import run_sweep
        return run_sweep
    if name == "run_study":
        from .study import run_study
        return run_study
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
