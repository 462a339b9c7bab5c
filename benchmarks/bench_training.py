"""Two CPU benchmarks of the CIFAR-10 engine, each measured side by side in one run.

Accuracy at equal time (the default): the engine's ``cpu`` network against a plain conv-BN-ReLU-pool
network (three blocks at 32x32, 16x16 and 8x8, the usual first CNN), each trained for the same wall-clock
``--seconds`` with the same recipe (the engine's ``train_run``: SGD Nesterov, weight decay, label
smoothing, crop and flip, warmup + cosine at the same peak and batch) on all the training images, then
scored on the test set. Each network's number of updates is set from its throughput, measured first on
a few batches: the cpu network's for about ``--seconds``, the baseline's for the time the cpu network
really took (augmentation and evaluation included), so that both train for about the same time; the
times actually taken are printed.

    PYTHONPATH=. python benchmarks/bench_training.py --data-dir data/cifar10-jpeg --seconds 100

Input pipeline (``--pipeline``): the engine's way of making batches against the conventional PyTorch
input pipeline. Both sides train the same network (a profile's widths) with the same optimizer, loss, batch size,
thread count and device, on the same images, one epoch at a time; only the way batches are made
(and, in the headline comparison, the memory format) differs:

* engine: the data set resident on the device as one normalized tensor, augmented once per epoch by
  batched tensor operations (``random_crop_flip``), batches cut out by indexing; channels_last.
* conventional: a ``torch.utils.data.Dataset`` returning PIL images through
  ``RandomCrop(32, padding=2, padding_mode="reflect")``, ``RandomHorizontalFlip``, ``ToTensor``,
  ``Normalize``, batched by a ``DataLoader`` (``--workers`` worker processes), in PyTorch's default
  memory format as tutorial code writes it.
* conventional + channels_last: the same DataLoader, the model in channels_last: this separates
  what the input pipeline gains from what the memory format gains.

The variants alternate epoch by epoch (after one warm-up epoch each), so a burst of load from other
processes hits all of them alike. The headline is each variant's *best* epoch of ``--repeats`` (the
one least disturbed by other processes, as ``timeit`` reports its minimum); the median follows.

What to expect on a CPU: the engine's advantage is largest when training uses every core (torch's
default thread count, this script's default), because then the DataLoader's worker processes take
cores away from the training. With ``--threads 1 --workers 2`` on a 2-core machine the workers get
a core of their own and the input pipeline costs the conventional side almost nothing: run both to
see the two regimes.

    PYTHONPATH=. python benchmarks/bench_training.py --pipeline --data-dir data/cifar10-jpeg

This is a benchmark, not a test: it prints numbers and asserts nothing.
"""
from __future__ import annotations

import argparse
import dataclasses
import statistics
import time
from functools import partial

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch.utils.data import DataLoader
from torchvision import transforms

from lrlib.cifar.data import load_data, on_device, random_crop_flip, to_device
from lrlib.cifar.network import build_network
from lrlib.cifar.profiles import PROFILES
from lrlib.cifar.sweep import device_name
from lrlib.cifar.training import train_run


def plain_network(widths, num_classes: int = 10) -> torch.nn.Sequential:
    """The baseline: three conv-BN-ReLU-maxpool blocks (32x32 -> 16x16 -> 8x8 -> 4x4), global max-pool, linear."""
    layers, c_in = [], 3
    for c_out in widths:
        layers += [torch.nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), torch.nn.BatchNorm2d(c_out),
                   torch.nn.ReLU(), torch.nn.MaxPool2d(2)]
        c_in = c_out
    return torch.nn.Sequential(*layers, torch.nn.AdaptiveMaxPool2d(1), torch.nn.Flatten(),
                               torch.nn.Linear(c_in, num_classes))


def images_per_second(model, x, y, batch, repeats=30) -> float:
    """Training throughput of ``model`` on batches of ``batch`` images (after 5 warm-up updates)."""
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    for i in range(repeats + 5):
        if i == 5:
            start = time.perf_counter()
        xb = x[(i * batch) % (len(x) - batch):][:batch].contiguous(memory_format=torch.channels_last)
        loss = F.cross_entropy(model(xb), y[(i * batch) % (len(x) - batch):][:batch])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    return repeats * batch / (time.perf_counter() - start)


def accuracy_at_equal_time(args):
    """Train the cpu network and the plain baseline for about ``args.seconds`` each; print both."""
    torch.set_num_threads(args.threads)
    device = torch.device("cpu")
    base = PROFILES["cpu"]
    data = load_data(base, args.data_dir)
    tensors = on_device(data, device)
    n_train, batch = len(tensors["train_x"]), base.batch_size
    networks = {
        f"cpu network {tuple(args.cpu_widths)}": partial(build_network, "cpu", tuple(args.cpu_widths)),
        f"plain conv-BN-ReLU-pool {tuple(args.plain_widths)}": partial(plain_network, tuple(args.plain_widths)),
    }
    # Throughput: three alternating rounds, each network's best (the round least disturbed by other processes).
    models = {label: build(10).to(memory_format=torch.channels_last) for label, build in networks.items()}
    rates = {label: 0.0 for label in networks}
    for _ in range(3):
        for label, model in models.items():
            rates[label] = max(rates[label], images_per_second(model, tensors["train_x"], tensors["train_y"], batch))
    results, slowdown = {}, None
    for label, build in networks.items():
        rate = rates[label]
        # The first network trains for about args.seconds. A run also augments and evaluates, so it takes
        # longer than its updates alone: the second network's budget is set from the first one's real time,
        # corrected by the same factor (``slowdown``), so that both take about the same time.
        seconds = args.seconds if slowdown is None else results[next(iter(results))][1]["wall_time_s"] / slowdown
        updates = max(4, round(seconds * rate / batch))
        epochs = -(-updates * batch // n_train)  # whole epochs; the budget ends the run within the last one
        profile = dataclasses.replace(base, epochs=epochs)
        budget = updates / (epochs * (n_train // batch))
        record = train_run(tensors, profile, "warmup_cosine", 1.0, 0, device, budget=budget, network=build)
        if slowdown is None:
            slowdown = record["wall_time_s"] / (updates * batch / rate)
        results[label] = (rate, record)
    print(f"device: {device_name(device)}; torch {torch.__version__}; {args.threads} torch threads; "
          f"data: {data.source}")
    print(f"recipe: the engine's train_run, warmup_cosine at peak lr {base.peak_lr}, batch {batch}, {n_train} "
          f"training images, {len(tensors['test_x'])} test images scored with flips; about {args.seconds:g} s of "
          f"training each")
    for label, (rate, record) in results.items():
        print(f"  {label:<40} {rate:6.0f} images/s, {record['updates']:5d} updates "
              f"({record['updates'] * batch / n_train:.2f} epochs) in {record['wall_time_s']:6.1f} s: "
              f"test accuracy {100 * record['final_test_accuracy']:.2f}%")
    (cpu_rate, cpu), (plain_rate, plain) = results.values()
    print(f"cpu network / plain baseline: {cpu_rate / plain_rate:.2f}x the images per second; "
          f"{100 * (cpu['final_test_accuracy'] - plain['final_test_accuracy']):+.2f} points of test accuracy "
          f"in {cpu['wall_time_s'] / plain['wall_time_s']:.2f}x the training time")


class PILDataset(torch.utils.data.Dataset):
    """What torchvision.datasets.CIFAR10 does: one PIL image per __getitem__, then the transforms."""

    def __init__(self, images: np.ndarray, labels: np.ndarray, transform):
        self.images, self.labels, self.transform = images, labels, transform

    def __len__(self):
        return len(self.images)

    def __getitem__(self, i):
        return self.transform(Image.fromarray(self.images[i])), int(self.labels[i])


def train_epoch(model, optimizer, batches, profile, memory_format) -> int:
    """One epoch over ``batches``; returns the number of images trained on."""
    seen = 0
    for x, y in batches:
        x = x.contiguous(memory_format=memory_format)
        loss = F.cross_entropy(model(x), y, label_smoothing=profile.label_smoothing)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        seen += len(x)
    return seen


def make_model(profile, num_classes, memory_format, device):
    torch.manual_seed(0)
    model = build_network(profile.network, profile.widths, num_classes).to(device, memory_format=memory_format)
    optimizer = torch.optim.SGD(model.parameters(), lr=profile.peak_lr * 0.1, momentum=profile.momentum,
                                nesterov=True, weight_decay=profile.weight_decay)
    return model, optimizer


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pipeline", action="store_true",
                        help="compare input pipelines (throughput) instead of networks (accuracy at equal time)")
    parser.add_argument("--seconds", type=float, default=100,
                        help="training time per network, accuracy comparison (default: 100)")
    parser.add_argument("--cpu-widths", type=int, nargs=3, default=list(PROFILES["cpu"].widths),
                        help="widths of the cpu network (default: the cpu profile's)")
    parser.add_argument("--plain-widths", type=int, nargs=3, default=[16, 32, 64],
                        help="widths of the plain network's three blocks (default: 16 32 64)")
    parser.add_argument("--profile", default="quick", choices=sorted(PROFILES),
                        help="pipeline comparison: network widths, batch size and number of images (default: quick)")
    parser.add_argument("--data-dir", default=None, help="image folder (default: torchvision CIFAR-10 in data/)")
    parser.add_argument("--images", type=int, default=2000, help="training images per epoch (default: 2000)")
    parser.add_argument("--repeats", type=int, default=5, help="timed epochs per variant (default: 5)")
    parser.add_argument("--workers", type=int, default=2, help="DataLoader worker processes (default: 2)")
    parser.add_argument("--threads", type=int, default=torch.get_num_threads(),
                        help="torch threads in the training process, the same for every variant "
                             "(default: torch's default, %(default)s here: all cores)")
    args = parser.parse_args()
    if not args.pipeline:
        accuracy_at_equal_time(args)
        return

    torch.set_num_threads(args.threads)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    profile = PROFILES[args.profile]
    data = load_data(profile, args.data_dir)
    rng = np.random.default_rng(0)
    keep = np.sort(rng.choice(len(data.train_images), size=min(args.images, len(data.train_images)), replace=False))
    images, labels = data.train_images[keep], data.train_labels[keep]
    num_classes = len(data.classes)
    mean = images.reshape(-1, 3).mean(0) / 255
    std = images.reshape(-1, 3).std(0) / 255
    batch = profile.batch_size

    # Engine: resident tensors, batched augmentation, index slicing (what lrlib.cifar.training.train_run does).
    x_all, y_all = to_device(images, labels, torch.tensor(mean, dtype=torch.float32, device=device),
                             torch.tensor(std, dtype=torch.float32, device=device), device)
    generator = torch.Generator(device=device).manual_seed(0)

    def engine_batches():
        augmented = random_crop_flip(x_all, profile.translate, generator).contiguous(
            memory_format=torch.channels_last)
        order = torch.randperm(len(x_all), device=device, generator=generator)
        for i in range(len(x_all) // batch):
            idx = order[i * batch:(i + 1) * batch]
            yield augmented[idx], y_all[idx]

    # Conventional: PIL transforms in a Dataset, a DataLoader with workers.
    transform = transforms.Compose([
        transforms.RandomCrop(32, padding=profile.translate, padding_mode="reflect"),
        transforms.RandomHorizontalFlip(),
        transforms.ToTensor(),
        transforms.Normalize(mean.tolist(), std.tolist()),
    ])
    loader = DataLoader(PILDataset(images, labels, transform), batch_size=batch, shuffle=True, drop_last=True,
                        num_workers=args.workers, persistent_workers=args.workers > 0,
                        pin_memory=device.type == "cuda")

    def loader_batches():
        for x, y in loader:
            yield x.to(device, non_blocking=True), y.to(device, non_blocking=True)

    variants = {
        "engine (resident data, tensor aug, channels_last)": (engine_batches, torch.channels_last),
        "conventional (DataLoader + PIL transforms)": (loader_batches, torch.contiguous_format),
        "conventional + channels_last": (loader_batches, torch.channels_last),
    }
    models = {name: make_model(profile, num_classes, fmt, device) for name, (_, fmt) in variants.items()}
    rates = {name: [] for name in variants}
    for repeat in range(args.repeats + 1):  # round 0 warms up (worker start-up, allocator, oneDNN caches)
        for name, (batches, fmt) in variants.items():
            model, optimizer = models[name]
            if device.type == "cuda":
                torch.cuda.synchronize()
            start = time.perf_counter()
            seen = train_epoch(model, optimizer, batches(), profile, fmt)
            if device.type == "cuda":
                torch.cuda.synchronize()
            if repeat:
                rates[name].append(seen / (time.perf_counter() - start))

    print(f"device: {device_name(device)}; torch {torch.__version__}; data: {data.source}")
    print(f"profile {profile.name}: widths {profile.widths}, batch {batch}, {len(images)} images per epoch, "
          f"{args.threads} torch threads, DataLoader workers: {args.workers}, {args.repeats} timed epochs per variant")
    best = {name: max(r) for name, r in rates.items()}
    median = {name: statistics.median(r) for name, r in rates.items()}
    for name in variants:
        print(f"  {name:<52} best {best[name]:6.0f} images/s, median {median[name]:6.0f}   "
              f"(epochs: {', '.join(f'{r:.0f}' for r in rates[name])})")
    engine, conventional, conventional_cl = variants
    for label, other in (("engine / conventional:                ", conventional),
                         ("engine / conventional + channels_last:", conventional_cl)):
        note = "   (the input pipeline alone)" if other == conventional_cl else ""
        print(f"{label} {best[engine] / best[other]:.2f}x best, {median[engine] / median[other]:.2f}x median{note}")


if __name__ == "__main__":
    main()
