"""Compare learning-rate schedules on CIFAR-10: one small, fast ConvNet trained many times.

Everything that can vary between two runs of a sweep is fixed except the learning-rate schedule
(and its peak value, through ``--lr-scale``) and the random seed, so any difference in test accuracy
is the schedule's doing or seed noise, and the seeds tell us how large that noise is.

The training recipe follows the CIFAR-10 speed records (Keller Jordan's airbench94 reaches 94% in
about 10 epochs) in spirit, written for reading rather than for records:

* the whole data set lives on the device as one tensor: no DataLoader, no worker processes;
* augmentation (random translation by a few pixels of a reflect-padded image, horizontal flip) is a
  handful of batched tensor operations on the whole training set once per epoch;
* a BatchNorm ConvNet of conv-bn-gelu blocks with max-pooling (airbench94's layout without its
  whitening layer, logits scaled by 1/9 as there), its widths set by the profile;
* SGD with Nesterov momentum, label smoothing, weight decay; channels_last memory format; bf16
  autocast on a GPU, plain fp32 on a CPU;
* the learning rate of every update comes from an lrlib schedule through ``lrlib.to_torch``, and the
  rate actually applied (read back from the optimizer) is logged at every update.

Usage (``python -m lrlib.cifar --help`` lists every option)::

    python -m lrlib.cifar --profile quick --schedules constant,step,cosine,warmup_cosine,one_cycle \\
        --seeds 3 --data-dir data/cifar10-jpeg --out data/results/quick_cpu_jpeg.json

    # data-parallel on 2 processes (gloo on CPUs, NCCL on GPUs)
    torchrun --standalone --nproc_per_node=2 -m lrlib.cifar --profile smoke --out /tmp/smoke.json

Profiles: ``smoke`` (a few hundred images, seconds: tests and CI), ``quick`` (a stratified subset and
a narrow network: the whole 5 schedules x 3 seeds comparison in minutes on a 2-core CPU), ``full``
(all 50,000 images and the full-width network: meant for a GPU).

Data: by default torchvision's CIFAR-10 (``root="data"``, downloaded when missing). ``--data-dir``
takes an image folder laid out ``train/<class>/*.png|jpg`` and ``test/<class>/*``; it is decoded once
and cached as uint8 arrays under ``data/cache/``.

Results: one JSON file per sweep (``--out``), one record per run, rewritten atomically after every
run. Running the same command again skips the runs already recorded, so an interrupted sweep resumes.

Scale-out rule (torchrun with N processes): the *global* batch and the learning rate stay as the
profile says; each process trains on its 1/N share of every global batch (per-process batch =
global batch / N) and DDP averages the gradients, so an update is the same update as on one process
(up to BatchNorm, whose batch statistics are computed per process on its share). If you instead grow
the global batch k-fold, the usual linear scaling rule is to multiply the peak lr by k as well
(Goyal et al., 2017): use ``--lr-scale k`` for that.
"""
from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
import torch.nn as nn
import torch.nn.functional as F

from . import schedules as lrs
from .torch_adapter import to_torch

__all__ = ["Profile", "PROFILES", "SCHEDULE_NAMES", "DataError", "Dataset", "default_profile",
           "make_schedule", "load_data", "build_network", "random_crop_flip", "train_run",
           "run_sweep", "read_results", "main"]


# --------------------------------------------------------------------------------------------------
# Profiles: how much data, how wide a network, how many epochs

@dataclasses.dataclass(frozen=True)
class Profile:
    name: str
    train_per_class: int | None  # images drawn per class, stratified, with a fixed seed; None = all
    test_per_class: int | None
    widths: tuple[int, int, int, int]  # stem, block 1, block 2, block 3 output channels
    epochs: int
    batch_size: int  # global batch, whatever the number of processes
    peak_lr: float  # the lr at lr-scale 1; one value for every schedule, so none is tuned for
    momentum: float = 0.9
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
    # updates: the 15 runs of a 5 schedules x 3 seeds comparison in minutes on 2 CPU cores. The peak
    # lr was chosen on this profile with the cosine schedule (0.2, 0.8 and 1.6 tried; 0.8 was best).
    "quick": Profile("quick", train_per_class=500, test_per_class=200, widths=(8, 16, 32, 64),
                     epochs=3, batch_size=100, peak_lr=0.8),
    # All of CIFAR-10 and airbench94's widths, for a GPU. Its peak lr is quick's scaled by about
    # sqrt(512 / 100) for the larger batch, not tuned (no GPU was available when it was written):
    # check it with --lr-scale 0.5,1,2.
    "full": Profile("full", train_per_class=None, test_per_class=None, widths=(32, 64, 256, 256),
                    epochs=10, batch_size=512, peak_lr=1.6),
}

SCHEDULE_NAMES = ("constant", "step", "cosine", "warmup_cosine", "one_cycle")

PROFILE_ENV = "LRLIB_CIFAR_PROFILE"


def default_profile() -> str:
    """The profile named by $LRLIB_CIFAR_PROFILE (CI sets "smoke"), else "full" on a GPU, "quick" on a CPU."""
    name = os.environ.get(PROFILE_ENV, "").strip()
    if not name:
        return "full" if torch.cuda.is_available() else "quick"
    if name not in PROFILES:
        raise ValueError(f"environment variable {PROFILE_ENV} must be one of {sorted(PROFILES)}, got {name!r}")
    return name


# --------------------------------------------------------------------------------------------------
# The schedules being compared: each one a plain lrlib schedule over the run's total updates

def make_schedule(name: str, peak_lr: float, total_steps: int, warmup_fraction: float = 0.075) -> lrs.Schedule:
    """The schedule called ``name`` peaking at ``peak_lr`` for a run of ``total_steps`` updates."""
    if total_steps < 4:
        raise ValueError(f"a run needs at least 4 updates for every schedule to have its shape, got "
                         f"total_steps={total_steps}: use more images, more epochs or a smaller batch")
    T = total_steps
    if name == "constant":
        return lrs.constant(peak_lr)
    if name == "step":  # x0.1 at 50% and at 75% of training, the classic ResNet recipe compressed
        return lrs.multistep_decay(peak_lr, [round(0.5 * T), round(0.75 * T)], gamma=0.1)
    if name == "cosine":
        return lrs.cosine_annealing(peak_lr, T)
    if name == "warmup_cosine":
        warmup = max(1, round(warmup_fraction * T))
        return lrs.linear_warmup(lrs.cosine_annealing(peak_lr, T - warmup), warmup)
    if name == "one_cycle":
        return lrs.one_cycle(peak_lr, T)
    raise ValueError(f"schedule must be one of {list(SCHEDULE_NAMES)}, got {name!r}")


# --------------------------------------------------------------------------------------------------
# Data: torchvision's CIFAR-10 or an image folder, as uint8 arrays, subset drawn stratified

class DataError(Exception):
    """Missing, malformed or unreadable data. The message says what to do about it."""


TORCHVISION_SOURCE = "torchvision CIFAR-10 (original)"
JPEG_COPY_SOURCE = "JPEG copy (../shared/data/cifar10-jpeg.tar.gz)"
CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")


@dataclasses.dataclass
class Dataset:
    train_images: np.ndarray  # (N, 32, 32, 3) uint8
    train_labels: np.ndarray  # (N,) int64
    test_images: np.ndarray
    test_labels: np.ndarray
    classes: list
    source: str  # goes into every record: which data produced the numbers


def stratified_indices(labels: np.ndarray, per_class: int | None, seed: int) -> np.ndarray:
    """Up to ``per_class`` random indices of each class (all of them if None), sorted.

    Taking the first N files would not do: the folders are sorted by class.
    """
    if per_class is None:
        return np.arange(len(labels))
    rng = np.random.default_rng(seed)
    chosen = [rng.choice(np.flatnonzero(labels == c), size=min(per_class, int(np.sum(labels == c))),
                         replace=False) for c in np.unique(labels)]
    return np.sort(np.concatenate(chosen))


def _list_image_folder(root: Path):
    """Per split: image paths relative to ``root``, their (size, mtime) for the cache key, labels,
    class names; checked against the expected layout. os.scandir, not pathlib: 60,000 files."""
    layout = "train/<class>/*.png|jpg and test/<class>/*.png|jpg"
    if not root.is_dir():
        raise DataError(f"--data-dir {root} does not exist or is not a folder. Pass a folder laid out "
                        f"{layout}, or leave --data-dir out to use torchvision's CIFAR-10.")
    splits = {}
    for split in ("train", "test"):
        folder = root / split
        if not folder.is_dir():
            raise DataError(f"--data-dir {root} has no {split}/ folder; expected the layout {layout} "
                            f"(found: {sorted(p.name for p in root.iterdir())[:10]}).")
        classes = sorted(p.name for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
        if len(classes) < 2:
            raise DataError(f"{folder} must contain one sub-folder per class (at least 2), found "
                            f"{len(classes)}; expected the layout {layout}.")
        files, fingerprints, labels = [], [], []
        for label, name in enumerate(classes):
            with os.scandir(folder / name) as entries:
                images = sorted((e.name, e.stat()) for e in entries
                                if e.name.lower().endswith(IMAGE_SUFFIXES) and not e.name.startswith("."))
            if not images:
                raise DataError(f"{folder / name} contains no .png/.jpg images; expected the layout {layout}.")
            files += [f"{split}/{name}/{image}" for image, _ in images]
            fingerprints += [(st.st_size, st.st_mtime_ns) for _, st in images]
            labels += [label] * len(images)
        splits[split] = (files, fingerprints, np.asarray(labels, dtype=np.int64), classes)
    if splits["train"][3] != splits["test"][3]:
        raise DataError(f"train/ and test/ in {root} must have the same class folders, got "
                        f"{splits['train'][3]} and {splits['test'][3]}.")
    return splits


def _decode(path: Path) -> np.ndarray:
    from PIL import Image
    try:
        with Image.open(path) as image:
            array = np.asarray(image.convert("RGB"))
    except Exception as error:  # PIL raises several types for bad files (OSError, SyntaxError, ...)
        raise DataError(f"cannot decode image {path} ({type(error).__name__}: {error}). Delete or replace "
                        f"the file (or extract the archive again) and re-run.") from None
    if array.shape != (32, 32, 3):
        raise DataError(f"image {path} is {array.shape[1]}x{array.shape[0]}; CIFAR-10 images are 32x32. "
                        f"Resize the folder's images to 32x32 first.")
    return array


def _atomic_write(path: Path, write) -> None:
    """Write through ``write(file)`` to a temporary file next to ``path``, then rename it over ``path``.

    A rename within one folder is atomic: a reader (or a crash, or Ctrl-C) sees the old file or the
    new one, never half of one.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes it private; results and caches are ordinary files
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def _load_folder_split(root: Path, split: str, files, fingerprints, labels, indices, cache_dir: Path):
    """Decode the selected files once; later calls read the uint8 cache.

    The cache key hashes the folder's path and its whole file list (names, sizes, modification
    times) and the selection, so a folder that changed in any way is decoded again, never served stale.
    """
    content = [str(root.resolve()), split, files, fingerprints, indices.tolist()]
    key = hashlib.sha256(json.dumps(content).encode()).hexdigest()
    cache = cache_dir / f"{root.resolve().name}-{split}-{len(indices)}-{key[:16]}.npz"
    if cache.exists():
        try:
            with np.load(cache) as stored:
                return stored["images"], stored["labels"]
        except Exception:  # unreadable cache (e.g. from an older numpy): decode again below
            pass
    with ThreadPoolExecutor(max_workers=os.cpu_count()) as pool:  # Pillow decodes outside the GIL
        images = np.stack(list(pool.map(_decode, [root / files[i] for i in indices])))
    selected_labels = labels[indices]
    _atomic_write(cache, lambda f: np.savez(f, images=images, labels=selected_labels))
    return images, selected_labels


def _folder_source(root: Path, splits) -> str:
    files = splits["train"][0] + splits["test"][0]
    suffixes = {os.path.splitext(f)[1].lower() for f in files}
    if (tuple(splits["train"][3]) == CIFAR10_CLASSES and (len(splits["train"][0]), len(splits["test"][0]))
            == (50000, 10000) and suffixes <= {".jpg", ".jpeg"}):
        return JPEG_COPY_SOURCE
    kinds = "/".join(sorted({"JPEG" if s in (".jpg", ".jpeg") else "PNG" for s in suffixes}))
    return f"image folder {root.resolve()} ({kinds})"


def _load_torchvision_split(root: Path, train: bool):
    from torchvision.datasets import CIFAR10
    try:
        data = CIFAR10(root=str(root), train=train, download=True)
    except Exception as error:  # no network, a proxy, a truncated download: all end here
        raise DataError(
            f"CIFAR-10 is not in {root}/ and could not be downloaded ({type(error).__name__}: {error}). "
            f"Connect to the internet and re-run, or put cifar-10-python.tar.gz from "
            f"https://www.cs.toronto.edu/~kriz/cifar.html into {root}/, or pass --data-dir PATH to an "
            f"image folder laid out train/<class>/*, test/<class>/*.") from None
    return np.asarray(data.data), np.asarray(data.targets, dtype=np.int64), list(data.classes)


def load_data(profile: Profile, data_dir=None, data_root="data", cache_dir="data/cache") -> Dataset:
    """The profile's stratified subsets of train and test data, as uint8 arrays."""
    if data_dir is None:
        train_x, train_y, classes = _load_torchvision_split(Path(data_root), train=True)
        test_x, test_y, _ = _load_torchvision_split(Path(data_root), train=False)
        train_idx = stratified_indices(train_y, profile.train_per_class, profile.subset_seed)
        test_idx = stratified_indices(test_y, profile.test_per_class, profile.subset_seed)
        return Dataset(train_x[train_idx], train_y[train_idx], test_x[test_idx], test_y[test_idx],
                       classes, TORCHVISION_SOURCE)
    root = Path(data_dir)
    splits = _list_image_folder(root)
    arrays = {}
    for split, per_class in (("train", profile.train_per_class), ("test", profile.test_per_class)):
        files, fingerprints, labels, _ = splits[split]
        indices = stratified_indices(labels, per_class, profile.subset_seed)
        arrays[split] = _load_folder_split(root, split, files, fingerprints, labels, indices, Path(cache_dir))
    return Dataset(*arrays["train"], *arrays["test"], splits["train"][3], _folder_source(root, splits))


# --------------------------------------------------------------------------------------------------
# The network: airbench94's layout without its whitening layer

def conv_bn_gelu(c_in: int, c_out: int) -> list:
    # No conv bias: the BatchNorm right after it has its own.
    return [nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.GELU()]


def block(c_in: int, c_out: int) -> list:
    """Convolve at the input resolution, halve it with max-pooling, convolve again."""
    return [nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.MaxPool2d(2), nn.BatchNorm2d(c_out),
            nn.GELU(), *conv_bn_gelu(c_out, c_out)]


class Scale(nn.Module):
    def __init__(self, factor: float):
        super().__init__()
        self.factor = factor

    def forward(self, x):
        return x * self.factor


def build_network(widths, num_classes: int = 10, logit_scale: float = 1 / 9) -> nn.Sequential:
    """32x32 -> stem -> 16x16 -> 8x8 -> 4x4 -> global max-pool -> linear classifier.

    The logits are divided by 9 as in airbench94: a cooler output keeps the unnormalized last layer
    stable at the large learning rates that fast schedules reach.
    """
    stem, w1, w2, w3 = widths
    return nn.Sequential(*conv_bn_gelu(3, stem), *block(stem, w1), *block(w1, w2), *block(w2, w3),
                         nn.AdaptiveMaxPool2d(1), nn.Flatten(), nn.Linear(w3, num_classes, bias=False),
                         Scale(logit_scale))


# --------------------------------------------------------------------------------------------------
# Augmentation: whole-batch tensor operations, no per-image Python

def random_crop_flip(images: torch.Tensor, translate: int, generator: torch.Generator) -> torch.Tensor:
    """Shift each image by up to ``translate`` pixels (reflect-padded) and flip half of them.

    Equivalent to RandomCrop(32, padding=translate, padding_mode="reflect") + RandomHorizontalFlip,
    for all images at once: one gather picks each image's 32x32 window out of its padded copy.
    """
    n, c, h, w = images.shape
    device = images.device
    padded = F.pad(images, (translate,) * 4, mode="reflect")
    dy = torch.randint(0, 2 * translate + 1, (n, 1), generator=generator, device=device)
    dx = torch.randint(0, 2 * translate + 1, (n, 1), generator=generator, device=device)
    rows = (dy + torch.arange(h, device=device))[:, None, :, None]  # (n, 1, h, 1)
    cols = (dx + torch.arange(w, device=device))[:, None, None, :]  # (n, 1, 1, w)
    batch = torch.arange(n, device=device)[:, None, None, None]
    channel = torch.arange(c, device=device)[None, :, None, None]
    cropped = padded[batch, channel, rows, cols]
    flip = torch.rand(n, generator=generator, device=device) < 0.5
    return torch.where(flip[:, None, None, None], cropped.flip(3), cropped)


# --------------------------------------------------------------------------------------------------
# One training run

def _to_device(images: np.ndarray, labels: np.ndarray, mean, std, device):
    x = torch.from_numpy(images).to(device).permute(0, 3, 1, 2).float().div_(255)
    x = (x - mean[None, :, None, None]) / std[None, :, None, None]
    return x, torch.from_numpy(labels).to(device)


def _distributed():
    """(rank, world size); (0, 1) when not launched by torchrun."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


@torch.no_grad()
def evaluate(model: nn.Module, images: torch.Tensor, labels: torch.Tensor, batch_size: int = 1000) -> float:
    """Test accuracy. Under torchrun each process scores its share and the counts are summed."""
    rank, world = _distributed()
    model.eval()
    correct = torch.zeros((), dtype=torch.int64, device=images.device)
    for start in range(rank * batch_size, len(images), world * batch_size):
        x, y = images[start:start + batch_size], labels[start:start + batch_size]
        with torch.autocast(x.device.type, dtype=torch.bfloat16, enabled=x.device.type == "cuda"):
            correct += (model(x).argmax(1) == y).sum()
    if world > 1:
        dist.all_reduce(correct)
    model.train()
    return correct.item() / len(images)


def train_run(data: dict, profile: Profile, schedule_name: str, lr_scale: float, seed: int,
              device: torch.device, progress=None) -> dict:
    """Train one network under one schedule; return the run's record (without provenance fields).

    ``data`` holds the normalized device tensors (``train_x``, ``train_y``, ``test_x``, ``test_y``) and
    ``num_classes``. A loss that turns NaN/inf or exceeds 20 x ln(num_classes) (a network at chance
    scores ln(num_classes)) stops the run, which is recorded with ``diverged: true``.
    """
    rank, world = _distributed()
    train_x, train_y = data["train_x"], data["train_y"]
    n_train = len(train_x)
    if profile.batch_size % world:
        raise ValueError(f"the global batch size {profile.batch_size} must be divisible by the number of "
                         f"processes {world}")
    batch = min(profile.batch_size, n_train - n_train % world)  # tiny folders: one batch per epoch
    local = batch // world
    steps_per_epoch = n_train // batch  # the incomplete last batch is dropped, as in airbench
    total_steps = steps_per_epoch * profile.epochs
    peak_lr = profile.peak_lr * lr_scale
    schedule = make_schedule(schedule_name, peak_lr, total_steps, profile.warmup_fraction)

    # The same seed on every process: same initial weights, same shuffling and augmentation, so
    # each process can take its own slice of the same global batch.
    torch.manual_seed(seed)
    generator = torch.Generator(device=device).manual_seed(seed)
    on_gpu = device.type == "cuda"
    # channels_last suits cuDNN's bf16 kernels and, measured here, oneDNN's CPU convolutions too.
    memory_format = torch.channels_last
    model = build_network(profile.widths, data["num_classes"]).to(device, memory_format=memory_format)
    trained = model
    if world > 1:
        from torch.nn.parallel import DistributedDataParallel
        trained = DistributedDataParallel(model, device_ids=[device.index] if on_gpu else None)
    optimizer = torch.optim.SGD(model.parameters(), lr=peak_lr, momentum=profile.momentum, nesterov=True,
                                weight_decay=profile.weight_decay)
    scheduler = to_torch(optimizer, schedule)

    explode_at = 20 * math.log(data["num_classes"])
    applied_lr, losses, epochs = [], torch.zeros(total_steps, device=device), []
    diverged_at = None
    start = time.perf_counter()
    for epoch in range(profile.epochs):
        images = random_crop_flip(train_x, profile.translate, generator).contiguous(memory_format=memory_format)
        order = torch.randperm(n_train, device=device, generator=generator)
        for i in range(steps_per_epoch):
            step = epoch * steps_per_epoch + i
            mine = order[i * batch + rank * local:i * batch + (rank + 1) * local]
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=on_gpu):
                loss = F.cross_entropy(trained(images[mine]), train_y[mine],
                                       label_smoothing=profile.label_smoothing)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()  # under DDP this also averages the gradients over the processes
            applied_lr.append(optimizer.param_groups[0]["lr"])  # what this update really uses
            optimizer.step()
            scheduler.step()
            losses[step] = loss.detach()
            if progress is not None:
                progress.update(1)
        # Checked once per epoch, not per update: reading a GPU value forces a wait every update.
        epoch_losses = losses[epoch * steps_per_epoch:(epoch + 1) * steps_per_epoch]
        if world > 1:  # every process must reach the same verdict
            dist.all_reduce(epoch_losses)
            epoch_losses /= world
        bad = ~torch.isfinite(epoch_losses) | (epoch_losses > explode_at)
        if bad.any():
            diverged_at = epoch * steps_per_epoch + int(bad.nonzero()[0])
            applied_lr = applied_lr[:diverged_at + 1]
            break
        if world > 1:  # BatchNorm running statistics differ per process: evaluate with rank 0's
            for buffer in model.buffers():
                dist.broadcast(buffer, 0)
        accuracy = evaluate(model, data["test_x"], data["test_y"])
        epochs.append(dict(epoch=epoch + 1, train_loss=epoch_losses.mean().item(),
                           test_accuracy=accuracy, lr=applied_lr[-1]))
        if progress is not None:
            progress.set_postfix(schedule=schedule_name, epoch=epoch + 1, acc=f"{accuracy:.3f}")
    return dict(
        schedule=schedule_name, schedule_repr=repr(schedule), schedule_params=_plain(schedule.params),
        lr_scale=lr_scale, peak_lr=peak_lr, seed=seed, profile=profile.name,
        final_test_accuracy=None if diverged_at is not None else epochs[-1]["test_accuracy"],
        diverged=diverged_at is not None, diverged_at_step=diverged_at,
        epochs=epochs, lr_per_update=applied_lr,
        loss_per_update=[v if math.isfinite(v) else None for v in losses[:len(applied_lr)].tolist()],
        updates=total_steps, steps_per_epoch=steps_per_epoch, global_batch_size=batch, world_size=world,
        n_train=n_train, n_test=len(data["test_x"]), wall_time_s=time.perf_counter() - start,
        profile_settings=_plain(dataclasses.asdict(profile)),
    )


def _plain(value):
    """JSON-friendly copy of schedule params (nested schedules become their name and params)."""
    if isinstance(value, lrs.Schedule):
        return dict(name=value.name, params=_plain(value.params))
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


# --------------------------------------------------------------------------------------------------
# Provenance and the results file

def device_name(device: torch.device) -> str:
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
    repo = Path(__file__).resolve().parent.parent
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


RESULTS_FORMAT = "lrlib.cifar results v1"


def run_key(record: dict) -> tuple:
    """Runs with equal keys are the same experiment: a re-run skips them."""
    return (record["schedule"], float(record["lr_scale"]), int(record["seed"]), record["profile"],
            record["data_source"])


def read_results(path) -> list:
    """The records in a results file ([] if it does not exist)."""
    path = Path(path)
    if not path.exists():
        return []
    try:
        content = json.loads(path.read_text())
        if content.get("format") != RESULTS_FORMAT:
            raise ValueError(f"format is {content.get('format')!r}, not {RESULTS_FORMAT!r}")
        return list(content["runs"])
    except (ValueError, AttributeError, KeyError) as error:
        raise DataError(f"--out {path} exists but is not an lrlib.cifar results file ({error}). "
                        f"Move it away or choose another --out.") from None


def write_results(path, records: list) -> None:
    text = json.dumps(dict(format=RESULTS_FORMAT, runs=records), indent=1, allow_nan=False)  # strict JSON
    _atomic_write(Path(path), lambda f: f.write(text.encode()))


# --------------------------------------------------------------------------------------------------
# A sweep: schedules x lr scales x seeds, resumable

def _parse_list(text, convert, name):
    try:
        values = [convert(v.strip()) for v in str(text).split(",") if v.strip()]
    except ValueError:
        raise ValueError(f"{name} must be a comma-separated list, got {text!r}") from None
    if not values:
        raise ValueError(f"{name} must not be empty")
    return values


def run_sweep(profile="quick", schedules=SCHEDULE_NAMES, seeds=3, lr_scales=(1.0,), data_dir=None,
              out=None, data_root="data", cache_dir="data/cache", threads=None, progress=True) -> list:
    """Train every (seed, lr scale, schedule) combination not yet in ``out``; return the sweep's records.

    ``seeds`` is a count (seeds 0..seeds-1) or a list of seeds. After each run the whole results file
    is rewritten atomically, so an interruption loses at most the run in progress.
    """
    if isinstance(profile, str):
        if profile not in PROFILES:
            raise ValueError(f"profile must be one of {sorted(PROFILES)}, got {profile!r}")
        profile = PROFILES[profile]
    schedules = _parse_list(schedules, str, "schedules") if isinstance(schedules, str) else list(schedules)
    for name in schedules:
        if name not in SCHEDULE_NAMES:
            raise ValueError(f"schedules must be among {list(SCHEDULE_NAMES)}, got {name!r}")
    seeds = list(range(seeds)) if isinstance(seeds, int) else [int(s) for s in seeds]
    if not seeds or min(seeds) < 0:
        raise ValueError(f"seeds must be a positive count or a list of seeds >= 0, got {seeds}")
    lr_scales = (_parse_list(lr_scales, float, "lr_scales") if isinstance(lr_scales, str)
                 else [float(s) for s in lr_scales])
    if any(not math.isfinite(s) or s <= 0 for s in lr_scales):
        raise ValueError(f"lr_scales must be positive numbers, got {lr_scales}")

    rank, world = _distributed()
    if torch.cuda.is_available():
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", 0)))
        torch.cuda.set_device(device)
    else:
        device = torch.device("cpu")
        # A fixed thread count keeps CPU runs repeatable. One thread per process by default: on a
        # 2-core machine shared with other work, 2 threads ran several times *slower* than 1 (the
        # threads wait for each other whenever another process holds a core). --threads overrides.
        torch.set_num_threads(threads or 1)
        torch.use_deterministic_algorithms(True, warn_only=True)

    if world > 1 and rank != 0:
        dist.barrier()  # let rank 0 fill the decode cache first
    dataset = load_data(profile, data_dir, data_root, cache_dir)
    if world > 1 and rank == 0:
        dist.barrier()
    mean = torch.tensor(dataset.train_images.reshape(-1, 3).mean(0) / 255, dtype=torch.float32, device=device)
    std = torch.tensor(dataset.train_images.reshape(-1, 3).std(0) / 255, dtype=torch.float32, device=device)
    train_x, train_y = _to_device(dataset.train_images, dataset.train_labels, mean, std, device)
    test_x, test_y = _to_device(dataset.test_images, dataset.test_labels, mean, std, device)
    data = dict(train_x=train_x, train_y=train_y, test_x=test_x, test_y=test_y,
                num_classes=len(dataset.classes))

    records = read_results(out) if (out is not None and rank == 0) else []
    if world > 1:  # only rank 0 reads and writes the file; the others follow its list
        shared = [records]
        dist.broadcast_object_list(shared, src=0)
        records = shared[0]
    done = {run_key(r): r for r in records}
    provenance = dict(device=device_name(device), torch_version=torch.__version__,
                      data_source=dataset.source, git_commit=git_commit())
    plan = [(seed, scale, name) for seed in seeds for scale in lr_scales for name in schedules]
    todo = [p for p in plan if (p[2], p[1], p[0], profile.name, dataset.source) not in done]

    bar = None
    if progress and rank == 0 and todo:
        from tqdm.auto import tqdm
        per_run = (len(train_x) // min(profile.batch_size, len(train_x) - len(train_x) % world)) * profile.epochs
        bar = tqdm(total=per_run * len(todo), unit="update", mininterval=1.0,
                   desc=f"{profile.name}: {len(todo)} runs ({len(plan) - len(todo)} already recorded)")
    try:
        for seed, scale, name in todo:
            record = train_run(data, profile, name, scale, seed, device, bar)
            record.update(provenance)
            records.append(record)
            done[run_key(record)] = record
            if out is not None and rank == 0:
                write_results(out, records)
    finally:
        if bar is not None:
            bar.close()
    return [done[(name, scale, seed, profile.name, dataset.source)] for seed, scale, name in plan]


# --------------------------------------------------------------------------------------------------
# Command line

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
    args = _parser().parse_args(argv)
    from .results import format_table, summarize

    launched_by_torchrun = int(os.environ.get("WORLD_SIZE", 1)) > 1
    if launched_by_torchrun:
        dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
    rank, out = _distributed()[0], None
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
    finally:
        if launched_by_torchrun:
            dist.destroy_process_group()
    if rank == 0:  # the other processes trained the same runs: one table is enough
        print(format_table(summarize(records)))
        print(f"{len(records)} runs in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
