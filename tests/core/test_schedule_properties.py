"""Properties every schedule must have, over random valid parameters (hypothesis), and bad input."""
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import lrlib

settings.register_profile("lrlib", max_examples=60, deadline=None)
settings.load_profile("lrlib")

lrs = st.floats(1e-6, 10.0)
fractions = st.floats(0.0, 1.0)
totals = st.integers(1, 3000)


@st.composite
def schedules(draw):
    """(schedule, monotone) where monotone is 'down', 'up-then-down' or None."""
    lr = draw(lrs)
    total = draw(totals)
    kind = draw(st.sampled_from([
        "constant", "step", "multistep", "exponential", "cosine", "restarts", "linear", "poly",
        "inverse_sqrt", "cyclic", "one_cycle", "warmup_cosine", "wsd", "join"]))
    if kind == "constant":
        return lrlib.constant(lr), "down"
    if kind == "step":
        return lrlib.step_decay(lr, draw(st.integers(1, 500)), draw(st.floats(0.01, 1.0))), "down"
    if kind == "multistep":
        ms = sorted(draw(st.sets(st.integers(1, 3000), min_size=1, max_size=6)))
        return lrlib.multistep_decay(lr, ms, draw(st.floats(0.01, 1.0))), "down"
    if kind == "exponential":
        return lrlib.exponential_decay(lr, draw(st.floats(0.5, 1.0))), "down"
    if kind == "cosine":
        return lrlib.cosine_annealing(lr, total, lr * draw(fractions)), "down"
    if kind == "restarts":
        return lrlib.cosine_warm_restarts(lr, draw(st.integers(1, 300)), draw(st.integers(1, 4)),
                                          lr * draw(fractions)), None
    if kind == "linear":
        return lrlib.linear_decay(lr, total, lr * draw(fractions)), "down"
    if kind == "poly":
        return lrlib.polynomial_decay(lr, total, draw(st.floats(0.1, 5.0)), lr * draw(fractions)), "down"
    if kind == "inverse_sqrt":
        return lrlib.inverse_sqrt(lr, draw(st.integers(1, 500))), "up-then-down"
    if kind == "cyclic":
        return lrlib.cyclic(lr, lr * draw(st.floats(1.0, 100.0)), draw(st.integers(1, 300)),
                            draw(st.integers(1, 300)),
                            draw(st.sampled_from(["triangular", "triangular2", "exp_range"])),
                            draw(st.floats(0.9, 1.0))), None
    if kind == "one_cycle":
        total = max(total, 20)
        return lrlib.one_cycle(lr, total, draw(st.floats(0.1, 0.9)), draw(st.floats(1.5, 100.0)),
                               draw(st.floats(1.0, 1e5)), draw(st.sampled_from(["cos", "linear"]))), "up-then-down"
    if kind == "warmup_cosine":
        warmup = draw(st.integers(0, 500))
        return lrlib.linear_warmup(lrlib.cosine_annealing(lr, total), warmup, lr * draw(fractions)), "up-then-down"
    if kind == "wsd":
        total = max(total, 3)
        warmup = draw(st.integers(0, total // 2))
        decay = draw(st.integers(1, total - warmup))
        return lrlib.wsd(lr, total, warmup, decay, lr * draw(fractions),
                         draw(st.sampled_from(["linear", "cosine", "sqrt"]))), "up-then-down"
    cut = draw(st.integers(1, 2000))
    return lrlib.join([lrlib.constant(lr), lrlib.cosine_annealing(lr / 2, total)], [cut]), "down"


def horizon(schedule):
    return np.arange(0, 4000)


@given(schedules())
def test_finite_within_range_and_monotone(case):
    schedule, monotone = case
    values = schedule(horizon(schedule))
    assert values.dtype == np.float64
    assert np.all(np.isfinite(values))
    low, high = schedule.lr_range
    slack = 1e-12 * high
    assert np.all(values >= low - slack) and np.all(values <= high + slack), repr(schedule)
    diffs = np.diff(values)
    if monotone == "down":
        assert np.all(diffs <= slack), repr(schedule)
    elif monotone == "up-then-down":
        peak = int(values.argmax())
        assert np.all(diffs[:peak] >= -slack) and np.all(diffs[peak:] <= slack), repr(schedule)


@given(schedules())
def test_scalar_and_array_agree(case):
    schedule, _ = case
    t = np.array([0, 1, 2, 17, 255, 999, 3999])
    values = schedule(t)
    assert [schedule(int(i)) for i in t] == values.tolist()
    assert isinstance(schedule(np.int32(5)), float)
    assert schedule(t.reshape(7, 1)).shape == (7, 1)


@given(lrs, totals, st.integers(0, 1000), fractions)
def test_linear_warmup_is_continuous_at_its_join(lr, total, warmup, start_fraction):
    start = lr * start_fraction
    s = lrlib.linear_warmup(lrlib.cosine_annealing(lr, total), warmup, start)
    t = np.arange(warmup + 1)
    # every warmup increment is the same, the last one included: the line lands exactly on the peak
    np.testing.assert_allclose(np.diff(s(t)), (lr - start) / max(warmup, 1), rtol=1e-9, atol=1e-14 * lr)
    assert s(warmup) == lr


@given(lrs, st.integers(3, 3000), st.data())
def test_wsd_is_continuous_at_its_joins(lr, total, data):
    warmup = data.draw(st.integers(0, total - 1))
    decay = data.draw(st.integers(1, total - warmup))
    s = lrlib.wsd(lr, total, warmup, decay, data.draw(fractions) * lr,
                  data.draw(st.sampled_from(["linear", "cosine", "sqrt"])))
    if warmup:
        np.testing.assert_allclose(np.diff(s(np.arange(warmup + 1))), lr / warmup, rtol=1e-9)
    assert s(total - decay) == lr  # the decay starts from the stable value
    assert s(total) == s.params["min_lr"] == s(total + 100)


def test_join_restarts_each_clock():
    a, b = lrlib.linear_decay(1.0, 10), lrlib.cosine_annealing(0.5, 20)
    s = lrlib.join([a, b], [10])
    t = np.arange(40)
    np.testing.assert_array_equal(s(t), np.where(t < 10, a(t), b(np.maximum(t - 10, 0))))


def test_inverse_sqrt_values():
    s = lrlib.inverse_sqrt(1.0, 100)
    np.testing.assert_allclose(s(np.array([0, 50, 100, 400])), [0.0, 0.5, 1.0, 0.5])


def test_repr_and_params():
    s = lrlib.linear_warmup(lrlib.cosine_annealing(0.1, 90), 10)
    assert repr(s) == ("linear_warmup(schedule=cosine_annealing(lr=0.1, total_steps=90, min_lr=0.0), "
                       "warmup_steps=10, start_lr=0.0)")
    assert s.params["warmup_steps"] == 10
    assert lrlib.one_cycle(1.0, 100).params["pct_start"] == 0.3


# --------------------------------------------------------------------------------------------------
# Bad input: a clear error naming the parameter

BAD = [
    (lambda: lrlib.constant(float("nan")), ValueError, "lr"),
    (lambda: lrlib.constant(-0.1), ValueError, "lr"),
    (lambda: lrlib.constant(0.0), ValueError, "lr"),
    (lambda: lrlib.constant(float("inf")), ValueError, "lr"),
    (lambda: lrlib.constant("0.1"), TypeError, "lr"),
    (lambda: lrlib.step_decay(0.1, 0), ValueError, "step_size"),
    (lambda: lrlib.step_decay(0.1, 2.5), TypeError, "step_size"),
    (lambda: lrlib.step_decay(0.1, 10, gamma=0.0), ValueError, "gamma"),
    (lambda: lrlib.step_decay(0.1, 10, gamma=-1), ValueError, "gamma"),
    (lambda: lrlib.multistep_decay(0.1, [30, 20]), ValueError, "milestones"),
    (lambda: lrlib.multistep_decay(0.1, [10, 10]), ValueError, "milestones"),
    (lambda: lrlib.multistep_decay(0.1, 10), TypeError, "milestones"),
    (lambda: lrlib.exponential_decay(0.1, 0.0), ValueError, "gamma"),
    (lambda: lrlib.exponential_decay(0.1, 1.5), ValueError, "gamma"),
    (lambda: lrlib.cosine_annealing(0.1, 0), ValueError, "total_steps"),
    (lambda: lrlib.cosine_annealing(0.1, 100, min_lr=0.2), ValueError, "min_lr"),
    (lambda: lrlib.cosine_warm_restarts(0.1, 0), ValueError, "period"),
    (lambda: lrlib.cosine_warm_restarts(0.1, 10, period_mult=0), ValueError, "period_mult"),
    (lambda: lrlib.cosine_warm_restarts(0.1, 10, period_mult=1.5), TypeError, "period_mult"),
    (lambda: lrlib.linear_decay(0.1, 100, end_lr=0.5), ValueError, "end_lr"),
    (lambda: lrlib.polynomial_decay(0.1, 100, power=0), ValueError, "power"),
    (lambda: lrlib.inverse_sqrt(0.1, 0), ValueError, "warmup_steps"),
    (lambda: lrlib.cyclic(0.1, 0.01, 10), ValueError, "max_lr"),
    (lambda: lrlib.cyclic(0.01, 0.1, 10, mode="sawtooth"), ValueError, "mode"),
    (lambda: lrlib.cyclic(0.01, 0.1, 0), ValueError, "step_size_up"),
    (lambda: lrlib.one_cycle(0.1, 100, pct_start=0.0), ValueError, "pct_start"),
    (lambda: lrlib.one_cycle(0.1, 100, pct_start=1.0), ValueError, "pct_start"),
    (lambda: lrlib.one_cycle(0.1, 100, anneal="exp"), ValueError, "anneal"),
    (lambda: lrlib.one_cycle(0.1, 1), ValueError, "total_steps"),
    (lambda: lrlib.one_cycle(0.1, 100, three_phase=True, pct_start=0.6), ValueError, "pct_start"),
    (lambda: lrlib.one_cycle_momentum(100, base_momentum=0.96), ValueError, "base_momentum"),
    (lambda: lrlib.linear_warmup(lambda t: 0.1, 10), TypeError, "schedule"),
    (lambda: lrlib.linear_warmup(lrlib.constant(0.1), -1), ValueError, "warmup_steps"),
    (lambda: lrlib.linear_warmup(lrlib.constant(0.1), 10, start_lr=1.0), ValueError, "start_lr"),
    (lambda: lrlib.join([lrlib.constant(0.1)], [10]), ValueError, "boundaries"),
    (lambda: lrlib.join([lrlib.constant(0.1)] * 3, [20, 10]), ValueError, "boundaries"),
    (lambda: lrlib.wsd(0.1, 100, warmup_steps=60, decay_steps=50), ValueError, r"warmup_steps \+ decay_steps"),
    (lambda: lrlib.wsd(0.1, 100, 10, 20, decay="exp"), ValueError, "decay"),
    (lambda: lrlib.ReduceOnPlateau(0.1, mode="lower"), ValueError, "mode"),
    (lambda: lrlib.ReduceOnPlateau(0.1, factor=1.0), ValueError, "factor"),
    (lambda: lrlib.ReduceOnPlateau(0.1, threshold_mode="pct"), ValueError, "threshold_mode"),
    (lambda: lrlib.ReduceOnPlateau(0.1, patience=-1), ValueError, "patience"),
]


@pytest.mark.parametrize("make,error,name", BAD, ids=[f"{i}-{b[2]}" for i, b in enumerate(BAD)])
def test_bad_arguments_name_the_parameter(make, error, name):
    with pytest.raises(error, match=name):
        make()


@pytest.mark.parametrize("step,error", [(-1, ValueError), (2.0, TypeError), (np.array([0, -3]), ValueError),
                                        (np.linspace(0, 1, 3), TypeError), (True, TypeError), ("3", TypeError)])
def test_bad_steps(step, error):
    with pytest.raises(error, match="step"):
        lrlib.cosine_annealing(0.1, 10)(step)


def test_never_nan_at_extremes():
    big = np.array([0, 1, 10 ** 6, 10 ** 9, 2 ** 62])
    for s in [lrlib.exponential_decay(1e-3, 0.5), lrlib.cosine_warm_restarts(1.0, 1, 2),
              lrlib.cyclic(1e-6, 1.0, 1, mode="exp_range", gamma=0.5), lrlib.inverse_sqrt(1.0, 1),
              lrlib.polynomial_decay(1.0, 1, 0.1), lrlib.one_cycle(10.0, 2, pct_start=0.9)]:
        assert np.all(np.isfinite(s(big))), repr(s)
    assert math.isfinite(lrlib.step_decay(1.0, 1, 1e-3)(10 ** 6))


@pytest.mark.parametrize("anneal", [lrlib.anneal_linear, lrlib.anneal_cos, lrlib.anneal_sqrt])
def test_annealers_go_exactly_from_start_to_end(anneal):
    pct = np.linspace(0.0, 1.0, 101)
    values = anneal(0.3, 0.01, pct)
    assert values[0] == 0.3 and values[-1] == 0.01
    assert np.all(np.diff(values) <= 0)
    assert anneal(0.3, 0.01, 0.0) == 0.3


def test_sqrt_annealing_is_linear_in_the_square_root():
    pct = np.linspace(0.0, 1.0, 11)
    np.testing.assert_allclose(lrlib.anneal_sqrt(1.0, 0.0, pct), 1.0 - np.sqrt(pct), atol=1e-15)
