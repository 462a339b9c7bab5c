"""Tests of the CIFAR-10 schedule-comparison engine (lrlib.cifar) and its analysis (lrlib.results).

Everything runs on a CPU in well under two minutes: training uses the ``smoke`` profile on a tiny
image folder written here with Pillow (and, when it is present, on the JPEG copy of CIFAR-10).
No test asserts a timing.
"""
import json
import math
import os
import re
import socket
import subprocess
import sys
import tarfile
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from lrlib import cifar, results
from lrlib.cifar import DataError, PROFILES, make_schedule, run_sweep

ROOT = Path(__file__).resolve().parent.parent
JPEG_FOLDER = ROOT / "data" / "cifar10-jpeg"
JPEG_ARCHIVE = ROOT.parent / "shared" / "data" / "cifar10-jpeg.tar.gz"
SMOKE = PROFILES["smoke"]
CLASSES = ("cat", "deer", "dog", "frog", "ship")


def write_image_folder(root: Path, train_per_class=24, test_per_class=4, classes=CLASSES):
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


@pytest.fixture(scope="module")
def tiny_folder(tmp_path_factory):
    return write_image_folder(tmp_path_factory.mktemp("tiny") / "images")


@pytest.fixture(scope="module")
def smoke_sweep(tiny_folder, tmp_path_factory):
    """One CLI sweep of all five schedules on the tiny folder, shared by the tests that inspect it."""
    out = tmp_path_factory.mktemp("results") / "smoke.json"
    cache = tmp_path_factory.mktemp("cache")
    rc = cifar.main(["--profile", "smoke", "--seeds", "1", "--data-dir", str(tiny_folder), "--out", str(out),
                     "--cache-dir", str(cache), "--no-progress"])
    assert rc == 0
    return out, cache


# ------------------------------------------------------------------------------------------------
# Schedules, data subsets, augmentation

def test_make_schedule_shapes():
    T, peak = 200, 0.4
    t = np.arange(T)
    assert np.all(make_schedule("constant", peak, T)(t) == peak)
    step = make_schedule("step", peak, T)(t)
    assert step[99] == peak and step[100] == pytest.approx(peak * 0.1) and step[150] == pytest.approx(peak * 0.01)
    assert step[149] == pytest.approx(peak * 0.1)
    cosine = make_schedule("cosine", peak, T)(t)
    assert cosine[0] == peak and np.all(np.diff(cosine) < 0) and cosine[-1] < 1e-3 * peak
    warm = make_schedule("warmup_cosine", peak, T)(t)
    warmup = round(0.075 * T)
    assert warm[0] == 0.0 and warm[warmup] == peak and np.all(np.diff(warm[:warmup + 1]) > 0)
    assert np.all(np.diff(warm[warmup:]) < 0)
    cycle = make_schedule("one_cycle", peak, T)(t)
    assert cycle.max() == pytest.approx(peak) and cycle[0] == pytest.approx(peak / 25) and cycle[-1] < 1e-4 * peak


def test_make_schedule_rejects_bad_input():
    with pytest.raises(ValueError, match="schedule must be one of"):
        make_schedule("linear", 0.1, 100)
    with pytest.raises(ValueError, match="total_steps"):
        make_schedule("cosine", 0.1, 3)


def test_stratified_indices_draw_every_class_at_random():
    labels = np.repeat(np.arange(4), 50)  # sorted by class, like the folders
    idx = cifar.stratified_indices(labels, 10, seed=0)
    assert np.array_equal(np.bincount(labels[idx]), [10] * 4)
    assert np.array_equal(idx, cifar.stratified_indices(labels, 10, seed=0))  # a fixed seed, a fixed subset
    assert not np.array_equal(idx, cifar.stratified_indices(labels, 10, seed=1))
    assert not np.array_equal(idx[:10], np.arange(10))
    assert np.array_equal(cifar.stratified_indices(labels, None, 0), np.arange(200))
    assert len(cifar.stratified_indices(labels, 80, 0)) == 200  # capped at what each class has


def test_random_crop_flip_is_a_shifted_window_of_the_reflected_image():
    images = torch.randn(16, 3, 32, 32)
    out = cifar.random_crop_flip(images, 2, torch.Generator().manual_seed(0))
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
    again = cifar.random_crop_flip(images, 2, torch.Generator().manual_seed(0))
    assert torch.equal(out, again)


# ------------------------------------------------------------------------------------------------
# The sweep: end to end, results schema, applied learning rates

def test_smoke_cli_end_to_end_on_image_folder(smoke_sweep, capsys):
    out, _ = smoke_sweep
    runs = json.loads(out.read_text())["runs"]
    assert [r["schedule"] for r in runs] == list(cifar.SCHEDULE_NAMES)
    assert all(not r["diverged"] and 0 <= r["final_test_accuracy"] <= 1 for r in runs)


def test_results_schema(smoke_sweep):
    out, _ = smoke_sweep
    content = json.loads(out.read_text())
    assert content["format"] == cifar.RESULTS_FORMAT
    for r in content["runs"]:
        assert r["profile"] == "smoke" and r["seed"] == 0 and r["lr_scale"] == 1.0
        assert r["peak_lr"] == SMOKE.peak_lr
        assert r["schedule_repr"].split("(")[0] in ("constant", "multistep_decay", "cosine_annealing",
                                                    "linear_warmup", "one_cycle")
        assert isinstance(r["schedule_params"], dict) and r["schedule_params"]
        assert len(r["epochs"]) == SMOKE.epochs
        for e in r["epochs"]:
            assert set(e) == {"epoch", "train_loss", "test_accuracy", "lr"}
            assert math.isfinite(e["train_loss"]) and 0 <= e["test_accuracy"] <= 1 and e["lr"] >= 0
        assert r["final_test_accuracy"] == r["epochs"][-1]["test_accuracy"]
        assert r["diverged"] is False and r["diverged_at_step"] is None
        assert len(r["lr_per_update"]) == len(r["loss_per_update"]) == r["updates"]
        assert r["updates"] == r["steps_per_epoch"] * SMOKE.epochs
        # the smoke profile takes up to 20 images per class: 100 images, 3 batches of 32 per epoch
        assert r["n_train"] == 5 * SMOKE.train_per_class and r["n_test"] == 5 * 4 and r["world_size"] == 1
        assert r["wall_time_s"] > 0 and r["device"] and r["torch_version"] == torch.__version__
        assert r["data_source"].startswith("image folder ") and "JPEG" in r["data_source"]
        assert re.fullmatch(r"[0-9a-f]{40}(-dirty)?|unknown", r["git_commit"])


def test_applied_lr_equals_the_schedule_exactly(smoke_sweep):
    out, _ = smoke_sweep
    for r in json.loads(out.read_text())["runs"]:
        schedule = make_schedule(r["schedule"], r["peak_lr"], r["updates"])
        assert repr(schedule) == r["schedule_repr"]
        applied = np.asarray(r["lr_per_update"])
        assert np.array_equal(applied, schedule(np.arange(r["updates"]))), r["schedule"]
        # the per-epoch lr is the one applied by the epoch's last update
        assert [e["lr"] for e in r["epochs"]] == list(applied[r["steps_per_epoch"] - 1::r["steps_per_epoch"]])
    assert len({tuple(r["lr_per_update"]) for r in json.loads(out.read_text())["runs"]}) == 5


def test_rerun_skips_recorded_runs_and_extends(smoke_sweep, tiny_folder, monkeypatch, tmp_path):
    out, cache = smoke_sweep
    copy = tmp_path / "copy.json"
    copy.write_bytes(out.read_bytes())
    before = copy.read_bytes()
    trained = []
    real_train_run = cifar.train_run

    def counting_train_run(*args, **kwargs):
        trained.append(args[2:5])
        return real_train_run(*args, **kwargs)
    monkeypatch.setattr(cifar, "train_run", counting_train_run)
    records = run_sweep("smoke", cifar.SCHEDULE_NAMES, 1, [1.0], tiny_folder, copy, cache_dir=cache, progress=False)
    assert trained == [] and len(records) == 5 and copy.read_bytes() == before
    records = run_sweep("smoke", ["cosine"], 2, [1.0], tiny_folder, copy, cache_dir=cache, progress=False)
    assert trained == [("cosine", 1.0, 1)]
    assert len(json.loads(copy.read_text())["runs"]) == 6 and [r["seed"] for r in records] == [0, 1]


def test_interrupted_sweep_leaves_a_valid_file_and_resumes(tiny_folder, monkeypatch, tmp_path):
    out = tmp_path / "res.json"
    real_train_run = cifar.train_run
    calls = []

    def interrupted_after_one(*args, **kwargs):
        calls.append(args[2])
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real_train_run(*args, **kwargs)
    monkeypatch.setattr(cifar, "train_run", interrupted_after_one)
    with pytest.raises(KeyboardInterrupt):
        run_sweep("smoke", ["constant", "cosine"], 1, [1.0], tiny_folder, out, cache_dir=tmp_path, progress=False)
    assert [r["schedule"] for r in json.loads(out.read_text())["runs"]] == ["constant"]
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []
    monkeypatch.setattr(cifar, "train_run", real_train_run)
    run_sweep("smoke", ["constant", "cosine"], 1, [1.0], tiny_folder, out, cache_dir=tmp_path, progress=False)
    assert [r["schedule"] for r in json.loads(out.read_text())["runs"]] == ["constant", "cosine"]


def test_atomic_write_keeps_the_old_file_when_writing_fails(tmp_path):
    path = tmp_path / "res.json"
    cifar.write_results(path, [{"a": 1}])
    before = path.read_bytes()

    def crash_halfway(f):
        f.write(b'{"format": "half a fi')
        raise RuntimeError("disk full")
    with pytest.raises(RuntimeError):
        cifar._atomic_write(path, crash_halfway)
    assert path.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == ["res.json"]
    with pytest.raises(ValueError):  # NaN is not JSON: refused before anything is written
        cifar.write_results(path, [{"loss": float("nan")}])
    assert path.read_bytes() == before


def test_divergence_is_recorded_and_the_sweep_goes_on(tiny_folder, tmp_path):
    out = tmp_path / "res.json"
    records = run_sweep("smoke", ["constant"], 1, [1e5, 1.0], tiny_folder, out, cache_dir=tmp_path, progress=False)
    huge, normal = records
    assert huge["diverged"] is True and isinstance(huge["diverged_at_step"], int)
    assert 0 <= huge["diverged_at_step"] < huge["updates"] and huge["final_test_accuracy"] is None
    assert len(huge["lr_per_update"]) == huge["diverged_at_step"] + 1
    assert normal["diverged"] is False and normal["final_test_accuracy"] is not None
    stored = json.loads(out.read_text(), parse_constant=lambda c: pytest.fail(f"non-JSON constant {c}"))
    assert [r["diverged"] for r in stored["runs"]] == [True, False]
    rows = {r["lr_scale"]: r for r in results.summarize(stored["runs"])}
    assert (rows[1e5]["n"], rows[1e5]["diverged"]) == (0, 1) and (rows[1.0]["n"], rows[1.0]["diverged"]) == (1, 0)


# ------------------------------------------------------------------------------------------------
# Data: cache, and clear errors

def test_cache_is_reused_and_invalidated_when_the_folder_changes(tmp_path):
    folder = write_image_folder(tmp_path / "images")
    cache = tmp_path / "cache"
    first = cifar.load_data(SMOKE, folder, cache_dir=cache)
    files = sorted(cache.iterdir())
    assert len(files) == 2  # train and test
    assert np.array_equal(cifar.load_data(SMOKE, folder, cache_dir=cache).train_images, first.train_images)
    assert sorted(cache.iterdir()) == files
    # replace one training image by a white one: a changed folder must be decoded again
    target = sorted((folder / "train" / "cat").iterdir())[0]
    Image.fromarray(np.full((32, 32, 3), 255, np.uint8)).save(target)
    os.utime(target, ns=(1, 1))  # even with an old timestamp, the size or listing differs
    changed = cifar.load_data(SMOKE, folder, cache_dir=cache)
    assert len(list(cache.iterdir())) == 3
    assert (changed.train_images == 255).all(axis=(1, 2, 3)).sum() == 1


def run_cli(args, capsys):
    rc = cifar.main(args + ["--no-progress"])
    captured = capsys.readouterr()
    return rc, captured.err


def test_missing_folder_gives_a_clear_error(tmp_path, capsys):
    rc, err = run_cli(["--profile", "smoke", "--data-dir", str(tmp_path / "nope"), "--out", str(tmp_path / "r.json")],
                      capsys)
    assert rc != 0 and "does not exist" in err and "--data-dir" in err and "Traceback" not in err
    assert not (tmp_path / "r.json").exists()


@pytest.mark.parametrize("breakage, message", [
    ("no_test", "has no test/ folder"),
    ("flat", "one sub-folder per class"),
    ("mismatch", "same class folders"),
    ("empty_class", "contains no .png/.jpg images"),
    ("wrong_size", "CIFAR-10 images are 32x32"),
])
def test_wrong_layout_gives_a_clear_error(tmp_path, capsys, breakage, message):
    folder = write_image_folder(tmp_path / "images", train_per_class=2, test_per_class=1)
    if breakage == "no_test":
        for p in sorted((folder / "test").rglob("*"), reverse=True):
            p.unlink() if p.is_file() else p.rmdir()
        (folder / "test").rmdir()
    elif breakage == "flat":
        folder = tmp_path / "flat"
        for split in ("train", "test"):
            (folder / split).mkdir(parents=True)
            Image.fromarray(np.zeros((32, 32, 3), np.uint8)).save(folder / split / "0.png")
    elif breakage == "mismatch":
        (folder / "test" / "dog").rename(folder / "test" / "horse")
    elif breakage == "empty_class":
        for p in (folder / "train" / "dog").iterdir():
            p.unlink()
    elif breakage == "wrong_size":
        Image.fromarray(np.zeros((64, 64, 3), np.uint8)).save(folder / "train" / "cat" / "0000.png")
    rc, err = run_cli(["--profile", "smoke", "--data-dir", str(folder), "--cache-dir", str(tmp_path / "c"),
                       "--out", str(tmp_path / "r.json")], capsys)
    assert rc != 0 and message in err and "Traceback" not in err


@pytest.mark.parametrize("content", [b"not an image at all", "truncated"])
def test_corrupt_image_gives_a_clear_error(tmp_path, capsys, content):
    folder = write_image_folder(tmp_path / "images", train_per_class=2, test_per_class=1)
    bad = folder / "train" / "deer" / "0001.jpg"
    bad.write_bytes(content if isinstance(content, bytes) else bad.read_bytes()[:200])
    rc, err = run_cli(["--profile", "smoke", "--data-dir", str(folder), "--cache-dir", str(tmp_path / "c"),
                       "--out", str(tmp_path / "r.json")], capsys)
    assert rc != 0 and "cannot decode image" in err and str(bad) in err and "Traceback" not in err


def test_no_network_for_download_gives_a_clear_error(tmp_path, capsys, monkeypatch):
    def no_network(*args, **kwargs):
        raise OSError("Network is unreachable (simulated by the test)")
    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(socket.socket, "connect", no_network)
    rc, err = run_cli(["--profile", "smoke", "--data-root", str(tmp_path / "data"), "--out", str(tmp_path / "r.json")],
                      capsys)
    assert rc != 0 and "could not be downloaded" in err and "--data-dir" in err and "Traceback" not in err


def test_torchvision_source_is_subsampled_and_labelled(monkeypatch, tmp_path):
    """The default data path, with torchvision's CIFAR10 class replaced by a small stand-in."""
    import torchvision.datasets

    class FakeCIFAR10:
        classes = list(cifar.CIFAR10_CLASSES)

        def __init__(self, root, train, download):
            assert download and Path(root) == tmp_path
            n = 100 if train else 40
            self.data = np.random.default_rng(int(train)).integers(0, 256, (n, 32, 32, 3), dtype=np.uint8)
            self.targets = [i % 10 for i in range(n)]
    monkeypatch.setattr(torchvision.datasets, "CIFAR10", FakeCIFAR10)
    data = cifar.load_data(SMOKE, None, data_root=tmp_path)
    assert data.source == cifar.TORCHVISION_SOURCE and data.classes == list(cifar.CIFAR10_CLASSES)
    assert data.train_images.shape == (100, 32, 32, 3) and data.test_images.shape == (40, 32, 32, 3)
    profile = cifar.Profile("tiny", 5, 2, (8, 8, 8, 8), 1, 10, 0.1)
    data = cifar.load_data(profile, None, data_root=tmp_path)
    assert np.array_equal(np.bincount(data.train_labels), [5] * 10)
    assert np.array_equal(np.bincount(data.test_labels), [2] * 10)


def test_bad_arguments_name_the_parameter(tmp_path, capsys, monkeypatch):
    rc, err = run_cli(["--profile", "smoke", "--schedules", "cosine,linear", "--out", str(tmp_path / "r.json")], capsys)
    assert rc == 2 and "schedules" in err and "'linear'" in err
    rc, err = run_cli(["--profile", "smoke", "--lr-scale", "1,x", "--out", str(tmp_path / "r.json")], capsys)
    assert rc == 2 and "lr_scales" in err
    monkeypatch.setenv("LRLIB_CIFAR_PROFILE", "tiny")
    with pytest.raises(ValueError, match="LRLIB_CIFAR_PROFILE"):
        cifar.default_profile()
    monkeypatch.setenv("LRLIB_CIFAR_PROFILE", "smoke")
    assert cifar.default_profile() == "smoke"
    bad = tmp_path / "not_results.json"
    bad.write_text("[1, 2")
    with pytest.raises(DataError, match="not an lrlib.cifar results file"):
        cifar.read_results(bad)


def test_help_works():
    done = subprocess.run([sys.executable, "-m", "lrlib.cifar", "--help"], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert done.returncode == 0
    for option in ("--profile", "--schedules", "--seeds", "--lr-scale", "--data-dir", "--out", "torchrun"):
        assert option in done.stdout


# ------------------------------------------------------------------------------------------------
# The real JPEG copy of CIFAR-10, when this machine has it

@pytest.fixture(scope="module")
def jpeg_folder(tmp_path_factory):
    if (JPEG_FOLDER / "train").is_dir():
        return JPEG_FOLDER
    if JPEG_ARCHIVE.exists():
        target = tmp_path_factory.mktemp("cifar10-jpeg")
        with tarfile.open(JPEG_ARCHIVE) as archive:
            archive.extractall(target, filter="data")
        return target
    pytest.skip("no JPEG copy of CIFAR-10 here (data/cifar10-jpeg/ or ../shared/data/cifar10-jpeg.tar.gz)")


def test_smoke_run_on_the_real_jpeg_copy(jpeg_folder, tmp_path):
    records = run_sweep("smoke", ["one_cycle"], 1, [1.0], jpeg_folder, tmp_path / "r.json",
                        cache_dir=tmp_path / "cache", progress=False)
    (r,) = records
    assert r["data_source"] == cifar.JPEG_COPY_SOURCE
    assert r["n_train"] == 10 * SMOKE.train_per_class and r["n_test"] == 10 * SMOKE.test_per_class
    assert not r["diverged"] and 0 <= r["final_test_accuracy"] <= 1
    data = cifar.load_data(SMOKE, jpeg_folder, cache_dir=tmp_path / "cache")
    assert data.classes == list(cifar.CIFAR10_CLASSES)
    assert np.array_equal(np.bincount(data.train_labels), [SMOKE.train_per_class] * 10)


# ------------------------------------------------------------------------------------------------
# Data-parallel: two gloo processes under torchrun

def test_torchrun_two_cpu_processes(tiny_folder, tmp_path):
    out = tmp_path / "ddp.json"
    env = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1", CUDA_VISIBLE_DEVICES="")
    done = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
         "-m", "lrlib.cifar", "--profile", "smoke", "--schedules", "cosine,one_cycle", "--seeds", "1",
         "--data-dir", str(tiny_folder), "--cache-dir", str(tmp_path / "cache"), "--out", str(out),
         "--no-progress"],
        cwd=ROOT, capture_output=True, text=True, timeout=240, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    runs = json.loads(out.read_text())["runs"]
    assert [r["schedule"] for r in runs] == ["cosine", "one_cycle"]
    for r in runs:
        assert r["world_size"] == 2 and r["global_batch_size"] == SMOKE.batch_size and not r["diverged"]
        schedule = make_schedule(r["schedule"], r["peak_lr"], r["updates"])
        assert np.array_equal(r["lr_per_update"], schedule(np.arange(r["updates"])))
    assert done.stdout.count("test accuracy %") == 1  # only rank 0 prints the table


# ------------------------------------------------------------------------------------------------
# lrlib.results: statistics, tables and conclusions

def test_t_quantile_matches_tables():
    # Student's t two-sided 95% critical values from any statistics table
    for df, expected in [(1, 12.7062), (2, 4.3027), (4, 2.7764), (10, 2.2281), (30, 2.0423)]:
        assert results.t_quantile(0.975, df) == pytest.approx(expected, abs=1e-4)
    assert results.t_quantile(0.025, 5) == pytest.approx(-results.t_quantile(0.975, 5))
    scipy_stats = pytest.importorskip("scipy.stats")
    for df in (1.5, 3, 7.3):
        assert results.t_quantile(0.9, df) == pytest.approx(scipy_stats.t.ppf(0.9, df), abs=1e-6)


def fake_run(schedule, seed, accuracy, diverged=False, scale=1.0):
    return dict(schedule=schedule, seed=seed, lr_scale=scale, peak_lr=0.2 * scale, profile="quick",
                data_source="test", diverged=diverged, final_test_accuracy=None if diverged else accuracy,
                epochs=[dict(epoch=1, train_loss=1.0, test_accuracy=accuracy or 0.1, lr=0.1)],
                lr_per_update=[0.1, 0.05])


def test_summarize_mean_and_ci():
    runs = [fake_run("cosine", s, a) for s, a in enumerate([0.60, 0.62, 0.64])] + [fake_run("step", 0, None, True)]
    rows = results.summarize(runs)
    (cosine,) = [r for r in rows if r["schedule"] == "cosine"]
    assert cosine["n"] == 3 and cosine["mean"] == pytest.approx(0.62)
    assert cosine["ci"] == pytest.approx(4.3027 * 0.02 / math.sqrt(3), rel=1e-4)
    table = results.format_table(rows)
    assert "62.00 +/- 4.97" in table and "(1 diverged)" in table


def test_conclusions_follow_the_numbers():
    clear = ([fake_run("warmup_cosine", s, a) for s, a in enumerate([0.70, 0.71, 0.72])]
             + [fake_run("cosine", s, a) for s, a in enumerate([0.60, 0.61, 0.62])])
    text = " ".join(results.conclusions(clear, "quick"))
    assert "warmup_cosine beats cosine" in text and "Ranking: warmup_cosine 71.00%" in text
    noisy = ([fake_run("warmup_cosine", s, a) for s, a in enumerate([0.60, 0.70, 0.65])]
             + [fake_run("cosine", s, a) for s, a in enumerate([0.66, 0.61, 0.68])])
    assert "no difference between warmup_cosine and cosine" in " ".join(results.conclusions(noisy, "quick"))
    # with several lr scales each schedule is judged at its own best one
    scaled = clear + [fake_run("cosine", s, a, scale=2.0) for s, a in enumerate([0.80, 0.81, 0.82])]
    text = " ".join(results.conclusions(scaled, "quick"))
    assert "each at its best lr scale" in text and "warmup_cosine is worse than cosine" in text
