"""The digits training harness: one loop, its hooks, and what runs on it (range test, curvature,
ReduceOnPlateau), plus the plateau widget."""
import numpy as np
import pytest
import torch
from torch import nn

import lrlib
from lrlib.notebook import curvature, digits, widgets
from lrlib.reference import torch_plateau_lrs

# --------------------------------------------------------------------------------------------------
# The loop and its hooks


def test_train_returns_the_history_and_the_trained_model():
    history = digits.train(lrlib.constant(0.05), epochs=2, batch_size=256, width=16)
    spe = digits.steps_per_epoch(256)
    assert len(history["lr"]) == len(history["loss"]) == 2 * spe and len(history["val_loss"]) == 2
    assert isinstance(history.model, nn.Module)
    split = digits.load_digits_split()
    with torch.no_grad():  # the model returned is the one the last validation and the test measured
        loss = nn.functional.cross_entropy(history.model(split.x_val), split.y_val).item()
        test = nn.functional.cross_entropy(history.model(split.x_test), split.y_test).item()
    assert loss == pytest.approx(history["val_loss"][-1], rel=1e-6)
    assert test == pytest.approx(history["test_loss"], rel=1e-6) and 0 < history["test_acc"] <= 1


def test_the_split_is_stratified():
    split = digits.load_digits_split()
    sizes = [len(split.y_train), len(split.y_val), len(split.y_test)]
    assert sum(sizes) == 1797 and abs(sizes[1] - 359) <= 1 and abs(sizes[2] - 360) <= 1
    for y in (split.y_train, split.y_val, split.y_test):
        counts = np.bincount(y.numpy(), minlength=10) / len(y)
        np.testing.assert_allclose(counts, 0.1, atol=0.01)



def test_hooks_see_every_update_and_can_stop_the_run():
    class Recorder(digits.Hook):
        def __init__(self):
            self.steps, self.epochs = [], []

        def before_update(self, state):
            self.steps.append((state.step, state.lr, state.loss.item()))
            if state.step == 20:
                raise digits.StopTraining

        def after_epoch(self, state):
            self.epochs.append(state.epoch)

    recorder = Recorder()
    schedule = lrlib.cosine_annealing(0.1, 40)
    history = digits.train(schedule, epochs=5, batch_size=128, width=16, hooks=[recorder])
    spe = digits.steps_per_epoch(128)
    assert [s for s, _, _ in recorder.steps] == list(range(21))
    np.testing.assert_allclose([lr for _, lr, _ in recorder.steps], schedule(np.arange(21)), rtol=1e-12)
    assert [loss for _, _, loss in recorder.steps] == list(history["loss"])
    assert recorder.epochs == list(range(20 // spe))
    assert not history["diverged"]


def test_a_diverging_run_is_recorded_not_raised():
    history = digits.train(lrlib.constant(50.0), epochs=2, batch_size=64)
    assert history["diverged"] and history["diverged_at"] == len(history["loss"]) - 1
    assert np.isnan(history["test_acc"])
    free = digits.train(lrlib.constant(50.0), epochs=1, batch_size=64, divergence_factor=None)
    assert not free["diverged"] and len(free["loss"]) == digits.steps_per_epoch(64)


def test_the_same_seed_gives_the_same_run():
    a = digits.train(lrlib.constant(0.1), epochs=1, batch_size=128, width=16, seed=3)
    b = digits.train(lrlib.constant(0.1), epochs=1, batch_size=128, width=16, seed=3)
    np.testing.assert_array_equal(a["loss"], b["loss"])


def test_reduce_on_plateau_in_the_loop_follows_the_validation_loss():
    plateau = lrlib.ReduceOnPlateau(0.5, factor=0.5, patience=0)
    history = digits.train(plateau, epochs=6, batch_size=128, width=16, label_noise=0.3)
    spe = digits.steps_per_epoch(128)
    per_epoch = history["lr"][::spe]
    expected = lrlib.ReduceOnPlateau(0.5, factor=0.5, patience=0).run(history["val_loss"])
    np.testing.assert_array_equal(per_epoch[1:], expected[:-1])


def test_range_test_on_the_harness_matches_the_generic_range_test():
    """The range test run by digits.train equals lrlib.range_test driving a hand-written step."""
    result = digits.range_test_digits(start_lr=1e-4, end_lr=1.0, steps=60, batch_size=64, width=32)
    x_train, y_train = digits.load_digits_split()[:2]
    generator = torch.Generator().manual_seed(0)
    torch.manual_seed(0)
    model = digits.make_model("mlp", 32)
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-4, momentum=0.9)

    def batches():
        order = torch.randperm(len(x_train), generator=generator)
        for start in range(0, len(x_train), 64):
            yield x_train[order[start:start + 64]], y_train[order[start:start + 64]]
    from lrlib.torch_adapter import training_step
    step = training_step(model, nn.functional.cross_entropy, batches, optimizer)
    torch.set_num_threads(1)
    generic = lrlib.range_test(step, start_lr=1e-4, end_lr=1.0, steps=60)
    np.testing.assert_array_equal(result.lrs, generic.lrs)
    np.testing.assert_allclose(result.losses, generic.losses, rtol=1e-5)


# --------------------------------------------------------------------------------------------------
# Curvature

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
    assert curvature.top_hessian_eigenvalue(model, x, y, iters=200) == pytest.approx(exact, rel=1e-4)


def test_sharpness_is_measured_along_the_training_run():
    schedule = lrlib.linear_warmup(lrlib.constant(0.5), 6, start_lr=0.005)
    checkpoints = [0, 3, 7]
    curve = curvature.sharpness_along(schedule, checkpoints, width=32, batch_size=256, sample=64, iters=3)
    history = digits.train(schedule, epochs=2, batch_size=256, width=32, momentum=0.0)
    assert list(curve["step"]) == checkpoints
    np.testing.assert_allclose(curve["loss"], history["loss"][checkpoints], rtol=1e-6)
    np.testing.assert_allclose(curve["lr"], schedule(np.array(checkpoints)))
    assert np.all(curve["sharpness"] > 0)


# --------------------------------------------------------------------------------------------------
# ReduceOnPlateau against PyTorch, and its widget

SETTINGS = [dict(), dict(factor=0.5, patience=2, cooldown=1), dict(patience=0, threshold=0.05, threshold_mode="abs"),
            dict(mode="max", factor=0.3, patience=1, min_lr=1e-3), dict(factor=0.9, patience=0, eps=1e-2)]


@pytest.mark.parametrize("kwargs", SETTINGS)
def test_torch_plateau_lrs_matches_reduce_on_plateau(kwargs):
    metrics = np.random.default_rng(0).normal(1.0, 0.1, 60).cumsum() / np.arange(1, 61)
    ours = lrlib.ReduceOnPlateau(0.1, **kwargs).run(metrics)
    np.testing.assert_array_equal(ours, torch_plateau_lrs(metrics, 0.1, **kwargs))


def test_plateau_explorer_follows_its_controls():
    metrics = [1.0, 0.9, 0.95, 0.96, 0.97, 0.98, 0.99, 1.0]
    explorer = widgets.plateau_explorer(metrics, defaults={"lr": 0.1, "patience": 1, "factor": 0.5})
    assert set(explorer.controls) == {"lr", "mode", "factor", "patience", "threshold", "threshold_mode",
                                      "cooldown", "min_lr", "eps"}
    assert explorer.reductions == [4, 6, 8] and explorer.image.value
    first = explorer.image.value
    explorer.controls["patience"].value = 3
    assert explorer.reductions == [6] and explorer.image.value != first
    explorer.controls["cooldown"].value = 10
    assert explorer.reductions == [6]
    assert repr(explorer).startswith("PlateauExplorer(lr, mode, factor")
    assert "image/png" in explorer._repr_mimebundle_()


def test_plateau_explorer_draws_the_rules_best_not_the_running_minimum():
    # With threshold 0.05 (relative) 0.588 is not an improvement on 0.599: the rule keeps 0.599.
    metrics = [0.7, 0.65, 0.62, 0.599, 0.588, 0.58]
    explorer = widgets.plateau_explorer(metrics, defaults={"threshold": 0.05, "patience": 5})
    np.testing.assert_allclose(explorer.best, [0.7, 0.65, 0.65, 0.599, 0.599, 0.599])
    assert not np.array_equal(explorer.best, np.minimum.accumulate(metrics))

