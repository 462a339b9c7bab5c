"""Small helpers for the step, exponential and cosine notebooks (02-04).

* Multi-step decay from a text box: ``parse_milestones("30, 60") == [30, 60]`` and
  ``multistep_decay_from_text``, the constructor a widget with a milestones text box calls.
* The cycles of warm restarts (SGDR): ``restart_cycles``, ``cycle_table`` (plain text) and
  ``warm_restarts_explorer``, a ``schedule_explorer`` with the cycle table under its plot.
"""
from __future__ import annotations

import html
import re
from typing import Mapping

from .schedules import Schedule, cosine_warm_restarts, multistep_decay

__all__ = ["parse_milestones", "multistep_decay_from_text", "milestones_text", "restart_cycles",
           "cycle_table", "warm_restarts_explorer"]


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


def milestones_text(value: str = "30, 60"):
    """A text box for milestones, laid out like the sliders of ``lrlib.widgets``."""
    import ipywidgets

    return ipywidgets.Text(value=value, description="milestones", placeholder="e.g. 30, 60",
                           style={"description_width": "110px"},
                           layout=ipywidgets.Layout(width="400px"))


# --------------------------------------------------------------------------------------------------
# Warm restarts: the cycles

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
    lines = ["  ".join(cell.rjust(width) for cell, width in zip(row, widths)) for row in [header, *rows]]
    return "\n".join(lines)


def _cycle_table_html(period, period_mult, steps):
    header, rows = _cycle_rows(period, period_mult, steps)
    cell = "<td style='padding:0 10px; text-align:right'>{}</td>"
    head = "".join(f"<th style='padding:0 10px'>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(cell.format(html.escape(c)) for c in row) + "</tr>" for row in rows)
    return f"<table style='font-size:12px'><tr>{head}</tr>{body}</table>"


def warm_restarts_explorer(controls: Mapping, steps, **kwargs):
    """``widgets.schedule_explorer(cosine_warm_restarts, controls, steps, **kwargs)`` plus a table
    of the cycles under the plot, updated whenever a control moves.

    ``controls`` must include ``period`` and ``period_mult``. The table is the explorer's
    ``cycle_table`` attribute (an ``ipywidgets.HTML``).
    """
    import ipywidgets

    from .widgets import schedule_explorer

    missing = {"period", "period_mult"} - set(controls)
    if missing:
        raise ValueError(f"controls must include period and period_mult, missing {sorted(missing)}")
    explorer = schedule_explorer(cosine_warm_restarts, controls, steps, **kwargs)
    table = ipywidgets.HTML()

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
