"""The command line (python -m lrlib.cifar): end to end, clear errors without tracebacks, --help."""
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from lrlib.cifar import profiles
from lrlib.cifar.__main__ import main
from lrlib.cifar.data import DataError
from lrlib.cifar.profiles import SCHEDULE_NAMES
from lrlib.cifar.results import read_results
from lrlib.cifar.sweep import run_sweep

ROOT = Path(__file__).resolve().parents[2]


def run_cli(args, capsys):
    rc = main(args + ["--no-progress"])
    captured = capsys.readouterr()
    return rc, captured.err


def test_smoke_cli_end_to_end_on_image_folder(smoke_sweep, capsys):
    out, _ = smoke_sweep
    runs = json.loads(out.read_text())["runs"]
    assert [r["schedule"] for r in runs] == list(SCHEDULE_NAMES)
    assert all(not r["diverged"] and 0 <= r["final_test_accuracy"] <= 1 for r in runs)


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
def test_wrong_layout_gives_a_clear_error(tmp_path, capsys, breakage, message, write_image_folder):
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
def test_corrupt_image_gives_a_clear_error(tmp_path, capsys, content, write_image_folder):
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


def test_bad_arguments_name_the_parameter(tmp_path, capsys, monkeypatch):
    rc, err = run_cli(["--profile", "smoke", "--schedules", "cosine,linear", "--out", str(tmp_path / "r.json")], capsys)
    assert rc == 2 and "schedules" in err and "'linear'" in err
    rc, err = run_cli(["--profile", "smoke", "--lr-scale", "1,x", "--out", str(tmp_path / "r.json")], capsys)
    assert rc == 2 and "lr_scales" in err
    monkeypatch.setenv("LRLIB_CIFAR_PROFILE", "tiny")
    with pytest.raises(ValueError, match="LRLIB_CIFAR_PROFILE"):
        profiles.default_profile()
    monkeypatch.setenv("LRLIB_CIFAR_PROFILE", "smoke")
    assert profiles.default_profile() == "smoke"
    bad = tmp_path / "not_results.json"
    bad.write_text("[1, 2")
    with pytest.raises(DataError, match="not an lrlib.cifar results file"):
        read_results(bad)


def test_an_out_that_is_not_a_results_file_gives_a_clear_error(tmp_path, capsys, tiny_folder):
    bad = tmp_path / "r.json"
    bad.write_text('{"format": "something else", "runs": []}')
    rc, err = run_cli(["--profile", "smoke", "--data-dir", str(tiny_folder), "--cache-dir", str(tmp_path / "c"),
                       "--out", str(bad)], capsys)
    assert rc == 1 and "not an lrlib.cifar results file" in err and "--out" in err and "Traceback" not in err


def test_help_works(capsys):
    done = subprocess.run([sys.executable, "-m", "lrlib.cifar", "--help"], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert done.returncode == 0
    for word in ("sweep", "study", "validation split", "torchrun"):
        assert word in done.stdout
    for command, options in [("sweep", ("--profile", "--schedules", "--seeds", "--lr-scale", "--data-dir", "--out")),
                             ("study", ("--profile", "--out", "--shard", "--seeds", "--dry-run", "--data-dir"))]:
        with pytest.raises(SystemExit) as exit:
            main([command, "--help"])
        assert exit.value.code == 0
        printed = capsys.readouterr().out
        assert all(option in printed for option in options), command


@pytest.mark.parametrize("arguments, message", [
    (dict(profile="tiny"), "profile must be one of"),
    (dict(schedules=[]), "must not be empty"),
    (dict(seeds=0), "seeds must be an integer >= 1"),
    (dict(seeds=[0, -1]), "seeds must be an integer >= 0"),
    (dict(lr_scales=[1.0, 0.0]), "lr_scales must be a finite number > 0"),
    (dict(lr_scales="1,inf"), "lr_scales must be a finite number > 0"),
])
def test_sweep_arguments_are_checked_before_anything_is_loaded(tmp_path, arguments, message):
    kwargs = dict(profile="smoke", data_dir=tmp_path / "no such folder", out=tmp_path / "r.json", progress=False)
    with pytest.raises(ValueError, match=message):
        run_sweep(**{**kwargs, **arguments})
    assert not (tmp_path / "r.json").exists()
