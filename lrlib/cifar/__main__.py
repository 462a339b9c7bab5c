"""The command line: a sweep, then its table of mean test accuracy +/- 95% CI per schedule.

    python -m lrlib.cifar --help
    python -m lrlib.cifar --profile quick --schedules constant,step,cosine,warmup_cosine,one_cycle \\
        --seeds 3 --data-dir data/cifar10-jpeg --out data/results/quick_cpu_jpeg.json

    # data-parallel on 2 processes (gloo on CPUs, NCCL on GPUs)
    torchrun --standalone --nproc_per_node=2 -m lrlib.cifar --profile smoke --out /tmp/smoke.json

Profiles: ``smoke`` (a few hundred images, seconds: tests and CI), ``quick`` (a stratified subset and
a narrow network, for a CPU), ``full`` (all 50,000 images and the full-width network, for a GPU).
Running the same command again skips the runs already in ``--out``, so an interrupted sweep resumes.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .data import DataError
from .profiles import PROFILE_ENV, PROFILES, SCHEDULE_NAMES, default_profile
from .statistics import format_table, summarize
from .sweep import process_group, run_sweep
from .training import rank_and_world


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m lrlib.cifar",
        description="Train a small ConvNet on CIFAR-10 under several learning-rate schedules and "
                    "compare their test accuracy (mean +/- 95% CI over seeds).",
        epilog="Data-parallel: torchrun --standalone --nproc_per_node=N -m lrlib.cifar ... "
               "(global batch and lr unchanged, each process trains on 1/N of every batch).")
    parser.add_argument("--profile", choices=sorted(PROFILES), default=None,
                        help=f"smoke: seconds, for tests; quick: minutes on a CPU; full: all data, for a GPU "
                             f"(default: ${PROFILE_ENV}, else full on a GPU and quick on a CPU)")
    parser.add_argument("--schedules", default=",".join(SCHEDULE_NAMES),
                        help="comma-separated, among %(default)s (default: all)")
    parser.add_argument("--seeds", type=int, default=3, help="number of seeds per schedule, 0..N-1 (default: 3)")
    parser.add_argument("--lr-scale", default="1",
                        help="comma-separated multipliers of the profile's peak lr, e.g. 0.5,1,2 (default: 1)")
    parser.add_argument("--data-dir", default=None,
                        help="image folder train/<class>/*, test/<class>/* (PNG or JPEG) instead of torchvision")
    parser.add_argument("--data-root", default="data",
                        help="where torchvision keeps (or downloads) CIFAR-10 (default: data)")
    parser.add_argument("--cache-dir", default="data/cache",
                        help="where decoded image folders are cached (default: data/cache)")
    parser.add_argument("--out", default=None,
                        help="results JSON file (default: data/results/<profile>.json); runs already in it are skipped")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch CPU threads per process (default: 1; more pays off only on idle cores)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    return parser


def main(argv=None) -> int:
    """Run the sweep the arguments describe and print its table; exit status 0, 1 (data), 2 (arguments)."""
    args = _parser().parse_args(argv)
    out = None
    with process_group():
        rank = rank_and_world()[0]
        try:
            profile = args.profile or default_profile()
            out = Path(args.out or f"data/results/{profile}.json")
            records = run_sweep(profile, args.schedules, args.seeds, args.lr_scale, args.data_dir, out,
                                args.data_root, args.cache_dir, args.threads, progress=not args.no_progress)
        except (DataError, ValueError) as error:
            print(f"error: {error}", file=sys.stderr)
            return 2 if isinstance(error, ValueError) else 1
        except KeyboardInterrupt:
            print(f"\ninterrupted: the runs finished so far are in {out}; run the same command to resume.",
                  file=sys.stderr)
            return 130
    if rank == 0:  # the other processes trained the same runs: one table is enough
        print(format_table(summarize(records)))
        print(f"{len(records)} runs in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
