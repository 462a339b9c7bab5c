"""One training run under one schedule, and the evaluation of its accuracy on a validation or test split.

The recipe: the profile's network (``network.build_network``); SGD with Nesterov momentum, weight
decay and label-smoothed cross-entropy; the training set re-augmented (``random_crop_flip``) and
reshuffled once per epoch, batches cut out by indexing; the channels_last memory format; bf16 autocast
on a GPU, plain fp32 on a CPU; accuracy scored with test-time flips (``evaluate``). The learning rate of
every update (and, for one-cycle, the momentum) comes from an lrlib schedule through ``to_torch``, and
the values the update really used are read back from the optimizer and recorded.

Under torchrun with N processes each process trains on its 1/N share of every global batch and DDP
averages the gradients, so an update is the same update as on one process (up to BatchNorm, whose batch
statistics are computed per process on its share).
"""
from __future__ import annotations

import dataclasses
import math
import time

import torch
import torch.distributed as dist
import torch.nn as nn
import torch.nn.functional as F

from lrlib import schedules as lrs
from lrlib.checks import check_choice
from lrlib.torch_adapter import to_torch

from .data import random_crop_flip
from .network import build_network
from .profiles import Profile, count_updates, make_schedule, momentum_schedule

__all__ = ["rank_and_world", "evaluate", "train_run"]


def rank_and_world() -> tuple[int, int]:
    """(rank, world size) of this process; (0, 1) when not launched by torchrun."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


@torch.no_grad()
def evaluate(model: nn.Module, images: torch.Tensor, labels: torch.Tensor, batch_size: int = 1000) -> float:
    """The share of ``images`` classified as ``labels``, each image classified by the sum of the logits
    of it and of its mirror image (test-time flip augmentation, as airbench94 does: the network was
    trained on flipped images too). Under torchrun each process scores its share of the images and the
    counts are summed."""
    rank, world = rank_and_world()
    model.eval()
    correct = torch.zeros((), dtype=torch.int64, device=images.device)
    for start in range(rank * batch_size, len(images), world * batch_size):
        x, y = images[start:start + batch_size], labels[start:start + batch_size]
        with torch.autocast(x.device.type, dtype=torch.bfloat16, enabled=x.device.type == "cuda"):
            correct += ((model(x) + model(x.flip(-1))).argmax(1) == y).sum()
    if world > 1:
        dist.all_reduce(correct)
    model.train()
    return correct.item() / len(images)


def train_run(data: dict, profile: Profile, schedule_name: str, lr_scale: float, seed: int,
              device: torch.device, progress=None, *, budget: float = 1.0, batch_size: int | None = None,
              split: str = "test", network=None) -> dict:
    """Train one network under one schedule; return the run's record (without provenance fields).

    ``data`` holds the normalized device tensors (``train_x``, ``train_y``, ``<split>_x``, ``<split>_y``)
    and ``num_classes`` (``data.on_device`` makes it); the accuracy after every epoch is measured on
    ``split`` ("test" or "validation") and recorded under that name (``final_<split>_accuracy``). The
    run makes ``budget`` x the profile's epochs of updates with batches of ``batch_size`` (default: the
    profile's), at the peak ``lr_scale`` x the profile's ``peak_lr``. A loss that turns NaN/inf or
    exceeds 20 ln(num_classes) (a network at chance scores ln(num_classes)) stops the run, which is
    recorded with ``diverged: true``. ``progress`` (a tqdm bar, optional) advances by one per update.
    ``network`` (optional): a function of the number of classes that builds the model to train instead
    of the profile's network, for comparing networks under the same recipe.
    """
    rank, world = rank_and_world()
    check_choice("split", split, ("test", "validation"))
    train_x, train_y = data["train_x"], data["train_y"]
    eval_x, eval_y = data[f"{split}_x"], data[f"{split}_y"]
    n_train = len(train_x)
    batch_size = profile.batch_size if batch_size is None else batch_size
    if batch_size % world:
        raise ValueError(f"the global batch size {batch_size} must be divisible by the number of "
                         f"processes {world}")
    batch = min(batch_size, n_train - n_train % world)  # tiny folders: one batch per epoch
    local = batch // world
    steps_per_epoch, total_steps = count_updates(n_train, batch, profile.epochs, budget)
    peak_lr = profile.peak_lr * lr_scale
    schedule = make_schedule(schedule_name, peak_lr, total_steps, profile.warmup_fraction)
    momentum = momentum_schedule(schedule_name, total_steps)  # None: the profile's fixed momentum

    # The same seed on every process: same initial weights, same shuffling and augmentation, so
    # each process can take its own slice of the same global batch.
    torch.manual_seed(seed)
    generator = torch.Generator(device=device).manual_seed(seed)
    on_gpu = device.type == "cuda"
    # channels_last (NHWC): the layout cuDNN's tensor-core and oneDNN's CPU convolutions use natively.
    memory_format = torch.channels_last
    model = (build_network(profile.network, profile.widths, data["num_classes"]) if network is None
             else network(data["num_classes"])).to(device, memory_format=memory_format)
    trained = model
    if world > 1:
        from torch.nn.parallel import DistributedDataParallel
        trained = DistributedDataParallel(model, device_ids=[device.index] if on_gpu else None)
    optimizer = torch.optim.SGD(model.parameters(), lr=peak_lr, momentum=profile.momentum, nesterov=True,
                                weight_decay=profile.weight_decay)
    scheduler = to_torch(optimizer, schedule, momentum=momentum)

    explode_at = 20 * math.log(data["num_classes"])
    applied_lr, applied_momentum, losses, epochs = [], [], torch.zeros(total_steps, device=device), []
    diverged_at = None
    start = time.perf_counter()
    for epoch in range(math.ceil(total_steps / steps_per_epoch)):
        images = random_crop_flip(train_x, profile.translate, generator).contiguous(memory_format=memory_format)
        order = torch.randperm(n_train, device=device, generator=generator)
        first = epoch * steps_per_epoch
        for i in range(min(steps_per_epoch, total_steps - first)):  # a budget may end within an epoch
            step = first + i
            mine = order[i * batch + rank * local:i * batch + (rank + 1) * local]
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=on_gpu):
                loss = F.cross_entropy(trained(images[mine]), train_y[mine],
                                       label_smoothing=profile.label_smoothing)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()  # under DDP this also averages the gradients over the processes
            applied_lr.append(optimizer.param_groups[0]["lr"])  # what this update really uses
            if momentum is not None:
                applied_momentum.append(optimizer.param_groups[0]["momentum"])
            optimizer.step()
            scheduler.step()
            losses[step] = loss.detach()
            if progress is not None:
                progress.update(1)
        # Checked once per epoch, not per update: reading a GPU value forces a wait every update.
        epoch_losses = losses[first:first + steps_per_epoch]
        if world > 1:  # every process must reach the same verdict
            dist.all_reduce(epoch_losses)
            epoch_losses /= world
        bad = ~torch.isfinite(epoch_losses) | (epoch_losses > explode_at)
        if bad.any():
            diverged_at = first + int(bad.nonzero()[0])
            applied_lr = applied_lr[:diverged_at + 1]
            applied_momentum = applied_momentum[:diverged_at + 1]
            break
        if world > 1:  # BatchNorm running statistics differ per process: evaluate with rank 0's
            for buffer in model.buffers():
                dist.broadcast(buffer, 0)
        accuracy = evaluate(model, eval_x, eval_y)
        epochs.append({"epoch": epoch + 1, "train_loss": epoch_losses.mean().item(),
                       f"{split}_accuracy": accuracy, "lr": applied_lr[-1]})
        if progress is not None:
            progress.set_postfix(schedule=schedule_name, epoch=epoch + 1, acc=f"{accuracy:.3f}")
    return dict(
        schedule=schedule_name, schedule_repr=repr(schedule), schedule_params=_plain(schedule.params),
        lr_scale=lr_scale, peak_lr=peak_lr, seed=seed, profile=profile.name, split=split,
        **{f"final_{split}_accuracy": None if diverged_at is not None else epochs[-1][f"{split}_accuracy"]},
        diverged=diverged_at is not None, diverged_at_step=diverged_at,
        epochs=epochs, lr_per_update=applied_lr,
        momentum_repr=None if momentum is None else repr(momentum),
        momentum_per_update=None if momentum is None else applied_momentum,
        loss_per_update=[v if math.isfinite(v) else None for v in losses[:len(applied_lr)].tolist()],
        budget=budget, updates=total_steps, steps_per_epoch=steps_per_epoch, global_batch_size=batch,
        world_size=world, n_train=n_train, **{f"n_{split}": len(eval_x)}, num_classes=data["num_classes"],
        wall_time_s=time.perf_counter() - start, profile_settings=_plain(dataclasses.asdict(profile)),
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
