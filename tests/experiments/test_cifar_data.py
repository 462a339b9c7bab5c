"""Data (lrlib.cifar.data): subsets, augmentation, the decode cache, torchvision, the JPEG copy of
CIFAR-10, and data-source labels that name the data set, never a path of the machine."""
import hashlib
import os
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from lrlib.cifar import data
from lrlib.cifar.data import DataError, load_data
from lrlib.cifar.profiles import PROFILES, Profile
from lrlib.cifar.sweep import run_sweep

ROOT = Path(__file__).resolve().parents[2]
JPEG_ARCHIVE = ROOT.parent / "shared" / "data" / "cifar10-jpeg.tar.gz"
SMOKE = PROFILES["smoke"]


def test_stratified_indices_draw_every_class_at_random():
    labels = np.repeat(np.arange(4), 50)  # sorted by class, like the folders
    idx = data.stratified_indices(labels, 10, seed=0)
    assert np.array_equal(np.bincount(labels[idx]), [10] * 4)
    assert np.array_equal(idx, data.stratified_indices(labels, 10, seed=0))  # a fixed seed, a fixed subset
    assert not np.array_equal(idx, data.stratified_indices(labels, 10, seed=1))
    assert not np.array_equal(idx[:10], np.arange(10))
    assert np.array_equal(data.stratified_indices(labels, None, 0), np.arange(200))
    assert len(data.stratified_indices(labels, 80, 0)) == 200  # capped at what each class has


def test_random_crop_flip_is_a_shifted_window_of_the_reflected_image():
    images = torch.randn(16, 3, 32, 32)
    out = data.random_crop_flip(images, 2, torch.Generator().manual_seed(0))
    assert out.shape == images.shape
    padded = torch.nn.functional.pad(images, (2, 2, 2, 2), mode="reflect")
    flips = 0
    for i in range(len(images)):
        windows = [padded[i, :, dy:dy + 32, dx:dx + 32] for dy in range(5) for dx in range(5)]
        plain = any(torch.equal(out[i], w) for w in windows)
        flipped = any(torch.equal(out[i], w.flip(2)) for w in windows)
        assert plain or flipped
        flips += flipped and not plain
    assert 0 < flips < len(images)  # both flipped and unflipped images occur
    again = data.random_crop_flip(images, 2, torch.Generator().manual_seed(0))
    assert torch.equal(out, again)


def test_cache_is_reused_and_invalidated_when_the_folder_changes(tmp_path, write_image_folder):
    folder = write_image_folder(tmp_path / "images")
    cache = tmp_path / "cache"
    first = load_data(SMOKE, folder, cache_dir=cache)
    files = sorted(cache.iterdir())
    assert len(files) == 2  # train and test
    assert np.array_equal(load_data(SMOKE, folder, cache_dir=cache).train_images, first.train_images)
    assert sorted(cache.iterdir()) == files
    # replace one training image by a white one: a changed folder must be decoded again
    target = sorted((folder / "train" / "cat").iterdir())[0]
    Image.fromarray(np.full((32, 32, 3), 255, np.uint8)).save(target)
    os.utime(target, ns=(1, 1))  # even with an old timestamp, the size or listing differs
    changed = load_data(SMOKE, folder, cache_dir=cache)
    assert len(list(cache.iterdir())) == 3
    assert (changed.train_images == 255).all(axis=(1, 2, 3)).sum() == 1


def test_torchvision_source_is_subsampled_and_labelled(monkeypatch, tmp_path):
    """The default data path, with torchvision's CIFAR10 class replaced by a small stand-in."""
    import torchvision.datasets

    class FakeCIFAR10:
        classes = list(data.CIFAR10_CLASSES)

        def __init__(self, root, train, download):
            assert download and Path(root) == tmp_path
            n = 100 if train else 40
            self.data = np.random.default_rng(int(train)).integers(0, 256, (n, 32, 32, 3), dtype=np.uint8)
            self.targets = [i % 10 for i in range(n)]
    monkeypatch.setattr(torchvision.datasets, "CIFAR10", FakeCIFAR10)
    loaded = load_data(SMOKE, None, data_root=tmp_path)
    assert loaded.source == data.TORCHVISION_SOURCE and loaded.classes == list(data.CIFAR10_CLASSES)
    assert loaded.source == "CIFAR-10 (torchvision)"
    assert loaded.train_images.shape == (100, 32, 32, 3) and loaded.test_images.shape == (40, 32, 32, 3)
    profile = Profile("tiny", 5, 2, "cpu", (8, 8, 8), 1, 10, 0.1)
    loaded = load_data(profile, None, data_root=tmp_path)
    assert np.array_equal(np.bincount(loaded.train_labels), [5] * 10)
    assert np.array_equal(np.bincount(loaded.test_labels), [2] * 10)


def test_image_folder_is_named_by_its_base_name_and_file_list(tmp_path, write_image_folder):
    folder = write_image_folder(tmp_path / "first" / "mydata", train_per_class=3, test_per_class=1)
    source = load_data(SMOKE, folder, cache_dir=tmp_path / "cache").source
    assert re.fullmatch(r"image folder 'mydata' \(JPEG\+PNG, files sha256 [0-9a-f]{12}\)", source), source
    assert "/" not in source and str(tmp_path) not in source
    # the same files elsewhere: the same label; one file of another size: another label
    moved = shutil.copytree(folder, tmp_path / "second" / "mydata")
    assert load_data(SMOKE, moved, cache_dir=tmp_path / "cache").source == source
    (moved / "train" / "cat" / "0000.png").write_bytes((folder / "train" / "dog" / "0000.png").read_bytes())
    assert load_data(SMOKE, moved, cache_dir=tmp_path / "cache").source != source
    # ARCHIVE.sha256 names the archive of the JPEG copy of CIFAR-10 only: this folder keeps its label
    (folder / "ARCHIVE.sha256").write_text(f"{'0' * 64}  mydata.tar.gz\n")
    assert load_data(SMOKE, folder, cache_dir=tmp_path / "cache").source == source


def test_malformed_archive_checksum_gives_a_clear_error(tmp_path, write_image_folder):
    folder = write_image_folder(tmp_path / "images", train_per_class=2, test_per_class=1)
    (folder / "ARCHIVE.sha256").write_text("not a checksum\n")
    with pytest.raises(DataError, match="as sha256sum prints it"):
        load_data(SMOKE, folder, cache_dir=tmp_path / "cache")


# ------------------------------------------------------------------------------------------------
# The real JPEG copy of CIFAR-10, when this machine has it

def test_smoke_run_on_the_real_jpeg_copy(jpeg_folder, tmp_path):
    records = run_sweep("smoke", ["one_cycle"], 1, [1.0], jpeg_folder, tmp_path / "r.json",
                        cache_dir=tmp_path / "cache", progress=False)
    (r,) = records
    digest, archive = (jpeg_folder / "ARCHIVE.sha256").read_text().split()
    assert r["data_source"] == data.JPEG_COPY_SOURCE.format(archive=archive, sha256=digest)
    assert r["n_train"] == 10 * SMOKE.train_per_class and r["n_test"] == 10 * SMOKE.test_per_class
    assert not r["diverged"] and 0 <= r["final_test_accuracy"] <= 1
    loaded = load_data(SMOKE, jpeg_folder, cache_dir=tmp_path / "cache")
    assert loaded.classes == list(data.CIFAR10_CLASSES)
    assert np.array_equal(np.bincount(loaded.train_labels), [SMOKE.train_per_class] * 10)


def test_jpeg_copy_records_name_the_archive_and_no_path(jpeg_folder, tmp_path):
    out = tmp_path / "r.json"
    (r,) = run_sweep("smoke", ["cosine"], 1, [1.0], jpeg_folder, out, cache_dir=tmp_path / "cache", progress=False)
    assert re.fullmatch(r"CIFAR-10, JPEG copy \(cifar10-jpeg\.tar\.gz, sha256 [0-9a-f]{64}\)", r["data_source"])
    if JPEG_ARCHIVE.exists():  # the checksum is the archive's
        assert hashlib.sha256(JPEG_ARCHIVE.read_bytes()).hexdigest() in r["data_source"]
    text = out.read_text()
    for path in (ROOT, ROOT.parent, jpeg_folder, jpeg_folder.resolve(), tmp_path):
        assert str(path) not in text
    assert "../" not in text and "/" not in r["data_source"]
