"""Data: CIFAR-10 as uint8 arrays, a fixed stratified subset of it, then one normalized tensor on the device.

Two sources. By default torchvision's CIFAR-10 (``root="data"``, downloaded when missing). Or an image
folder laid out ``train/<class>/*.png|jpg`` and ``test/<class>/*``, decoded once and cached as uint8
arrays under ``data/cache/``.

Every record names its data (``Dataset.source``) and never a filesystem path: ``CIFAR-10 (torchvision)``;
``CIFAR-10, JPEG copy (cifar10-jpeg.tar.gz, sha256 <hex>)`` for a folder with CIFAR-10's classes and
50,000 + 10,000 JPEG files that holds ``ARCHIVE.sha256`` (the archive's checksum as ``sha256sum`` prints
it, written by ``make data``); any other folder by its base name, its image formats and the first 12 hex
digits of the sha256 of its file list (names and sizes): ``image folder 'mydata' (PNG, files sha256 ...)``.

A study holds a validation split out of the training images (``hold_out_validation``): every choice
is made on it, and the test images are scored only by the final runs.

On the device, augmentation is a handful of batched tensor operations on the whole training set
(``random_crop_flip``), no DataLoader and no per-image Python. torch is imported by the functions that
use it, so that the analysis (which reads results files and may raise DataError) needs no torch.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from lrlib.checks import check_factor

if TYPE_CHECKING:
    import torch

    from .profiles import Profile

__all__ = ["DataError", "Dataset", "CIFAR10_CLASSES", "TORCHVISION_SOURCE", "JPEG_COPY_SOURCE",
           "ARCHIVE_CHECKSUM_FILE", "stratified_indices", "validation_indices", "atomic_write", "load_data",
           "hold_out_validation", "to_device", "on_device", "random_crop_flip"]


class DataError(Exception):
    """Missing, malformed or unreadable data. The message says what to do about it."""


TORCHVISION_SOURCE = "CIFAR-10 (torchvision)"
JPEG_COPY_SOURCE = "CIFAR-10, JPEG copy ({archive}, sha256 {sha256})"
ARCHIVE_CHECKSUM_FILE = "ARCHIVE.sha256"
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
    validation_images: np.ndarray | None = None  # held out of the training images by hold_out_validation
    validation_labels: np.ndarray | None = None


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


def validation_indices(labels: np.ndarray, fraction: float, seed: int) -> np.ndarray:
    """Sorted indices of a stratified random validation split: of each class's n_c images, max(1,
    round(fraction n_c)) drawn with ``seed``, so every class keeps its share in both parts."""
    fraction = check_factor("validation_fraction", fraction, 0.0, 1.0, high_open=True)
    rng = np.random.default_rng(seed)
    chosen = []
    for c in np.unique(labels):
        members = np.flatnonzero(labels == c)
        count = max(1, round(fraction * len(members)))
        if count >= len(members):
            raise ValueError(f"validation_fraction={fraction} leaves no training image of class {c} "
                             f"({len(members)} images): use more images per class or a smaller fraction")
        chosen.append(rng.choice(members, size=count, replace=False))
    return np.sort(np.concatenate(chosen))


def atomic_write(path: Path, write) -> None:
    """Write through ``write(file)`` to a temporary file next to ``path``, then rename it over ``path``.

    A rename within one folder is atomic: a reader (or a crash, or Ctrl-C) sees the old file or the
    new one, never half of one. Used for the decode cache and for results files.
    """
    path = Path(path)
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


# --------------------------------------------------------------------------------------------------
# An image folder

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
    atomic_write(cache, lambda f: np.savez(f, images=images, labels=selected_labels))
    return images, selected_labels


def _archive_checksum(root: Path):
    """(archive name, sha256 hex) from ``root/ARCHIVE.sha256`` (sha256sum's output), or None without it."""
    path = root / ARCHIVE_CHECKSUM_FILE
    if not path.is_file():
        return None
    match = re.fullmatch(r"([0-9a-fA-F]{64}) [ *](\S.*)", path.read_text().strip())
    if match is None:
        raise DataError(f"{path} must hold one line '<sha256>  <archive name>' as sha256sum prints it. "
                        f"Write it again (make data) or delete it.")
    return Path(match.group(2)).name, match.group(1).lower()


def _folder_source(root: Path, splits) -> str:
    """The data set's name for the records, free of filesystem paths (see the module's docstring)."""
    files = splits["train"][0] + splits["test"][0]
    suffixes = {os.path.splitext(f)[1].lower() for f in files}
    archive = _archive_checksum(root)
    if (archive is not None and tuple(splits["train"][3]) == CIFAR10_CLASSES
            and (len(splits["train"][0]), len(splits["test"][0])) == (50000, 10000) and suffixes <= {".jpg", ".jpeg"}):
        return JPEG_COPY_SOURCE.format(archive=archive[0], sha256=archive[1])
    kinds = "+".join(sorted({"JPEG" if s in (".jpg", ".jpeg") else "PNG" for s in suffixes}))
    sizes = [size for split in ("train", "test") for size, _ in splits[split][1]]
    digest = hashlib.sha256(json.dumps([files, sizes]).encode()).hexdigest()[:12]
    return f"image folder {root.resolve().name!r} ({kinds}, files sha256 {digest})"


# --------------------------------------------------------------------------------------------------
# torchvision's CIFAR-10, and the profile's subsets of either source

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


def hold_out_validation(dataset: Dataset, fraction: float, seed: int) -> Dataset:
    """The data set with a validation split (``validation_indices``) moved out of its training images."""
    held_out = validation_indices(dataset.train_labels, fraction, seed)
    kept = np.setdiff1d(np.arange(len(dataset.train_labels)), held_out)
    return dataclasses.replace(dataset, train_images=dataset.train_images[kept],
                               train_labels=dataset.train_labels[kept],
                               validation_images=dataset.train_images[held_out],
                               validation_labels=dataset.train_labels[held_out])


# --------------------------------------------------------------------------------------------------
# On the device

def to_device(images: np.ndarray, labels: np.ndarray, mean: torch.Tensor, std: torch.Tensor, device):
    """(x, y): uint8 (N, 32, 32, 3) images as float (N, 3, 32, 32) tensors, x = (pixel / 255 - mean) / std."""
    import torch
    x = torch.from_numpy(images).to(device).permute(0, 3, 1, 2).float().div_(255)
    x = (x - mean[None, :, None, None]) / std[None, :, None, None]
    return x, torch.from_numpy(labels).to(device)


def on_device(dataset: Dataset, device) -> dict:
    """The data set on the device, normalized per channel with the training images' mean and std.

    Returns ``train_x``, ``train_y``, ``test_x``, ``test_y`` and ``num_classes`` (what ``train_run``
    takes), and ``validation_x``, ``validation_y`` when the data set has a validation split.
    """
    import torch
    pixels = dataset.train_images.reshape(-1, 3)
    mean = torch.tensor(pixels.mean(0) / 255, dtype=torch.float32, device=device)
    std = torch.tensor(pixels.std(0) / 255, dtype=torch.float32, device=device)
    train_x, train_y = to_device(dataset.train_images, dataset.train_labels, mean, std, device)
    test_x, test_y = to_device(dataset.test_images, dataset.test_labels, mean, std, device)
    tensors = dict(train_x=train_x, train_y=train_y, test_x=test_x, test_y=test_y, num_classes=len(dataset.classes))
    if dataset.validation_images is not None:
        tensors["validation_x"], tensors["validation_y"] = to_device(
            dataset.validation_images, dataset.validation_labels, mean, std, device)
    return tensors


def random_crop_flip(images: torch.Tensor, translate: int, generator: torch.Generator) -> torch.Tensor:
    """Shift each image by up to ``translate`` pixels (reflect-padded) and flip half of them.

    Equivalent to RandomCrop(32, padding=translate, padding_mode="reflect") + RandomHorizontalFlip,
    for all images at once: one gather picks each image's 32x32 window out of its padded copy.
    """
    import torch
    import torch.nn.functional as F
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
