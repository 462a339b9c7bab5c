"""The widget inputs of the step and cosine notebooks: milestones typed as text, the cycles of warm restarts."""
import numpy as np
import pytest

import lrlib
from lrlib.notebook import widgets


@pytest.mark.parametrize("text, expected", [
    ("30, 60", [30, 60]),
    ("30,60,80", [30, 60, 80]),
    (" 30 60 ", [30, 60]),
    ("45,", [45]),          # a trailing comma while typing is not an error
    ("7", [7]),
])
def test_parse_milestones(text, expected):
    assert widgets.parse_milestones(text) == expected


@pytest.mark.parametrize("text, match", [
    ("", "at least one"),
    (" , ", "at least one"),
    ("30, 6.5", "whole numbers"),
    ("30, abc", "whole numbers"),
])
def test_parse_milestones_rejects(text, match):
    with pytest.raises(ValueError, match=match):
        widgets.parse_milestones(text)


def test_parse_milestones_type():
    with pytest.raises(TypeError):
        widgets.parse_milestones([30, 60])


def test_multistep_decay_from_text_matches_multistep_decay():
    t = np.arange(200)
    ours = widgets.multistep_decay_from_text(0.1, "50, 75, 150", 0.2)
    assert np.array_equal(ours(t), lrlib.multistep_decay(0.1, [50, 75, 150], 0.2)(t))
    assert ours.params["milestones"] == [50, 75, 150]


@pytest.mark.parametrize("text", ["60, 30", "0, 30", "30, 30", "-5"])
def test_multistep_decay_from_text_invalid_order_or_range(text):
    with pytest.raises(ValueError, match="milestones"):
        widgets.multistep_decay_from_text(0.1, text, 0.1)


def test_milestones_text_widget():
    box = widgets.milestones_text("10, 20")
    assert box.value == "10, 20" and box.description == "milestones"


def test_restart_cycles_known_values():
    assert widgets.restart_cycles(10, 2, 100) == [(0, 10), (10, 20), (30, 40), (70, 80)]
    assert widgets.restart_cycles(10, 1, 30) == [(0, 10), (10, 10), (20, 10)]
    assert widgets.restart_cycles(5, 3, 5) == [(0, 5)]


@pytest.mark.parametrize("period, period_mult", [(10, 1), (10, 2), (7, 3), (1, 2)])
def test_restart_cycles_agree_with_the_schedule(period, period_mult):
    steps = 400
    schedule = lrlib.cosine_warm_restarts(0.1, period, period_mult)
    lrs = schedule(np.arange(steps))
    starts = [start for start, _ in widgets.restart_cycles(period, period_mult, steps)]
    # the rate is back at lr exactly at each cycle start, and only there
    assert np.flatnonzero(lrs == 0.1).tolist() == starts
    lengths = np.diff(starts + [starts[-1] + period * period_mult ** (len(starts) - 1)])
    assert lengths.tolist() == [period * period_mult ** i for i in range(len(starts))]


def test_restart_cycles_rejects_bad_arguments():
    with pytest.raises(ValueError, match="period"):
        widgets.restart_cycles(0, 2, 10)
    with pytest.raises(ValueError, match="steps"):
        widgets.restart_cycles(10, 2, 0)


def test_cycle_table_text():
    table = widgets.cycle_table(10, 2, 310).splitlines()
    assert len(table) == 1 + 5                       # header + cycles of 10, 20, 40, 80, 160
    assert table[-1].split()[:4] == ["4", "150", "160", "309"]
    assert table[-1].split()[-1] == "yes"
    partial = widgets.cycle_table(10, 2, 50).splitlines()
    assert partial[-1].split()[-3:] == ["(20", "of", "40)"]


def test_warm_restarts_explorer_updates_table():
    explorer = widgets.warm_restarts_explorer(
        {"lr": (0.01, 1.0, 0.01), "period": (5, 100, 5), "period_mult": (1, 3, 1)}, steps=200,
        defaults={"lr": 0.1, "period": 10, "period_mult": 2})
    assert explorer.cycle_table in explorer.children
    assert "<td style='padding:0 10px; text-align:right'>70</td>" in explorer.cycle_table.value
    explorer.controls["period_mult"].value = 1
    assert "<td style='padding:0 10px; text-align:right'>190</td>" in explorer.cycle_table.value
    assert explorer.schedule.params["period_mult"] == 1


def test_warm_restarts_explorer_needs_period_controls():
    with pytest.raises(ValueError, match="period_mult"):
        widgets.warm_restarts_explorer({"lr": (0.01, 1.0, 0.01), "period": (5, 100, 5)}, steps=100)
