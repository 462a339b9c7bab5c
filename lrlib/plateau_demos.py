"""Helpers for the ReduceLROnPlateau notebook (06): replay a recorded metric curve, compare with the
real PyTorch scheduler, trace the rule epoch by epoch, and explore every parameter with a widget.

Conventions: ``metrics[i]`` is the metric measured at the end of epoch ``i + 1``; the rate returned
after it (``lrs[i]``) is the one used during epoch ``i + 2``. A *reduction after epoch e* means the
metric of epoch e triggered it.
"""
from __future__ import annotations

import base64
import html
import io
from typing import Sequence

import ipywidgets
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from . import plot
from .plateau import ReduceOnPlateau
from .reference import torch_plateau_lrs  # re-exported: notebook 06 imports it from here
from .widgets import make_control

# PyTorch's ReduceLROnPlateau defaults (lrlib's ReduceOnPlateau has the same)
PYTORCH_DEFAULTS = dict(mode="min", factor=0.1, patience=10, threshold=1e-4, threshold_mode="rel", cooldown=0,
                        min_lr=0.0, eps=1e-8)

__all__ = ["PYTORCH_DEFAULTS", "torch_plateau_lrs", "reduction_epochs", "trace_table", "plateau_explorer", "PlateauExplorer"]


def reduction_epochs(lrs: Sequence[float], lr: float) -> list[int]:
    """Epochs (counted from 1) whose metric made the rate drop: ``lrs[i] < lrs[i-1]`` (``lrs[-1]`` = lr)."""
    previous = np.concatenate([[lr], np.asarray(lrs, dtype=np.float64)[:-1]])
    return [int(i) + 1 for i in np.flatnonzero(np.asarray(lrs) < previous)]


def trace_table(scheduler: ReduceOnPlateau, metrics: Sequence[float], epochs: int | None = None) -> str:
    """The state of ``scheduler`` after each epoch, from a fresh start, as aligned text."""
    scheduler.reset()
    lines = [f"{'epoch':>5s} {'metric':>8s} {'improved':>8s} {'best':>8s} {'bad epochs':>10s} "
             f"{'cooldown':>8s} {'lr next epoch':>13s}"]
    for epoch, metric in enumerate(metrics[:epochs], start=1):
        better = scheduler.is_better(float(metric))
        old_lr = scheduler.lr
        lr = scheduler.step(metric)
        note = "  <- reduced" if lr < old_lr else ""
        lines.append(f"{epoch:5d} {metric:8.4f} {'yes' if better else 'no':>8s} {scheduler.best:8.4f} "
                     f"{scheduler.num_bad_epochs:10d} {scheduler.cooldown_counter:8d} {lr:13.3g}{note}")
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------------
# The widget

class PlateauExplorer(ipywidgets.VBox):
    """The widget ``plateau_explorer`` returns. Attributes: ``controls`` (name -> widget),
    ``scheduler`` (the current ReduceOnPlateau, None while the values are invalid), ``lrs``,
    ``reductions``, ``figure``, ``error_text``."""

    def __init__(self, metrics, controls: dict, defaults: dict | None = None, metric_name: str = "metric"):
        defaults = dict(defaults or {})
        self.metrics = np.asarray(metrics, dtype=np.float64)
        self.metric_name = metric_name
        self.controls = {name: make_control(name, spec, defaults.get(name)) for name, spec in controls.items()}
        self.scheduler, self.lrs, self.reductions, self.error_text = None, None, [], ""
        self.figure = Figure(figsize=(9.0, 3.0), dpi=plot.DPI, layout="constrained", facecolor="white")
        self.canvas = FigureCanvasAgg(self.figure)
        self.image = ipywidgets.Image(format="png")
        self.message = ipywidgets.HTML()
        for control in self.controls.values():
            control.observe(lambda change: self.redraw(), names="value")
        box = ipywidgets.Box(list(self.controls.values()), layout=ipywidgets.Layout(flex_flow="row wrap"))
        super().__init__([box, self.image, self.message])
        self.redraw()

    def values(self) -> dict:
        values = {name: control.value for name, control in self.controls.items()}
        return {k: float(f"{v:.3g}") if isinstance(v, float) else v for k, v in values.items()}

    def redraw(self) -> None:
        try:
            self.scheduler = ReduceOnPlateau(**self.values())
        except ValueError as error:
            self.scheduler, self.error_text = None, f"ValueError: {error}"
            self.message.value = f"<pre style='color:#b00020'>{html.escape(self.error_text)}</pre>"
            self.image.layout.display = "none"
            return
        self.error_text = ""
        self.lrs = np.asarray(self.scheduler.run(self.metrics))
        self.reductions = reduction_epochs(self.lrs, self.scheduler.initial_lr)
        self._draw()
        self.image.layout.display = None
        where = ", ".join(map(str, self.reductions)) or "none"
        self.message.value = (f"reductions after epochs: {where}; rate in the last epoch: "
                              f"{self.lrs[-2] if len(self.lrs) > 1 else self.scheduler.initial_lr:.3g}"
                              f"<br><code>{html.escape(repr(self.scheduler))}</code>")

    def _draw(self) -> None:
        self.figure.clear()
        metric_ax, lr_ax = self.figure.subplots(1, 2)
        epochs = np.arange(1, len(self.metrics) + 1)
        best = np.minimum.accumulate(self.metrics) if self.scheduler.mode == "min" else np.maximum.accumulate(self.metrics)
        metric_ax.plot(epochs, self.metrics, marker="o", markersize=3, label=self.metric_name)
        metric_ax.plot(epochs, best, color="0.5", linestyle=":", label="best so far")
        for i, epoch in enumerate(self.reductions):
            metric_ax.axvline(epoch, color="C3", linestyle="--", linewidth=1,
                              label="reduction" if i == 0 else None)
        metric_ax.set(xlabel="epoch", ylabel=self.metric_name)
        metric_ax.legend(loc="best")
        # the rate used in each epoch: the initial one, then the one set after the previous epoch
        used = np.concatenate([[self.scheduler.initial_lr], self.lrs[:-1]])
        lr_ax.step(epochs, used, where="mid", color="C1")
        positive = used[used > 0]
        if positive.size:
            lr_ax.set_yscale("log")
        lr_ax.set(xlabel="epoch", ylabel="learning rate in the epoch")
        buffer = io.BytesIO()
        self.figure.savefig(buffer, format="png", dpi=plot.DPI)
        self.image.value = buffer.getvalue()

    def _repr_mimebundle_(self, **kwargs):
        bundle = super()._repr_mimebundle_(**kwargs)
        if self.image.value and not self.error_text:  # a picture for static viewers
            bundle["image/png"] = base64.b64encode(self.image.value).decode("ascii")
        return bundle

    def __repr__(self):
        return f"PlateauExplorer({', '.join(self.controls)})"


def plateau_explorer(metrics: Sequence[float], *, defaults: dict | None = None,
                     metric_name: str = "validation loss") -> PlateauExplorer:
    """Replay ``metrics`` (one value per epoch) through ReduceOnPlateau with a control for every
    parameter: the curve with the epochs where the rate is cut, and the rate used in each epoch.
    Controls start at PyTorch's defaults (lr 0.1), updated by ``defaults``."""
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
    start = dict(PYTORCH_DEFAULTS, lr=0.1)
    start.update(defaults or {})
    return PlateauExplorer(metrics, controls, start, metric_name)
