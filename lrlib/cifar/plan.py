"""The study's plan: which runs a study makes, in which order, and how its peak grids grow.

A run of a study is named by a ``Run``: its phase ("grid", scored on the validation split, or "final",
scored on the test set), arm, schedule, budget, peak step k and seed. Its peak learning rate is

    peak_lr x batch_factor x grid_ratio^k,

the profile's peak scaled linearly with the arm's batch (Goyal et al., 2017) and moved k grid steps.
A *group* is one (arm, schedule, budget): each group gets its own grid and its own chosen peak.

The plan is listed in rounds, each a pure function of the profile and of the runs recorded so far:

1. the grid: in every group, the ``grid_points`` steps k centred on 0, each with the grid seeds
   0 .. grid_seeds - 1;
2. extensions, once every grid run listed so far is recorded: a group whose best step (``best_step``:
   the highest mean validation accuracy over the grid seeds) is the lowest or the highest it tried
   gets one more step beyond that edge, until it has had ``max_grid_extensions`` (``next_step``);
3. the final runs, once no group extends: every group at its best step with the fresh seeds
   grid_seeds .. grid_seeds + final_seeds - 1, which no grid run used (seed by seed, so that a study
   given more final seeds later lists the new runs after the old ones).

A diverged run scores chance, 1 / num_classes, the accuracy of an untrained network. Rounds are listed
one after the other, so a run's index in the plan never changes once it is listed: shard i of N
(``--shard i/N``) trains the runs whose index is i modulo N. Needs no torch.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from lrlib.checks import check_int

from .profiles import MIN_UPDATES, Profile, budget_label, count_updates, study_arms

__all__ = ["Run", "SPLIT", "run_of", "lr_scale", "score", "initial_steps", "best_step", "next_step",
           "study_plan", "check_sizes", "parse_shard", "format_plan"]

# The split each phase is scored on: every choice on validation data, the test set by the final runs only.
SPLIT = {"grid": "validation", "final": "test"}


class Run(NamedTuple):
    phase: str  # "grid" or "final"
    arm: str  # "base" or "large_batch" (profiles.study_arms)
    schedule: str
    budget: float  # fraction of the profile's epochs
    peak_step: int  # k: the peak is peak_lr x batch_factor x grid_ratio^k
    seed: int


def run_of(record: dict) -> Run:
    """The ``Run`` a study's record is the result of."""
    return Run(record["phase"], record["arm"], record["schedule"], float(record["budget"]),
               int(record["peak_step"]), int(record["seed"]))


def lr_scale(profile: Profile, run: Run) -> float:
    """The run's peak as a multiple of the profile's peak_lr: batch_factor x grid_ratio^k."""
    factor = {arm.name: arm.batch_factor for arm in study_arms(profile)}[run.arm]
    return factor * profile.grid_ratio ** run.peak_step


def score(record: dict) -> float:
    """A run's accuracy on its split; a diverged run scores chance, 1 / num_classes (it did not train)."""
    if record["diverged"]:
        return 1 / record["num_classes"]
    return record[f"final_{record['split']}_accuracy"]


def initial_steps(grid_points: int) -> list[int]:
    """The grid's first steps: grid_points consecutive integers centred on 0 (-2 .. 2 for 5)."""
    return list(range(-(grid_points // 2), grid_points - grid_points // 2))


def best_step(mean_scores: dict) -> int:
    """The step with the highest mean score; among equal scores the smaller step (the smaller peak)."""
    return max(sorted(mean_scores), key=lambda k: mean_scores[k])


def next_step(mean_scores: dict, grid_points: int, max_extensions: int) -> int | None:
    """The step a group tries next given the mean score of each step tried so far, or None when its
    grid is settled: one step beyond the edge where the best step sits, while the group has had fewer
    than ``max_extensions`` extensions (steps beyond its first ``grid_points``)."""
    best, low, high = best_step(mean_scores), min(mean_scores), max(mean_scores)
    if len(mean_scores) - grid_points >= max_extensions or low < best < high:
        return None
    return low - 1 if best == low else high + 1


def _groups(profile: Profile) -> list[tuple[str, str, float]]:
    """Every (arm, schedule, budget), in the plan's order: budget, then arm, then schedule."""
    return [(arm.name, schedule, budget) for budget in profile.budgets for arm in study_arms(profile)
            for schedule in arm.schedules]


def study_plan(profile: Profile, records, final_seeds: int | None = None) -> tuple[list[Run], bool]:
    """(the runs of the plan as far as ``records`` determine them, whether that is the whole plan).

    ``records`` are the study's recorded runs (any order, any shard); ``final_seeds`` overrides the
    profile's number of final seeds. The plan stops at the first round with a run not yet recorded:
    the next round depends on it.
    """
    final_seeds = profile.final_seeds if final_seeds is None else check_int("final_seeds", final_seeds, 2)
    scores = {}
    for record in records:
        run = run_of(record)
        if run.phase == "grid":
            scores.setdefault(run._replace(seed=0), []).append(score(record))
    groups = _groups(profile)
    steps = {group: initial_steps(profile.grid_points) for group in groups}
    seeds = range(profile.grid_seeds)
    runs = [Run("grid", *group, k, seed) for group in groups for k in steps[group] for seed in seeds]
    recorded = {run_of(record) for record in records}
    while True:
        if any(run not in recorded for run in runs):
            return runs, False
        means = {group: {k: float(np.mean(scores[Run("grid", *group, k, 0)])) for k in steps[group]}
                 for group in groups}
        extensions = []
        for group in groups:
            k = next_step(means[group], profile.grid_points, profile.max_grid_extensions)
            if k is not None:
                steps[group].append(k)
                extensions += [Run("grid", *group, k, seed) for seed in seeds]
        if not extensions:
            break
        runs += extensions
    fresh = range(profile.grid_seeds, profile.grid_seeds + final_seeds)  # seed by seed: more seeds come last
    return runs + [Run("final", *group, best_step(means[group]), seed) for seed in fresh for group in groups], True


def check_sizes(profile: Profile, n_train: int, world: int = 1) -> None:
    """ValueError, naming the profile, unless every arm's batch fits ``n_train`` training images, splits
    evenly over ``world`` processes, and gives every budget at least MIN_UPDATES updates."""
    for arm in study_arms(profile):
        batch = arm.batch_factor * profile.batch_size
        for budget in profile.budgets:
            updates = count_updates(n_train, batch, profile.epochs, budget)[1]
            if batch > n_train or updates < MIN_UPDATES or batch % world:
                raise ValueError(
                    f"profile {profile.name!r}: the {arm.name} arm's batch of {batch} images makes {updates} "
                    f"updates at budget {budget} on {n_train} training images"
                    + (f" over {world} processes" if world > 1 else "") + f"; every run needs a batch that fits, "
                    f"divides evenly over the processes and makes at least {MIN_UPDATES} updates: use more "
                    f"images (--data-dir) or a larger profile")


def parse_shard(text: str) -> tuple[int, int]:
    """``"i/N"`` -> (i, N) with 0 <= i < N: this process trains the runs whose plan index is i modulo N."""
    try:
        index, count = (int(part) for part in str(text).split("/"))
    except ValueError:
        raise ValueError(f"--shard must be i/N with integers 0 <= i < N, got {text!r}") from None
    if not 0 <= index < count:
        raise ValueError(f"--shard must be i/N with integers 0 <= i < N, got {text!r}")
    return index, count


def format_plan(profile: Profile, runs: list[Run], complete: bool, records, shard=(0, 1),
                final_seeds: int | None = None) -> str:
    """The plan as text: one line per run of ``shard`` (index, phase, arm, schedule, budget, peak, seed,
    whether it is recorded), then the counts, and what the rounds not yet listed can add."""
    index, count = shard
    recorded = {run_of(record) for record in records}
    lines = [f"{'index':>6}  {'phase':<5}  {'arm':<11}  {'schedule':<24}  {'budget':>6}  {'peak lr':>9}  "
             f"{'seed':>4}  recorded"]
    mine = [(i, run) for i, run in enumerate(runs) if i % count == index]
    for i, run in mine:
        peak = profile.peak_lr * lr_scale(profile, run)
        budget = budget_label(run.budget)
        lines.append(f"{i:>6}  {run.phase:<5}  {run.arm:<11}  {run.schedule:<24}  {budget:>6}  {peak:>9.4g}  "
                     f"{run.seed:>4}  {'yes' if run in recorded else 'no'}")
    shard_text = f" (shard {index}/{count}: {len(mine)} of them)" if count > 1 else ""
    lines.append(f"{len(runs)} runs listed{shard_text}, {sum(run in recorded for run in runs)} recorded.")
    if not complete:
        groups = len(_groups(profile))
        extended = sum(run.phase == "grid" for run in runs) - groups * profile.grid_points * profile.grid_seeds
        later = groups * profile.max_grid_extensions * profile.grid_seeds - extended
        lines.append(f"Not listed yet (they depend on the grid's results): up to {later} extension runs, then "
                     f"{groups} groups x {final_seeds or profile.final_seeds} final runs.")
    return "\n".join(lines)
