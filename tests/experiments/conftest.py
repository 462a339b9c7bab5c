"""Fixtures shared by the tests of the CIFAR-10 engine (lrlib.cifar).

Training uses the ``smoke`` profile on a tiny image folder written here with Pillow (and, when it is
present, on the JPEG copy of CIFAR-10), so everything runs on a CPU. No test asserts a timing.
"""
import contextlib
import hashlib
import io
import tarfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from lrlib.cifar.__main__ import main

ROOT = Path(__file__).resolve().parents[2]
JPEG_FOLDER = ROOT / "data" / "cifar10-jpeg"
JPEG_ARCHIVE = ROOT.parent / "shared" / "data" / "cifar10-jpeg.tar.gz"
CLASSES = ("cat", "deer", "dog", "frog", "ship")


def _write_image_folder(root: Path, train_per_class=24, test_per_class=4, classes=CLASSES):
    """A real image folder: PNG for some classes, JPEG for others, each class a different colour."""
    rng = np.random.default_rng(0)
    for split, count in (("train", train_per_class), ("test", test_per_class)):
        for label, name in enumerate(classes):
            folder = root / split / name
            folder.mkdir(parents=True)
            suffix = ".png" if label % 2 == 0 else ".jpg"
            for i in range(count):
                pixels = rng.integers(0, 60, (32, 32, 3), dtype=np.uint8)
                pixels[..., label % 3] += 150  # learnable: the class is the dominant channel
                Image.fromarray(pixels).save(folder / f"{i:04d}{suffix}")
    return root


@pytest.fixture(scope="session")
def write_image_folder():
    """``write_image_folder(root, train_per_class=24, test_per_class=4)`` writes a tiny image folder."""
    return _write_image_folder


@pytest.fixture(scope="session")
def tiny_folder(tmp_path_factory):
    return _write_image_folder(tmp_path_factory.mktemp("tiny") / "images")


@pytest.fixture(scope="session")
def smoke_sweep(tiny_folder, tmp_path_factory):
    """One CLI sweep of all five schedules on the tiny folder, shared by the tests that inspect it."""
    out = tmp_path_factory.mktemp("results") / "smoke.json"
    cache = tmp_path_factory.mktemp("cache")
    rc = main(["--profile", "smoke", "--seeds", "1", "--data-dir", str(tiny_folder), "--out", str(out),
               "--cache-dir", str(cache), "--no-progress"])
    assert rc == 0
    return out, cache


@pytest.fixture(scope="session")
def smoke_study(tiny_folder, tmp_path_factory):
    """The whole smoke_study study through the CLI on the tiny folder, shared by the tests that inspect
    it: (results file, decode cache folder, the report it printed)."""
    out = tmp_path_factory.mktemp("study") / "study.json"
    cache = tmp_path_factory.mktemp("cache")
    capture = io.StringIO()
    with contextlib.redirect_stdout(capture):
        rc = main(["study", "--profile", "smoke_study", "--data-dir", str(tiny_folder), "--out", str(out),
                   "--cache-dir", str(cache), "--no-progress"])
    assert rc == 0
    return out, cache, capture.getvalue()


@pytest.fixture(scope="session")
def jpeg_folder(tmp_path_factory):
    """The JPEG copy of CIFAR-10 with its ARCHIVE.sha256: data/cifar10-jpeg as ``make data`` leaves it, or
    the archive extracted here and its checksum written the same way."""
    if (JPEG_FOLDER / "train").is_dir() and (JPEG_FOLDER / "ARCHIVE.sha256").is_file():
        return JPEG_FOLDER
    if JPEG_ARCHIVE.exists():
        target = tmp_path_factory.mktemp("cifar10-jpeg")
        with tarfile.open(JPEG_ARCHIVE) as archive:
            archive.extractall(target, filter="data")
        digest = hashlib.sha256(JPEG_ARCHIVE.read_bytes()).hexdigest()
        (target / "ARCHIVE.sha256").write_text(f"{digest}  {JPEG_ARCHIVE.name}\n")
        return target
    pytest.skip("no JPEG copy of CIFAR-10 here (data/cifar10-jpeg/ or ../shared/data/cifar10-jpeg.tar.gz)")
