"""Data-parallel training: two gloo processes under torchrun train the same runs as one process would."""
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from lrlib.cifar.profiles import PROFILES, make_schedule

ROOT = Path(__file__).resolve().parents[2]
SMOKE = PROFILES["smoke"]


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
