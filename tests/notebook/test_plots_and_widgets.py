"""Fast, headless tests of lrlib.notebook.plot and lrlib.notebook.widgets (no browser, no kernel)."""
import io

import matplotlib

matplotlib.use("Agg")  # before pyplot is imported anywhere: no display needed

import matplotlib.pyplot as plt
import numpy as np
import PIL.Image
import pytest

import lrlib
from lrlib import reference
from lrlib.notebook import plot, widgets


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def png_pixels(png: bytes) -> np.ndarray:
    return np.asarray(PIL.Image.open(io.BytesIO(png)).convert("RGB"))


# --------------------------------------------------------------------------------------------------
# lrlib.notebook.plot

def test_plot_schedule_draws_the_schedule_values():
    schedule = lrlib.step_decay(0.1, step_size=30, gamma=0.5)
    ax = plot.plot_schedule(schedule, 100, color="C3")
    (line,) = ax.get_lines()
    np.testing.assert_array_equal(line.get_xdata(), np.arange(100))
    np.testing.assert_array_equal(line.get_ydata(), schedule(np.arange(100)))
    assert line.get_label() == repr(schedule)
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("update t", "learning rate")
    assert ax.figure.dpi == plot.DPI


def test_plot_schedule_uses_given_axes_and_label():
    fig, ax = plot.new_figure()
    returned = plot.plot_schedule(lrlib.constant(0.1), 10, ax=ax, label="flat")
    assert returned is ax
    assert ax.get_lines()[0].get_label() == "flat"


def test_plot_schedule_rejects_a_bad_horizon():
    with pytest.raises(ValueError, match="steps"):
        plot.plot_schedule(lrlib.constant(0.1), 0)


def test_plot_schedules_overlays_each_with_its_legend_label():
    schedules = {"step": lrlib.step_decay(0.1, 30), "cosine": lrlib.cosine_annealing(0.1, 80)}
    ax = plot.plot_schedules(schedules, 120, title="two", logy=True)
    lines = ax.get_lines()
    assert [line.get_label() for line in lines] == ["step", "cosine"]
    for line, schedule in zip(lines, schedules.values(), strict=True):
        np.testing.assert_array_equal(line.get_ydata(), schedule(np.arange(120)))
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["step", "cosine"]
    assert ax.get_yscale() == "log" and ax.get_title() == "two"


def test_plot_schedules_y_range_fits_every_curve_and_starts_at_zero():
    ax = plot.plot_schedules({"low": lrlib.constant(0.1), "high": lrlib.constant(0.5)}, 10)
    bottom, top = ax.get_ylim()
    assert bottom == 0 and top >= 0.5  # the second, higher curve is not clipped


def test_plot_schedules_log_axis_has_a_positive_range():
    ax = plot.plot_schedules({"exp": lrlib.exponential_decay(0.1, 0.9)}, 100, logy=True)
    bottom, top = ax.get_ylim()
    assert 0 < bottom <= 0.1 * 0.9 ** 99 and top >= 0.1


def test_new_figure_shapes():
    fig, ax = plot.new_figure()
    assert tuple(fig.get_size_inches()) == plot.FIGSIZE
    fig, axes = plot.new_figure(ncols=3)
    assert axes.shape == (3,)


def test_moving_average():
    np.testing.assert_allclose(plot.moving_average([1, 2, 3, 4], 2), [1, 1.5, 2.5, 3.5])
    np.testing.assert_array_equal(plot.moving_average([1, 2, 3], 1), [1, 2, 3])


def test_plot_lr_and_loss_twin_axes():
    lrs, losses = np.linspace(0.1, 0.0, 50), np.exp(-np.arange(50) / 10)
    loss_ax, lr_ax = plot.plot_lr_and_loss(lrs, losses, smooth=5)
    np.testing.assert_array_equal(lr_ax.get_lines()[0].get_ydata(), lrs)
    raw, smoothed = loss_ax.get_lines()
    np.testing.assert_array_equal(raw.get_ydata(), losses)
    np.testing.assert_allclose(smoothed.get_ydata(), plot.moving_average(losses, 5))
    assert lr_ax.get_shared_x_axes().joined(lr_ax, loss_ax)


def test_plot_training_runs_places_validation_points_at_epoch_ends():
    history = {"lr": [0.1] * 20, "loss": list(np.linspace(2, 1, 20)), "val_loss": [1.8, 1.2],
               "val_acc": [0.5, 0.7], "steps_per_epoch": 10}
    other = {"lr": [0.05] * 20, "loss": list(np.linspace(2, 1.5, 20))}
    axes = plot.plot_training_runs({"a": history, "b": other})
    assert len(axes) == 3  # loss, lr, validation accuracy
    loss_ax, lr_ax, acc_ax = axes
    train_a, val_a, train_b = loss_ax.get_lines()
    np.testing.assert_array_equal(val_a.get_xdata(), [10, 20])
    np.testing.assert_array_equal(val_a.get_ydata(), [1.8, 1.2])
    np.testing.assert_array_equal(train_b.get_ydata(), other["loss"])
    np.testing.assert_array_equal(lr_ax.get_lines()[1].get_ydata(), other["lr"])
    np.testing.assert_array_equal(acc_ax.get_lines()[0].get_ydata(), [0.5, 0.7])


def test_plot_vs_torch_reports_the_relative_difference():
    schedule = lrlib.exponential_decay(0.1, 0.9)
    torch_lrs = schedule(np.arange(30)).copy()
    torch_lrs[5] *= 1 + 1e-3
    curve_ax, diff_ax = plot.plot_vs_torch(schedule, torch_lrs)
    np.testing.assert_array_equal(curve_ax.get_lines()[1].get_ydata(), torch_lrs)
    rel = diff_ax.get_lines()[0].get_ydata()
    assert rel[5] == pytest.approx(1e-3 / (1 + 1e-3))
    assert np.count_nonzero(rel) == 1
    assert "1.0e-03" in diff_ax.get_title()


def test_relative_difference_of_zeros_is_zero():
    np.testing.assert_array_equal(reference.relative_difference([0.0, 1.0], [0.0, 0.0]), [0.0, np.inf])


# --------------------------------------------------------------------------------------------------
# lrlib.notebook.widgets: controls

def test_make_control_kinds_and_middle_defaults():
    from ipywidgets import Checkbox, Dropdown, FloatLogSlider, FloatSlider, IntSlider
    int_slider = widgets.make_control("step_size", (5, 50, 5))
    assert isinstance(int_slider, IntSlider) and int_slider.value == 25
    float_slider = widgets.make_control("gamma", (0.1, 0.9, 0.05))
    assert isinstance(float_slider, FloatSlider) and float_slider.value == pytest.approx(0.5)
    log_slider = widgets.make_control("lr", (1e-4, 1.0, 0.1, "log"))
    assert isinstance(log_slider, FloatLogSlider) and log_slider.value == pytest.approx(1e-2)
    dropdown = widgets.make_control("mode", ["triangular", "triangular2"])
    assert isinstance(dropdown, Dropdown) and dropdown.value == "triangular"
    checkbox = widgets.make_control("three_phase", True)
    assert isinstance(checkbox, Checkbox) and checkbox.value is True
    assert widgets.make_control("gamma", (0.1, 0.9, 0.05), default=0.3).value == pytest.approx(0.3)
    with pytest.raises(TypeError, match="control 'x'"):
        widgets.make_control("x", "nonsense")


# --------------------------------------------------------------------------------------------------
# lrlib.notebook.widgets: schedule_explorer

def step_decay_explorer(**kwargs):
    return widgets.schedule_explorer(
        lrlib.step_decay, {"lr": (0.01, 1.0, 0.01), "step_size": (5, 50, 5), "gamma": (0.1, 0.9, 0.05)},
        steps=100, **kwargs)


def test_explorer_draws_the_schedule_of_the_initial_values():
    explorer = step_decay_explorer(defaults={"lr": 0.1, "step_size": 30})
    assert explorer.values() == {"lr": 0.1, "step_size": 30, "gamma": 0.5}
    expected = lrlib.step_decay(0.1, 30, 0.5)(np.arange(100))
    np.testing.assert_array_equal(explorer.line.get_ydata(), expected)
    assert repr(explorer.schedule) == "step_decay(lr=0.1, step_size=30, gamma=0.5)"
    assert bytes(explorer.image.value).startswith(b"\x89PNG")
    assert "step_decay(lr=0.1, step_size=30, gamma=0.5)" in explorer.summary.value


def test_explorer_redraws_when_a_control_changes():
    explorer = step_decay_explorer(defaults={"lr": 0.1})
    before_png, before_count = explorer.image.value, explorer.redraw_count
    explorer.controls["gamma"].value = 0.2
    assert explorer.redraw_count == before_count + 1
    np.testing.assert_array_equal(explorer.line.get_ydata(),
                                  lrlib.step_decay(0.1, 25, 0.2)(np.arange(100)))
    assert explorer.image.value != before_png
    # The picture really shows the new curve: the redrawn pixels differ from the old ones.
    assert np.any(png_pixels(explorer.image.value) != png_pixels(before_png))


def test_explorer_fast_redraw_matches_a_full_draw():
    """The blitted picture (axes unchanged, only the line redrawn) equals a picture drawn from scratch."""
    explorer = step_decay_explorer(defaults={"lr": 0.5})
    full_draws = explorer.plot_area.full_draw_count
    explorer.controls["gamma"].value = 0.3  # same peak lr, so same axes: the fast path
    assert explorer.plot_area.full_draw_count == full_draws
    fresh = step_decay_explorer(defaults={"lr": 0.5, "gamma": 0.3})
    np.testing.assert_array_equal(png_pixels(explorer.image.value), png_pixels(fresh.image.value))


def test_explorer_shows_an_invalid_combination_instead_of_raising():
    explorer = widgets.schedule_explorer(
        lrlib.cosine_annealing, {"lr": (0.01, 1.0, 0.01), "total_steps": (10, 200, 10),
                                 "min_lr": (0.0, 0.5, 0.01)},
        steps="total_steps", defaults={"lr": 0.5, "min_lr": 0.1})
    explorer.controls["lr"].value = 0.05  # now min_lr = 0.1 > lr
    assert "ValueError: min_lr must be in [0, lr]" in explorer.error_text
    assert "min_lr must be in [0, lr]" in explorer.message.value
    assert explorer.image.layout.display == "none" and explorer.schedule is None
    assert "image/png" not in explorer._repr_mimebundle_()  # no stale picture as fallback
    explorer.controls["lr"].value = 0.5  # valid again: the plot comes back
    assert explorer.error_text == "" and explorer.image.layout.display != "none"
    assert explorer.schedule is not None


def test_explorer_invalid_initial_values_do_not_raise():
    explorer = widgets.schedule_explorer(lambda lr, end_lr: lrlib.linear_decay(lr, 50, end_lr),
                                         {"lr": (0.1, 1.0, 0.1), "end_lr": (0.0, 1.0, 0.1)},
                                         steps=50, defaults={"lr": 0.2, "end_lr": 0.9})
    assert "end_lr" in explorer.error_text


def test_explorer_horizon_from_a_control_or_its_own_slider():
    by_name = widgets.schedule_explorer(lrlib.cosine_annealing, {"lr": (0.1, 1.0, 0.1),
                                                                 "total_steps": (10, 200, 10)},
                                        steps="total_steps")
    by_name.controls["total_steps"].value = 60
    assert len(by_name.line.get_xdata()) == 60 and by_name.values()["total_steps"] == 60

    own = widgets.schedule_explorer(lrlib.exponential_decay, {"lr": (1e-3, 1.0, 0.5, "log"),
                                                              "gamma": (0.9, 0.99, 0.01)},
                                    steps=(10, 500, 10), logy=True, extra={"flat": lrlib.constant(0.01)})
    assert "steps" not in own.values()  # the horizon is not a schedule argument
    own.controls["steps"].value = 30
    assert len(own.line.get_xdata()) == 30
    assert own.plot_area.axes.get_yscale() == "log"


def test_explorer_text_repr_is_short_and_stable():
    """nbval compares the widget cell's text/plain: it must not contain ids or addresses."""
    explorer = step_decay_explorer()
    bundle = explorer._repr_mimebundle_()
    assert bundle["text/plain"] == "ScheduleExplorer(step_decay: lr, step_size, gamma)"
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert "image/png" in bundle  # static fallback for GitHub / nbviewer


def test_explorer_does_not_register_a_pyplot_figure():
    plt.close("all")
    step_decay_explorer()
    assert plt.get_fignums() == []  # the inline backend would otherwise show a second plot


# --------------------------------------------------------------------------------------------------
# lrlib.notebook.widgets: schedule_comparator and training_explorer

def test_comparator_shows_the_ticked_candidates():
    candidates = {"step": lrlib.step_decay(0.1, 30), "cosine": lambda T: lrlib.cosine_annealing(0.1, T)}
    comparator = widgets.schedule_comparator(candidates, (50, 300, 10), selected=["cosine"])
    assert [line.get_visible() for line in comparator.lines.values()] == [False, True]
    comparator.controls["steps"].value = 100
    np.testing.assert_array_equal(comparator.lines["cosine"].get_ydata(),
                                  lrlib.cosine_annealing(0.1, 100)(np.arange(100)))
    count = comparator.redraw_count
    comparator.checkboxes["step"].value = True
    assert comparator.redraw_count == count + 1 and comparator.lines["step"].get_visible()
    legend = comparator.plot_area.axes.get_legend()
    assert [t.get_text() for t in legend.get_texts()] == ["step", "cosine"]
    comparator.logy.value = True
    assert comparator.plot_area.axes.get_yscale() == "log"


def test_comparator_reports_a_failing_candidate():
    comparator = widgets.schedule_comparator({"bad": lambda T: lrlib.cosine_annealing(0.1, T - 100)}, 50)
    assert "bad: total_steps must be" in comparator.error_text
