"""A study: every schedule at its own best peak, chosen on validation data, per training budget; then
fresh seeds on the test set, for paired comparisons (``statistics.format_study_report``).

    state = run_study("quick", "data/results/study_quick.json")               # the whole study
    state = run_study("full", "data/results/study_full.json", shard=(1, 4))   # shard 1 of 4

The plan (``plan.study_plan``) lists the runs round by round; this module trains them. It loads the
profile's data once, holds the validation split out of the training images (``data.hold_out_validation``:
grid runs are scored on it, and never see the test images), checks that every arm and budget makes a
real run on these images, then repeats: merge the study's results files (``results.read_study``), list
the plan, train this shard's runs that no file holds yet, writing this shard's file after every run.
It stops when this shard has nothing left to train: the study is complete, or the next round waits for
runs of other shards (``StudyState.missing``), and running it again later continues it. Every record
gets the sweep's provenance fields and the study's ``phase``, ``arm`` and ``peak_step``.

Under torchrun each run is trained data-parallel as in the sweep; only rank 0 reads and writes files.
"""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import NamedTuple

from lrlib.checks import check_choice, check_int

from .data import DataError, hold_out_validation, on_device
from .plan import SPLIT, check_sizes, lr_scale, run_of, study_plan
from .profiles import PROFILES, count_updates, study_arms
from .results import read_results, read_study, shard_path, write_results
from .sweep import from_rank0, load_dataset, provenance, select_device
from .training import rank_and_world, train_run

__all__ = ["StudyState", "run_study", "check_same_study", "describe_missing"]


class StudyState(NamedTuple):
    records: list  # every recorded run of the study, from all its files
    plan: list  # the plan's runs as far as the records determine them
    missing: list  # the runs of the plan that no file holds yet (other shards'), with their plan index
    complete: bool  # the whole plan is listed and recorded: the study can be reported


def check_same_study(records, profile, out, data_source=None):
    """DataError unless every recorded run was made with this profile's settings (and on ``data_source``,
    unless None): a study's plan is a function of its profile, so runs of another one are not its runs."""
    settings = json.loads(json.dumps(dataclasses.asdict(profile)))  # tuples become lists, as in a file
    for record in records:
        if record["profile"] != profile.name or record["profile_settings"] != settings:
            raise DataError(f"the study {out} holds runs of profile {record['profile']!r} with other settings than "
                            f"profile {profile.name!r} has now: give the study another --out.")
        if data_source is not None and record["data_source"] != data_source:
            raise DataError(f"the study {out} holds runs on {record['data_source']}, not on {data_source}: "
                            f"give the study another --out.")


def run_study(profile="quick", out="data/results/study_quick.json", shard=(0, 1), final_seeds=None, data_dir=None,
              data_root="data", cache_dir="data/cache", threads=None, progress=True) -> StudyState:
    """Train this shard's runs of the study written to ``out`` that no file of it holds yet; return its state.

    ``shard`` (i, N): train the runs whose plan index is i modulo N, into ``results.shard_path(out, i, N)``
    (N = 1: into ``out``). ``final_seeds`` overrides the profile's number of final seeds (at least 2;
    every shard must be given the same). ``threads``: torch threads per process on a CPU (default 1).
    """
    if isinstance(profile, str):
        profile = PROFILES[check_choice("profile", profile, PROFILES)]
    index, count = shard
    if not 0 <= check_int("shard index", index, 0) < check_int("shard count", count, 1):
        raise ValueError(f"shard must be (i, N) with 0 <= i < N, got {shard}")
    if final_seeds is not None:
        final_seeds = check_int("final_seeds", final_seeds, 2)
    out = Path(out)
    own_file = out if count == 1 else shard_path(out, index, count)
    rank, world = rank_and_world()
    # Read first, so that a file that is no study's stops the study before any data is loaded.
    mine = read_results(own_file) if rank == 0 and own_file.exists() else []
    records = read_study(out) if rank == 0 else []
    device = select_device(threads)

    dataset = hold_out_validation(load_dataset(profile, data_dir, data_root, cache_dir),
                                  profile.validation_fraction, profile.validation_seed)
    check_sizes(profile, len(dataset.train_labels), world)
    check_same_study(records, profile, out, dataset.source)
    fields = provenance(device, dataset.source)
    tensors = on_device(dataset, device)
    # Each phase sees only its own split: a grid run cannot reach the test images.
    data = {"grid": {key: value for key, value in tensors.items() if not key.startswith("test_")},
            "final": {key: value for key, value in tensors.items() if not key.startswith("validation_")}}
    batch = {arm.name: arm.batch_factor * profile.batch_size for arm in study_arms(profile)}

    while True:
        records = from_rank0(records)
        plan, listed_all = study_plan(profile, records, final_seeds)
        recorded = {run_of(record) for record in records}
        todo = [run for i, run in enumerate(plan) if i % count == index and run not in recorded]
        if not todo:
            break
        bar = None
        if progress and rank == 0:
            from tqdm.auto import tqdm
            updates = sum(count_updates(len(dataset.train_labels), batch[run.arm], profile.epochs, run.budget)[1]
                          for run in todo)
            bar = tqdm(total=updates, unit="update", mininterval=1.0,
                       desc=f"{profile.name} study, {todo[0].phase}: {len(todo)} runs ({len(recorded)} recorded)")
        try:
            for run in todo:
                record = train_run(data[run.phase], profile, run.schedule, lr_scale(profile, run), run.seed, device,
                                   bar, budget=run.budget, batch_size=batch[run.arm], split=SPLIT[run.phase])
                record.update(phase=run.phase, arm=run.arm, peak_step=run.peak_step, **fields)
                mine.append(record)
                if rank == 0:
                    write_results(own_file, mine)
        finally:
            if bar is not None:
                bar.close()
        if rank == 0:
            records = read_study(out)  # with whatever the other shards recorded meanwhile
    missing = [(i, run) for i, run in enumerate(plan) if run not in recorded]
    return StudyState(records, plan, missing, listed_all and not missing)


def describe_missing(state: StudyState, shard_count: int, limit: int = 10) -> str:
    """Which runs the study waits for, by the shard that trains them (the first ``limit``)."""
    by_shard = {}
    for i, run in state.missing:
        by_shard.setdefault(i % shard_count, []).append(run)
    lines = [f"shard {k}/{shard_count}: {len(runs)} runs not recorded yet" for k, runs in sorted(by_shard.items())]
    lines += [f"  index {i}: {run}" for i, run in state.missing[:limit]]
    if len(state.missing) > limit:
        lines.append(f"  ... and {len(state.missing) - limit} more")
    return "\n".join(lines)
