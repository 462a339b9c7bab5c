"""A sweep: schedules x lr scales x seeds, one training run each, resumable; provenance; torchrun.

After every run the whole results file is rewritten atomically, so an interruption loses at most the
run in progress, and running the same sweep again trains only the runs the file does not hold yet.
Each record gets its provenance: device, torch version, data source and the git commit of the code.

Scale-out rule (torchrun with N processes): the *global* batch and the learning rate stay as the
profile says; each process trains on its 1/N share of every global batch (``training.train_run``). If
you instead grow the global batch k-fold, the usual linear scaling rule is to multiply the peak lr by k
as well (Goyal et al., 2017): use ``--lr-scale k`` (``lr_scales=[k]``) for that. Only rank 0 reads and
writes the results file.
"""
from __future__ import annotations

import contextlib
import os
import platform
import subprocess
from pathlib import Path

import torch
import torch.distributed as dist

from lrlib.checks import check_choice, check_int, check_lr

from .data import DataError, load_data, on_device
from .profiles import PROFILES, SCHEDULE_NAMES, STUDY_SCHEDULES, count_updates
from .results import read_results, write_results
from .training import rank_and_world, train_run

__all__ = ["run_sweep", "device_name", "git_commit", "provenance", "process_group", "select_device",
           "from_rank0", "load_dataset"]


# --------------------------------------------------------------------------------------------------
# Provenance

def device_name(device: torch.device) -> str:
    """The GPU's name, or the CPU's model with the CPU count and torch's thread count."""
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            model = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return f"{model} ({os.cpu_count()} CPUs, {torch.get_num_threads()} torch threads)"


def git_commit() -> str:
    """HEAD of the repository lrlib lives in; "-dirty" when tracked files changed or lrlib/ holds
    files git does not track (then HEAD alone does not identify the code); "unknown" without git.

    Other untracked files (a results file being written, say) do not make the tree dirty.
    """
    repo = Path(__file__).resolve().parents[2]
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True,
                              timeout=10)
        if head.returncode != 0:
            return "unknown"
        status = subprocess.run(["git", "status", "--porcelain"], cwd=repo, capture_output=True, text=True,
                                timeout=10).stdout.splitlines()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    dirty = any(not line.startswith("??") or line[3:].startswith("lrlib/") for line in status)
    return head.stdout.strip() + ("-dirty" if dirty else "")


def provenance(device: torch.device, data_source: str) -> dict:
    """The fields every record gets: device, torch version, data source and git commit."""
    return dict(device=device_name(device), torch_version=torch.__version__, data_source=data_source,
                git_commit=git_commit())


# --------------------------------------------------------------------------------------------------
# Processes and devices

@contextlib.contextmanager
def process_group():
    """Under torchrun (WORLD_SIZE > 1), join the process group for the block (NCCL on GPUs, gloo on
    CPUs) and leave it afterwards; otherwise do nothing."""
    if int(os.environ.get("WORLD_SIZE", 1)) <= 1:
        yield
        return
    dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
    try:
        yield
    finally:
        dist.destroy_process_group()


def select_device(threads: int | None) -> torch.device:
    """This process's GPU (LOCAL_RANK under torchrun), else the CPU with ``threads`` torch threads (1 by
    default: a fixed thread count keeps CPU runs repeatable)."""
    if torch.cuda.is_available():
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", 0)))
        torch.cuda.set_device(device)
        return device
    torch.set_num_threads(threads or 1)
    torch.use_deterministic_algorithms(True, warn_only=True)
    return torch.device("cpu")


def from_rank0(value):
    """Rank 0's ``value`` in every process under torchrun (``value`` itself in a single process)."""
    if rank_and_world()[1] == 1:
        return value
    shared = [value]
    dist.broadcast_object_list(shared, src=0)
    return shared[0]


def load_dataset(profile, data_dir, data_root, cache_dir):
    """``data.load_data`` in every process; under torchrun rank 0 first, so that it alone fills the decode
    cache and the others read it."""
    rank, world = rank_and_world()
    if world > 1 and rank != 0:
        dist.barrier()
    dataset = load_data(profile, data_dir, data_root, cache_dir)
    if world > 1 and rank == 0:
        dist.barrier()
    return dataset


# --------------------------------------------------------------------------------------------------
# The sweep

def _parse_list(text, convert, name):
    try:
        values = [convert(v.strip()) for v in str(text).split(",") if v.strip()]
    except ValueError:
        raise ValueError(f"{name} must be a comma-separated list, got {text!r}") from None
    if not values:
        raise ValueError(f"{name} must not be empty")
    return values


def _run_key(record: dict) -> tuple:
    """Runs with equal keys are the same experiment: a re-run skips them."""
    return (record["schedule"], float(record["lr_scale"]), int(record["seed"]), record["profile"],
            record["data_source"])


def run_sweep(profile="quick", schedules=SCHEDULE_NAMES, seeds=3, lr_scales=(1.0,), data_dir=None,
              out=None, data_root="data", cache_dir="data/cache", threads=None, progress=True) -> list:
    """Train every (seed, lr scale, schedule) combination not yet in ``out``; return the sweep's records.

    Every run trains on all of the profile's training images and is scored on its test images: a sweep
    holds out no validation split, so a choice made from it is made on the test set (``study.run_study``
    makes its choices on a validation split). ``schedules`` are among ``STUDY_SCHEDULES``; ``seeds`` is a
    count (seeds 0..seeds-1) or a list of seeds; ``schedules`` and ``lr_scales`` are lists or
    comma-separated strings. ``threads``: torch threads per process on a CPU (default 1).
    """
    if isinstance(profile, str):
        profile = PROFILES[check_choice("profile", profile, PROFILES)]
    schedules = _parse_list(schedules, str, "schedules") if isinstance(schedules, str) else list(schedules)
    schedules = [check_choice("schedules", name, STUDY_SCHEDULES) for name in schedules]
    seeds = (list(range(check_int("seeds", seeds, 1))) if isinstance(seeds, int)
             else [check_int("seeds", s, 0) for s in seeds])
    lr_scales = _parse_list(lr_scales, float, "lr_scales") if isinstance(lr_scales, str) else list(lr_scales)
    lr_scales = [check_lr("lr_scales", s) for s in lr_scales]
    if not (schedules and seeds and lr_scales):
        raise ValueError(f"schedules, seeds and lr_scales must not be empty, got {schedules}, {seeds}, {lr_scales}")

    rank, world = rank_and_world()
    # The runs already recorded, read first so that an --out that is no results file stops the sweep
    # before any data is loaded. Only rank 0 reads and writes the file; the others follow its list.
    records = read_results(out) if (out is not None and rank == 0 and Path(out).exists()) else []
    if any("phase" in r for r in records):
        raise DataError(f"{out} holds runs of a study, not of a sweep: give the sweep another --out.")
    device = select_device(threads)
    records = from_rank0(records)
    done = {_run_key(r): r for r in records}

    dataset = load_dataset(profile, data_dir, data_root, cache_dir)
    data = on_device(dataset, device)
    fields = provenance(device, dataset.source)
    plan = [(seed, scale, name) for seed in seeds for scale in lr_scales for name in schedules]
    todo = [p for p in plan if (p[2], p[1], p[0], profile.name, dataset.source) not in done]

    bar = None
    if progress and rank == 0 and todo:
        from tqdm.auto import tqdm
        n_train = len(data["train_x"])
        per_run = count_updates(n_train, min(profile.batch_size, n_train - n_train % world), profile.epochs)[1]
        bar = tqdm(total=per_run * len(todo), unit="update", mininterval=1.0,
                   desc=f"{profile.name}: {len(todo)} runs ({len(plan) - len(todo)} already recorded)")
    try:
        for seed, scale, name in todo:
            record = train_run(data, profile, name, scale, seed, device, bar)
            record.update(fields)
            records.append(record)
            done[_run_key(record)] = record
            if out is not None and rank == 0:
                write_results(out, records)
    finally:
        if bar is not None:
            bar.close()
    return [done[(name, scale, seed, profile.name, dataset.source)] for seed, scale, name in plan]
