"""Every lrlib schedule against the real PyTorch scheduler, step by step, over random parameters.

The PyTorch side is ground truth as a user experiences it: a real SGD optimizer, ``optimizer.step()``
then ``scheduler.step()``, and the rate read from the param group before each update
(``lrlib.reference.torch_lrs``). PyTorch computes several schedules recursively (each rate from the
previous one), which drifts from the closed form by a few ulps per step; rtol 1e-9 leaves room for
that and for nothing else. Values that reach 0 exactly are compared with a tiny absolute tolerance.
"""
import numpy as np
import pytest
from torch.optim import lr_scheduler as S

import lrlib
from lrlib.reference import hf_cosine_with_warmup, hf_linear_with_warmup, torch_lrs, torch_scheduler_for

SEEDS = range(8)
RTOL = 1e-9


def assert_same(ours, theirs, lr):
    np.testing.assert_allclose(ours, theirs, rtol=RTOL, atol=1e-13 * lr)


def check(schedule, make_scheduler, steps):
    lr0 = schedule(0)
    theirs, _ = torch_lrs(make_scheduler, steps, lr=lr0)
    ours = schedule(np.arange(steps))
    assert_same(ours, theirs, max(schedule.lr_range[1], 1e-30))
    # the scalar path gives the same numbers as the vectorized one
    assert [schedule(t) for t in range(0, steps, max(1, steps // 17))] == list(ours[::max(1, steps // 17)])
    return ours


def rng_for(seed):
    return np.random.default_rng(seed)


@pytest.mark.parametrize("seed", SEEDS)
def test_step_decay(seed):
    r = rng_for(seed)
    s = lrlib.step_decay(r.uniform(1e-4, 1), int(r.integers(1, 20)), r.uniform(0.05, 1))
    check(s, lambda o: S.StepLR(o, step_size=s.params["step_size"], gamma=s.params["gamma"]),
          4 * s.params["step_size"] + 3)


@pytest.mark.parametrize("seed", SEEDS)
def test_multistep_decay(seed):
    r = rng_for(seed)
    milestones = sorted(set(r.integers(1, 120, size=int(r.integers(1, 5))).tolist()))
    s = lrlib.multistep_decay(r.uniform(1e-4, 1), milestones, r.uniform(0.05, 1))
    check(s, lambda o: S.MultiStepLR(o, milestones=milestones, gamma=s.params["gamma"]), milestones[-1] + 30)


@pytest.mark.parametrize("seed", SEEDS)
def test_exponential_decay(seed):
    r = rng_for(seed)
    s = lrlib.exponential_decay(r.uniform(1e-4, 1), r.uniform(0.9, 1))
    check(s, lambda o: S.ExponentialLR(o, gamma=s.params["gamma"]), 400)


def test_exponential_decay_seed_form():
    k = 0.01
    s = lrlib.exponential_decay(0.1, float(np.exp(-k)))
    t = np.arange(500)
    np.testing.assert_allclose(s(t), 0.1 * np.exp(-k * t), rtol=1e-12)


@pytest.mark.parametrize("seed", SEEDS)
def test_cosine_annealing(seed):
    r = rng_for(seed)
    lr = r.uniform(1e-4, 1)
    total = int(r.integers(1, 150))
    s = lrlib.cosine_annealing(lr, total, min_lr=float(r.choice([0.0, r.uniform(0, lr)])))
    # PyTorch agrees up to T_max; after it PyTorch climbs back up while lrlib holds min_lr.
    check(s, lambda o: S.CosineAnnealingLR(o, T_max=total, eta_min=s.params["min_lr"]), total + 1)
    assert np.all(s(np.arange(total, 3 * total + 2)) == s.params["min_lr"])


@pytest.mark.parametrize("seed", SEEDS)
def test_cosine_warm_restarts(seed):
    r = rng_for(seed)
    lr = r.uniform(1e-4, 1)
    period, mult = int(r.integers(1, 25)), int(r.integers(1, 4))
    s = lrlib.cosine_warm_restarts(lr, period, mult, min_lr=float(r.uniform(0, lr / 2)))
    three_cycles = period * (1 + mult + mult ** 2)
    check(s, lambda o: S.CosineAnnealingWarmRestarts(o, T_0=period, T_mult=mult, eta_min=s.params["min_lr"]),
          three_cycles + 5)


@pytest.mark.parametrize("period,mult", [(1, 2), (3, 3), (10, 2), (7, 1)])
def test_warm_restarts_restart_steps_exact(period, mult):
    # The restarts land exactly where the cumulative cycle lengths say, with no float-log off-by-one.
    s = lrlib.cosine_warm_restarts(1.0, period, mult)
    lengths = np.array([period * mult ** i for i in range(8)])
    starts = np.cumsum(np.concatenate([[0], lengths]))
    assert np.all(s(starts) == 1.0)
    last_of_each_cycle = (1 + np.cos(np.pi * (lengths - 1) / lengths)) / 2
    np.testing.assert_allclose(s(starts[1:] - 1), last_of_each_cycle, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("seed", SEEDS)
def test_linear_decay(seed):
    r = rng_for(seed)
    lr = r.uniform(1e-4, 1)
    total = int(r.integers(1, 150))
    s = lrlib.linear_decay(lr, total, end_lr=float(r.choice([0.0, r.uniform(0, lr)])))
    check(s, lambda o: S.LinearLR(o, start_factor=1.0, end_factor=s.params["end_lr"] / lr, total_iters=total),
          3 * total + 2)


@pytest.mark.parametrize("seed", SEEDS)
def test_polynomial_decay(seed):
    r = rng_for(seed)
    total = int(r.integers(1, 150))
    s = lrlib.polynomial_decay(r.uniform(1e-4, 1), total, power=r.uniform(0.3, 3.0))
    check(s, lambda o: S.PolynomialLR(o, total_iters=total, power=s.params["power"]), 3 * total + 2)


@pytest.mark.parametrize("mode", ["triangular", "triangular2", "exp_range"])
@pytest.mark.parametrize("seed", range(4))
def test_cyclic(mode, seed):
    r = rng_for(seed)
    base = r.uniform(1e-5, 1e-2)
    up = int(r.integers(1, 30))
    down = int(r.integers(1, 30)) if seed % 2 else None
    s = lrlib.cyclic(base, base * r.uniform(1, 100), up, down, mode=mode, gamma=r.uniform(0.98, 1))
    p = s.params
    check(s, lambda o: S.CyclicLR(o, base_lr=base, max_lr=p["max_lr"], step_size_up=up, step_size_down=down,
                                  mode=mode, gamma=p["gamma"], cycle_momentum=False),
          3 * (p["step_size_up"] + p["step_size_down"]) + 1)


@pytest.mark.parametrize("three_phase", [False, True])
@pytest.mark.parametrize("anneal", ["cos", "linear"])
@pytest.mark.parametrize("seed", range(6))
def test_one_cycle_lr_and_momentum(three_phase, anneal, seed):
    r = rng_for(seed)
    total = int(r.integers(10, 400))
    pct = r.uniform(0.1, 0.45) if three_phase else r.uniform(0.1, 0.9)
    kw = dict(pct_start=pct, anneal=anneal, three_phase=three_phase)
    s = lrlib.one_cycle(r.uniform(1e-3, 1), total, div_factor=r.uniform(2, 50),
                        final_div_factor=r.uniform(10, 1e4), **kw)
    m = lrlib.one_cycle_momentum(total, base_momentum=r.uniform(0.5, 0.85), max_momentum=r.uniform(0.86, 0.99), **kw)
    p, q = s.params, m.params

    def make(o):
        return S.OneCycleLR(o, max_lr=p["max_lr"], total_steps=total, pct_start=pct, anneal_strategy=anneal,
                            div_factor=p["div_factor"], final_div_factor=p["final_div_factor"],
                            three_phase=three_phase, base_momentum=q["base_momentum"],
                            max_momentum=q["max_momentum"])
    lrs, momenta = torch_lrs(make, total)
    assert_same(s(np.arange(total)), lrs, p["max_lr"])
    np.testing.assert_allclose(m(np.arange(total)), momenta, rtol=RTOL)
    # after the last update lrlib holds the minimum (PyTorch raises instead)
    assert s(total + 5) == s(total - 1) == pytest.approx(p["max_lr"] / p["div_factor"] / p["final_div_factor"])


def test_one_cycle_peak_position_is_pytorchs():
    s = lrlib.one_cycle(1.0, 100, pct_start=0.3)
    values = s(np.arange(100))
    assert int(values.argmax()) == 29 and values[29] == 1.0  # pct*T - 1, not int(pct*T) = 30 as in optax


@pytest.mark.parametrize("seed", SEEDS)
def test_torch_scheduler_for_covers_the_table(seed):
    r = rng_for(seed)
    lr = r.uniform(1e-3, 1)
    schedules = [lrlib.constant(lr), lrlib.step_decay(lr, 7), lrlib.multistep_decay(lr, [5, 9]),
                 lrlib.exponential_decay(lr, 0.97), lrlib.cosine_annealing(lr, 40),
                 lrlib.cosine_warm_restarts(lr, 5, 2), lrlib.linear_decay(lr, 30, lr / 10),
                 lrlib.polynomial_decay(lr, 30, 2.0), lrlib.cyclic(lr / 10, lr, 6),
                 lrlib.one_cycle(lr, 40)]
    for s in schedules:
        # cosine agrees up to T_max inclusive, one-cycle up to total_steps - 1; the rest over 80 updates
        steps = {"cosine_annealing": 41, "one_cycle": 40}.get(s.name, 80)
        check(s, torch_scheduler_for(s), steps)
    assert torch_scheduler_for(lrlib.inverse_sqrt(lr, 10)) is None


@pytest.mark.parametrize("seed", SEEDS)
def test_linear_warmup_equals_hugging_face(seed):
    r = rng_for(seed)
    lr = r.uniform(1e-5, 1e-2)
    total = int(r.integers(10, 500))
    warmup = int(r.integers(1, total))
    t = np.arange(total + 20)
    lin = lrlib.linear_warmup(lrlib.linear_decay(lr, total - warmup), warmup)
    cos = lrlib.linear_warmup(lrlib.cosine_annealing(lr, total - warmup), warmup)
    np.testing.assert_allclose(lin(t), lr * hf_linear_with_warmup(warmup, total)(t), rtol=1e-12, atol=1e-18)
    # Past N, Hugging Face's cosine climbs back up (like PyTorch's); lrlib holds 0. Compare up to N.
    t = t[:total + 1]
    np.testing.assert_allclose(cos(t), lr * hf_cosine_with_warmup(warmup, total)(t), rtol=1e-12, atol=1e-18)


def test_hf_reference_matches_documented_values():
    # get_linear_schedule_with_warmup(10, 110): 0 at step 0, 0.5 at step 5, 1 at 10, 0.5 at 60, 0 at 110.
    f = hf_linear_with_warmup(10, 110)
    np.testing.assert_allclose(f(np.array([0, 5, 10, 60, 110, 200])), [0, 0.5, 1, 0.5, 0, 0])
    g = hf_cosine_with_warmup(10, 110)
    np.testing.assert_allclose(g(np.array([0, 5, 10, 60, 110])), [0, 0.5, 1, 0.5, 0], atol=1e-15)
