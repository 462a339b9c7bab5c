"""The learning-rate range test: the rate it applies, what it restores, when it stops, what it suggests."""
import math

import numpy as np
import pytest
import torch
from torch import nn

from lrlib.lr_finder import exponential_range, range_test, suggest
from lrlib.notebook import digits
from lrlib.notebook.digits import range_test_digits
from lrlib.torch_adapter import range_test_model


def regression_problem(seed=0, n_batches=8, batch=16):
    """A small linear regression: a model, an MSE loss and a list of (x, y) batches."""
    g = torch.Generator().manual_seed(seed)
    w = torch.randn(5, 1, generator=g)
    batches = []
    for _ in range(n_batches):
        x = torch.randn(batch, 5, generator=g)
        batches.append((x, x @ w + 0.1 * torch.randn(batch, 1, generator=g)))
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(5, 8), nn.Tanh(), nn.Linear(8, 1))
    return model, nn.functional.mse_loss, batches


def record_applied_lrs(optimizer):
    """Wrap optimizer.step so that every call records the rates of all groups at that moment."""
    applied, step = [], optimizer.step

    def recording_step(*args, **kwargs):
        applied.append([group["lr"] for group in optimizer.param_groups])
        return step(*args, **kwargs)
    optimizer.step = recording_step
    return applied


# --------------------------------------------------------------------------------------------------
# exponential_range

def test_exponential_range_is_geometric_between_the_end_points():
    s = exponential_range(1e-4, 1.0, 41)
    lrs = s(np.arange(41))
    assert lrs[0] == pytest.approx(1e-4, rel=1e-12)
    assert lrs[-1] == pytest.approx(1.0, rel=1e-12)
    ratios = lrs[1:] / lrs[:-1]
    np.testing.assert_allclose(ratios, 10 ** 0.1, rtol=1e-12)  # 4 decades in 40 updates
    assert s(100) == pytest.approx(1.0)  # held after the end


# --------------------------------------------------------------------------------------------------
# The rate actually applied

def test_the_rate_applied_by_the_optimizer_is_geometric():
    model, loss_fn, batches = regression_problem()
    opt = torch.optim.SGD(model.parameters(), lr=0.5, momentum=0.9)
    applied = record_applied_lrs(opt)
    result = range_test_model(model, loss_fn, batches, opt, start_lr=1e-4, end_lr=1e-2, steps=30)
    assert result.diverged_at is None and len(result.lrs) == 30
    applied = np.array(applied)[:, 0]
    assert len(applied) == 30                          # one optimizer.step per update, no more
    np.testing.assert_array_equal(applied, result.lrs)  # what is recorded is what was applied
    np.testing.assert_allclose(applied[1:] / applied[:-1], 100 ** (1 / 29), rtol=1e-12)
    assert applied[0] == pytest.approx(1e-4, rel=1e-12) and applied[-1] == pytest.approx(1e-2, rel=1e-12)


def test_parameter_groups_keep_their_ratio():
    model, loss_fn, batches = regression_problem()
    opt = torch.optim.SGD([{"params": model[0].parameters(), "lr": 0.1},
                           {"params": model[2].parameters(), "lr": 1.0}], lr=0.1)
    applied = record_applied_lrs(opt)
    range_test_model(model, loss_fn, batches, opt, start_lr=1e-4, end_lr=1e-3, steps=10)
    applied = np.array(applied)
    assert applied.shape == (10, 2)
    np.testing.assert_allclose(applied[:, 0], exponential_range(1e-4, 1e-3, 10)(np.arange(10)), rtol=1e-12)
    np.testing.assert_allclose(applied[:, 1] / applied[:, 0], 10.0, rtol=1e-12)
    assert [g["lr"] for g in opt.param_groups] == [0.1, 1.0]


# --------------------------------------------------------------------------------------------------
# Nothing is left trained

def test_model_optimizer_and_random_state_are_restored_exactly():
    model, loss_fn, batches = regression_problem()
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=1e-4)
    loss_fn(model(batches[0][0]), batches[0][1]).backward()   # give the optimizer real momentum buffers
    opt.step()
    opt.zero_grad()
    model.eval()
    weights = {k: v.clone() for k, v in model.state_dict().items()}
    buffers = {i: s["momentum_buffer"].clone() for i, s in opt.state_dict()["state"].items()}
    groups = [{k: v for k, v in g.items() if k != "params"} for g in opt.state_dict()["param_groups"]]
    rng = torch.get_rng_state()

    result = range_test_model(model, loss_fn, batches, opt, start_lr=1e-3, end_lr=1.0, steps=25)
    assert np.ptp(result.losses) > 0  # it really trained while it ran

    for k, v in model.state_dict().items():
        assert torch.equal(v, weights[k]), k
    state = opt.state_dict()
    assert set(state["state"]) == set(buffers)
    for i, s in state["state"].items():
        assert torch.equal(s["momentum_buffer"], buffers[i])
    assert [{k: v for k, v in g.items() if k != "params"} for g in state["param_groups"]] == groups
    assert opt.param_groups[0]["lr"] == 0.05
    assert not model.training                         # train/eval mode restored
    assert all(p.grad is None for p in model.parameters())
    assert torch.equal(torch.get_rng_state(), rng)


def test_a_fresh_optimizer_gets_no_leftover_momentum():
    model, loss_fn, batches = regression_problem()
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    range_test_model(model, loss_fn, batches, opt, start_lr=1e-3, end_lr=1e-1, steps=10)
    assert len(opt.state_dict()["state"]) == 0


def test_state_is_restored_when_the_loss_function_raises():
    model, _, batches = regression_problem()
    weights = {k: v.clone() for k, v in model.state_dict().items()}
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    calls = []

    def failing_loss(pred, y):
        calls.append(1)
        if len(calls) == 5:
            raise RuntimeError("boom")
        return nn.functional.mse_loss(pred, y)
    with pytest.raises(RuntimeError, match="boom"):
        range_test_model(model, failing_loss, batches, opt, start_lr=1e-2, end_lr=1.0, steps=10)
    for k, v in model.state_dict().items():
        assert torch.equal(v, weights[k])


# --------------------------------------------------------------------------------------------------
# Divergence

def test_a_diverging_run_stops_and_records_where():
    model, loss_fn, batches = regression_problem()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    result = range_test_model(model, loss_fn, batches, opt, start_lr=1e-3, end_lr=1e4, steps=100)
    k = result.diverged_at
    assert k is not None and 0 < k < 99
    assert len(result.lrs) == len(result.losses) == len(result.smoothed) == k + 1
    before = result.smoothed[:k]
    assert np.all(np.isfinite(before)) and np.all(before <= 4.0 * np.minimum.accumulate(before))
    assert not np.isfinite(result.smoothed[k]) or result.smoothed[k] > 4.0 * before.min()


def test_a_nan_loss_is_recorded_not_raised():
    model, _, batches = regression_problem()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    calls = []

    def loss_with_nan(pred, y):
        calls.append(1)
        loss = nn.functional.mse_loss(pred, y)
        return loss * float("nan") if len(calls) == 12 else loss
    result = range_test_model(model, loss_with_nan, batches, opt, start_lr=1e-4, end_lr=1e-3, steps=50)
    assert result.diverged_at == 11
    assert math.isnan(result.losses[11]) and len(result.losses) == 12
    assert result.suggestion_min_over_10 is not None  # the 11 finite points still give an answer


def test_diverge_factor_sets_the_threshold():
    model, loss_fn, batches = regression_problem()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    strict = range_test_model(model, loss_fn, batches, opt, start_lr=1e-3, end_lr=1e4, steps=100, diverge_factor=1.5)
    loose = range_test_model(model, loss_fn, batches, opt, start_lr=1e-3, end_lr=1e4, steps=100, diverge_factor=50)
    assert strict.diverged_at < loose.diverged_at


# --------------------------------------------------------------------------------------------------
# Arguments and batches

@pytest.mark.parametrize("kwargs, name", [
    (dict(start_lr=0.0), "start_lr"), (dict(start_lr=-1e-3), "start_lr"),
    (dict(end_lr=float("nan")), "end_lr"), (dict(start_lr=1e-2, end_lr=1e-3), "end_lr"),
    (dict(start_lr=1e-2, end_lr=1e-2), "end_lr"), (dict(steps=1), "steps"),
    (dict(smooth=1.0), "smooth"), (dict(smooth=-0.1), "smooth"),
    (dict(diverge_factor=1.0), "diverge_factor"), (dict(diverge_factor=float("inf")), "diverge_factor"),
])
def test_bad_arguments_raise_value_error_naming_the_parameter(kwargs, name):
    model, loss_fn, batches = regression_problem()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(ValueError, match=f"^{name} "):
        range_test_model(model, loss_fn, batches, opt, **kwargs)


def test_steps_must_be_an_integer():
    with pytest.raises(TypeError, match="^steps "):
        exponential_range(1e-3, 1.0, 10.0)


def test_a_list_of_batches_is_cycled_and_a_generator_ends_the_test():
    model, loss_fn, batches = regression_problem(n_batches=4)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    cycled = range_test_model(model, loss_fn, batches, opt, start_lr=1e-4, end_lr=1e-3, steps=10)
    assert len(cycled.losses) == 10
    assert cycled.losses[4] != cycled.losses[0]  # same batch, trained weights
    once = range_test_model(model, loss_fn, iter(batches), opt, start_lr=1e-4, end_lr=1e-3, steps=10)
    assert len(once.losses) == 4 and once.diverged_at is None
    np.testing.assert_array_equal(once.losses, cycled.losses[:4])
    passes = []
    again = range_test_model(model, loss_fn, lambda: passes.append(1) or iter(batches), opt,
                       start_lr=1e-4, end_lr=1e-3, steps=10)
    assert len(again.losses) == 10 and len(passes) == 3
    np.testing.assert_array_equal(again.losses, cycled.losses)  # restored state: identical reruns


def test_empty_batches_raise():
    model, loss_fn, _ = regression_problem()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="no \\(x, y\\)"):
        range_test_model(model, loss_fn, [], opt)


# --------------------------------------------------------------------------------------------------
# The suggestions

def test_suggest_finds_the_minimum_and_the_steepest_descent_of_a_known_curve():
    lrs = np.logspace(-5, 1, 121)                 # 20 points per decade
    x = np.log10(lrs)
    curve = 2.0 - np.tanh(2.0 * (x + 3.0)) + 3.0 * np.maximum(x + 1.0, 0.0) ** 2
    min_at, steepest_at = suggest(lrs, curve)
    assert min_at == int(np.argmin(curve))
    assert -1.0 <= x[min_at] <= -0.5
    assert abs(x[steepest_at] - (-3.0)) <= 0.05 + 1e-9   # the tanh's inflection, within one point


def test_suggest_needs_a_few_finite_points():
    assert suggest(np.logspace(-3, 0, 4), np.ones(4)) == (None, None)
    assert suggest(np.logspace(-3, 0, 10), np.r_[1.0, 1.0, np.nan, np.ones(7)]) == (None, None)


def test_digits_suggestion_is_sane_and_works_for_training():
    import lrlib

    result = range_test_digits(steps=100)  # SGD, momentum 0.9, the demo MLP, batch 32
    # SGD at lr 10 cannot train this network: the test must have stopped on its own.
    assert result.diverged_at is not None and result.lrs[-1] < 10.0
    s = result.suggestion_min_over_10
    assert 1e-2 <= s <= 0.5, s
    assert result.suggestion_steepest < result.lr_at_min
    again = range_test_digits(steps=100)
    np.testing.assert_array_equal(again.losses, result.losses)  # deterministic
    # The suggestion is usable: two epochs of one-cycle at max_lr = s train well...
    spe = digits.steps_per_epoch(32)
    good = digits.train(lrlib.one_cycle(s, 2 * spe), epochs=2,
                      momentum_schedule=lrlib.one_cycle_momentum(2 * spe))
    assert not good["diverged"] and good["val_acc"][-1] > 0.9
    # ...while a constant rate at the minimum's rate x 10 (well past the edge) diverges.
    bad = digits.train(lrlib.constant(10 * result.lr_at_min), epochs=2)
    assert bad["diverged"]


# --------------------------------------------------------------------------------------------------
# The generic test, over any training step

def test_range_test_drives_any_training_step():
    """Plain numpy: gradient descent on f(x) = x^2 / 2 with curvature 1 diverges once lr > 2."""
    x = [1.0]

    def step(lr):
        loss = 0.5 * x[0] ** 2
        x[0] -= lr * x[0]
        return loss

    result = range_test(step, start_lr=1e-3, end_lr=100.0, steps=200, smooth=0.5)
    assert result.diverged_at is not None
    assert result.lrs[result.diverged_at] > 2.0
    np.testing.assert_allclose(result.lrs, exponential_range(1e-3, 100.0, 200)(np.arange(len(result.lrs))))


def test_a_step_that_runs_out_of_data_ends_the_test():
    losses = iter([1.0, 0.9, 0.8])

    def step(lr):
        return next(losses)

    result = range_test(step, steps=50)
    assert len(result.losses) == 3 and result.diverged_at is None
