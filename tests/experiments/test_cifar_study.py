"""The study (lrlib.cifar.study, ``python -m lrlib.cifar study``) on the smoke_study profile, trained for
real on the tiny image folder: the CLI, the validation split, fresh final seeds, budgets, the warmup arm,
provenance, resume, sharding, and clear errors."""
import re

import numpy as np
import pytest
import torch

from lrlib.cifar import study
from lrlib.cifar.__main__ import main
from lrlib.cifar.data import hold_out_validation, load_data, validation_indices
from lrlib.cifar.plan import best_step, run_of, study_plan
from lrlib.cifar.profiles import PROFILES, count_updates, make_schedule
from lrlib.cifar.results import read_results, read_study, shard_path, study_files
from lrlib.cifar.statistics import study_grids

SMOKE_STUDY = PROFILES["smoke_study"]
N_TRAIN = 80  # the tiny folder: 5 classes x 20 training images (the profile's), 4 of each held out


def group_of(record):
    return record["arm"], record["budget"], record["schedule"]


def cli(args, capsys):
    rc = main(args + ["--no-progress"])
    captured = capsys.readouterr()
    return rc, captured.out, captured.err


def test_study_cli_end_to_end_with_provenance(smoke_study, tiny_folder, capsys, monkeypatch):
    out, cache, report = smoke_study
    records = read_study(out)
    runs, complete = study_plan(SMOKE_STUDY, records)
    assert complete and len(records) == len(runs) and {run_of(r) for r in records} == set(runs)
    assert study_files(out) == [out]  # unsharded: one file
    for part in ("Peak grids: validation accuracy", "Final runs: test accuracy", "Holm-adjusted over the 4 made",
                 "decay vs no decay", "warmup at the large batch", f"{len(runs)} runs in {out}"):
        assert part in report
    for r in records:
        assert r["profile"] == "smoke_study" and r["device"] and r["torch_version"] == torch.__version__
        assert r["data_source"].startswith("image folder 'images'") and str(tiny_folder) not in r["data_source"]
        assert re.fullmatch(r"[0-9a-f]{40}(-dirty)?|unknown", r["git_commit"])
    # run again: nothing is trained, the same report is printed
    monkeypatch.setattr(study, "train_run", lambda *args, **kwargs: pytest.fail("a recorded run was trained again"))
    args = ["study", "--profile", "smoke_study", "--data-dir", str(tiny_folder), "--cache-dir", str(cache),
            "--out", str(out)]
    rc, printed, _ = cli(args, capsys)
    assert rc == 0 and printed == report
    rc, printed, _ = cli(args + ["--dry-run"], capsys)
    assert rc == 0 and printed.splitlines()[-1] == f"{len(runs)} runs listed, {len(runs)} recorded."


def test_the_validation_split_is_stratified_fixed_and_disjoint(tiny_folder, tmp_path):
    dataset = load_data(SMOKE_STUDY, tiny_folder, cache_dir=tmp_path)
    held = hold_out_validation(dataset, SMOKE_STUDY.validation_fraction, SMOKE_STUDY.validation_seed)
    assert np.bincount(held.validation_labels).tolist() == [4] * 5  # 20% of each class's 20
    assert np.bincount(held.train_labels).tolist() == [16] * 5

    def images(array):
        return {image.tobytes() for image in array}
    assert not images(held.validation_images) & images(held.train_images)
    assert not images(held.validation_images) & images(held.test_images)
    assert images(held.validation_images) | images(held.train_images) == images(dataset.train_images)
    assert np.array_equal(held.test_images, dataset.test_images)  # the test set is not touched
    again = hold_out_validation(load_data(SMOKE_STUDY, tiny_folder, cache_dir=tmp_path), 0.2, 0)
    assert np.array_equal(again.validation_images, held.validation_images)  # a fixed seed, a fixed split
    assert not np.array_equal(hold_out_validation(dataset, 0.2, 1).validation_images, held.validation_images)
    # each class in proportion to its size, when the classes differ in size
    labels = np.repeat([0, 1, 2], [10, 20, 40])
    assert np.bincount(labels[validation_indices(labels, 0.1, 0)]).tolist() == [1, 2, 4]
    with pytest.raises(ValueError, match="validation_fraction must be in"):
        validation_indices(labels, 0.0, 0)
    with pytest.raises(ValueError, match="leaves no training image of class 0"):
        validation_indices(labels, 0.96, 0)


def test_grid_runs_see_the_validation_split_and_final_runs_the_test_set(smoke_study):
    records = read_study(smoke_study[0])
    for r in records:
        split = "validation" if r["phase"] == "grid" else "test"
        other = "test" if split == "validation" else "validation"
        assert r["split"] == split and f"final_{other}_accuracy" not in r and f"n_{other}" not in r
        assert r[f"n_{split}"] == 20 and r["n_train"] == N_TRAIN
        assert all(set(e) == {"epoch", "train_loss", f"{split}_accuracy", "lr"} for e in r["epochs"])


def test_each_group_has_its_own_grid_and_its_final_runs_use_fresh_seeds(smoke_study):
    records = read_study(smoke_study[0])
    grid = [r for r in records if r["phase"] == "grid"]
    finals = [r for r in records if r["phase"] == "final"]
    assert {r["seed"] for r in grid} == {0} and not {r["seed"] for r in grid} & {r["seed"] for r in finals}
    chosen = {(g["arm"], g["budget"], g["schedule"]): g["chosen"] for g in study_grids(records)}
    assert len(chosen) == 2 * 4  # 2 budgets x (constant, cosine; and cosine, warmup_cosine at the large batch)
    for group, step in chosen.items():
        mine = [r for r in grid if group_of(r) == group]
        assert len({r["peak_step"] for r in mine}) in (3, 4)  # 3 points, and maybe 1 extension
        means = {r["peak_step"]: r["final_validation_accuracy"] if not r["diverged"] else 0.2 for r in mine}
        assert step == best_step(means)
        final = [r for r in finals if group_of(r) == group]
        assert sorted(r["seed"] for r in final) == [1, 2] and {r["peak_step"] for r in final} == {step}


def test_every_budget_gets_its_share_of_updates_and_a_whole_schedule(smoke_study):
    records = read_study(smoke_study[0])
    assert {r["budget"] for r in records} == {0.5, 1.0}
    for r in records:
        updates = count_updates(N_TRAIN, r["global_batch_size"], SMOKE_STUDY.epochs, r["budget"])[1]
        assert r["updates"] == updates == len(r["lr_per_update"]) and len(r["epochs"]) == 1
        schedule = make_schedule(r["schedule"], r["peak_lr"], updates, SMOKE_STUDY.warmup_fraction)
        assert np.array_equal(r["lr_per_update"], schedule(np.arange(updates)))  # the schedule fits the budget
        assert r["momentum_per_update"] is None
    base = {r["budget"]: r["updates"] for r in records if r["arm"] == "base"}
    assert base == {0.5: 8, 1.0: 16}  # half an epoch of 16 batches, and the whole epoch


def test_the_warmup_arm_trains_a_larger_batch_at_a_linearly_scaled_peak(smoke_study):
    records = read_study(smoke_study[0])
    large = [r for r in records if r["arm"] == "large_batch"]
    assert {r["schedule"] for r in large} == {"cosine", "warmup_cosine"}
    for r in large:
        assert r["global_batch_size"] == 2 * SMOKE_STUDY.batch_size
        assert r["peak_lr"] == pytest.approx(SMOKE_STUDY.peak_lr * 2 * SMOKE_STUDY.grid_ratio ** r["peak_step"])
        lr = r["lr_per_update"]
        if r["schedule"] == "warmup_cosine":
            assert lr[0] == 0 < lr[1] and max(lr) == pytest.approx(r["peak_lr"])
        else:
            assert lr[0] == r["peak_lr"]
    base = {(r["budget"], r["peak_step"]): r for r in records if r["arm"] == "base" and r["schedule"] == "cosine"}
    for r in large:
        if (r["budget"], r["peak_step"]) in base:
            twin = base[(r["budget"], r["peak_step"])]
            assert r["updates"] == twin["updates"] // 2 and r["peak_lr"] == pytest.approx(2 * twin["peak_lr"])


STUDY_FIELDS = ("phase", "arm", "peak_step", "device", "torch_version", "data_source", "git_commit", "results_file")


def test_two_shards_and_a_merge_make_the_unsharded_study(smoke_study, tiny_folder, tmp_path, monkeypatch, capsys):
    """Each shard replays the unsharded study's records instead of training, so the test checks the plan,
    the files and the merge in seconds; the runs it asks for must be exactly the unsharded study's."""
    out, cache, report = smoke_study
    unsharded = read_study(out)
    recorded = {(r["split"], r["schedule"], r["lr_scale"], r["seed"], r["budget"], r["global_batch_size"]): r
                for r in unsharded}
    trained = []

    def replay(data, profile, schedule, lr_scale, seed, device, progress, *, budget, batch_size, split):
        assert ("test_x" in data) == (split == "test") and ("validation_x" in data) == (split == "validation")
        trained.append((split, schedule, lr_scale, seed, budget, batch_size))
        return {k: v for k, v in recorded[trained[-1]].items() if k not in STUDY_FIELDS}
    monkeypatch.setattr(study, "train_run", replay)

    sharded = tmp_path / "study.json"
    args = ["study", "--profile", "smoke_study", "--data-dir", str(tiny_folder), "--cache-dir", str(cache),
            "--out", str(sharded)]
    codes = []
    for _ in range(6):
        for i in (0, 1):
            rc, printed, err = cli(args + ["--shard", f"{i}/2"], capsys)
            codes.append(rc)
            if rc == 3:
                assert "waits for runs of other shards" in err and f"shard {1 - i}/2:" in err and not printed
        if codes[-2:] == [0, 0]:
            break
    assert codes[0] == 3 and codes[-2:] == [0, 0]  # shard 0 waited for shard 1's grid runs first
    assert printed.splitlines()[:-1] == report.splitlines()[:-1]  # the same report from the merged files
    assert study_files(sharded) == [shard_path(sharded, 0, 2), shard_path(sharded, 1, 2)]

    merged = read_study(sharded)
    plan, complete = study_plan(SMOKE_STUDY, merged)
    assert complete and plan == study_plan(SMOKE_STUDY, unsharded)[0]
    assert len(trained) == len(plan) == len(merged)  # every run trained once, by one shard
    index = {run: i for i, run in enumerate(plan)}
    for k in (0, 1):
        assert all(index[run_of(r)] % 2 == k for r in read_results(shard_path(sharded, k, 2)))
    accuracy = {run_of(r): r.get("final_test_accuracy", r.get("final_validation_accuracy")) for r in unsharded}
    assert {run_of(r): r.get("final_test_accuracy", r.get("final_validation_accuracy")) for r in merged} == accuracy
    # the dry run of a shard lists its runs: even indices for shard 0
    rc, printed, _ = cli(args + ["--shard", "0/2", "--dry-run"], capsys)
    counts = f"{len(plan)} runs listed (shard 0/2: {(len(plan) + 1) // 2} of them), {len(plan)} recorded."
    assert rc == 0 and counts in printed


def test_study_errors_name_the_parameter(tiny_folder, tmp_path, capsys, smoke_sweep, smoke_study):
    args = ["study", "--data-dir", str(tiny_folder), "--cache-dir", str(tmp_path / "cache")]
    out = tmp_path / "study.json"
    for extra, message in [(["--profile", "smoke_study", "--shard", "2/2"], "--shard must be i/N"),
                           (["--profile", "smoke_study", "--seeds", "1"], "final_seeds must be an integer >= 2"),
                           (["--profile", "smoke"], "profile 'smoke': the base arm's batch of 32 images")]:
        rc, _, err = cli(args + extra + ["--out", str(out)], capsys)
        assert rc == 2 and message in err and "Traceback" not in err
        assert not out.exists()
    sweep_file, _ = smoke_sweep
    rc, _, err = cli(args + ["--profile", "smoke_study", "--out", str(sweep_file)], capsys)
    assert rc == 1 and "holds runs of a sweep, not of a study" in err
    study_file = smoke_study[0]
    rc, _, err = cli(["sweep", "--profile", "smoke", "--data-dir", str(tiny_folder), "--out", str(study_file)], capsys)
    assert rc == 1 and "holds runs of a study, not of a sweep" in err
    rc, _, err = cli(["study", "--profile", "quick", "--out", str(study_file), "--dry-run"], capsys)
    assert rc == 1 and "other settings than profile 'quick'" in err
