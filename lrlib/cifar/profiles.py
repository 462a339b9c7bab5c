"""Every hyperparameter of the comparison in one place: the profiles, the schedules and the study's design.

A profile fixes how much data, how wide a network, how many epochs, and the optimizer's settings.
Within a sweep only the schedule, its peak (``lr_scale`` x the profile's ``peak_lr``) and the seed vary.
A study (``lrlib.cifar.study``) varies them by a design that the profile also fixes: the validation
split, the training budgets, the peak grid, the seeds and the large-batch arm.
"""
from __future__ import annotations

import dataclasses
import os
from fractions import Fraction
from typing import NamedTuple

from lrlib import schedules as lrs
from lrlib.checks import check_choice

__all__ = ["Profile", "PROFILES", "SCHEDULE_NAMES", "STUDY_SCHEDULES", "WARMUP_ARM_SCHEDULES", "PROFILE_ENV",
           "LOGIT_SCALE", "WSD_DECAY_FRACTION", "ONE_CYCLE_MOMENTUM", "MIN_UPDATES", "Arm", "Question",
           "QUESTIONS", "default_profile", "make_schedule", "momentum_schedule", "count_updates", "budget_label",
           "study_arms", "schedule_order"]

# Every schedule make_schedule builds, in the study's order; the sweep's default is the first five.
STUDY_SCHEDULES = ("constant", "step", "cosine", "warmup_cosine", "linear_decay", "one_cycle",
                   "one_cycle_fixed_momentum", "wsd")
SCHEDULE_NAMES = ("constant", "step", "cosine", "warmup_cosine", "one_cycle")
# The large-batch arm: cosine without and with warmup, where Goyal et al. (2017) say warmup matters.
WARMUP_ARM_SCHEDULES = ("cosine", "warmup_cosine")


@dataclasses.dataclass(frozen=True)
class Profile:
    name: str
    train_per_class: int | None  # images drawn per class, stratified, with a fixed seed; None = all
    test_per_class: int | None
    network: str  # "airbench" (for a GPU) or "cpu" (network.build_network)
    widths: tuple[int, ...]  # output channels: airbench stem and 3 blocks; cpu stem and 2 stages
    epochs: int
    batch_size: int  # global batch, whatever the number of processes
    peak_lr: float  # the lr at lr-scale 1; one value for every schedule, so none is tuned for
    momentum: float = 0.9  # SGD with Nesterov momentum (one_cycle cycles it instead: ONE_CYCLE_MOMENTUM)
    weight_decay: float = 5e-4
    label_smoothing: float = 0.2
    translate: int = 2  # random shift of up to this many pixels, reflect-padded (airbench94: 2)
    warmup_fraction: float = 0.075  # warmup_cosine and wsd warm up over this share of the updates
    subset_seed: int = 0  # the data subset stays the same for every run; only training seeds vary
    # The study's design (lrlib.cifar.study)
    validation_fraction: float = 0.1  # of each class's training images, held out for every choice
    validation_seed: int = 0  # the validation split is drawn once with this seed
    budgets: tuple[float, ...] = (0.25, 0.5, 1.0)  # training budgets, as fractions of ``epochs``
    grid_points: int = 5  # the peak grid: peak_lr x grid_ratio^k for grid_points k around 0 ...
    grid_ratio: float = 2.0  # ... so 5 points of ratio 2 span 2^4 = 16x
    max_grid_extensions: int = 3  # one more point per round while the best sits at an edge, at most this many
    grid_seeds: int = 2  # seeds 0 .. grid_seeds - 1 for every grid point
    final_seeds: int = 5  # fresh seeds grid_seeds .. grid_seeds + final_seeds - 1 at each chosen peak
    # The warmup arm's batch: this many times batch_size, at this many times the peak (1: no such arm).
    large_batch_factor: int = 8
    study_schedules: tuple[str, ...] = STUDY_SCHEDULES  # the schedules of the study's base arm


PROFILES = {
    # 20 + 10 images per class, 12 updates: the sweep end to end in seconds, accuracy meaningless.
    "smoke": Profile("smoke", train_per_class=20, test_per_class=10, network="cpu", widths=(8, 16, 16),
                     epochs=2, batch_size=32, peak_lr=0.4),
    # The study end to end in seconds, accuracy meaningless: each mechanism of its design at its smallest
    # (a 3-point grid over 16x, one grid seed, 2 final seeds, 2 budgets, 2 schedules and a 2x arm) with
    # at least MIN_UPDATES updates per run on 160 training images. The design of no result.
    "smoke_study": Profile("smoke_study", train_per_class=20, test_per_class=10, network="airbench",
                           widths=(4, 8, 8, 8), epochs=1, batch_size=5, peak_lr=0.1, validation_fraction=0.2,
                           budgets=(0.5, 1.0), grid_points=3, grid_ratio=4.0, max_grid_extensions=1, grid_seeds=1,
                           final_seeds=2, large_batch_factor=2, study_schedules=("constant", "cosine")),
    # A CPU's quick profile: all 50,000 training images (45,000 after the study's validation split) and
    # all 10,000 test images, the cpu network at its narrowest, one epoch of batches of 64 (781 updates;
    # 703 in a study); its study has one grid seed, about 330 runs (README gives the measured times).
    # peak_lr is the centre of the study's peak grid (0.0125 to 0.2), not a tuned value.
    "quick": Profile("quick", train_per_class=None, test_per_class=None, network="cpu", widths=(16, 32, 64),
                     epochs=1, batch_size=64, peak_lr=0.05, grid_seeds=1),
    # A CPU's longer profile: all 50,000 training images, the cpu network 1.5x wider, four epochs of
    # batches of 256 (780 updates; 700 in a study). Its study is the five main schedules at the full
    # budget, each at its own peak from the validation split, 3 final seeds. The grid (0.1 to 1.6) may
    # extend 3 steps, down to 0.0125: without warmup the best peak can sit far below the peak that
    # one-cycle and warmup + cosine tolerate.
    "cpu": Profile("cpu", train_per_class=None, test_per_class=None, network="cpu", widths=(24, 48, 96),
                   epochs=4, batch_size=256, peak_lr=0.4, budgets=(1.0,), grid_seeds=1, final_seeds=3,
                   study_schedules=SCHEDULE_NAMES, large_batch_factor=1),
    # All of CIFAR-10 and airbench94's widths, 10 epochs of batch 512, for a GPU. Its peak lr is the
    # centre of the study's grid (0.4 to 6.4), which the study searches per schedule on the validation
    # split; one grid seed, as on the CPU, keeps the study to about 330 runs.
    "full": Profile("full", train_per_class=None, test_per_class=None, network="airbench",
                    widths=(32, 64, 256, 256), epochs=10, batch_size=512, peak_lr=1.6, grid_seeds=1),
}

# The network's logits are multiplied by this (airbench94's 1/9): a cooler output keeps the
# unnormalized last layer stable at the large learning rates that fast schedules reach.
LOGIT_SCALE = 1 / 9
# wsd decays over the last 20% of the updates (Hägele et al., 2024, decay over 20% of the run).
WSD_DECAY_FRACTION = 0.2
# one_cycle's momentum goes 0.95 -> 0.85 -> 0.95 against the rate (PyTorch OneCycleLR's defaults).
ONE_CYCLE_MOMENTUM = (0.85, 0.95)
# Fewer updates than this and one_cycle has no warm-up phase: every run must make at least this many.
MIN_UPDATES = 4

PROFILE_ENV = "LRLIB_CIFAR_PROFILE"


def default_profile() -> str:
    """The profile named by $LRLIB_CIFAR_PROFILE (CI sets "smoke"), else "full" on a GPU, "quick" on a CPU."""
    name = os.environ.get(PROFILE_ENV, "").strip()
    if not name:
        import torch  # here, not at the top: the analysis imports this module and needs no torch
        return "full" if torch.cuda.is_available() else "quick"
    return check_choice(f"environment variable {PROFILE_ENV}", name, PROFILES)


def make_schedule(name: str, peak_lr: float, total_steps: int, warmup_fraction: float = 0.075) -> lrs.Schedule:
    """The learning-rate schedule called ``name`` peaking at ``peak_lr`` for a run of ``total_steps`` updates.

    With T = total_steps and w = max(1, round(warmup_fraction T)): ``constant`` stays at the peak;
    ``step`` multiplies it by 0.1 at T/2 and again at 3T/4 (the classic ResNet recipe, compressed);
    ``cosine`` anneals from the peak towards 0 over T; ``warmup_cosine`` rises linearly from 0 over w
    updates, then anneals over the remaining T - w; ``linear_decay`` falls linearly from the peak to 0
    at T; ``one_cycle`` and ``one_cycle_fixed_momentum`` are PyTorch's OneCycleLR over T (from peak/25
    up to the peak over the first 30% of the updates, then down to peak/25e4), the first with the
    momentum of ``momentum_schedule``, the second at the profile's fixed momentum; ``wsd`` warms up over
    w updates, holds the peak, and decays linearly to 0 over the last round(WSD_DECAY_FRACTION T).
    """
    check_choice("schedule", name, STUDY_SCHEDULES)
    if total_steps < MIN_UPDATES:
        raise ValueError(f"a run needs at least {MIN_UPDATES} updates for every schedule to have its shape, got "
                         f"total_steps={total_steps}: use more images, more epochs or a smaller batch")
    T = total_steps
    warmup = max(1, round(warmup_fraction * T))
    if name == "constant":
        return lrs.constant(peak_lr)
    if name == "step":
        return lrs.multistep_decay(peak_lr, [round(0.5 * T), round(0.75 * T)], gamma=0.1)
    if name == "cosine":
        return lrs.cosine_annealing(peak_lr, T)
    if name == "warmup_cosine":
        return lrs.linear_warmup(lrs.cosine_annealing(peak_lr, T - warmup), warmup)
    if name == "linear_decay":
        return lrs.linear_decay(peak_lr, T)
    if name == "wsd":
        return lrs.wsd(peak_lr, T, warmup, max(1, round(WSD_DECAY_FRACTION * T)))
    return lrs.one_cycle(peak_lr, T)  # one_cycle, one_cycle_fixed_momentum


def momentum_schedule(name: str, total_steps: int) -> lrs.Schedule | None:
    """The momentum schedule of ``one_cycle`` (``lrlib.one_cycle_momentum`` between ONE_CYCLE_MOMENTUM,
    the mirror image of its rate); None for every other schedule, which keeps the profile's momentum."""
    check_choice("schedule", name, STUDY_SCHEDULES)
    if name != "one_cycle":
        return None
    low, high = ONE_CYCLE_MOMENTUM
    return lrs.one_cycle_momentum(total_steps, base_momentum=low, max_momentum=high)


def count_updates(n_train: int, batch_size: int, epochs: int, budget: float = 1.0) -> tuple[int, int]:
    """(updates per epoch, updates of the run): n_train // batch_size full batches per epoch (the last,
    incomplete one is dropped), and budget x epochs of them, rounded half up; the last epoch of a run
    whose budget is a fraction of an epoch count is cut short."""
    steps_per_epoch = n_train // batch_size
    return steps_per_epoch, int(budget * epochs * steps_per_epoch + 0.5)


def budget_label(budget: float) -> str:
    """A training budget (a fraction of the profile's epochs) as tables and plots write it: "1/4", "1"."""
    return str(Fraction(budget).limit_denominator(1000))


# --------------------------------------------------------------------------------------------------
# The study's arms and questions

class Arm(NamedTuple):
    """A group of schedules trained with ``batch_factor`` x the profile's batch at ``batch_factor`` x its
    peak (the linear scaling rule, Goyal et al. 2017)."""
    name: str
    batch_factor: int
    schedules: tuple[str, ...]


def study_arms(profile: Profile) -> tuple[Arm, ...]:
    """The base arm (the profile's study schedules at its batch) and, unless the profile's
    ``large_batch_factor`` is 1, the large-batch warmup arm."""
    base = Arm("base", 1, profile.study_schedules)
    if profile.large_batch_factor == 1:
        return (base,)
    return base, Arm("large_batch", profile.large_batch_factor, WARMUP_ARM_SCHEDULES)


class Question(NamedTuple):
    """A paired comparison the study makes at every budget: schedule ``a`` against ``b`` in ``arm``."""
    arm: str
    a: str
    b: str
    asks: str


# Asked at every budget where both schedules ran; Holm's correction covers all the comparisons made.
QUESTIONS = (
    Question("base", "cosine", "step", "cosine vs step decay (SGDR's comparison)"),
    Question("base", "cosine", "constant", "decay vs no decay"),
    Question("base", "linear_decay", "cosine", "linear decay to zero vs cosine"),
    Question("base", "warmup_cosine", "cosine", "warmup at the profile's batch (Goyal et al.: no effect expected)"),
    Question("base", "one_cycle", "step", "one-cycle vs step decay (Smith & Topin)"),
    Question("base", "one_cycle", "one_cycle_fixed_momentum", "does cycling the momentum matter"),
    Question("base", "wsd", "cosine", "warmup-stable-decay vs cosine"),
    Question("large_batch", "warmup_cosine", "cosine", "warmup at the large batch (Goyal et al.: it should help)"),
)


def schedule_order(name: str) -> int:
    """Sort key putting schedules in STUDY_SCHEDULES order, unknown names last (tables and plots)."""
    return STUDY_SCHEDULES.index(name) if name in STUDY_SCHEDULES else len(STUDY_SCHEDULES)
