"""Where PyTorch, Hugging Face and optax disagree, measured on the learning rates actually applied.

The same words ("linear warmup then cosine to zero over N steps", "one-cycle with pct_start=0.3")
give slightly different rates in different libraries. Each ``*_rows`` function below builds the
rates of every variant for updates t = 0..N-1 (what a training loop of N updates uses):

* lrlib: its own schedules (``lrlib.schedules``);
* PyTorch: a real scheduler attached to a real optimizer, stepped by ``lrlib.reference.torch_lrs``;
* Hugging Face and optax: their documented formulas restated in ``lrlib.reference`` (neither library
  is a dependency).

``describe`` reduces a row to the numbers that matter (rate of the first and of the last update,
where the peak is, when the final value is first reached, the sum of all rates, the largest
difference from the first row of the family), and ``ConventionTable`` shows them as aligned text
(what ``print`` and nbval see) or as an HTML table (what Jupyter renders).
"""
from __future__ import annotations

import html

import numpy as np

from .. import reference
from ..schedules import cosine_annealing, linear_decay, linear_warmup, one_cycle

__all__ = ["warmup_cosine_rows", "warmup_linear_rows", "cosine_end_rows", "cosine_overshoot_rows",
           "one_cycle_rows",
           "describe", "ConventionTable", "convention_table", "COLUMNS"]


def _row(family, library, call, lrs, end_value=0.0):
    return dict(family=family, library=library, call=call, lrs=np.asarray(lrs, dtype=np.float64),
                end_value=float(end_value))


def _torch(make, steps, lr):
    return reference.torch_lrs(make, steps, lr=lr)[0]


# --------------------------------------------------------------------------------------------------
# The families

def warmup_cosine_rows(total_steps: int = 100, warmup_steps: int = 10, lr: float = 1.0,
                       torch_start_factor: float = 1.0 / 3):
    """Linear warmup over W updates, then cosine to 0 at N, as each library spells it.

    PyTorch has no warmup-cosine scheduler; the usual recipe chains ``LinearLR`` (whose
    ``start_factor`` must be > 0; 1/3 is its default) and ``CosineAnnealingLR`` with ``SequentialLR``.
    optax's ``decay_steps`` counts the warmup too: the last row passes ``N - W``, the value a reader
    of "decay steps" would expect, and finishes W updates early.
    """
    from torch.optim import lr_scheduler as S

    n, w = total_steps, warmup_steps
    t = np.arange(n)
    fam = f"warmup {w} + cosine, N={n}"
    return [
        _row(fam, "lrlib", f"linear_warmup(cosine_annealing(lr, {n - w}), {w})",
             linear_warmup(cosine_annealing(lr, n - w), w)(t)),
        _row(fam, "Hugging Face", f"get_cosine_schedule_with_warmup({w}, {n})",
             lr * reference.hf_cosine_with_warmup(w, n)(t)),
        _row(fam, "PyTorch", f"LinearLR({torch_start_factor:.3g}, total_iters={w}) then "
                             f"CosineAnnealingLR(T_max={n - w})",
             _torch(lambda o: S.SequentialLR(
                 o, [S.LinearLR(o, start_factor=torch_start_factor, total_iters=w),
                     S.CosineAnnealingLR(o, T_max=n - w)], milestones=[w]), n, lr)),
        _row(fam, "optax", f"warmup_cosine_decay_schedule(0, lr, {w}, decay_steps={n})",
             reference.optax_warmup_cosine_decay(0.0, lr, w, n)(t)),
        _row(fam, "optax", f"warmup_cosine_decay_schedule(0, lr, {w}, decay_steps={n - w})",
             reference.optax_warmup_cosine_decay(0.0, lr, w, n - w)(t)),
    ]


def warmup_linear_rows(total_steps: int = 100, warmup_steps: int = 10, lr: float = 1.0,
                       torch_start_factor: float = 1.0 / 3):
    """Linear warmup over W updates, then linear decay to 0 at N (BERT's schedule)."""
    from torch.optim import lr_scheduler as S

    n, w = total_steps, warmup_steps
    t = np.arange(n)
    fam = f"warmup {w} + linear, N={n}"
    return [
        _row(fam, "lrlib", f"linear_warmup(linear_decay(lr, {n - w}), {w})",
             linear_warmup(linear_decay(lr, n - w), w)(t)),
        _row(fam, "Hugging Face", f"get_linear_schedule_with_warmup({w}, {n})",
             lr * reference.hf_linear_with_warmup(w, n)(t)),
        _row(fam, "PyTorch", f"LinearLR({torch_start_factor:.3g}, total_iters={w}) then "
                             f"LinearLR(1, 0, total_iters={n - w})",
             _torch(lambda o: S.SequentialLR(
                 o, [S.LinearLR(o, start_factor=torch_start_factor, total_iters=w),
                     S.LinearLR(o, start_factor=1.0, end_factor=0.0, total_iters=n - w)],
                 milestones=[w]), n, lr)),
    ]


def cosine_end_rows(total_steps: int = 100, lr: float = 1.0):
    """Cosine to 0 over a run of N updates: where the minimum falls.

    lrlib and ``CosineAnnealingLR(T_max=N)`` reach 0 at t = N, one step after the last update (which
    still gets a small positive rate); ``T_max=N-1`` puts the 0 on the last update, which then
    changes nothing.
    """
    from torch.optim import lr_scheduler as S

    n = total_steps
    fam = f"cosine to 0, N={n}"
    return [
        _row(fam, "lrlib", f"cosine_annealing(lr, {n})", cosine_annealing(lr, n)(np.arange(n))),
        _row(fam, "PyTorch", f"CosineAnnealingLR(T_max={n})",
             _torch(lambda o: S.CosineAnnealingLR(o, T_max=n), n, lr)),
        _row(fam, "PyTorch", f"CosineAnnealingLR(T_max={n - 1})",
             _torch(lambda o: S.CosineAnnealingLR(o, T_max=n - 1), n, lr)),
    ]


def cosine_overshoot_rows(total_steps: int = 100, overshoot: int = 10, lr: float = 1.0):
    """Cosine to 0 at T = N, but trained for N + overshoot updates (a miscounted horizon, extra
    epochs): PyTorch's periodic formula climbs back up after T, lrlib holds 0."""
    from torch.optim import lr_scheduler as S

    n, longer = total_steps, total_steps + overshoot
    fam = f"cosine to 0 at T={n}, run for {longer} updates"
    return [
        _row(fam, "lrlib", f"cosine_annealing(lr, {n})", cosine_annealing(lr, n)(np.arange(longer))),
        _row(fam, "PyTorch", f"CosineAnnealingLR(T_max={n})",
             _torch(lambda o: S.CosineAnnealingLR(o, T_max=n), longer, lr)),
    ]


def one_cycle_rows(total_steps: int = 100, pct_start: float = 0.3, max_lr: float = 1.0,
                   div_factor: float = 25.0, final_div_factor: float = 1e4):
    """One-cycle over T updates: PyTorch peaks at t = pct_start*T - 1 and ends at T - 1; optax
    peaks at int(pct_start*T) and ends at T (one step after the last update)."""
    from torch.optim import lr_scheduler as S

    n = total_steps
    t = np.arange(n)
    end = max_lr / (div_factor * final_div_factor)
    fam = f"one-cycle, T={n}, pct_start={pct_start}"
    return [
        _row(fam, "lrlib", f"one_cycle(lr, {n}, pct_start={pct_start})",
             one_cycle(max_lr, n, pct_start, div_factor, final_div_factor)(t), end),
        _row(fam, "PyTorch", f"OneCycleLR(max_lr=lr, total_steps={n}, pct_start={pct_start})",
             _torch(lambda o: S.OneCycleLR(o, max_lr=max_lr, total_steps=n, pct_start=pct_start,
                                           div_factor=div_factor, final_div_factor=final_div_factor),
                    n, max_lr), end),
        _row(fam, "optax", f"cosine_onecycle_schedule({n}, lr, pct_start={pct_start})",
             reference.optax_cosine_onecycle(n, max_lr, pct_start, div_factor, final_div_factor)(t), end),
    ]


# --------------------------------------------------------------------------------------------------
# From rates to the numbers that matter

COLUMNS = [  # (key, header)
    ("library", "library"), ("call", "call"), ("updates", "updates"), ("first", "lr[0]"),
    ("peak_step", "peak at t"), ("last", "lr[last]"), ("end_step", "end value at t"),
    ("area", "sum of lrs"), ("max_diff", "max |diff| vs row 1"),
]


def describe(row: dict, reference_row: dict | None = None) -> dict:
    """The applied rates of ``row`` summarized.

    ``first``/``last``: rate of the first and the last update. ``peak_step``: first update with the
    largest rate. ``end_step``: first update at or after the peak whose rate is the family's final
    value (within 1e-9 of the peak), None if no update gets there. ``area``: sum of all rates (how
    far, in total, the optimizer was allowed to move). ``max_diff``: largest |difference| from
    ``reference_row`` over the updates both have (0.0 for the reference itself).
    """
    lrs = row["lrs"]
    peak_step = int(np.argmax(lrs))
    tol = 1e-9 * max(float(lrs[peak_step]), 1e-300)
    at_end = np.nonzero(lrs[peak_step:] <= row["end_value"] + tol)[0]
    out = dict(row, updates=len(lrs), first=float(lrs[0]), last=float(lrs[-1]), peak_step=peak_step,
               end_step=int(peak_step + at_end[0]) if at_end.size else None, area=float(lrs.sum()),
               max_diff=0.0)
    if reference_row is not None:
        ref = reference_row["lrs"]
        m = min(len(ref), len(lrs))
        out["max_diff"] = float(np.max(np.abs(lrs[:m] - ref[:m])))
    return out


def _number(value, key) -> str:
    if value is None:
        return "never"
    if key in ("updates", "peak_step", "end_step"):
        return str(value)
    if key == "max_diff":
        if value == 0:
            return "0"
        return "< 1e-12" if value < 1e-12 else f"{value:.2g}"
    if key == "area":
        return f"{value:.3f}"
    if value == 0:
        return "0"
    return f"{value:.4g}" if abs(value) >= 1e-3 else f"{value:.2e}"


class ConventionTable:
    """Rows of ``describe`` dicts grouped by family; text repr for print/nbval, HTML for Jupyter."""

    def __init__(self, rows: list[dict], columns=COLUMNS):
        self.rows = rows
        self.columns = list(columns)

    def find(self, call: str, family: str | None = None) -> dict:
        """The one row whose call contains ``call`` (and whose family contains ``family``, if given)."""
        found = [r for r in self.rows if call in r["call"] and (family is None or family in r["family"])]
        if len(found) != 1:
            raise KeyError(f"{len(found)} rows match call={call!r}, family={family!r}")
        return found[0]

    def cells(self):
        """(family, [formatted cells]) per row."""
        return [(r["family"], [str(r[k]) if k in ("library", "call") else _number(r[k], k)
                               for k, _ in self.columns]) for r in self.rows]

    def __repr__(self):
        headers = [h for _, h in self.columns]
        cells = self.cells()
        widths = [max(len(h), *(len(c[i]) for _, c in cells)) for i, h in enumerate(headers)]
        numeric = [k not in ("library", "call") for k, _ in self.columns]

        def fmt(row):
            return "  ".join(c.rjust(w) if num else c.ljust(w)
                             for c, w, num in zip(row, widths, numeric, strict=True)).rstrip()
        lines, family = [], None
        for fam, row in cells:
            if fam != family:
                family = fam
                lines += ([""] if lines else []) + [f"== {fam}", fmt(headers)]
            lines.append(fmt(row))
        return "\n".join(lines)

    __str__ = __repr__

    def _repr_html_(self):
        headers = "".join(f"<th>{html.escape(h)}</th>" for _, h in self.columns)
        body, family = [], None
        for fam, row in self.cells():
            if fam != family:
                family = fam
                body.append(f"<tr><th colspan='{len(self.columns)}' style='text-align:left'>"
                            f"{html.escape(fam)}</th></tr><tr>{headers}</tr>")
            tds = "".join(f"<td style='text-align:{'left' if i < 2 else 'right'}'>"
                          f"{'<code>' if i == 1 else ''}{html.escape(c)}{'</code>' if i == 1 else ''}</td>"
                          for i, c in enumerate(row))
            body.append(f"<tr>{tds}</tr>")
        return f"<table>{''.join(body)}</table>"


def convention_table(*families: list[dict], columns=COLUMNS) -> ConventionTable:
    """Describe each family's rows against its first row and gather them in one table."""
    rows = []
    for family in families:
        rows += [describe(row, family[0]) for row in family]
    return ConventionTable(rows, columns)
