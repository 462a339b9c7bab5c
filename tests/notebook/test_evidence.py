"""Claims over seeds: the statistics and the peak search the notebooks' claims rest on."""
import numpy as np
import pytest
from scipy import stats

import lrlib
from lrlib.notebook import evidence


def test_mean_ci_is_the_t_interval():
    values = [0.41, 0.38, 0.45, 0.40, 0.39]
    mean, half = evidence.mean_ci(values)
    low, high = stats.t.interval(0.95, 4, loc=np.mean(values), scale=stats.sem(values))
    assert mean == pytest.approx(np.mean(values)) and half == pytest.approx((high - low) / 2, rel=1e-12)
    assert np.isnan(evidence.mean_ci([0.4])[1])


def test_paired_difference_uses_the_seed_by_seed_differences():
    a, b = np.array([0.30, 0.32, 0.29, 0.31, 0.30]), np.array([0.35, 0.36, 0.33, 0.37, 0.34])
    diff, low, high = evidence.paired_difference(a, b)
    test = stats.ttest_rel(a, b)
    ci = test.confidence_interval(0.95)
    assert diff == pytest.approx(np.mean(a - b)) and (low, high) == pytest.approx((ci.low, ci.high))
    with pytest.raises(ValueError, match="pair"):
        evidence.paired_difference(a, b[:3])


def test_verdict_calls_a_difference_inside_the_noise_a_tie():
    a, b = np.array([0.30, 0.32, 0.29, 0.31, 0.30]), np.array([0.35, 0.36, 0.33, 0.37, 0.34])
    text, sign = evidence.verdict("A", a, "B", b)
    assert sign == 1 and text.startswith("A beats B by 0.046")
    assert evidence.verdict("B", b, "A", a)[1] == -1
    assert evidence.verdict("A acc", 1 - a, "B acc", 1 - b, lower_is_better=False)[1] == 1
    noisy = b + np.array([0.1, -0.1, 0.1, -0.1, 0.0])
    text, sign = evidence.verdict("B", b, "C", noisy)
    assert sign == 0 and "tie" in text


def test_final_counts_a_diverged_run_as_not_trained():
    runs = [dict(diverged=False, val_loss=np.array([0.5, 0.4]), val_acc=np.array([0.8, 0.9])),
            dict(diverged=True, val_loss=np.array([]), val_acc=np.array([]))]
    np.testing.assert_array_equal(evidence.final(runs), [0.4, np.inf])
    np.testing.assert_array_equal(evidence.final(runs, "val_acc"), [0.9, 0.0])


def test_best_peak_chooses_on_validation_and_never_a_diverging_peak():
    search = evidence.best_peak(lambda peak: lrlib.constant(peak), [0.01, 0.1, 100.0], seeds=[0, 1],
                                epochs=2, batch_size=128, width=16)
    assert search.scores.shape == (3, 2)
    assert np.all(np.isinf(search.scores[2]))          # lr 100 diverges
    assert search.peak == 0.1                           # 0.01 is too slow for two epochs
    assert len(search.histories) == 2 and "<- chosen" in search.table()


def test_runs_worse_than_a_uniform_guess_count_as_failed():
    np.testing.assert_array_equal(evidence.failed_runs([0.3, 2.2, 2.4, np.inf, np.nan]),
                                  [False, False, True, True, True])
    np.testing.assert_array_equal(evidence.failed_runs([0.95, 0.1, 0.0], "val_acc"), [False, True, True])
    search = evidence.PeakSearch(peaks=np.array([0.1, 1.0]), scores=np.array([[0.3, 0.32], [0.4, 7.9]]),
                                 peak=0.1, histories=[])
    lines = search.table().splitlines()
    assert "<- chosen" in lines[1] and lines[2].strip().endswith("1/2 failed")


def test_final_reads_per_epoch_and_final_metrics():
    runs = [dict(diverged=False, val_loss=np.array([0.5, 0.4]), test_loss=0.45),
            dict(diverged=True, val_loss=np.array([]), test_loss=float("nan"))]
    np.testing.assert_array_equal(evidence.final(runs, "test_loss"), [0.45, np.inf])


def test_scores_at_reads_one_peaks_row():
    search = evidence.PeakSearch(peaks=np.array([0.1, 1.0]), scores=np.array([[0.3, 0.32], [0.4, 7.9]]),
                                 peak=0.1, histories=[])
    np.testing.assert_array_equal(search.scores_at(1.0), [0.4, 7.9])
    with pytest.raises(ValueError, match="peak must be one of"):
        search.scores_at(0.5)
