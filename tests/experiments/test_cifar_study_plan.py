"""A study's plan (lrlib.cifar.plan) and its analysis (lrlib.cifar.statistics), without training: the
design of the profiles, the grid's edge extension against fake scores, the plan's rounds, budgets, the
warmup arm, sharding, and Holm's correction against a hand-computed example."""
import math
from fractions import Fraction

import numpy as np
import pytest
from scipy import stats

from lrlib.cifar import statistics
from lrlib.cifar.plan import (
    Run,
    best_step,
    check_sizes,
    format_plan,
    initial_steps,
    lr_scale,
    next_step,
    parse_shard,
    run_of,
    score,
    study_plan,
)
from lrlib.cifar.profiles import PROFILES, STUDY_SCHEDULES, WARMUP_ARM_SCHEDULES, count_updates, study_arms
from lrlib.cifar.results import read_study, shard_path, study_files, write_results

QUICK, FULL, SMOKE_STUDY = PROFILES["quick"], PROFILES["full"], PROFILES["smoke_study"]


def search(fake_score, grid_points=5, max_extensions=3):
    """The rule of the study's grids against a scoring function of the step: (steps tried in order, chosen)."""
    tried = initial_steps(grid_points)
    while (k := next_step({s: fake_score(s) for s in tried}, grid_points, max_extensions)) is not None:
        tried.append(k)
    return tried, best_step({s: fake_score(s) for s in tried})


def test_the_grid_extends_one_step_while_the_best_sits_at_an_edge():
    assert initial_steps(5) == [-2, -1, 0, 1, 2] and initial_steps(3) == [-1, 0, 1]
    # best inside the grid: nothing to add
    assert search(lambda k: -(k - 1) ** 2) == ([-2, -1, 0, 1, 2], 1)
    # best beyond the top: 3, then 4; at 5 the score falls, so 4 is inside and chosen
    assert search(lambda k: -(k - 4) ** 2) == ([-2, -1, 0, 1, 2, 3, 4, 5], 4)
    # the same below
    assert search(lambda k: -(k + 3) ** 2) == ([-2, -1, 0, 1, 2, -3, -4], -3)
    # the cap: after 2 extensions the best (still rising) stays at the edge
    tried, chosen = search(lambda k: k, max_extensions=2)
    assert tried == [-2, -1, 0, 1, 2, 3, 4] and chosen == 4
    # equal scores: the smaller peak wins, so a flat grid extends downwards
    assert best_step({-1: 0.5, 0: 0.5, 1: 0.5}) == -1
    assert search(lambda k: 0.1, grid_points=3, max_extensions=1) == ([-1, 0, 1, -2], -2)


def test_a_diverged_run_scores_chance():
    run = dict(diverged=True, num_classes=10, split="validation", final_validation_accuracy=None)
    assert score(run) == 0.1
    assert score(dict(run, diverged=False, final_validation_accuracy=0.42)) == 0.42
    assert score(dict(diverged=False, num_classes=10, split="test", final_test_accuracy=0.5)) == 0.5


def fake_record(run: Run, accuracy: float, profile=SMOKE_STUDY, diverged=False):
    split = "validation" if run.phase == "grid" else "test"
    return {"phase": run.phase, "arm": run.arm, "schedule": run.schedule, "budget": run.budget,
            "peak_step": run.peak_step, "seed": run.seed, "split": split, "diverged": diverged,
            f"final_{split}_accuracy": None if diverged else accuracy, "num_classes": 10,
            "profile": profile.name, "data_source": "fake", "updates": 8, "global_batch_size": 5,
            "peak_lr": profile.peak_lr * lr_scale(profile, run), "profile_settings": {"epochs": profile.epochs}}


def optimum(run: Run) -> int:
    """Each group of the fake study has its own best step: constant 3 (beyond the capped grid), cosine -1
    and warmup_cosine 0, each one step higher in the large-batch arm."""
    return {"constant": 3, "cosine": -1, "warmup_cosine": 0}[run.schedule] + (run.arm == "large_batch")


def fake_accuracy(run: Run) -> float:
    return 0.6 - 0.05 * (run.peak_step - optimum(run)) ** 2 + 0.001 * run.seed


def fake_study(profile, accuracy):
    """Every round of the plan "trained" by ``accuracy(run)``: (the plan, the records, the plan's length
    after each round)."""
    records, rounds = [], []
    while True:
        runs, complete = study_plan(profile, records)
        recorded = {run_of(r) for r in records}
        todo = [run for run in runs if run not in recorded]
        rounds.append(len(runs))
        if not todo:
            assert complete
            return runs, records, rounds
        assert complete == (todo[0].phase == "final")  # the plan is complete once the final runs are listed
        records += [fake_record(run, accuracy(run), profile) for run in todo]


def test_the_plan_grows_round_by_round_with_each_groups_own_grid():
    profile = SMOKE_STUDY
    runs, records, rounds = fake_study(profile, fake_accuracy)
    assert len(rounds) == 4  # the grid, one round of extensions (the cap is 1), the final runs, nothing left
    assert rounds[2] == rounds[3] == len(runs) and len(records) == len(runs)
    grid = [run for run in runs if run.phase == "grid"]
    finals = [run for run in runs if run.phase == "final"]
    groups = {(run.arm, run.schedule, run.budget) for run in grid}
    assert len(groups) == len(profile.budgets) * (len(profile.study_schedules) + len(WARMUP_ARM_SCHEDULES))
    # the grid [-1, 0, 1] grows by one step beyond an edge where the best sits (once: the cap is 1)
    expected = {-1: ([-2, -1, 0, 1], -1), 0: ([-1, 0, 1], 0), 1: ([-1, 0, 1, 2], 1), 3: ([-1, 0, 1, 2], 2)}
    seen = set()
    for group in groups:
        best = optimum(Run("grid", *group, 0, 0))
        steps = sorted({run.peak_step for run in grid if (run.arm, run.schedule, run.budget) == group})
        chosen = {run.peak_step for run in finals if (run.arm, run.schedule, run.budget) == group}
        assert (steps, chosen) == (expected[best][0], {expected[best][1]}), group
        seen.add(best)
    assert seen == set(expected)
    # the plan's order never changes: the listed runs of every round are the start of the next
    assert runs[:rounds[0]] == study_plan(profile, [])[0]


def test_final_seeds_are_fresh_and_can_be_added():
    profile = QUICK
    runs, records, _ = fake_study(profile, lambda run: 0.5)
    grid_done = [r for r in records if r["phase"] == "grid"]
    assert study_plan(profile, grid_done) == (runs, True)
    grid_seeds = {run.seed for run in runs if run.phase == "grid"}
    final_seeds = {run.seed for run in runs if run.phase == "final"}
    assert grid_seeds == set(range(profile.grid_seeds)) and len(final_seeds) == profile.final_seeds >= 5
    assert not grid_seeds & final_seeds
    more, _ = study_plan(profile, grid_done, final_seeds=7)  # --seeds 7: two more per group, listed last
    assert more[:len(runs)] == runs
    added = {max(final_seeds) + 1, max(final_seeds) + 2}
    assert {run.seed for run in more if run.phase == "final"} == final_seeds | added
    with pytest.raises(ValueError, match="final_seeds"):
        study_plan(profile, grid_done, final_seeds=1)


@pytest.mark.parametrize("profile", [QUICK, FULL])
def test_the_design_of_the_real_profiles(profile):
    runs, complete = study_plan(profile, [])
    assert not complete
    base = [run for run in runs if run.arm == "base"]
    assert {run.schedule for run in base} == set(STUDY_SCHEDULES)
    # at least 5 peaks over at least 16x, centred on the profile's peak
    for budget in profile.budgets:
        peaks = sorted({profile.peak_lr * lr_scale(profile, run) for run in base
                        if run.schedule == "cosine" and run.budget == budget})
        assert len(peaks) >= 5 and peaks[-1] / peaks[0] >= 16 - 1e-9
        assert math.isclose(math.sqrt(peaks[0] * peaks[-1]), profile.peak_lr)
    assert {Fraction(b) for b in profile.budgets} >= {Fraction(1, 4), Fraction(1, 2), Fraction(1)}
    assert profile.final_seeds >= 5 and profile.grid_seeds >= 1
    assert 0 < profile.validation_fraction < 1


@pytest.mark.parametrize("profile", [QUICK, FULL, SMOKE_STUDY])
def test_the_warmup_arm_scales_batch_and_peak_together(profile):
    arms = {arm.name: arm for arm in study_arms(profile)}
    assert arms["base"].batch_factor == 1 and arms["large_batch"].schedules == ("cosine", "warmup_cosine")
    if profile is not SMOKE_STUDY:
        assert arms["large_batch"].batch_factor == 8
    factor = arms["large_batch"].batch_factor
    for k in (-2, 0, 3):
        large, base = Run("grid", "large_batch", "cosine", 1.0, k, 0), Run("grid", "base", "cosine", 1.0, k, 0)
        assert lr_scale(profile, large) == factor * lr_scale(profile, base) == factor * profile.grid_ratio ** k
    # the large batch means factor x fewer updates per epoch
    n_train = 4500
    assert count_updates(n_train, factor * profile.batch_size, 2)[0] == n_train // (factor * profile.batch_size)


def test_the_cpu_profiles_study_is_the_five_main_schedules_without_a_warmup_arm():
    cpu = PROFILES["cpu"]
    assert study_arms(cpu) == (study_arms(cpu)[0],) and study_arms(cpu)[0].name == "base"
    runs, _ = study_plan(cpu, [])
    assert {run.schedule for run in runs} == {"constant", "step", "cosine", "warmup_cosine", "one_cycle"}
    assert {run.arm for run in runs} == {"base"} and {run.budget for run in runs} == {1.0}
    peaks = sorted({cpu.peak_lr * lr_scale(cpu, run) for run in runs})
    assert len(peaks) >= 5 and peaks[-1] / peaks[0] >= 16 - 1e-9


def test_budgets_count_updates_with_partial_epochs():
    assert count_updates(4500, 100, 3) == (45, 135)
    assert count_updates(4500, 100, 3, 0.5) == (45, 68)  # 67.5, rounded half up: a run ends within epoch 2
    assert count_updates(4500, 100, 3, 0.25) == (45, 34)
    assert count_updates(80, 10, 1, 0.5) == (8, 4)
    runs = study_plan(QUICK, [])[0]
    for budget in QUICK.budgets:
        assert {run.schedule for run in runs if run.budget == budget and run.arm == "base"} == set(STUDY_SCHEDULES)


def test_check_sizes_names_the_profile_and_the_arm():
    check_sizes(SMOKE_STUDY, 70)  # 7 batches of 10 per epoch: 3.5 updates at budget 1/2, rounded half up to 4
    with pytest.raises(ValueError, match="profile 'smoke_study': the large_batch arm's batch of 10 images makes 3 "
                                         "updates at budget 0.5 on 69 training images"):
        check_sizes(SMOKE_STUDY, 69)
    with pytest.raises(ValueError, match="divides evenly"):
        check_sizes(SMOKE_STUDY, 80, world=3)
    with pytest.raises(ValueError, match="profile 'smoke': the base arm's batch of 32 images makes 1 updates"):
        check_sizes(PROFILES["smoke"], 90)  # the sweep's smoke profile is too small for a study


def test_shards_split_the_plan_by_index_and_name_their_files(tmp_path):
    assert parse_shard("1/4") == (1, 4) and parse_shard("0/1") == (0, 1)
    for bad in ("4/4", "-1/2", "1", "a/b", "1/0"):
        with pytest.raises(ValueError, match="--shard must be i/N"):
            parse_shard(bad)
    out = tmp_path / "study.json"
    assert shard_path(out, 1, 4) == tmp_path / "study.shard-1-of-4.json"
    runs, complete = study_plan(SMOKE_STUDY, [])
    text = format_plan(SMOKE_STUDY, runs, complete, [], (1, 2))
    indices = [int(line.split()[0]) for line in text.splitlines()[1:] if line.split()[1] in ("grid", "final")]
    assert indices == list(range(1, len(runs), 2))
    assert f"{len(runs)} runs listed (shard 1/2: {len(indices)} of them), 0 recorded." in text
    # the analysis merges the shard files, each run once
    first, second = (fake_record(run, 0.5) for run in runs[:2])
    write_results(shard_path(out, 0, 2), [first])
    write_results(shard_path(out, 1, 2), [second, first])
    (tmp_path / "study.shard-x-of-2.json").write_text("not a shard file name: not read")
    assert study_files(out) == [shard_path(out, 0, 2), shard_path(out, 1, 2)]
    merged = read_study(out)
    assert [(r["seed"], r["peak_step"], r["results_file"]) for r in merged] == [
        (first["seed"], first["peak_step"], "study.shard-0-of-2.json"),
        (second["seed"], second["peak_step"], "study.shard-1-of-2.json")]


def test_holm_against_a_hand_computed_example():
    # sorted: 0.005 x 4 = 0.02; 0.01 x 3 = 0.03; 0.03 x 2 = 0.06; 0.04 x 1 = 0.04 -> max(0.06, 0.04) = 0.06
    assert statistics.holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02], abs=1e-15)
    assert statistics.holm([0.5, 0.3]) == pytest.approx([0.6, 0.6])  # 0.3 x 2 = 0.6, then max(0.6, 0.5)
    assert statistics.holm([0.9, 0.8]).tolist() == [1.0, 1.0]  # capped at 1
    assert statistics.holm([0.02]).tolist() == [0.02]


def test_paired_comparison_is_scipys_paired_t_test():
    a, b = [0.61, 0.64, 0.60, 0.66, 0.63], [0.58, 0.62, 0.59, 0.61, 0.60]
    c = statistics.paired_comparison(a, b)
    result = stats.ttest_rel(a, b)
    assert c["p"] == pytest.approx(result.pvalue, rel=1e-12) and c["n"] == 5
    assert (c["low"], c["high"]) == pytest.approx(tuple(result.confidence_interval(0.95)), rel=1e-12)
    d = np.subtract(a, b)
    assert c["diff"] == pytest.approx(d.mean())
    assert c["high"] - c["diff"] == pytest.approx(stats.t.ppf(0.975, 4) * d.std(ddof=1) / math.sqrt(5))
    assert statistics.paired_comparison([0.5, 0.5], [0.5, 0.5])["p"] == 1.0
    assert statistics.paired_comparison([0.6, 0.7], [0.5, 0.6])["p"] == 0.0
    with pytest.raises(ValueError, match="pair at least 2 seeds"):
        statistics.paired_comparison([0.5, 0.6], [0.5])


def test_study_comparisons_holm_adjust_every_comparison_made():
    profile = QUICK
    rng = np.random.default_rng(0)
    gain = {"cosine": 0.05, "warmup_cosine": 0.05}  # cosine-like schedules far better than the rest
    _, records, _ = fake_study(profile, lambda run: 0.5 + gain.get(run.schedule, 0) + rng.normal(0, 0.003))
    made = statistics.study_comparisons(records)
    # every question at every budget: 8 questions, 3 budgets
    assert len(made) == 8 * len(profile.budgets)
    assert [c["p_holm"] for c in made] == pytest.approx(statistics.holm([c["p"] for c in made]).tolist())
    by_question = {(c["budget"], c["arm"], c["a"], c["b"]): c for c in made}
    cosine_step = by_question[(1.0, "base", "cosine", "step")]
    assert cosine_step["sentence"].startswith("cosine beats step by ")
    assert cosine_step["diff"] == pytest.approx(0.05, abs=0.01)
    assert by_question[(1.0, "base", "linear_decay", "cosine")]["sentence"].startswith("cosine beats linear_decay")
    assert "are not distinguishable" in by_question[(1.0, "base", "warmup_cosine", "cosine")]["sentence"]
    report = statistics.format_study_report(records)
    assert "Holm-adjusted over the 24 made" in report and "budget 1/4" in report
