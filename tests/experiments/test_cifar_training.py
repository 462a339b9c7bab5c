"""One training run (lrlib.cifar.training) under each schedule (lrlib.cifar.profiles): the records it
writes, the learning rates it applies, divergence."""
import json
import math
import re

import numpy as np
import pytest
import torch

from lrlib.cifar import statistics
from lrlib.cifar.profiles import (
    ONE_CYCLE_MOMENTUM,
    PROFILES,
    STUDY_SCHEDULES,
    WSD_DECAY_FRACTION,
    make_schedule,
    momentum_schedule,
)
from lrlib.cifar.results import RESULTS_FORMAT
from lrlib.cifar.sweep import run_sweep

SMOKE = PROFILES["smoke"]


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
    assert np.array_equal(make_schedule("one_cycle_fixed_momentum", peak, T)(t), cycle)  # the same rates
    linear = make_schedule("linear_decay", peak, T)(t)
    assert linear == pytest.approx(peak * (1 - t / T))
    wsd = make_schedule("wsd", peak, T)(t)
    decay = round(WSD_DECAY_FRACTION * T)
    assert wsd[0] == 0 and np.all(wsd[warmup:T - decay] == peak) and np.all(np.diff(wsd[T - decay:]) < 0)
    assert wsd[-1] == pytest.approx(peak / decay)  # linearly down to 0 at t = T
    # one_cycle cycles the momentum against the rate: high -> low at the peak rate -> high
    low, high = ONE_CYCLE_MOMENTUM
    momentum = momentum_schedule("one_cycle", T)(t)
    assert momentum[0] == high and momentum[np.argmax(cycle)] == pytest.approx(low)
    assert momentum[-1] == pytest.approx(high)
    assert all(momentum_schedule(name, T) is None for name in STUDY_SCHEDULES if name != "one_cycle")


def test_make_schedule_rejects_bad_input():
    with pytest.raises(ValueError, match="schedule must be one of"):
        make_schedule("linear", 0.1, 100)
    with pytest.raises(ValueError, match="total_steps"):
        make_schedule("cosine", 0.1, 3)


def test_results_schema(smoke_sweep):
    out, _ = smoke_sweep
    content = json.loads(out.read_text())
    assert content["format"] == RESULTS_FORMAT
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
        # one_cycle's momentum, read back from the optimizer, is its momentum schedule; the others keep 0.9
        momentum = momentum_schedule(r["schedule"], r["updates"])
        if momentum is None:
            assert r["momentum_per_update"] is None and r["momentum_repr"] is None
        else:
            assert np.array_equal(r["momentum_per_update"], momentum(np.arange(r["updates"])))
            assert r["momentum_repr"] == repr(momentum)
    assert len({tuple(r["lr_per_update"]) for r in json.loads(out.read_text())["runs"]}) == 5


def test_the_other_study_schedules_train(tiny_folder, tmp_path):
    names = ["linear_decay", "one_cycle_fixed_momentum", "wsd"]
    records = run_sweep("smoke", names, 1, [1.0], tiny_folder, tmp_path / "r.json", cache_dir=tmp_path, progress=False)
    for name, r in zip(names, records, strict=True):
        assert r["schedule"] == name and not r["diverged"] and r["momentum_per_update"] is None
        schedule = make_schedule(name, r["peak_lr"], r["updates"])
        assert np.array_equal(r["lr_per_update"], schedule(np.arange(r["updates"])))


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
    rows = {r["lr_scale"]: r for r in statistics.summarize(stored["runs"])}
    assert (rows[1e5]["n"], rows[1e5]["diverged"]) == (0, 1) and (rows[1.0]["n"], rows[1.0]["diverged"]) == (1, 0)


def test_networks_shapes_and_widths():
    from lrlib.cifar.network import NETWORKS, build_network

    x = torch.randn(5, 3, 32, 32)
    for name, widths in (("cpu", (8, 16, 24)), ("airbench", (4, 8, 8, 8))):
        model = build_network(name, widths, num_classes=7)
        assert model(x).shape == (5, 7)
    # the cpu network folds 2x2 patches into channels: its first convolution sees 12 channels at 16x16
    cpu = build_network("cpu", (8, 16, 24))
    assert isinstance(cpu[0], torch.nn.PixelUnshuffle) and cpu[1].in_channels == 12
    assert cpu[0](x).shape == (5, 12, 16, 16)
    assert {profile.network for profile in PROFILES.values()} <= set(NETWORKS)  # every profile builds one
    with pytest.raises(ValueError, match="network must be one of"):
        build_network("resnet", (8, 16, 24))
    with pytest.raises(ValueError, match="the cpu network needs 3 widths"):
        build_network("cpu", (8, 16, 24, 32))
    with pytest.raises(ValueError, match="the airbench network needs 4 widths"):
        build_network("airbench", (8, 16, 24))


def test_train_run_trains_the_network_it_is_given(tiny_folder):
    from lrlib.cifar.data import load_data, on_device
    from lrlib.cifar.training import train_run

    tensors = on_device(load_data(SMOKE, tiny_folder), torch.device("cpu"))
    built = []

    def network(num_classes):
        model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(3 * 32 * 32, num_classes))
        built.append(model)
        return model

    record = train_run(tensors, SMOKE, "cosine", 0.01, 0, torch.device("cpu"), network=network)
    assert len(built) == 1 and record["num_classes"] == 5 and not record["diverged"]
    assert len(record["lr_per_update"]) == record["updates"]
