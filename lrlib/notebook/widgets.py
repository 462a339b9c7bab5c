"""Interactive widgets for the notebooks: move a control, watch the plot change.

Every widget here is a ``PlotWidget``: controls above a matplotlib figure that is drawn into an
``ipywidgets.Image``, and redrawn whenever a control moves. A subclass says what to draw
(``draw(values)``); the base class builds the controls from short specs (``make_control``), shows the
figure, turns a ``ValueError`` of the drawing code into a message in place of the plot, and gives
static viewers (GitHub, nbviewer, an untrusted notebook) the picture as an ``image/png`` fallback.

``schedule_explorer(lrlib.step_decay, {"lr": (0.01, 1.0, 0.01), "step_size": (5, 50, 5),
"gamma": (0.1, 0.9, 0.05)}, steps=100)`` is one slider per parameter above the schedule's curve.
``schedule_comparator`` overlays any subset of candidate schedules. ``warm_restarts_explorer`` adds
the table of SGDR cycles, ``multistep_decay_from_text`` reads milestones typed in a text box, and
``plateau_explorer`` replays a metric curve through ``ReduceOnPlateau``.

Each figure is made without pyplot, so the inline backend never shows it by itself; a redraw sends
PNG bytes to the ``Image`` widget (no ipympl, no ``Output`` widget: both would leave outputs that
nbval cannot replay). Lines that change are drawn on a cached background (``PlotArea``).
"""
from __future__ import annotations

import base64
import html
import io
import math
import numbers
import re
from typing import Callable, Mapping, Sequence

import ipywidgets as widgets
import numpy as np
import PIL.Image
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from ..plateau import ReduceOnPlateau
from ..schedules import Schedule, cosine_warm_restarts, multistep_decay
from . import plot

__all__ = ["make_control", "control_value", "PlotArea", "PlotWidget", "ScheduleExplorer", "schedule_explorer",
           "ScheduleComparator", "schedule_comparator", "parse_milestones", "multistep_decay_from_text",
           "milestones_text", "restart_cycles", "cycle_table", "warm_restarts_explorer", "PYTORCH_PLATEAU_DEFAULTS",
           "PlateauExplorer", "plateau_explorer"]

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


def control_value(control: widgets.ValueWidget):
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

class PlotArea:
    """A matplotlib figure drawn into an ``ipywidgets.Image``, plus a text area for error messages.

    Drawing axes, ticks and labels costs far more than drawing a line and encoding the PNG. So the
    lines that change are marked *animated* (``add_line``): a full draw leaves them out and keeps a
    copy of the pixels (the "background"); as long as the axes look the same (limits, scales,
    legend, ...) the next render pastes the background and draws only the lines on top ("blitting").
    """

    def __init__(self, ncols: int = 1, figsize=None):
        if figsize is None:
            figsize = plot.FIGSIZE if ncols == 1 else (plot.PANEL_WIDTH * ncols, plot.FIGSIZE[1])
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
        """A full draw. The constrained layout (room for tick labels, axis labels and title) is
        computed again only when the y tick labels got longer since the last time; otherwise the axes
        keep their place."""
        label_lengths = self._y_tick_label_lengths()
        with plot.styled():  # ticks are created while drawing: style them too
            if self._laid_out_for is None or any(
                    new > old for new, old in zip(label_lengths, self._laid_out_for, strict=True)):
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
        # Encode the canvas pixels directly, with fast (level 1) compression.
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


def _nice_ceiling(value: float) -> float:
    """The smallest of 1, 1.5, 2, 3, 4, 5, 6, 8 (x 10^k) that is >= value.

    Used as the top of the y axis: small changes of the peak then leave the axis as it is, so the
    redraw is a blit (see PlotArea) and the eye sees the curve move rather than the ticks.
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
# The base of every widget

class PlotWidget(widgets.VBox):
    """Controls above a figure, redrawn whenever a control moves.

    A subclass implements ``draw(values)``: update the figure from ``values`` (control name ->
    value, see ``control_value``) and return an HTML summary to show under the plot ("" for none),
    or raise ``ValueError`` for values that do not go together; the message is then shown in place
    of the plot until the values are valid again. Attributes: ``controls`` (name -> widget),
    ``plot_area`` (the ``PlotArea``), ``figure``, ``image``, ``message``, ``summary``,
    ``redraw_count`` (successful redraws), ``error_text``. A subclass that rebuilds its axes on
    every draw sets ``full_redraw = True`` (no cached background).
    """

    full_redraw = False

    def __init__(self, controls: Mapping, *, ncols: int = 1, figsize=None, above=(), below=()):
        self.controls = dict(controls)
        self.plot_area = PlotArea(ncols=ncols, figsize=figsize)
        self.figure, self.image, self.message = self.plot_area.figure, self.plot_area.image, self.plot_area.message
        self.summary = widgets.HTML()
        self.redraw_count = 0
        control_box = widgets.Box(list(self.controls.values()), layout=widgets.Layout(flex_flow="row wrap"))
        super().__init__([*above, control_box, self.image, self.message, self.summary, *below])

    def start(self) -> None:
        """Observe the controls and draw once; subclasses call it at the end of ``__init__``."""
        for control in self.controls.values():
            control.observe(self._on_change, names="value")
        self.redraw()

    @property
    def axes(self):
        return self.plot_area.axes

    @property
    def error_text(self) -> str:
        return self.plot_area.error_text

    def values(self) -> dict:
        return {name: control_value(control) for name, control in self.controls.items()}

    def draw(self, values: dict) -> str:
        raise NotImplementedError

    def _on_change(self, change) -> None:
        self.redraw()

    def redraw(self) -> None:
        try:
            summary = self.draw(self.values())
        except ValueError as error:  # an invalid combination, e.g. min_lr > lr: say so, don't crash
            self.plot_area.show_error(error)
            self.summary.value = ""
            return
        self.plot_area.render(full=self.full_redraw)
        self.summary.value = summary or ""
        self.redraw_count += 1

    def _repr_mimebundle_(self, **kwargs):
        bundle = super()._repr_mimebundle_(**kwargs)
        bundle["text/plain"] = repr(self)  # short and free of volatile values: nbval compares it
        return self.plot_area.png_bundle(bundle)

    def __repr__(self):
        return f"{type(self).__name__}({', '.join(self.controls)})"


# --------------------------------------------------------------------------------------------------
# schedule_explorer

class ScheduleExplorer(PlotWidget):
    """The widget ``schedule_explorer`` returns. Besides ``PlotWidget``'s attributes: ``schedule``
    (the current Schedule, None while invalid), ``line`` (the matplotlib line of the curve), ``steps``.
    """

    def __init__(self, make_schedule: Callable, controls: Mapping, steps, *, logy: bool = False,
                 extra: Mapping[str, Callable] | None = None, title: str | None = None,
                 defaults: Mapping | None = None):
        defaults = dict(defaults or {})
        self.make_schedule = make_schedule
        self.logy = logy
        built = {name: make_control(name, spec, defaults.get(name)) for name, spec in controls.items()}
        self._schedule_args = list(built)  # every control is a keyword of make_schedule...
        if isinstance(steps, numbers.Integral) and not isinstance(steps, bool):  # ...except a "steps" slider
            self._steps_name, self._fixed_steps = None, int(steps)
        elif isinstance(steps, str):
            if steps not in built:
                raise ValueError(f"steps={steps!r} names no control; controls are {list(built)}")
            self._steps_name, self._fixed_steps = steps, None
        else:
            built["steps"] = make_control("steps", steps, defaults.get("steps"))
            self._steps_name, self._fixed_steps = "steps", None
        super().__init__(built)
        self.schedule = None
        # Fixed reference curves (e.g. the constant baseline) drawn grey behind the live one.
        self.extra = dict(extra or {})
        ax = self.axes
        with plot.styled():
            self._extra_lines = {name: self.plot_area.add_line(ax, color="0.6", linestyle="--", label=name)
                                 for name in self.extra}
            self.line = self.plot_area.add_line(ax, color="C0", label="current")
            plot.label_schedule_axes(ax, logy=logy, title=title)
            if self.extra:
                ax.legend(loc="upper right")
        self.start()

    @property
    def steps(self) -> int:
        return self._fixed_steps if self._steps_name is None else int(self.controls[self._steps_name].value)

    def values(self) -> dict:
        """The keyword arguments ``make_schedule`` gets for the current control values."""
        return {name: control_value(self.controls[name]) for name in self._schedule_args}

    def draw(self, values: dict) -> str:
        steps = self.steps
        t = np.arange(max(steps, 1))
        self.schedule = None
        schedule = self.make_schedule(**values)
        lrs = schedule(t)
        self.schedule = schedule
        self.line.set_data(t, lrs)
        for name, reference in self.extra.items():
            self._extra_lines[name].set_data(t, reference(t))
        _set_schedule_limits(self.axes, [self.line, *self._extra_lines.values()], steps, self.logy)
        return f"<code>{html.escape(repr(schedule))}</code>"

    def __repr__(self):
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

class ScheduleComparator(PlotWidget):
    """The widget ``schedule_comparator`` returns: one checkbox per candidate, their curves overlaid.

    Besides ``PlotWidget``'s attributes: ``checkboxes`` (name -> Checkbox), ``lines`` (name ->
    matplotlib line), ``logy`` (the log-scale Checkbox); ``controls`` holds them all, and "steps"
    when the horizon is a slider.
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
        controls = {**self.checkboxes, "log scale": self.logy}
        if isinstance(steps, numbers.Integral) and not isinstance(steps, bool):
            self._fixed_steps = int(steps)
        else:
            controls["steps"] = make_control("steps", steps)
        super().__init__(controls)
        ax = self.axes
        # One line per candidate, created once; its style stays the same whatever the selection
        # (10 colours solid, then dashed: no two candidates look alike).
        with plot.styled():
            self.lines = {name: self.plot_area.add_line(ax, color=f"C{i % 10}", label=name,
                                                        linestyle="-" if i < 10 else "--")
                          for i, name in enumerate(self.candidates)}
            plot.label_schedule_axes(ax, title=title)
        self.start()

    @property
    def steps(self) -> int:
        return int(self.controls["steps"].value) if "steps" in self.controls else self._fixed_steps

    def schedule(self, name: str, steps: int):
        """Candidate ``name`` as a Schedule: a Schedule is used as is, a factory gets the horizon."""
        candidate = self.candidates[name]
        return candidate if isinstance(candidate, Schedule) else candidate(steps)

    def draw(self, values: dict) -> str:
        steps = self.steps
        t = np.arange(steps)
        ax = self.axes
        ax.set_yscale("log" if self.logy.value else "linear")
        for name, line in self.lines.items():
            shown = self.checkboxes[name].value
            line.set_visible(shown)
            if shown:
                try:
                    line.set_data(t, self.schedule(name, steps)(t))
                except ValueError as error:
                    raise ValueError(f"{name}: {error}") from None
        visible = [line for line in self.lines.values() if line.get_visible()]
        _set_schedule_limits(ax, visible, steps, self.logy.value)
        legend = ax.get_legend()
        if legend is not None:
            legend.remove()
        if visible:
            with plot.styled():
                ax.legend(handles=visible)
        return ""

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
# Multi-step decay with milestones typed as text

def parse_milestones(text: str) -> list[int]:
    """``"30, 60"`` -> ``[30, 60]``: whole numbers separated by commas and/or spaces.

    Raises ``ValueError`` with a message a learner can act on; range and order are checked by
    ``lrlib.multistep_decay`` (milestones >= 1, strictly increasing).
    """
    if not isinstance(text, str):
        raise TypeError(f"milestones text must be a string, got {type(text).__name__}")
    items = [item for item in re.split(r"[,;\s]+", text.strip()) if item]
    if not items:
        raise ValueError("milestones: enter at least one step, e.g. '30, 60'")
    milestones = []
    for item in items:
        try:
            milestones.append(int(item))
        except ValueError:
            raise ValueError(f"milestones must be whole numbers separated by commas, e.g. '30, 60'; "
                             f"got {item!r}") from None
    return milestones


def multistep_decay_from_text(lr: float, milestones: str, gamma: float = 0.1) -> Schedule:
    """``lrlib.multistep_decay(lr, parse_milestones(milestones), gamma)``, for a widget's text box."""
    return multistep_decay(lr, parse_milestones(milestones), gamma)


def milestones_text(value: str = "30, 60") -> widgets.Text:
    """A text box for milestones, laid out like the sliders."""
    return widgets.Text(value=value, description="milestones", placeholder="e.g. 30, 60",
                        style=_DESCRIPTION_STYLE, layout=widgets.Layout(**_CONTROL_LAYOUT))


# --------------------------------------------------------------------------------------------------
# Warm restarts: the cycles under the curve

def restart_cycles(period: int, period_mult: int, steps: int) -> list[tuple[int, int]]:
    """``(first update, length)`` of every warm-restart cycle that starts before update ``steps``.

    Cycle i lasts ``period * period_mult**i`` updates, as in ``lrlib.cosine_warm_restarts`` and
    PyTorch's ``CosineAnnealingWarmRestarts(T_0=period, T_mult=period_mult)``.
    """
    cosine_warm_restarts(1.0, period, period_mult)  # the same argument checks and messages
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps must be an integer >= 1, got {steps!r}")
    cycles, start, length = [], 0, period
    while start < steps:
        cycles.append((start, length))
        start, length = start + length, length * period_mult
    return cycles


def _cycle_rows(period, period_mult, steps):
    header = ("cycle", "first update", "length", "last update", "complete by t = steps - 1")
    rows = [(str(i), str(start), str(length), str(start + length - 1),
             "yes" if start + length <= steps else f"no ({steps - start} of {length})")
            for i, (start, length) in enumerate(restart_cycles(period, period_mult, steps))]
    return header, rows


def cycle_table(period: int, period_mult: int, steps: int) -> str:
    """The cycles of ``cosine_warm_restarts(lr, period, period_mult)`` over ``steps`` updates, as text."""
    header, rows = _cycle_rows(period, period_mult, steps)
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(cell.rjust(width) for cell, width in zip(row, widths, strict=True)) for row in [header, *rows]]
    return "\n".join(lines)


def _cycle_table_html(period, period_mult, steps):
    header, rows = _cycle_rows(period, period_mult, steps)
    cell = "<td style='padding:0 10px; text-align:right'>{}</td>"
    head = "".join(f"<th style='padding:0 10px'>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(cell.format(html.escape(c)) for c in row) + "</tr>" for row in rows)
    return f"<table style='font-size:14px'><tr>{head}</tr>{body}</table>"


def warm_restarts_explorer(controls: Mapping, steps, **kwargs) -> ScheduleExplorer:
    """``schedule_explorer(cosine_warm_restarts, controls, steps, **kwargs)`` plus a table of the
    cycles under the plot, updated whenever a control moves.

    ``controls`` must include ``period`` and ``period_mult``. The table is the explorer's
    ``cycle_table`` attribute (an ``ipywidgets.HTML``).
    """
    missing = {"period", "period_mult"} - set(controls)
    if missing:
        raise ValueError(f"controls must include period and period_mult, missing {sorted(missing)}")
    explorer = schedule_explorer(cosine_warm_restarts, controls, steps, **kwargs)
    table = widgets.HTML()

    def update(_change=None):
        values = explorer.values()
        try:
            table.value = _cycle_table_html(values["period"], values["period_mult"], explorer.steps)
        except ValueError:
            table.value = ""  # the explorer shows the message already

    for control in explorer.controls.values():
        control.observe(update, names="value")
    update()
    explorer.cycle_table = table
    explorer.children = (*explorer.children, table)
    return explorer


# --------------------------------------------------------------------------------------------------
# ReduceOnPlateau replayed on a recorded metric curve

# PyTorch's ReduceLROnPlateau defaults (lrlib's ReduceOnPlateau has the same)
PYTORCH_PLATEAU_DEFAULTS = dict(mode="min", factor=0.1, patience=10, threshold=1e-4, threshold_mode="rel",
                                cooldown=0, min_lr=0.0, eps=1e-8)


class PlateauExplorer(PlotWidget):
    """The widget ``plateau_explorer`` returns. Besides ``PlotWidget``'s attributes: ``scheduler``
    (the current ReduceOnPlateau, None while the values are invalid), ``lrs`` (the rate after each
    epoch), ``best`` (the rule's best metric after each epoch) and ``reductions`` (epochs, counted
    from 1, whose metric made the rate drop).

    Conventions: ``metrics[i]`` is the metric at the end of epoch ``i + 1``; the rate returned after
    it (``lrs[i]``) is the one used during epoch ``i + 2``.
    """

    full_redraw = True

    def __init__(self, metrics: Sequence[float], controls: Mapping, defaults: Mapping | None = None,
                 metric_name: str = "metric"):
        defaults = dict(defaults or {})
        self.metrics = np.asarray(metrics, dtype=np.float64)
        self.metric_name = metric_name
        self.scheduler, self.lrs, self.best, self.reductions = None, None, None, []
        super().__init__({name: make_control(name, spec, defaults.get(name)) for name, spec in controls.items()},
                         ncols=2)
        self.start()

    def draw(self, values: dict) -> str:
        self.scheduler = None
        scheduler = ReduceOnPlateau(**values)
        lrs, best = [], []
        for metric in self.metrics:
            lrs.append(scheduler.step(metric))
            best.append(scheduler.best)
        self.scheduler, self.lrs, self.best = scheduler, np.asarray(lrs), np.asarray(best)
        previous = np.concatenate([[scheduler.initial_lr], self.lrs[:-1]])
        self.reductions = [int(i) + 1 for i in np.flatnonzero(self.lrs < previous)]
        self._draw_panels()
        where = ", ".join(map(str, self.reductions)) or "none"
        last = self.lrs[-2] if len(self.lrs) > 1 else scheduler.initial_lr
        return (f"reductions after epochs: {where}; rate in the last epoch: {last:.3g}"
                f"<br><code>{html.escape(repr(scheduler))}</code>")

    def _draw_panels(self) -> None:
        metric_ax, lr_ax = self.axes
        for ax in self.axes:
            ax.clear()
        epochs = np.arange(1, len(self.metrics) + 1)
        with plot.styled():
            metric_ax.plot(epochs, self.metrics, marker="o", markersize=4, label=self.metric_name)
            metric_ax.plot(epochs, self.best, color="0.4", linestyle=":", label="best (the rule's)")
            for i, epoch in enumerate(self.reductions):
                metric_ax.axvline(epoch, color="C3", linestyle="--", linewidth=1,
                                  label="reduction" if i == 0 else None)
            metric_ax.set(xlabel="epoch", ylabel=self.metric_name)
            metric_ax.legend(loc="best")
            # the rate used in each epoch: the initial one, then the one set after the previous epoch
            used = np.concatenate([[self.scheduler.initial_lr], self.lrs[:-1]])
            lr_ax.step(epochs, used, where="mid", color="C1")
            if np.any(used > 0):
                lr_ax.set_yscale("log")
            lr_ax.set(xlabel="epoch", ylabel="learning rate in the epoch")
        self.plot_area.forget_layout()


def plateau_explorer(metrics: Sequence[float], *, defaults: Mapping | None = None,
                     metric_name: str = "validation loss") -> PlateauExplorer:
    """Replay ``metrics`` (one value per epoch) through ReduceOnPlateau with a control for every
    parameter: the curve with the rule's best value and the epochs where the rate is cut, and the
    rate used in each epoch. Controls start at PyTorch's defaults (lr 0.1), updated by ``defaults``."""
    controls = {
        "lr": (1e-3, 1.0, 0.1, "log"),
        "mode": ["min", "max"],
        "factor": (0.05, 0.95, 0.05),
        "patience": (0, 10, 1),
        "threshold": (0.0, 0.2, 0.005),
        "threshold_mode": ["rel", "abs"],
        "cooldown": (0, 10, 1),
        "min_lr": (0.0, 0.01, 0.0005),
        "eps": (1e-10, 1e-2, 1.0, "log"),
    }
    start = dict(PYTORCH_PLATEAU_DEFAULTS, lr=0.1)
    start.update(defaults or {})
    return PlateauExplorer(metrics, controls, start, metric_name)
