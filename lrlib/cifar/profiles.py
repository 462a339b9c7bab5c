"""Every hyperparameter of the comparison in one place: the profiles and the five schedules.

A profile fixes how much data, how wide a network, how many epochs, and the optimizer's settings.
Within a sweep only the schedule, its peak (``lr_scale`` x the profile's ``peak_lr``) and the seed vary.
"""
from __future__ import annotations

import dataclasses
import os

from lrlib import schedules as lrs
from lrlib.checks import check_choice

__all__ = ["Profile", "PROFILES", "SCHEDULE_NAMES", "PROFILE_ENV", "LOGIT_SCALE", "default_profile",
           "make_schedule", "schedule_order"]


@dataclasses.dataclass(frozen=True)
class Profile:
    name: str
    train_per_class: int | None  # images drawn per class, stratified, with a fixed seed; None = all
    test_per_class: int | None
    widths: tuple[int, int, int, int]  # stem, block 1, block 2, block 3 output channels
    epochs: int
    batch_size: int  # global batch, whatever the number of processes
    peak_lr: float  # the lr at lr-scale 1; one value for every schedule, so none is tuned for
    momentum: float = 0.9  # SGD with Nesterov momentum
    weight_decay: float = 5e-4
    label_smoothing: float = 0.2
    translate: int = 2  # random shift of up to this many pixels, reflect-padded (airbench94: 2)
    warmup_fraction: float = 0.075  # warmup_cosine warms up over this share of the updates
    subset_seed: int = 0  # the data subset stays the same for every run; only training seeds vary


PROFILES = {
    # 20 + 10 images per class, 12 updates: the engine end to end in seconds, accuracy meaningless.
    "smoke": Profile("smoke", train_per_class=20, test_per_class=10, widths=(8, 16, 16, 16),
                     epochs=2, batch_size=32, peak_lr=0.4),
    # 500 images per class for training, a fixed 200 per class for testing, a narrow network, 150
    # updates: sized for a CPU. The peak lr is the best of 0.2, 0.8 and 1.6 for the cosine schedule on
    # this profile, so lr scale 1 favours cosine: sweep --lr-scale to judge every schedule at its best.
    "quick": Profile("quick", train_per_class=500, test_per_class=200, widths=(8, 16, 32, 64),
                     epochs=3, batch_size=100, peak_lr=0.8),
    # All of CIFAR-10 and airbench94's widths, for a GPU. Its peak lr is quick's scaled by about
    # sqrt(512 / 100) for the larger batch, not tuned: check it with --lr-scale 0.5,1,2.
    "full": Profile("full", train_per_class=None, test_per_class=None, widths=(32, 64, 256, 256),
                    epochs=10, batch_size=512, peak_lr=1.6),
}

SCHEDULE_NAMES = ("constant", "step", "cosine", "warmup_cosine", "one_cycle")

# The network's logits are multiplied by this (airbench94's 1/9): a cooler output keeps the
# unnormalized last layer stable at the large learning rates that fast schedules reach.
LOGIT_SCALE = 1 / 9

PROFILE_ENV = "LRLIB_CIFAR_PROFILE"


def default_profile() -> str:
    """The profile named by $LRLIB_CIFAR_PROFILE (CI sets "smoke"), else "full" on a GPU, "quick" on a CPU."""
    name = os.environ.get(PROFILE_ENV, "").strip()
    if not name:
        import torch  # here, not at the top: the analysis imports this module and needs no torch
        return "full" if torch.cuda.is_available() else "quick"
    return check_choice(f"environment variable {PROFILE_ENV}", name, PROFILES)


def make_schedule(name: str, peak_lr: float, total_steps: int, warmup_fraction: float = 0.075) -> lrs.Schedule:
    """The schedule called ``name`` peaking at ``peak_lr`` for a run of ``total_steps`` updates.

    With T = total_steps: ``constant`` stays at the peak; ``step`` multiplies it by 0.1 at T/2 and again
    at 3T/4 (the classic ResNet recipe, compressed); ``cosine`` anneals from the peak towards 0 over T;
    ``warmup_cosine`` rises linearly from 0 over w = max(1, round(warmup_fraction T)) updates, then
    anneals over the remaining T - w; ``one_cycle`` is PyTorch's OneCycleLR over T (from peak/25 up to
    the peak over the first 30% of the updates, then down to peak/25e4).
    """
    check_choice("schedule", name, SCHEDULE_NAMES)
    if total_steps < 4:
        raise ValueError(f"a run needs at least 4 updates for every schedule to have its shape, got "
                         f"total_steps={total_steps}: use more images, more epochs or a smaller batch")
    T = total_steps
    if name == "constant":
        return lrs.constant(peak_lr)
    if name == "step":
        return lrs.multistep_decay(peak_lr, [round(0.5 * T), round(0.75 * T)], gamma=0.1)
    if name == "cosine":
        return lrs.cosine_annealing(peak_lr, T)
    if name == "warmup_cosine":
        warmup = max(1, round(warmup_fraction * T))
        return lrs.linear_warmup(lrs.cosine_annealing(peak_lr, T - warmup), warmup)
    return lrs.one_cycle(peak_lr, T)  # one_cycle


def schedule_order(name: str) -> int:
    """Sort key putting schedules in SCHEDULE_NAMES order, unknown names last (tables and plots)."""
    return SCHEDULE_NAMES.index(name) if name in SCHEDULE_NAMES else len(SCHEDULE_NAMES)
