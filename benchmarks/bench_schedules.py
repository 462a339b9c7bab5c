"""Per-step cost of evaluating a schedule: lrlib (one vectorized call) vs stepping the PyTorch scheduler.

lrlib evaluates 1,000,000 steps in a single call. PyTorch has no closed form to call, so its cost is
``scheduler.step()`` alone, timed over a shorter run (it is linear in the number of steps) on a real
optimizer with one parameter. Both are measured here, side by side, in this run; the ratio is what
this machine gives, not a constant.

    python benchmarks/bench_schedules.py [--steps 1000000] [--torch-steps 20000] [--repeat 5]
"""
import argparse
import platform
import time

import numpy as np
import torch
from torch.optim import lr_scheduler as S

import lrlib


def best_time(fn, repeat):
    """Minimum over repeats: the least-disturbed measurement on a shared machine."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def torch_step_cost(make_scheduler, steps, repeat):
    def run():
        opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1, momentum=0.9)
        scheduler = make_scheduler(opt)
        for _ in range(steps):
            scheduler.step()
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "scheduler.step() before optimizer.step()": no update here on purpose
        return best_time(run, repeat) / steps


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=1_000_000, help="steps evaluated by lrlib (default 1e6)")
    parser.add_argument("--torch-steps", type=int, default=20_000, help="scheduler.step() calls timed")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    n = args.steps
    cases = {
        "cosine_annealing": (lrlib.cosine_annealing(0.1, n),
                             lambda o: S.CosineAnnealingLR(o, T_max=n)),
        "one_cycle": (lrlib.one_cycle(0.1, n + 1),
                      lambda o: S.OneCycleLR(o, max_lr=0.1, total_steps=n + 1)),
        "cyclic": (lrlib.cyclic(0.01, 0.1, 2000, mode="triangular2"),
                   lambda o: S.CyclicLR(o, 0.01, 0.1, step_size_up=2000, mode="triangular2")),
        "cosine_warm_restarts": (lrlib.cosine_warm_restarts(0.1, 1000, 2),
                                 lambda o: S.CosineAnnealingWarmRestarts(o, T_0=1000, T_mult=2)),
    }
    steps = np.arange(n)
    print(f"machine: {platform.processor() or platform.machine()}, {torch.get_num_threads()} torch threads; "
          f"numpy {np.__version__}, torch {torch.__version__}")
    print(f"lrlib: {n:,} steps in one call; PyTorch: {args.torch_steps:,} scheduler.step() calls; "
          f"best of {args.repeat}")
    print(f"{'schedule':<22}{'lrlib ns/step':>15}{'torch ns/step':>15}{'ratio':>10}")
    for name, (schedule, make) in cases.items():
        ours = best_time(lambda schedule=schedule: schedule(steps), args.repeat) / n
        theirs = torch_step_cost(make, args.torch_steps, args.repeat)
        print(f"{name:<22}{ours * 1e9:>15.1f}{theirs * 1e9:>15.1f}{theirs / ours:>9.0f}x")


if __name__ == "__main__":
    main()
