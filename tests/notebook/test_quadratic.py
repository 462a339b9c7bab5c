"""Tests for lrlib.notebook.quadratic: the closed forms of notebook 01 against direct computation and simulation."""
import math

import numpy as np
import pytest

import lrlib
from lrlib.notebook import quadratic

# --------------------------------------------------------------------------------------------------
# Deterministic gradient descent

@pytest.mark.parametrize("kappa", [1.0, 10.0, 1000.0])
@pytest.mark.parametrize("rotation", [0.0, 0.7])
def test_quadratic_has_the_requested_spectrum(kappa, rotation):
    A = quadratic.quadratic(kappa, largest=2.0, rotation=rotation)
    np.testing.assert_allclose(A, A.T)
    np.testing.assert_allclose(quadratic.eigenvalues(A), [2.0 / kappa, 2.0], rtol=1e-12)


def test_quadratic_in_more_dimensions_spans_mu_to_L():
    lam = quadratic.eigenvalues(quadratic.quadratic(100.0, dim=5))
    np.testing.assert_allclose(lam, np.geomspace(0.01, 1.0, 5), rtol=1e-12)


@pytest.mark.parametrize("bad", [dict(condition_number=0.5), dict(condition_number=10, largest=0),
                                 dict(condition_number=10, dim=3, rotation=0.1)])
def test_quadratic_rejects_invalid_arguments(bad):
    with pytest.raises(ValueError):
        quadratic.quadratic(**bad)


def _loop_path(A, x0, rates):
    xs = [np.asarray(x0, dtype=float)]
    for eta in rates:
        xs.append(xs[-1] - eta * A @ xs[-1])
    return np.array(xs)


@pytest.mark.parametrize("lr", [0.3, 1.7, lrlib.cosine_annealing(1.5, 30)])
def test_closed_form_path_equals_the_update_loop(lr):
    A = quadratic.quadratic(20.0, rotation=0.4)
    x0 = np.array([0.8, -0.3])
    path = quadratic.gradient_descent_path(A, x0, lr, 30)
    assert path.shape == (31, 2)
    np.testing.assert_allclose(path, _loop_path(A, x0, quadratic.lr_array(lr, 30)), rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("kappa", [2.0, 50.0])
def test_converges_below_and_diverges_above_two_over_L(kappa):
    A = quadratic.quadratic(kappa, largest=4.0, rotation=0.3)
    limit = quadratic.stability_limit(A)
    assert limit == pytest.approx(0.5)
    x0 = np.array([1.0, 1.0])
    f0 = quadratic.quadratic_loss(A, x0)
    steps = 4000
    below = quadratic.quadratic_loss(A, quadratic.gradient_descent_path(A, x0, 0.99 * limit, steps))
    above = quadratic.quadratic_loss(A, quadratic.gradient_descent_path(A, x0, 1.01 * limit, steps // 10))
    assert below[-1] < 1e-8 * f0
    assert above[-1] > 1e3 * f0
    # The worst direction shrinks (or grows) by exactly the contraction factor per update.
    assert quadratic.contraction_factor(A, 0.99 * limit) < 1 < quadratic.contraction_factor(A, 1.01 * limit)


def test_oscillation_between_one_and_two_over_L():
    A = quadratic.quadratic(10.0)                   # L = 1, steep direction = second coordinate
    path = quadratic.gradient_descent_path(A, [0.0, 1.0], 1.5, 6)
    np.testing.assert_allclose(path[:, 1], (-0.5) ** np.arange(7))   # factor 1 - 1.5 L = -0.5


@pytest.mark.parametrize("kappa", [1.0, 4.0, 100.0])
def test_best_constant_rate_minimizes_the_contraction_factor(kappa):
    A = quadratic.quadratic(kappa, largest=3.0)
    grid = np.linspace(1e-4, quadratic.stability_limit(A), 20001)
    rho = quadratic.contraction_factor(A, grid)
    best = quadratic.best_constant_lr(A)
    assert best == pytest.approx(2.0 / (3.0 + 3.0 / kappa))
    assert quadratic.contraction_factor(A, best) == pytest.approx((kappa - 1) / (kappa + 1), abs=1e-12)
    assert quadratic.contraction_factor(A, best) <= rho.min() + 1e-12
    assert abs(grid[rho.argmin()] - best) < 2 * (grid[1] - grid[0])


def test_divergent_path_is_a_result_not_an_error():
    A = quadratic.quadratic(10.0)
    with np.errstate(all="raise"):  # no warning escapes
        path = quadratic.gradient_descent_path(A, [1.0, 1.0], 2.5, 2000)
    assert not np.isfinite(path[-1]).all()


# --------------------------------------------------------------------------------------------------
# SGD with noisy gradients

def test_stationary_loss_formula_and_limits():
    eta = np.array([0.01, 0.5, 1.0, 1.99, 2.0, 3.0])
    floor = quadratic.stationary_loss(1.0, 2.0, eta)
    np.testing.assert_allclose(floor[:4], eta[:4] * 4.0 / (2 * (2 - eta[:4])))
    assert np.all(np.isinf(floor[4:]))
    # small rates: lr sigma^2 dim / 4 whatever the curvatures
    assert quadratic.stationary_loss([0.1, 1.0, 10.0], 1.0, 1e-6) == pytest.approx(3e-6 / 4, rel=1e-5)


@pytest.mark.parametrize("eta", [0.05, 0.5, 1.5])
def test_expected_loss_matches_the_closed_form_for_a_constant_rate(eta):
    a, sigma, x0, k = 0.8, 0.7, 3.0, np.arange(201)
    var = eta * sigma ** 2 / (a * (2 - eta * a))
    decay = (1 - eta * a) ** (2 * k)
    closed = a / 2 * (decay * x0 ** 2 + var * (1 - decay))
    np.testing.assert_allclose(quadratic.expected_loss(a, sigma, eta, 200, x0=x0), closed, rtol=1e-10)


def test_expected_loss_is_vectorized_over_schedules():
    rows = np.array([np.full(50, 0.1), lrlib.cosine_annealing(0.5, 50)(np.arange(50))])
    both = quadratic.expected_loss([1.0, 0.1], 1.0, rows, 50, x0=2.0)
    assert both.shape == (2, 51)
    np.testing.assert_allclose(both[1], quadratic.expected_loss([1.0, 0.1], 1.0, rows[1], 50, x0=2.0))


def test_noisy_sgd_is_reproducible_and_shaped():
    first = quadratic.noisy_sgd([1.0, 0.5], 1.0, 0.1, 20, 7, x0=1.0, seed=3)
    assert first.shape == (21, 7)
    np.testing.assert_array_equal(first, quadratic.noisy_sgd([1.0, 0.5], 1.0, 0.1, 20, 7, x0=1.0, seed=3))
    assert first[0] == pytest.approx(0.75)
    noiseless = quadratic.noisy_sgd(1.0, 0.0, 0.3, 10, 2, x0=2.0)
    np.testing.assert_allclose(noiseless[:, 0], 0.5 * 4.0 * 0.7 ** (2 * np.arange(11)))


@pytest.mark.parametrize("eta", [0.02, 0.2, 0.9, 1.8])
def test_stationary_loss_matches_simulation(eta):
    """Started at 0, x_k is exactly Gaussian with variance V_k, so f(x_k) = a x_k^2 / 2 at a fixed k is a
    scaled chi-square with 1 degree of freedom: relative standard deviation sqrt(2). The mean over N
    independent seeds then has relative standard error sqrt(2 / N) (2.2% for N = 4000); we allow 5 of
    them. The run is long enough (V_k = V (1 - (1 - eta a)^(2k)), and (1 - eta a)^(2k) < e^-10) that V_k
    equals the stationary variance to 1e-4 (checked with the exact recursion)."""
    a, sigma, seeds = 1.0, 1.0, 4000
    steps = int(math.ceil(10.0 / -math.log((1 - eta * a) ** 2)))
    exact = quadratic.expected_loss(a, sigma, eta, steps, x0=0.0)[-1]
    floor = quadratic.stationary_loss(a, sigma, eta)
    assert exact == pytest.approx(floor, rel=1e-4)
    simulated = quadratic.noisy_sgd(a, sigma, eta, steps, seeds, x0=0.0, seed=1)[-1].mean()
    assert abs(simulated - floor) < 5 * math.sqrt(2.0 / seeds) * floor


def test_noisy_sgd_mean_follows_expected_loss_for_a_schedule():
    """Mean of 3000 seeds within 5 standard errors (estimated from the samples) of the exact mean, at
    several updates along a cosine schedule, in 2-D."""
    a, schedule, steps, seeds = np.array([1.0, 0.05]), lrlib.cosine_annealing(0.5, 300), 300, 3000
    losses = quadratic.noisy_sgd(a, 0.5, schedule, steps, seeds, x0=[1.0, 4.0], seed=2)
    exact = quadratic.expected_loss(a, 0.5, schedule, steps, x0=[1.0, 4.0])
    for k in (1, 10, 100, 299, 300):
        standard_error = losses[k].std(ddof=1) / math.sqrt(seeds)
        assert abs(losses[k].mean() - exact[k]) < 5 * standard_error


def test_decay_beats_every_constant_rate_on_the_noisy_quadratic():
    a, sigma, x0, steps = 1.0, 1.0, 10.0, 1000
    constants = np.geomspace(1e-4, 1.9, 300)
    best_constant = quadratic.expected_loss(a, sigma, np.repeat(constants[:, None], steps, 1), steps, x0)[:, -1].min()
    cosine = quadratic.expected_loss(a, sigma, lrlib.cosine_annealing(0.02, steps), steps, x0)[-1]
    assert cosine < 0.7 * best_constant


def test_lr_array_rejects_a_wrong_length():
    with pytest.raises(ValueError):
        quadratic.lr_array(np.ones(5), 6)


# --------------------------------------------------------------------------------------------------
# The explorer widget

def test_quadratic_explorer_redraws_and_classifies():
    pytest.importorskip("ipywidgets")
    explorer = quadratic.quadratic_explorer(lr=0.5, condition_number=10.0, steps=30)
    count = explorer.redraw_count
    assert explorer.path.shape == (31, 2)
    assert "monotonically" in explorer.summary.value
    explorer.controls["lr"].value = 1.5
    assert explorer.redraw_count == count + 1
    assert "oscillating" in explorer.summary.value
    explorer.controls["lr"].value = 2.0
    assert "does not converge" in explorer.summary.value
    explorer.controls["lr"].value = 2.2
    assert "diverges" in explorer.summary.value
    explorer.controls["condition_number"].value = 100.0
    explorer.controls["steps"].value = 35       # same loss-axis limit (50)
    # Speed: none of these moves redrew the axes; only the lines were drawn on the cached background.
    assert explorer.plot_area.full_draw_count == 1
    explorer.controls["steps"].value = 100
    assert explorer.path.shape == (101, 2)
    bundle = explorer._repr_mimebundle_()
    assert bundle["text/plain"] == "QuadraticExplorer(lr, condition_number, steps)"
    assert "image/png" in bundle
