"""The command line: a sweep and its table, or a study and its report.

    python -m lrlib.cifar --help
    python -m lrlib.cifar sweep --profile quick --schedules constant,step,cosine,warmup_cosine,one_cycle \\
        --seeds 3 --data-dir data/cifar10-jpeg --out data/results/quick_cpu_jpeg.json
    python -m lrlib.cifar study --profile quick --data-dir data/cifar10-jpeg --out data/results/study_quick.json
    python -m lrlib.cifar study --profile full --shard 0/4     # one of 4 processes, GPUs or cluster jobs

    # data-parallel on 2 processes (gloo on CPUs, NCCL on GPUs)
    torchrun --standalone --nproc_per_node=2 -m lrlib.cifar sweep --profile smoke --out /tmp/smoke.json

The sweep's options without a command (``python -m lrlib.cifar --profile quick ...``) run a sweep.
Profiles: ``smoke`` (a sweep in seconds: tests and CI), ``smoke_study`` (a study in seconds), ``quick``
(a stratified subset and a narrow network, for a CPU), ``full`` (all 50,000 images and the full-width
network, for a GPU). Running the same command again skips the runs already recorded, so an interrupted
sweep or study resumes. A sharded study stops when its next round waits for other shards' runs (exit
status 3): run it again once they are recorded.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .data import DataError
from .plan import format_plan, parse_shard, study_plan
from .profiles import PROFILE_ENV, PROFILES, SCHEDULE_NAMES, STUDY_SCHEDULES, default_profile
from .results import read_study
from .statistics import format_study_report, format_table, summarize
from .study import check_same_study, describe_missing, run_study
from .sweep import process_group, run_sweep
from .training import rank_and_world

COMMANDS = ("sweep", "study")
WAITING = 3  # the exit status of a shard whose study waits for other shards' runs


def _common_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--profile", choices=sorted(PROFILES), default=None,
                        help=f"smoke: a sweep in seconds; smoke_study: a study in seconds; quick: one epoch of all "
                             f"the data, about 10 s a run on 2 AVX-512 CPU cores; cpu: four epochs, about a minute "
                             f"a run there; full: all data, for a GPU "
                             f"(default: ${PROFILE_ENV}, else full on a GPU and quick on a CPU)")
    parser.add_argument("--data-dir", default=None,
                        help="image folder train/<class>/*, test/<class>/* (PNG or JPEG) instead of torchvision")
    parser.add_argument("--data-root", default="data",
                        help="where torchvision keeps (or downloads) CIFAR-10 (default: data)")
    parser.add_argument("--cache-dir", default="data/cache",
                        help="where decoded image folders are cached (default: data/cache)")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch CPU threads per process (default: 1; more pays off only on idle cores)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m lrlib.cifar",
        description="Train a small ConvNet on CIFAR-10 under several learning-rate schedules. 'sweep': "
                    "schedules x lr scales x seeds, scored on the test set. 'study': per schedule and budget, "
                    "the peak lr chosen on a validation split, then fresh seeds on the test set and paired "
                    "comparisons. The sweep's options without a command run a sweep.",
        epilog="Data-parallel: torchrun --standalone --nproc_per_node=N -m lrlib.cifar sweep|study ... "
               "(global batch and lr unchanged, each process trains on 1/N of every batch).")
    commands = parser.add_subparsers(dest="command", required=True)
    sweep = commands.add_parser("sweep", help="schedules x lr scales x seeds, each run scored on the test set",
                                description="Train every schedule x lr scale x seed and print the table of test "
                                            "accuracy (mean +/- 95%% CI over seeds).")
    _common_arguments(sweep)
    sweep.add_argument("--schedules", default=",".join(SCHEDULE_NAMES),
                       help=f"comma-separated, among {','.join(STUDY_SCHEDULES)} (default: %(default)s)")
    sweep.add_argument("--seeds", type=int, default=3, help="number of seeds per schedule, 0..N-1 (default: 3)")
    sweep.add_argument("--lr-scale", default="1",
                       help="comma-separated multipliers of the profile's peak lr, e.g. 0.5,1,2 (default: 1)")
    sweep.add_argument("--out", default=None,
                       help="results JSON file (default: data/results/<profile>.json); runs already in it are skipped")
    study = commands.add_parser(
        "study", help="peaks chosen on validation data per schedule and budget, then fresh seeds on the test set",
        description="A resumable study (the profile fixes its design): per schedule and budget a log-spaced peak "
                    "grid scored on a validation split, extended while the best peak sits at an edge; at each "
                    "chosen peak fresh seeds scored on the test set; a large-batch arm with and without warmup; "
                    "then the report with paired comparisons and Holm-adjusted p-values.",
        epilog=f"A sharded study stops with exit status {WAITING} when its next round (grid extensions, final "
               f"runs) waits for runs of other shards: run it again once they are recorded.")
    _common_arguments(study)
    study.add_argument("--out", default=None,
                       help="results JSON file of the study (default: data/results/study_<profile>.json); runs "
                            "already in it or in its shard files are skipped")
    study.add_argument("--shard", default="0/1",
                       help="i/N: train only the runs whose index in the plan is i modulo N, into the file "
                            "OUT.shard-i-of-N.json (default: 0/1, everything, into OUT)")
    study.add_argument("--seeds", type=int, default=None,
                       help="number of fresh final seeds per schedule and budget, at least 2 (default: the "
                            "profile's, 5 for quick and full); every shard needs the same")
    study.add_argument("--dry-run", action="store_true",
                       help="print the plan (this shard's runs, with a count) and train nothing")
    return parser


def _sweep(args, profile: str) -> int:
    out = Path(args.out or f"data/results/{profile}.json")
    records = run_sweep(profile, args.schedules, args.seeds, args.lr_scale, args.data_dir, out, args.data_root,
                        args.cache_dir, args.threads, progress=not args.no_progress)
    if rank_and_world()[0] == 0:  # the other processes trained the same runs: one table is enough
        print(format_table(summarize(records)))
        print(f"{len(records)} runs in {out}")
    return 0


def _study(args, profile: str) -> int:
    out = Path(args.out or f"data/results/study_{profile}.json")
    shard = parse_shard(args.shard)
    if args.dry_run:
        records = read_study(out)
        check_same_study(records, PROFILES[profile], out)
        runs, complete = study_plan(PROFILES[profile], records, args.seeds)
        print(format_plan(PROFILES[profile], runs, complete, records, shard, args.seeds))
        return 0
    state = run_study(profile, out, shard, args.seeds, args.data_dir, args.data_root, args.cache_dir, args.threads,
                      progress=not args.no_progress)
    if rank_and_world()[0] != 0:
        return 0 if state.complete else WAITING
    if not state.complete:
        print(f"The study waits for runs of other shards; run this command again once they are recorded "
              f"({len(state.records)} runs recorded in {out} and its shard files):\n"
              f"{describe_missing(state, shard[1])}", file=sys.stderr)
        return WAITING
    print(format_study_report(state.records))
    print(f"{len(state.records)} runs in {out}" + (" and its shard files" if shard[1] > 1 else ""))
    return 0


def main(argv=None) -> int:
    """Run the command the arguments describe; exit status 0, 1 (data), 2 (arguments), 3 (a shard waits)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] not in (*COMMANDS, "-h", "--help"):
        argv = ["sweep", *argv]  # the sweep's options without a command, as before there were commands
    args = _parser().parse_args(argv)
    with process_group():
        try:
            profile = args.profile or default_profile()
            return (_sweep if args.command == "sweep" else _study)(args, profile)
        except (DataError, ValueError) as error:
            print(f"error: {error}", file=sys.stderr)
            return 2 if isinstance(error, ValueError) else 1
        except KeyboardInterrupt:
            print("\ninterrupted: the runs finished so far are recorded; run the same command to resume.",
                  file=sys.stderr)
            return 130


if __name__ == "__main__":
    sys.exit(main())
