"""The analysis (lrlib.cifar.statistics): t intervals equal scipy's and the tables', summaries,
comparisons and conclusions; and it runs without torch."""
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from lrlib.cifar import statistics

ROOT = Path(__file__).resolve().parents[2]


def t_factor(values, level=0.95):
    """The t quantile inside mean_ci's half-width: half-width / (s / sqrt(n))."""
    values = np.asarray(values, dtype=float)
    return statistics.mean_ci(values, level)[1] / (values.std(ddof=1) / math.sqrt(values.size))


def test_t_intervals_match_tables():
    # Student's t two-sided 95% critical values from any statistics table
    for df, expected in [(1, 12.7062), (2, 4.3027), (4, 2.7764), (10, 2.2281), (30, 2.0423)]:
        assert t_factor(np.arange(df + 1.0)) == pytest.approx(expected, abs=1e-4)
    # exactly, for 2 degrees of freedom: t_{p,2} = (2p - 1) / sqrt(2 p (1 - p)), so t_{0.975,2} = 4.3026527297...
    assert t_factor([0.0, 1.0, 2.0]) == pytest.approx(0.95 / math.sqrt(2 * 0.975 * 0.025), rel=1e-12)
    assert t_factor([0.0, 1.0, 2.0]) == pytest.approx(4.302652729749464, rel=1e-12)
    # the interval is symmetric about the difference of the means
    diff, low, high = statistics.welch_difference([0.60, 0.62, 0.67], [0.55, 0.61, 0.58, 0.57])
    assert diff - low == pytest.approx(high - diff)


@pytest.mark.parametrize("level", [0.8, 0.9, 0.95, 0.99])
def test_intervals_equal_scipy(level):
    rng = np.random.default_rng(0)
    for n in (2, 3, 5, 10):
        values = rng.normal(0.6, 0.03, n)
        mean, half = statistics.mean_ci(values, level)
        low, high = stats.ttest_1samp(values, 0.0).confidence_interval(level)
        assert (mean - half, mean + half) == pytest.approx((low, high), rel=1e-12)
        assert half == pytest.approx(stats.t.ppf(0.5 + level / 2, n - 1) * stats.sem(values), rel=1e-12)
    # Welch's interval, with fractional degrees of freedom, equals scipy's Welch t-test interval
    for n_a, n_b, spread_b in ((3, 3, 0.01), (2, 5, 0.05), (4, 7, 0.002)):
        a, b = rng.normal(0.6, 0.02, n_a), rng.normal(0.58, spread_b, n_b)
        diff, low, high = statistics.welch_difference(a, b, level)
        result = stats.ttest_ind(a, b, equal_var=False)
        assert result.df != round(result.df)
        assert diff == pytest.approx(a.mean() - b.mean())
        assert (low, high) == pytest.approx(tuple(result.confidence_interval(level)), rel=1e-12)


def test_intervals_of_too_few_or_identical_values():
    assert statistics.mean_ci([]) == (pytest.approx(math.nan, nan_ok=True),) * 2
    assert statistics.mean_ci([0.5])[0] == 0.5 and math.isnan(statistics.mean_ci([0.5])[1])
    diff, low, high = statistics.welch_difference([0.5], [0.4, 0.45])
    assert diff == pytest.approx(0.075) and math.isnan(low) and math.isnan(high)
    assert statistics.welch_difference([0.5, 0.5], [0.25, 0.25]) == (0.25, 0.25, 0.25)
    with pytest.raises(ValueError, match="level"):
        statistics.mean_ci([0.5, 0.6], level=95)


def fake_run(schedule, seed, accuracy, diverged=False, scale=1.0):
    return dict(schedule=schedule, seed=seed, lr_scale=scale, peak_lr=0.2 * scale, profile="quick",
                data_source="test", diverged=diverged, final_test_accuracy=None if diverged else accuracy,
                epochs=[dict(epoch=1, train_loss=1.0, test_accuracy=accuracy or 0.1, lr=0.1)],
                lr_per_update=[0.1, 0.05])


def test_summarize_mean_and_ci():
    runs = [fake_run("cosine", s, a) for s, a in enumerate([0.60, 0.62, 0.64])] + [fake_run("step", 0, None, True)]
    rows = statistics.summarize(runs)
    (cosine,) = [r for r in rows if r["schedule"] == "cosine"]
    assert cosine["n"] == 3 and cosine["mean"] == pytest.approx(0.62)
    assert cosine["ci"] == pytest.approx(4.3027 * 0.02 / math.sqrt(3), rel=1e-4)
    table = statistics.format_table(rows)
    assert "62.00 +/- 4.97" in table and "(1 diverged)" in table


def test_best_scales_and_compare():
    runs = ([fake_run("cosine", s, a) for s, a in enumerate([0.60, 0.61, 0.62])]
            + [fake_run("cosine", s, a, scale=2.0) for s, a in enumerate([0.70, 0.71, 0.72])]
            + [fake_run("step", s, a) for s, a in enumerate([0.50, 0.52, 0.51])])
    best = statistics.best_scales(statistics.summarize(runs))
    assert {name: row["lr_scale"] for name, row in best.items()} == {"cosine": 2.0, "step": 1.0}
    c = statistics.compare(best, "cosine", "step")
    assert c["diff"] == pytest.approx(0.20) and 0 < c["low"] < 0.20 < c["high"] and (c["n_a"], c["n_b"]) == (3, 3)
    assert statistics.compare(best, "cosine", "one_cycle") is None


def test_conclusions_follow_the_numbers():
    clear = ([fake_run("warmup_cosine", s, a) for s, a in enumerate([0.70, 0.71, 0.72])]
             + [fake_run("cosine", s, a) for s, a in enumerate([0.60, 0.61, 0.62])])
    text = " ".join(statistics.conclusions(clear, "quick"))
    assert "warmup_cosine beats cosine" in text and "Ranking: warmup_cosine 71.00%" in text
    noisy = ([fake_run("warmup_cosine", s, a) for s, a in enumerate([0.60, 0.70, 0.65])]
             + [fake_run("cosine", s, a) for s, a in enumerate([0.66, 0.61, 0.68])])
    assert "no difference between warmup_cosine and cosine" in " ".join(statistics.conclusions(noisy, "quick"))
    # with several lr scales each schedule is judged at its own best one
    scaled = clear + [fake_run("cosine", s, a, scale=2.0) for s, a in enumerate([0.80, 0.81, 0.82])]
    text = " ".join(statistics.conclusions(scaled, "quick"))
    assert "each at its best lr scale" in text and "warmup_cosine is worse than cosine" in text


def test_conclusions_without_seed_noise():
    # every seed scores the same: the noise is zero, and no ratio to it is quoted
    flat = [fake_run(name, s, 0.1) for name in ("constant", "cosine") for s in range(2)]
    text = " ".join(statistics.conclusions(flat, "quick"))
    assert "median 0.00" in text and "times the median noise" not in text
    assert "no difference between cosine and constant" in text


def test_the_analysis_imports_neither_torch_nor_matplotlib():
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    command = "import lrlib.cifar.statistics, sys; assert 'torch' not in sys.modules"
    assert subprocess.run([sys.executable, "-c", command], cwd=ROOT, env=env, timeout=120).returncode == 0
    command = ("import sys, lrlib.cifar, lrlib.cifar.plan, lrlib.cifar.results, lrlib.cifar.statistics, "
               "lrlib.cifar.plots; "
               "loaded = {'torch', 'matplotlib'} & set(sys.modules); assert not loaded, loaded")
    done = subprocess.run([sys.executable, "-c", command], cwd=ROOT, env=env, timeout=120, capture_output=True,
                          text=True)
    assert done.returncode == 0, done.stderr
    command = "import sys, lrlib.cifar.sweep, lrlib.cifar.__main__; assert 'matplotlib' not in sys.modules"
    assert subprocess.run([sys.executable, "-c", command], cwd=ROOT, env=env, timeout=120).returncode == 0
