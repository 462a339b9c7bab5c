"""Interactive widgets for the notebooks: slide a parameter, watch the schedule change.

``schedule_explorer(lrlib.step_decay, {"lr": (0.01, 1.0, 0.01), "step_size": (5, 50, 5),
"gamma": (0.1, 0.9, 0.05)}, steps=100)`` returns a widget with one slider per parameter above a plot
of the schedule; moving a slider rebuilds the schedule and redraws the curve.

How the plot is drawn, and why:

* Each widget owns one matplotlib ``Figure`` made without pyplot, so the inline backend never shows
  it by itself (no duplicate plots, nothing to close). A change only updates the line data (and, when
  needed, the axis limits) of that figure, renders it to PNG bytes (dpi 80: about 15 kB) and assigns
  them to an ``ipywidgets.Image``. The new bytes travel as one binary comm message and the browser
  swaps the picture: no flicker, no layout jump. When the axes stay the same only the curve is
  redrawn (see ``_PlotArea``): under 10 ms in the kernel, about 100 ms from key press to new picture
  in JupyterLab (tests/test_browser.py measures it).
* We do not use ipympl (``%matplotlib widget``): it needs its own front-end extension, and the
  figures it leaves in notebooks do not render outside a live JupyterLab. We do not use an ``Output``
  widget either: output captured with ``with out:`` reaches nbval as ordinary cell output (nbval does
  not know about Output widgets, nbclient does), so the stored and recomputed outputs would differ.
* The widget's display data also carries the first picture as ``image/png``. JupyterLab with a live
  kernel shows the widget; static viewers (GitHub, nbviewer, an untrusted notebook) fall back to the
  picture. nbval does not compare ``image/png``.

Invalid combinations (``min_lr > lr``, ...) never raise out of a callback: the ``ValueError`` message
of the lrlib constructor is shown in place of the plot until the values are valid again.
"""
from __future__ import annotations

import base64
import html
import io
import math
import numbers
from typing import Callable, Mapping

import numpy as np
import PIL.Image
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
import ipywidgets as widgets

from . import plot

__all__ = ["schedule_explorer", "schedule_comparator", "training_explorer", "make_control",
           "ScheduleExplorer", "ScheduleComparator", "TrainingExplorer"]

_DESCRIPTION_STYLE = {"description_width": "110px"}   # room for names like "warmup_steps"
_CONTROL_LAYOUT = dict(width="400px")


# --------------------------------------------------------------------------------------------------
# Controls: from a short spec to a widget

def make_control(name: str, spec, default=None) -> widgets.ValueWidget:
    """The widget for keyword ``name`` described by ``spec``.

    * an ipywidgets widget: used as is;
    * ``(min, max, step)``: an ``IntSlider`` if all three are ints, else a ``FloatSlider``;
    * ``(min, max, step, "log")``: a ``FloatLogSlider`` from min to max (actual values, both > 0),
      ``step`` being the step of the base-10 exponent (0.1 = ten positions per decade);
    * a list: a ``Dropdown`` of its items;
    * a bool: a ``Checkbox``.

    The initial value is ``default`` if given, else the middle of the range (the geometric middle for
    a log slider, the first item of a list, the bool itself for a checkbox).
    """
    if isinstance(spec, widgets.ValueWidget):
        if not spec.description:
            spec.description = name
        if default is not None:
            spec.value = default
        return spec
    common = dict(description=name, style=_DESCRIPTION_STYLE, layout=widgets.Layout(**_CONTROL_LAYOUT))
    if isinstance(spec, bool):
        return widgets.Checkbox(value=spec if default is None else default, indent=False,
                                description=name)
    if isinstance(spec, list):
        return widgets.Dropdown(options=spec, value=spec[0] if default is None else default, **common)
    if isinstance(spec, tuple) and len(spec) == 4 and spec[3] == "log":
        return _log_slider(spec[0], spec[1], spec[2], default, common)
    if isinstance(spec, tuple) and len(spec) == 3:
        low, high, step = spec
        if all(isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in spec):
            value = low + ((high - low) // 2 // step) * step if default is None else default
            return widgets.IntSlider(min=low, max=high, step=step, value=value,
                                     continuous_update=True, **common)
        value = low + round((high - low) / 2 / step) * step if default is None else default
        # ".4" (no type letter) is the d3 format the browser applies: like "g", without trailing zeros.
        return widgets.FloatSlider(min=low, max=high, step=step, value=_round_float(value),
                                   readout_format=".4", continuous_update=True, **common)
    raise TypeError(f"control {name!r}: expected a widget, (min, max, step), (min, max, step, 'log'), "
                    f"a list of choices or a bool, got {spec!r}")


def _log_slider(low, high, exponent_step, default, common) -> widgets.FloatLogSlider:
    if not 0 < low < high:
        raise ValueError(f"a log slider needs 0 < min < max, got min={low}, max={high}")
    low_exp, high_exp = math.log10(low), math.log10(high)
    if default is None:
        middle = (low_exp + high_exp) / 2
        default = 10 ** (low_exp + round((middle - low_exp) / exponent_step) * exponent_step)
    return widgets.FloatLogSlider(base=10, min=low_exp, max=high_exp, step=exponent_step,
                                  value=default, readout_format=".3", continuous_update=True,
                                  **common)


def _round_float(value: float) -> float:
    """Drop binary noise such as 0.30000000000000004 (min + n * step), so reprs read 0.3."""
    return float(f"{value:.12g}")


def _control_value(control: widgets.ValueWidget):
    """The value to pass to the schedule constructor."""
    value = control.value
    if isinstance(control, widgets.FloatLogSlider):
        # Keep the 3 significant digits the readout shows: what you see is what the schedule gets.
        return float(f"{value:.3g}")
    if isinstance(control, widgets.FloatSlider):
        return _round_float(value)
    return value


# --------------------------------------------------------------------------------------------------
# A figure shown through an Image widget

class _PlotArea:
    """A matplotlib figure drawn into an ``ipywidgets.Image``, plus a text area for error messages.

    Drawing axes, ticks and labels takes most of the time of a redraw (60-100 ms on a slow laptop),
    while drawing a line and encoding the PNG takes under 10 ms. So the lines that change are
    marked *animated* (``add_line``): a full draw leaves them out and we keep a copy of the pixels
    (the "background"); as long as the axes look the same (limits, scales, legend, ...) the next
    render pastes the background and draws only the lines on top ("blitting").
    """

    def __init__(self, ncols: int = 1, figsize=None):
        if figsize is None:
            figsize = plot.FIGSIZE if ncols == 1 else (4.5 * ncols, plot.FIGSIZE[1])
        # The project's style (grid, font sizes) whether or not the notebook called plot.style().
        with plot.styled():
            self.figure = Figure(figsize=figsize, dpi=plot.DPI, facecolor="white")
            self.canvas = FigureCanvasAgg(self.figure)
            self.axes = self.figure.subplots(1, ncols, squeeze=True)
        # Shown at its own pixel size: stretched to the page width it would look blurred.
        width_px = round(figsize[0] * plot.DPI)
        self.image = widgets.Image(format="png", layout=widgets.Layout(width=f"{width_px}px",
                                                                       height="auto"))
        self.message = widgets.HTML(layout=widgets.Layout(display="none"))
        self.error_text = ""       # the error shown in place of the plot, "" while the plot is shown
        self.render_count = 0      # full draws + blits; for tests
        self.full_draw_count = 0
        self._animated = []        # lines redrawn on every render
        self._background = None    # pixels of everything else...
        self._background_key = None  # ...and the state of the axes they show
        self._laid_out_for = None    # y tick label lengths the layout made room for

    def add_line(self, ax, **line_kwargs):
        """A line whose data changes between renders (drawn on top of the cached background)."""
        (line,) = ax.plot([], [], animated=True, **line_kwargs)
        self._animated.append(line)
        return line

    def _axes_state(self):
        """Everything that, if changed, makes the cached background stale."""
        state = [self.figure.get_size_inches().tobytes()]
        for ax in self.figure.axes:
            legend = ax.get_legend()
            state += [ax.get_xlim(), ax.get_ylim(), ax.get_xscale(), ax.get_yscale(), ax.get_title(),
                      tuple(text.get_text() for text in legend.get_texts()) if legend else None]
        return tuple(state)

    def render(self, full: bool = False) -> None:
        """Draw the figure (reusing the background when possible) and send it to the Image widget."""
        state = self._axes_state()
        if full or state != self._background_key:
            self._draw_all_but_animated()
            self._background = self.canvas.copy_from_bbox(self.figure.bbox)
            self._background_key = state
            self.full_draw_count += 1
        else:
            self.canvas.restore_region(self._background)
        for line in self._animated:
            if line.get_visible():
                line.axes.draw_artist(line)
        self.image.value = self._png_bytes()
        self.image.layout.display = None
        self.message.layout.display = "none"
        self.error_text = ""
        self.render_count += 1

    def _draw_all_but_animated(self) -> None:
        """A full draw. Constrained layout (room for tick labels, axis labels and title) doubles its
        cost, so the layout is computed again only when the y tick labels got longer since the last
        time; otherwise the axes keep their place."""
        label_lengths = self._y_tick_label_lengths()
        with plot.styled():  # ticks are created while drawing: style them too
            if self._laid_out_for is None or any(
                    new > old for new, old in zip(label_lengths, self._laid_out_for)):
                self.figure.set_layout_engine("constrained")
                self.canvas.draw()
                self.figure.set_layout_engine("none")
                self._laid_out_for = label_lengths
            else:
                self.canvas.draw()

    def forget_layout(self) -> None:
        self._laid_out_for = None

    def _y_tick_label_lengths(self) -> tuple:
        lengths = []
        for ax in self.figure.axes:
            labels = ax.yaxis.get_major_formatter().format_ticks(ax.get_yticks())
            lengths.append(max((len(label) for label in labels), default=0))
        return tuple(lengths)

    def _png_bytes(self) -> bytes:
        # Encode the canvas pixels directly; compress_level=1 is 3x faster than the default and the
        # file only ~20% larger.
        width, height = self.canvas.get_width_height()
        pixels = PIL.Image.frombuffer("RGBA", (width, height), self.canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
        buffer = io.BytesIO()
        pixels.convert("RGB").save(buffer, format="png", compress_level=1)
        return buffer.getvalue()

    def show_error(self, error: Exception) -> None:
        self.error_text = f"{type(error).__name__}: {error}"
        self.message.value = (f"<pre style='color:#b00020; white-space:pre-wrap'>"
                              f"{html.escape(self.error_text)}</pre>")
        self.message.layout.display = None
        self.image.layout.display = "none"

    def png_bundle(self, bundle: dict) -> dict:
        """Add the current picture as an image/png fallback to a widget's display data."""
        if self.image.value and not self.error_text:
            bundle["image/png"] = base64.b64encode(self.image.value).decode("ascii")
        return bundle


def _label_schedule_axes(ax, title, logy: bool) -> None:
    ax.set_xlabel("update t")
    ax.set_ylabel("learning rate")
    if logy:
        ax.set_yscale("log")
    if title:
        ax.set_title(title)


def _nice_ceiling(value: float) -> float:
    """The smallest of 1, 1.5, 2, 3, 4, 5, 6, 8 (x 10^k) that is >= value.

    Used as the top of the y axis: small changes of the peak then leave the axis as it is, so the
    redraw is fast (see _PlotArea) and the eye sees the curve move rather than the ticks.
    """
    exponent = math.floor(math.log10(value))
    for mantissa in (1, 1.5, 2, 3, 4, 5, 6, 8, 10):
        candidate = mantissa * 10.0 ** exponent
        if candidate >= value * (1 - 1e-12):
            return candidate
    return 10.0 ** (exponent + 1)


def _set_schedule_limits(ax, lines, steps: int, logy: bool) -> None:
    """x from 0 to steps-1; y from 0 to a round value above the peak (log axis: whole decades)."""
    ax.set_xlim(0, max(steps - 1, 1))
    values = [np.asarray(line.get_ydata(), dtype=np.float64) for line in lines
              if line.get_visible() and len(line.get_ydata())]
    values = np.concatenate(values) if values else np.zeros(1)
    values = values[np.isfinite(values)]
    if logy:
        positive = values[values > 0]
        if positive.size:
            ax.set_ylim(10.0 ** math.floor(math.log10(positive.min())),
                        10.0 ** math.ceil(math.log10(positive.max()) + 1e-9))
    else:
        top = values.max() if values.size else 0.0
        ax.set_ylim(0, _nice_ceiling(top * 1.02) if top > 0 else 1.0)


# --------------------------------------------------------------------------------------------------
# schedule_explorer

class ScheduleExplorer(widgets.VBox):
    """The widget ``schedule_explorer`` returns. Attributes for tests and curious learners:

    ``controls`` (name -> widget), ``schedule`` (the current Schedule, None while invalid),
    ``line`` (the matplotlib line of the curve), ``figure``, ``image`` (the Image widget showing it),
    ``message`` (the HTML widget showing errors), ``redraw_count``, ``error_text``.
    """

    def __init__(self, make_schedule: Callable, controls: Mapping, steps, *, logy: bool = False,
                 extra: Mapping[str, Callable] | None = None, title: str | None = None,
                 defaults: Mapping | None = None):
        defaults = dict(defaults or {})
        self.make_schedule = make_schedule
        self.logy = logy
        self.controls = {name: make_control(name, spec, defaults.get(name))
                         for name, spec in controls.items()}
        self._schedule_args = list(self.controls)   # every control is a keyword of make_schedule...
        self._steps_name, self._fixed_steps = self._horizon(steps, defaults)  # ...except a "steps" slider
        self.schedule = None
        self.redraw_count = 0

        self._plot = _PlotArea()
        ax = self._plot.axes
        self.figure, self.image, self.message = self._plot.figure, self._plot.image, self._plot.message
        # Fixed reference curves (e.g. the constant baseline) drawn grey behind the live one.
        self.extra = dict(extra or {})
        with plot.styled():
            self._extra_lines = {name: self._plot.add_line(ax, color="0.6", linestyle="--", label=name)
                                 for name in self.extra}
            self.line = self._plot.add_line(ax, color="C0", label="current")
            _label_schedule_axes(ax, title, logy)
            if self.extra:
                ax.legend(loc="upper right")
        self.summary = widgets.HTML()  # the constructor call, e.g. step_decay(lr=0.1, ...)

        for control in self.controls.values():
            control.observe(self._on_change, names="value")
        control_box = widgets.Box(list(self.controls.values()),
                                  layout=widgets.Layout(flex_flow="row wrap"))
        super().__init__([control_box, self._plot.image, self._plot.message, self.summary])
        self.redraw()

    def _horizon(self, steps, defaults):
        """Interpret ``steps``: a fixed int, the name of a control, or a spec for a new "steps" slider."""
        if isinstance(steps, numbers.Integral) and not isinstance(steps, bool):
            return None, int(steps)
        if isinstance(steps, str):
            if steps not in self.controls:
                raise ValueError(f"steps={steps!r} names no control; controls are {list(self.controls)}")
            return steps, None
        self.controls["steps"] = make_control("steps", steps, defaults.get("steps"))
        return "steps", None

    @property
    def steps(self) -> int:
        return self._fixed_steps if self._steps_name is None else int(self.controls[self._steps_name].value)

    @property
    def error_text(self) -> str:
        return self._plot.error_text

    def values(self) -> dict:
        """The keyword arguments ``make_schedule`` gets for the current control values."""
        return {name: _control_value(self.controls[name]) for name in self._schedule_args}

    def _on_change(self, change) -> None:
        self.redraw()

    def redraw(self) -> None:
        """Rebuild the schedule from the controls and redraw, or show why the values are invalid."""
        steps = self.steps
        t = np.arange(max(steps, 1))
        try:
            schedule = self.make_schedule(**self.values())
            lrs = schedule(t)
        except ValueError as error:  # an invalid combination, e.g. min_lr > lr: say so, don't crash
            self.schedule = None
            self._plot.show_error(error)
            self.summary.value = ""
            return
        self.schedule = schedule
        self.line.set_data(t, lrs)
        for name, reference in self.extra.items():
            self._extra_lines[name].set_data(t, reference(t))
        _set_schedule_limits(self._plot.axes, [self.line, *self._extra_lines.values()], steps, self.logy)
        self._plot.render()
        self.summary.value = f"<code>{html.escape(repr(schedule))}</code>"
        self.redraw_count += 1

    def _repr_mimebundle_(self, **kwargs):
        return self._plot.png_bundle(super()._repr_mimebundle_(**kwargs))

    def __repr__(self):
        # Short and free of volatile values: nbval compares this text/plain output.
        name = getattr(self.make_schedule, "__name__", type(self.make_schedule).__name__)
        return f"ScheduleExplorer({name}: {', '.join(self.controls)})"


def schedule_explorer(make_schedule: Callable, controls: Mapping, steps, *, logy: bool = False,
                      extra: Mapping[str, Callable] | None = None, title: str | None = None,
                      defaults: Mapping | None = None) -> ScheduleExplorer:
    """A widget to explore ``make_schedule(**controls)`` with sliders; display it in a notebook.

    ``make_schedule``: usually an lrlib constructor (``lrlib.cosine_annealing``) or a small lambda.
    ``controls``: keyword -> widget or spec (see ``make_control``), e.g.
    ``{"lr": (0.01, 1.0, 0.01), "gamma": (0.1, 0.9, 0.05), "mode": ["triangular", "exp_range"]}``.
    ``steps``: the plotted horizon, t = 0..steps-1: an int; or the name of one of the controls
    (``steps="total_steps"`` plots exactly the schedule's length); or a spec such as ``(50, 500, 10)``
    for a separate "steps" slider.
    ``logy``: logarithmic learning-rate axis. ``extra``: ``{label: schedule}`` drawn dashed grey for
    reference. ``title``: axes title. ``defaults``: initial control values (else mid-range).
    """
    return ScheduleExplorer(make_schedule, controls, steps, logy=logy, extra=extra, title=title,
                            defaults=defaults)


# --------------------------------------------------------------------------------------------------
# schedule_comparator

class ScheduleComparator(widgets.VBox):
    """The widget ``schedule_comparator`` returns: one checkbox per candidate, their curves overlaid.

    Attributes: ``checkboxes`` (name -> Checkbox), ``lines`` (name -> matplotlib line), ``logy``
    (the log-scale Checkbox), ``controls`` (includes "steps" when the horizon is a slider),
    ``redraw_count``, ``error_text``.
    """

    def __init__(self, candidates: Mapping[str, Callable], steps, *, selected=None, logy: bool = False,
                 title: str | None = None):
        self.candidates = dict(candidates)
        selected = set(self.candidates if selected is None else selected)
        self.checkboxes = {name: widgets.Checkbox(value=name in selected, description=name, indent=False,
                                                  layout=widgets.Layout(width="auto"))
                           for name in self.candidates}
        self.logy = widgets.Checkbox(value=logy, description="log scale", indent=False,
                                     layout=widgets.Layout(width="auto"))
        self.controls = {}
        if isinstance(steps, numbers.Integral) and not isinstance(steps, bool):
            self._fixed_steps = int(steps)
        else:
            self.controls["steps"] = make_control("steps", steps)
        self.redraw_count = 0

        self._plot = _PlotArea()
        self.figure, self.image, self.message = self._plot.figure, self._plot.image, self._plot.message
        ax = self._plot.axes
        # One line per candidate, created once; its color stays the same whatever the selection.
        with plot.styled():
            self.lines = {name: self._plot.add_line(ax, color=f"C{i % 10}", label=name)
                          for i, name in enumerate(self.candidates)}
            _label_schedule_axes(ax, title, logy=False)

        for widget in [*self.checkboxes.values(), self.logy, *self.controls.values()]:
            widget.observe(self._on_change, names="value")
        boxes = widgets.Box([*self.checkboxes.values(), self.logy],
                            layout=widgets.Layout(flex_flow="row wrap", grid_gap="0 12px"))
        super().__init__([boxes, *self.controls.values(), self._plot.image, self._plot.message])
        self.redraw()

    @property
    def steps(self) -> int:
        return int(self.controls["steps"].value) if "steps" in self.controls else self._fixed_steps

    @property
    def error_text(self) -> str:
        return self._plot.error_text

    def schedule(self, name: str, steps: int):
        """Candidate ``name`` as a Schedule: a Schedule is used as is, a factory gets the horizon."""
        from .schedules import Schedule
        candidate = self.candidates[name]
        return candidate if isinstance(candidate, Schedule) else candidate(steps)

    def _on_change(self, change) -> None:
        self.redraw()

    def redraw(self) -> None:
        steps = self.steps
        t = np.arange(steps)
        ax = self._plot.axes
        ax.set_yscale("log" if self.logy.value else "linear")
        for name, line in self.lines.items():
            shown = self.checkboxes[name].value
            line.set_visible(shown)
            if shown:
                try:
                    line.set_data(t, self.schedule(name, steps)(t))
                except ValueError as error:
                    self._plot.show_error(ValueError(f"{name}: {error}"))
                    return
        visible = [line for line in self.lines.values() if line.get_visible()]
        _set_schedule_limits(ax, visible, steps, self.logy.value)
        legend = ax.get_legend()
        if legend is not None:
            legend.remove()
        if visible:
            with plot.styled():
                ax.legend(handles=visible)
        self._plot.render()
        self.redraw_count += 1

    def _repr_mimebundle_(self, **kwargs):
        return self._plot.png_bundle(super()._repr_mimebundle_(**kwargs))

    def __repr__(self):
        return f"ScheduleComparator({', '.join(self.candidates)})"


def schedule_comparator(candidates: Mapping[str, Callable], steps, *, selected=None, logy: bool = False,
                        title: str | None = None) -> ScheduleComparator:
    """Tick any subset of ``candidates`` and see their curves overlaid.

    ``candidates``: ``{label: Schedule}`` or ``{label: factory}``, a factory being called with the
    horizon (``lambda T: lrlib.cosine_annealing(0.1, T)``) so that it follows a steps slider.
    ``steps``: an int, or a spec such as ``(100, 2000, 100)`` for a "steps" slider.
    ``selected``: the labels ticked at first (default: all). ``logy``: start with a log axis.
    """
    return ScheduleComparator(candidates, steps, selected=selected, logy=logy, title=title)


# --------------------------------------------------------------------------------------------------
# training_explorer

class TrainingExplorer(widgets.VBox):
    """The widget ``training_explorer`` returns. Attributes: ``controls``, ``button``, ``histories``
    (the last result of ``train``), ``run_count``, ``error_text``."""

    def __init__(self, train: Callable, controls: Mapping, *, defaults: Mapping | None = None,
                 run_now: bool = False, description: str = "Train"):
        defaults = dict(defaults or {})
        self.train = train
        self.controls = {name: make_control(name, spec, defaults.get(name))
                         for name, spec in controls.items()}
        for control in self.controls.values():
            control.continuous_update = False  # training is slow: act on release only (and on click)
        self.button = widgets.Button(description=description, button_style="primary")
        self.button.on_click(lambda _button: self.run())
        self.status = widgets.HTML("Press the button to train.")
        self.histories = None
        self.run_count = 0
        self._plot = _PlotArea(ncols=2)
        self._plot.image.layout.display = "none"  # nothing to show before the first run
        self.figure, self.image, self.message = self._plot.figure, self._plot.image, self._plot.message
        control_box = widgets.Box(list(self.controls.values()), layout=widgets.Layout(flex_flow="row wrap"))
        super().__init__([control_box, widgets.HBox([self.button, self.status]), self._plot.image,
                          self._plot.message])
        if run_now:
            self.run()

    @property
    def error_text(self) -> str:
        return self._plot.error_text

    def run(self) -> None:
        """Call ``train(**values)`` and plot the result (one history or ``{label: history}``)."""
        values = {name: _control_value(control) for name, control in self.controls.items()}
        self.button.disabled = True
        self.status.value = "training…"
        try:
            result = self.train(**values)
        except ValueError as error:
            self._plot.show_error(error)
            self.status.value = ""
            return
        finally:
            self.button.disabled = False
        self.histories = result if "loss" not in result else {"run": result}
        self.figure.clear()
        self._plot.forget_layout()  # new axes: lay them out afresh
        has_acc = any("val_acc" in h for h in self.histories.values())
        with plot.styled():
            axes = self.figure.subplots(1, 3 if has_acc else 2)
            plot.plot_training_runs(self.histories, axes=axes)
        self._plot.render(full=True)
        self.run_count += 1
        final = ", ".join(f"{name}: {h['loss'][-1]:.3g}" for name, h in self.histories.items())
        self.status.value = f"final training loss — {html.escape(final)}"

    def __repr__(self):
        name = getattr(self.train, "__name__", type(self.train).__name__)
        return f"TrainingExplorer({name}: {', '.join(self.controls)})"


def training_explorer(train: Callable, controls: Mapping, *, defaults: Mapping | None = None,
                      run_now: bool = False, description: str = "Train") -> TrainingExplorer:
    """Controls, a button, and the loss/lr curves of the last run of ``train(**control_values)``.

    ``train`` returns a history (dict with per-update "lr" and "loss", see
    ``plot.plot_training_runs``) or ``{label: history}``. It runs when the button is clicked (and at
    once with ``run_now=True``); keep it to a few seconds, the kernel is busy meanwhile.
    """
    return TrainingExplorer(train, controls, defaults=defaults, run_now=run_now, description=description)
