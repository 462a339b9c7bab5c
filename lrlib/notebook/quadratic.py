"""What a learning rate does, on quadratics: problems small enough to solve exactly.

Two model problems, both quadratics ``f(x) = 1/2 x^T A x`` whose minimum is ``x = 0``:

* **Deterministic gradient descent** ``x_{k+1} = x_k - lr_k A x_k``. In the eigenbasis of ``A`` every
  coordinate is multiplied by ``1 - lr_k * lambda_i`` per update, so the whole path has a closed
  form (``gradient_descent_path``) and the stability limit ``2 / L``, the best constant rate
  ``2 / (L + mu)`` and the contraction factor ``max_i |1 - lr * lambda_i|`` are one line each.
* **SGD with additive gradient noise** on a diagonal quadratic ``f(x) = sum_i a_i x_i^2 / 2``: the
  gradient is ``g = a * x + sigma * xi`` with ``xi ~ N(0, I)`` fresh at every update.
  ``noisy_sgd`` simulates many independent runs at once (vectorized over seeds, a loop over updates);
  ``expected_loss`` gives the exact mean loss at every update for any schedule (the second moment
  obeys a linear recursion); ``stationary_loss`` is the closed-form noise floor of a constant rate,
  ``lr sigma^2 / (2 (2 - lr a))`` per coordinate.

``quadratic_explorer()`` is the interactive version of the first problem: sliders for the learning
rate, the condition number and the number of updates; the path on the contour plot and the loss
curve are redrawn live (a ``lrlib.notebook.widgets.PlotWidget``).
"""
from __future__ import annotations

import math

import numpy as np

from ..checks import check_factor, check_int, check_lr
from . import plot
from .widgets import PlotWidget, make_control

__all__ = ["quadratic", "quadratic_loss", "eigenvalues", "stability_limit", "best_constant_lr",
           "contraction_factor", "gradient_descent_path", "plot_quadratic_path", "lr_array", "noisy_sgd",
           "expected_loss", "stationary_loss", "quadratic_explorer", "QuadraticExplorer"]


# --------------------------------------------------------------------------------------------------
# The deterministic quadratic

def quadratic(condition_number: float, largest: float = 1.0, dim: int = 2, rotation: float = 0.0) -> np.ndarray:
    """A symmetric positive definite ``dim x dim`` matrix with eigenvalues from ``mu = largest /
    condition_number`` to ``L = largest``.

    The eigenvalues are spaced geometrically (for ``dim = 2``: exactly ``mu`` and ``L``) and sorted
    increasingly along the coordinate axes, so with ``rotation = 0`` the first axis is the flattest
    direction and the last the steepest. ``rotation`` (radians, ``dim = 2`` only) turns the
    eigenvectors counter-clockwise.
    """
    condition_number = check_factor("condition_number", condition_number, 1.0, math.inf, low_open=False,
                                    high_open=True)
    largest = check_lr("largest", largest)
    dim = check_int("dim", dim, 1)
    if rotation and dim != 2:
        raise ValueError("rotation is only defined for dim = 2")
    lam = np.geomspace(largest / condition_number, largest, dim) if dim > 1 else np.array([float(largest)])
    if dim == 2 and rotation:
        c, s = math.cos(rotation), math.sin(rotation)
        q = np.array([[c, -s], [s, c]])
        return q @ np.diag(lam) @ q.T
    return np.diag(lam)


def quadratic_loss(A: np.ndarray, x: np.ndarray) -> np.ndarray:
    """``1/2 x^T A x`` over the last axis of ``x`` (any leading shape: a path, many seeds, ...)."""
    x = np.asarray(x, dtype=np.float64)
    return 0.5 * np.einsum("...i,ij,...j->...", x, np.asarray(A, dtype=np.float64), x)


def eigenvalues(A: np.ndarray) -> np.ndarray:
    """The eigenvalues of the symmetric matrix ``A``, increasing (``mu`` first, ``L`` last)."""
    return np.linalg.eigvalsh(np.asarray(A, dtype=np.float64))


def stability_limit(A: np.ndarray) -> float:
    """``2 / L``: gradient descent with a constant rate converges from every start iff ``0 < lr < 2/L``."""
    return 2.0 / float(eigenvalues(A)[-1])


def best_constant_lr(A: np.ndarray) -> float:
    """``2 / (L + mu)``, the constant rate with the smallest contraction factor ``(kappa-1)/(kappa+1)``."""
    lam = eigenvalues(A)
    return 2.0 / float(lam[-1] + lam[0])


def contraction_factor(A: np.ndarray, lr) -> np.ndarray | float:
    """``max_i |1 - lr * lambda_i|``: the factor by which the worst eigen-direction shrinks per update
    (the distance to the minimum shrinks at least this fast; the loss like its square).

    Vectorized over ``lr``. Below 1: convergence; above 1: divergence.
    """
    lam = eigenvalues(A)
    lr = np.asarray(lr, dtype=np.float64)
    rho = np.max(np.abs(1.0 - lr[..., None] * lam), axis=-1)
    return float(rho) if rho.ndim == 0 else rho


def lr_array(lr, steps: int) -> np.ndarray:
    """The rates of updates 0..steps-1 as a float array: ``lr`` may be a number, an array of length
    ``steps`` or a schedule (any callable taking ``np.arange(steps)``, e.g. an lrlib Schedule)."""
    steps = check_int("steps", steps, 0)
    if callable(lr):
        rates = np.asarray(lr(np.arange(steps)), dtype=np.float64)
    else:
        rates = np.asarray(lr, dtype=np.float64)
        if rates.ndim == 0:
            rates = np.full(steps, float(rates))
    if rates.shape != (steps,):
        raise ValueError(f"expected {steps} learning rates, got shape {rates.shape}")
    return rates


def gradient_descent_path(A: np.ndarray, x0, lr, steps: int) -> np.ndarray:
    """The iterates ``x_0 .. x_steps`` of ``x_{k+1} = x_k - lr_k A x_k``, shape ``(steps + 1, dim)``.

    Computed in closed form: with ``A = Q diag(lambda) Q^T`` the eigen-coordinates of ``x_k`` are those
    of ``x_0`` times ``prod_{j<k} (1 - lr_j lambda_i)`` (a cumulative product, no Python loop).
    ``lr``: a number, an array of ``steps`` rates, or a schedule. A divergent run overflows to
    inf without a warning: divergence is a result here, not an error.
    """
    A = np.asarray(A, dtype=np.float64)
    lam, q = np.linalg.eigh(A)
    z0 = q.T @ np.asarray(x0, dtype=np.float64)
    rates = lr_array(lr, steps)
    with np.errstate(over="ignore", invalid="ignore"):
        factors = np.cumprod(1.0 - rates[:, None] * lam[None, :], axis=0)
        z = np.vstack([z0[None, :], factors * z0[None, :]])
        return z @ q.T


def plot_quadratic_path(A: np.ndarray, path: np.ndarray, ax=None, title: str | None = None,
                        xlim=(-1.25, 1.25), ylim=(-1.0, 1.0), color: str = "C3"):
    """Contour lines of ``f(x) = 1/2 x^T A x`` (2-D) and a path of iterates on top; returns the axes.

    The contour levels are ``f(x_0)`` times 1e-3 .. 4 (geometric), so the start lies on the 4th line
    from the outside whatever A is. Iterates outside the window (a divergent run) are clipped.
    """
    if ax is None:
        _, ax = plot.new_figure(figsize=(3.5, 3.0))
    path = np.asarray(path, dtype=np.float64)
    x1, x2 = np.meshgrid(np.linspace(*xlim, 161), np.linspace(*ylim, 129))
    f = quadratic_loss(A, np.stack([x1, x2], axis=-1))
    levels = quadratic_loss(A, path[0]) * np.geomspace(1e-3, 4.0, 10)
    ax.contour(x1, x2, f, levels=levels, colors="0.7", linewidths=0.8)
    finite = np.isfinite(path).all(axis=1)
    ax.plot(path[finite, 0], path[finite, 1], color=color, marker="o", markersize=2.5, linewidth=1.0)
    ax.plot([0], [0], marker="*", color="k", markersize=8)
    ax.set(xlim=xlim, ylim=ylim, aspect="equal", xlabel=r"$x_1$", ylabel=r"$x_2$")
    ax.grid(False)
    if title:
        ax.set_title(title)
    return ax


# --------------------------------------------------------------------------------------------------
# SGD with noisy gradients

def _curvatures(a) -> np.ndarray:
    a = np.atleast_1d(np.asarray(a, dtype=np.float64))
    if a.ndim != 1 or np.any(a <= 0):
        raise ValueError("a must be a positive number or a 1-D array of positive curvatures")
    return a


def noisy_sgd(a, sigma: float, lr, steps: int, seeds: int, x0=1.0, seed: int = 0) -> np.ndarray:
    """Simulate ``seeds`` independent SGD runs on ``f(x) = sum_i a_i x_i^2 / 2``; return their losses.

    Each update uses the gradient ``a * x + sigma * xi`` with fresh ``xi ~ N(0, I)``:
    ``x_{k+1} = (1 - lr_k a) x_k - lr_k sigma xi_k``. ``a``: a curvature or an array of them (one per
    coordinate); ``x0``: the common start (broadcast to every coordinate); ``lr``: a number, an array
    of ``steps`` rates or a schedule. All seeds advance together (vectorized); the noise comes from
    ``numpy.random.default_rng(seed)``, so a call is reproducible.

    Returns ``losses`` of shape ``(steps + 1, seeds)``: ``losses[k, s]`` is ``f(x_k)`` of run ``s``.
    """
    a = _curvatures(a)
    rates = lr_array(lr, steps)
    seeds = check_int("seeds", seeds, 1)
    sigma = check_lr("sigma", sigma, allow_zero=True)
    rng = np.random.default_rng(seed)
    x = np.broadcast_to(np.asarray(x0, dtype=np.float64), a.shape).copy()
    x = np.repeat(x[None, :], seeds, axis=0)                   # (seeds, dim)
    losses = np.empty((steps + 1, seeds))
    losses[0] = 0.5 * (x * x) @ a
    with np.errstate(over="ignore", invalid="ignore"):
        for k in range(steps):
            x = (1.0 - rates[k] * a) * x - (rates[k] * sigma) * rng.standard_normal(x.shape)
            losses[k + 1] = 0.5 * (x * x) @ a
    return losses


def expected_loss(a, sigma: float, lr, steps: int, x0=1.0) -> np.ndarray:
    """The exact mean ``E[f(x_k)]``, k = 0..steps, of the runs ``noisy_sgd`` simulates.

    Per coordinate the second moment ``m_k = E[x_k^2]`` obeys
    ``m_{k+1} = (1 - lr_k a)^2 m_k + lr_k^2 sigma^2`` (the noise is independent of ``x_k``), and
    ``E[f(x_k)] = sum_i a_i m_{k,i} / 2``. ``lr`` is a number, an array of ``steps`` rates, a schedule,
    or a 2-D array ``(n, steps)`` of n schedules at once (then the result is ``(n, steps + 1)``).
    """
    a = _curvatures(a)
    rates = np.asarray(lr, dtype=np.float64) if not callable(lr) else lr_array(lr, steps)
    if rates.ndim == 2:
        if rates.shape[1] != steps:
            raise ValueError(f"expected {steps} learning rates per row, got shape {rates.shape}")
    else:
        rates = lr_array(rates, steps)
    x0 = np.broadcast_to(np.asarray(x0, dtype=np.float64), a.shape)
    m = np.broadcast_to(x0 ** 2, rates.shape[:-1] + a.shape).copy()   # (..., dim)
    out = np.empty(rates.shape[:-1] + (steps + 1,))
    out[..., 0] = 0.5 * m @ a
    with np.errstate(over="ignore", invalid="ignore"):
        for k in range(steps):
            eta = rates[..., k, None]
            m = (1.0 - eta * a) ** 2 * m + (eta * sigma) ** 2
            out[..., k + 1] = 0.5 * m @ a
    return out


def stationary_loss(a, sigma: float, lr):
    """The noise floor of a constant rate: ``lim E[f(x_k)] = sum_i lr sigma^2 / (2 (2 - lr a_i))``.

    From ``Var = (1 - lr a)^2 Var + lr^2 sigma^2``: ``Var = lr sigma^2 / (a (2 - lr a))`` and
    ``E[f] = a Var / 2``. For small ``lr`` this is ``lr sigma^2 dim / 4``: proportional to the rate and
    independent of the curvature. ``inf`` where ``lr >= 2 / a_i`` for some coordinate (no stationary
    distribution: the iterates diverge). Vectorized over ``lr``.
    """
    a = _curvatures(a)
    lr = np.asarray(lr, dtype=np.float64)
    eta = lr[..., None]
    with np.errstate(divide="ignore", invalid="ignore"):
        per_coordinate = np.where(eta * a < 2.0, eta * sigma ** 2 / (2.0 * (2.0 - eta * a)), np.inf)
    floor = per_coordinate.sum(axis=-1)
    return float(floor) if floor.ndim == 0 else floor


# --------------------------------------------------------------------------------------------------
# The interactive explorer

class QuadraticExplorer(PlotWidget):
    """Gradient descent on ``f(x) = 1/2 x^T A x`` in 2-D, ``A = diag(1/kappa, 1)`` (so ``L = 1``).

    Built by ``quadratic_explorer()``. Left: the contour lines of f and the path from ``x0``. Right:
    ``f(x_k) / f(x_0)`` on a log axis, with the bound ``rho^(2k)`` of the theory dashed. The contours,
    the path and both curves are animated lines over a cached background; the loss axis ends at a
    round number of updates (10, 20, 50, ...), so most slider moves keep the axes. Besides
    ``PlotWidget``'s attributes: ``path`` (the iterates drawn).
    """

    X_LIM = (-1.25, 1.25)
    Y_LIM = (-1.0, 1.0)
    LOSS_LIM = (1e-12, 1e4)

    def __init__(self, lr: float = 0.5, condition_number: float = 10.0, steps: int = 40, x0=(-1.0, 0.6)):
        self.x0 = np.asarray(x0, dtype=np.float64)
        super().__init__({
            "lr": make_control("lr", (0.01, 3.0, 0.01, "log"), lr),
            "condition_number": make_control("condition_number", (1.0, 1000.0, 0.05, "log"), condition_number),
            "steps": make_control("steps", (5, 200, 5), steps),
        }, ncols=2)
        path_ax, loss_ax = self.axes
        with plot.styled():
            path_ax.set_xlim(*self.X_LIM)
            path_ax.set_ylim(*self.Y_LIM)
            path_ax.set_aspect("equal")
            path_ax.set_xlabel(r"$x_1$ (flat direction, $\lambda = \mu = 1/\kappa$)")
            path_ax.set_ylabel(r"$x_2$ (steep, $\lambda = L = 1$)")
            path_ax.plot([0], [0], marker="*", color="k", markersize=8)
            self._contour_line = self.plot_area.add_line(path_ax, color="0.7", linewidth=0.8)
            self._path_line = self.plot_area.add_line(path_ax, color="C3", marker="o", markersize=2.5,
                                                      linewidth=1.0)
            loss_ax.set_yscale("log")
            loss_ax.set_ylim(*self.LOSS_LIM)
            loss_ax.set_xlabel("update k")
            loss_ax.set_ylabel(r"$f(x_k) / f(x_0)$")
            self._loss_line = self.plot_area.add_line(loss_ax, color="C3", label="gradient descent")
            self._theory_line = self.plot_area.add_line(loss_ax, color="0.4", linestyle="--",
                                                        label=r"bound $\rho^{2k}$")
            loss_ax.legend(handles=[self._loss_line, self._theory_line], loc="lower left")
        self.start()
        # The first draw placed the axes (constrained layout); keep them there, so that the panels
        # do not jump when the steps axis changes.
        self.figure.set_layout_engine("none")

    def _contour_data(self, A):
        """Level sets of f as one NaN-separated polyline: for diagonal A they are ellipses
        ``x_i = sqrt(2 c / lambda_i) * (cos, sin)``, so the contours can be an animated line too."""
        theta = np.append(np.linspace(0.0, 2.0 * np.pi, 121), np.nan)
        levels = quadratic_loss(A, self.x0) * np.geomspace(1e-3, 4.0, 10)
        radius = np.sqrt(2.0 * levels)[:, None]
        x1 = radius / math.sqrt(A[0, 0]) * np.cos(theta)
        x2 = radius / math.sqrt(A[1, 1]) * np.sin(theta)
        return x1.ravel(), x2.ravel()

    def draw(self, values: dict) -> str:
        lr, kappa, steps = values["lr"], values["condition_number"], int(values["steps"])
        A = quadratic(kappa)
        self._contour_line.set_data(*self._contour_data(A))
        self.path = gradient_descent_path(A, self.x0, lr, steps)
        k = np.arange(steps + 1)
        with np.errstate(over="ignore", invalid="ignore"):
            rel = quadratic_loss(A, self.path) / quadratic_loss(A, self.x0)
        rho = contraction_factor(A, lr)
        shown = np.isfinite(self.path).all(axis=1)
        self._path_line.set_data(self.path[shown, 0], self.path[shown, 1])
        self._loss_line.set_data(k[shown], np.clip(rel[shown], 1e-300, None))
        with np.errstate(over="ignore", under="ignore"):
            self._theory_line.set_data(k, np.clip(rho ** (2.0 * k), 1e-300, 1e300))
        self.axes[1].set_xlim(0, next(n for n in (10, 20, 50, 100, 200, 500, 1000, steps) if n >= steps))
        return self._summary_html(A, lr, rho, rel[-1])

    @staticmethod
    def _summary_html(A, lr, rho, final) -> str:
        mu, L = eigenvalues(A)
        if lr > 2.0 / L:
            verdict = "<b style='color:#b00020'>diverges</b> (lr &gt; 2/L)"
        elif lr == 2.0 / L:
            verdict = ("<b>does not converge</b>: the steep direction flips sign forever at constant size "
                       "(lr = 2/L exactly)")
        elif lr > 1.0 / L:
            verdict = "converges, <b>oscillating</b> in the steep direction (1/L &lt; lr &lt; 2/L)"
        else:
            verdict = "converges monotonically (lr &le; 1/L)"
        return (
            f"lr = {lr:.3g}: factors 1 &minus; lr&middot;&mu; = {1 - lr * mu:.3g}, "
            f"1 &minus; lr&middot;L = {1 - lr * L:.3g}, &rho; = {rho:.3g} &rarr; {verdict}. "
            f"Stability limit 2/L = {2 / L:.3g}; best constant rate 2/(L+&mu;) = {2 / (L + mu):.3g} "
            f"with &rho;* = (&kappa;&minus;1)/(&kappa;+1) = {(L - mu) / (L + mu):.3g}. "
            f"Final f/f&#8320; = {final:.2e}.")

    def __repr__(self):
        return "QuadraticExplorer(lr, condition_number, steps)"


def quadratic_explorer(lr: float = 0.5, condition_number: float = 10.0, steps: int = 40,
                       x0=(-1.0, 0.6)) -> QuadraticExplorer:
    """Sliders for the learning rate (log scale, ``L = 1`` so the stability limit is 2), the condition
    number ``kappa`` (log scale, 1 to 1000) and the number of updates; the gradient-descent path on
    the contour plot of ``f`` and the loss curve are redrawn live. Display the returned widget."""
    return QuadraticExplorer(lr=lr, condition_number=condition_number, steps=steps, x0=x0)
