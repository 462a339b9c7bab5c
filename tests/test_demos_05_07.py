"""Tests for the helpers of notebooks 06 (plateau_demos) and 07 (warmup_demos)."""
import numpy as np
import pytest
import torch
from torch import nn

import lrlib
from lrlib import demo, plateau_demos, warmup_demos


# --------------------------------------------------------------------------------------------------
# warmup_demos

@pytest.mark.parametrize("then", list(warmup_demos.WRAPPED))
def test_warmup_then_wraps_the_remaining_updates(then):
    schedule = warmup_demos.warmup_then(then, 0.1, 300, 30, start_lr=0.01)
    t = np.arange(300)
    expected = lrlib.linear_warmup(warmup_demos.WRAPPED[then](0.1, 270), 30, start_lr=0.01)(t)
    np.testing.assert_array_equal(schedule(t), expected)
    assert schedule(0) == pytest.approx(0.01) and schedule(30) == pytest.approx(0.1)


def test_warmup_then_rejects_bad_arguments():
    with pytest.raises(ValueError, match="then must be one of"):
        warmup_demos.warmup_then("nope", 0.1, 100, 10)
    with pytest.raises(ValueError, match="warmup_steps"):
        warmup_demos.warmup_then("cosine", 0.1, 100, 100)
    with pytest.raises(ValueError, match="start_lr"):
        warmup_demos.warmup_then("cosine", 0.1, 100, 10, start_lr=0.2)


def _history(losses, val_loss, diverged_at=None):
    return dict(loss=np.asarray(losses, dtype=float), val_loss=np.asarray(val_loss, dtype=float),
                diverged=diverged_at is not None, diverged_at=diverged_at)


def test_seed_table_counts_divergences_and_spikes():
    results = {"a": [_history([2.3, 30.0], [], diverged_at=1), _history([2.3, 5.0, 1.0], [0.5, 0.4])],
               "b": [_history([2.3, 2.0], [0.3]), _history([2.3, 2.1], [0.5])]}
    lines = warmup_demos.seed_table(results, early_updates=2).splitlines()
    assert "max loss, first 2 updates" in lines[0]
    assert lines[1].split()[:4] == ["a", "1", "/", "2"]
    assert " 30.0" in lines[1] and " div. 0.400 (0.400)" in lines[1]
    assert lines[2].endswith("0.300 0.500 (0.400)")
    assert "max loss" not in warmup_demos.seed_table(results, early_updates=None)


def test_top_hessian_eigenvalue_matches_the_exact_hessian():
    torch.manual_seed(0)
    model = nn.Linear(3, 4)
    x, y = torch.randn(20, 3), torch.randint(0, 4, (20,))
    weight, bias = model.weight.detach().clone(), model.bias.detach().clone()

    def loss_of(flat):
        w, b = flat[:12].view(4, 3), flat[12:]
        return nn.functional.cross_entropy(x @ w.T + b, y)

    hessian = torch.autograd.functional.hessian(loss_of, torch.cat([weight.flatten(), bias]))
    exact = torch.linalg.eigvalsh(hessian).max().item()
    assert warmup_demos.top_hessian_eigenvalue(model, x, y, iters=200) == pytest.approx(exact, rel=1e-4)


def test_sharpness_along_replays_the_training_run():
    schedule = lrlib.linear_warmup(lrlib.constant(0.5), 6, start_lr=0.005)
    checkpoints = [0, 3, 7]
    curve = warmup_demos.sharpness_along(schedule, checkpoints, width=32, batch_size=256, sample=64, iters=3)
    history = demo.train(schedule, epochs=2, batch_size=256, width=32, momentum=0.0)
    assert list(curve["step"]) == checkpoints
    np.testing.assert_allclose(curve["loss"], history["loss"][checkpoints], rtol=1e-6)
    np.testing.assert_allclose(curve["lr"], schedule(np.array(checkpoints)))
    assert np.all(curve["sharpness"] > 0)


# --------------------------------------------------------------------------------------------------
# plateau_demos

SETTINGS = [dict(), dict(factor=0.5, patience=2, cooldown=1), dict(patience=0, threshold=0.05, threshold_mode="abs"),
            dict(mode="max", factor=0.3, patience=1, min_lr=1e-3), dict(factor=0.9, patience=0, eps=1e-2)]


@pytest.mark.parametrize("kwargs", SETTINGS)
def test_torch_plateau_lrs_matches_reduce_on_plateau(kwargs):
    metrics = np.random.default_rng(0).normal(1.0, 0.1, 60).cumsum() / np.arange(1, 61)
    ours = lrlib.ReduceOnPlateau(0.1, **kwargs).run(metrics)
    np.testing.assert_array_equal(ours, plateau_demos.torch_plateau_lrs(metrics, 0.1, **kwargs))


def test_reduction_epochs_counts_from_one():
    assert plateau_demos.reduction_epochs([1.0, 0.5, 0.5, 0.25], 1.0) == [2, 4]
    assert plateau_demos.reduction_epochs([0.5], 1.0) == [1]
    assert plateau_demos.reduction_epochs([1.0, 1.0], 1.0) == []


def test_trace_table_marks_reductions():
    table = plateau_demos.trace_table(lrlib.ReduceOnPlateau(1.0, factor=0.5, patience=1), [1.0, 2.0, 2.0, 0.5])
    lines = table.splitlines()
    assert len(lines) == 5
    assert lines[3].endswith("<- reduced") and "0.5" in lines[3]
    assert "yes" in lines[4]


def test_plateau_explorer_follows_its_controls():
    metrics = [1.0, 0.9, 0.95, 0.96, 0.97, 0.98, 0.99, 1.0]
    explorer = plateau_demos.plateau_explorer(metrics, defaults={"lr": 0.1, "patience": 1, "factor": 0.5})
    assert set(explorer.controls) == {"lr", "mode", "factor", "patience", "threshold", "threshold_mode",
                                      "cooldown", "min_lr", "eps"}
    assert explorer.reductions == [4, 6, 8] and explorer.image.value
    explorer.controls["patience"].value = 3
    assert explorer.reductions == [6]
    explorer.controls["cooldown"].value = 10
    assert explorer.reductions == [6]
    assert repr(explorer).startswith("PlateauExplorer(lr, mode, factor")
    assert "image/png" in explorer._repr_mimebundle_()
