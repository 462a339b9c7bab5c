"""lrlib.to_torch drives a real optimizer: the rate each update actually used, momentum, resume."""
import io

import numpy as np
import pytest
import torch
from torch.optim.lr_scheduler import LRScheduler

import lrlib


@pytest.fixture(autouse=True)
def float64():
    # float64 so the rate can be recovered from a parameter change to ~1e-12; restored afterwards
    # because the default dtype is process-wide and other test modules share the process.
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(previous)


def regression_problem(seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(64, 5, generator=g)
    y = x @ torch.randn(5, 1, generator=g) + 0.1 * torch.randn(64, 1, generator=g)
    return x, y


def applied_rates(schedule, steps, ratio=10.0):
    """Train a linear model with plain SGD and recover, from the parameter change, the rate each update used.

    Plain SGD (no momentum, no weight decay) updates p <- p - lr * grad, so lr = -(delta p) / grad:
    a measurement of what the optimizer really did, independent of what any scheduler reports.
    """
    torch.manual_seed(0)
    x, y = regression_problem()
    body, head = torch.nn.Linear(5, 3), torch.nn.Linear(3, 1)
    lr0 = schedule(0) or 1.0
    opt = torch.optim.SGD([{"params": body.parameters()}, {"params": head.parameters(), "lr": ratio * lr0}], lr=lr0)
    scheduler = lrlib.to_torch(opt, schedule)
    assert isinstance(scheduler, LRScheduler)
    body_rates, head_rates, reported = [], [], []
    for _ in range(steps):
        loss = torch.nn.functional.mse_loss(head(body(x)), y)
        opt.zero_grad()
        loss.backward()
        before = [p.detach().clone() for p in (body.weight, head.weight)]
        grads = [p.grad.detach().clone() for p in (body.weight, head.weight)]
        reported.append(opt.param_groups[0]["lr"])
        opt.step()
        scheduler.step()
        (rb, rh) = [(-(p.detach() - b) / gr)[gr.abs() > 1e-8].median().item()
                    for p, b, gr in zip((body.weight, head.weight), before, grads, strict=True)]
        body_rates.append(rb)
        head_rates.append(rh)
    return np.array(body_rates), np.array(head_rates), np.array(reported)


@pytest.mark.parametrize("schedule", [
    lrlib.one_cycle(0.05, 60),
    lrlib.linear_warmup(lrlib.cosine_annealing(0.05, 50), 10, start_lr=0.001),
    lrlib.cosine_warm_restarts(0.05, 7, 2),
    lrlib.wsd(0.05, 60, 6, 20, decay="sqrt", min_lr=0.001),
], ids=lambda s: s.name)
def test_rate_actually_applied_at_every_update(schedule):
    steps = 60
    body, head, reported = applied_rates(schedule, steps)
    expected = schedule(np.arange(steps))
    np.testing.assert_allclose(reported, expected, rtol=1e-12)
    np.testing.assert_allclose(body, expected, rtol=1e-6, atol=1e-12)
    np.testing.assert_allclose(head, 10.0 * expected, rtol=1e-6, atol=1e-11)  # groups keep their ratio


def test_get_last_lr_is_the_rate_for_the_next_update():
    s = lrlib.step_decay(0.1, 3)
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    scheduler = lrlib.to_torch(opt, s)
    for t in range(10):
        assert scheduler.get_last_lr() == [pytest.approx(s(t), rel=1e-15)]
        opt.step()
        scheduler.step()


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_momentum_schedule_is_applied(optimizer):
    total = 40
    s, m = lrlib.one_cycle(0.1, total), lrlib.one_cycle_momentum(total)
    params = [torch.zeros(2, requires_grad=True)]
    opt = (torch.optim.SGD(params, lr=0.1, momentum=0.9) if optimizer == "sgd"
           else torch.optim.Adam(params, lr=0.1, betas=(0.9, 0.99)))
    scheduler = lrlib.to_torch(opt, s, momentum=m)
    seen = []
    for _ in range(total):
        group = opt.param_groups[0]
        seen.append(group["momentum"] if optimizer == "sgd" else group["betas"][0])
        if optimizer == "adam":
            assert group["betas"][1] == 0.99
        params[0].grad = torch.ones(2)
        opt.step()
        scheduler.step()
    # The first update uses the momentum the optimizer was built with unless the scheduler set it at
    # construction; lrlib sets it in its initial step, so every update follows the schedule.
    np.testing.assert_allclose(seen, m(np.arange(total)), rtol=1e-15)


def test_momentum_needs_an_optimizer_with_momentum():
    opt = torch.optim.Adagrad([torch.zeros(1, requires_grad=True)], lr=0.1)
    with pytest.raises(ValueError, match="momentum"):
        lrlib.to_torch(opt, lrlib.constant(0.1), momentum=lrlib.one_cycle_momentum(10))
    with pytest.raises(TypeError, match="schedule"):
        lrlib.to_torch(opt, 0.1)


def build(seed=0):
    torch.manual_seed(seed)
    model = torch.nn.Linear(5, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, nesterov=True)
    s, m = lrlib.one_cycle(0.05, 30), lrlib.one_cycle_momentum(30)
    return model, opt, lrlib.to_torch(opt, s, momentum=m)


def train_steps(model, opt, scheduler, steps, x, y, log):
    for _ in range(steps):
        log.append((opt.param_groups[0]["lr"], opt.param_groups[0]["momentum"]))
        loss = torch.nn.functional.mse_loss(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        scheduler.step()


def test_resume_mid_training_is_exact():
    x, y = regression_problem()
    model, opt, sched = build()
    straight = []
    train_steps(model, opt, sched, 30, x, y, straight)

    model, opt, sched = build()
    resumed = []
    train_steps(model, opt, sched, 12, x, y, resumed)
    buffer = io.BytesIO()
    torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "sched": sched.state_dict()}, buffer)
    buffer.seek(0)
    saved = torch.load(buffer, weights_only=True)  # the schedules are code, not in the checkpoint

    model2, opt2, sched2 = build(seed=1)  # different init: everything must come from the checkpoint
    model2.load_state_dict(saved["model"])
    opt2.load_state_dict(saved["opt"])
    sched2.load_state_dict(saved["sched"])
    train_steps(model2, opt2, sched2, 18, x, y, resumed)
    assert resumed == straight
    model_ref, opt_ref, sched_ref = build()
    train_steps(model_ref, opt_ref, sched_ref, 30, x, y, [])
    torch.testing.assert_close(model2.weight, model_ref.weight, rtol=0, atol=0)


def test_schedule_starting_at_zero():
    # warmup from 0: the optimizer is naturally built with lr = schedule(0) = 0
    s = lrlib.linear_warmup(lrlib.cosine_annealing(0.1, 20), 5)
    opt = torch.optim.SGD([{"params": [torch.zeros(1, requires_grad=True)]},
                           {"params": [torch.zeros(1, requires_grad=True)]}], lr=0.0)
    scheduler = lrlib.to_torch(opt, s)
    seen = []
    for _ in range(25):
        seen.append([g["lr"] for g in opt.param_groups])
        opt.step()
        scheduler.step()
    np.testing.assert_allclose(np.array(seen), np.repeat(s(np.arange(25))[:, None], 2, axis=1), rtol=1e-15)
    opt = torch.optim.SGD([{"params": [torch.zeros(1, requires_grad=True)]},
                           {"params": [torch.zeros(1, requires_grad=True)], "lr": 0.1}], lr=0.0)
    with pytest.raises(ValueError, match="ratio"):
        lrlib.to_torch(opt, s)
