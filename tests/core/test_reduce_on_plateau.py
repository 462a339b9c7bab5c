"""ReduceOnPlateau gives exactly the learning rates of torch's ReduceLROnPlateau for any metric sequence."""
import numpy as np
import pytest

import lrlib
from lrlib.reference import torch_plateau_lrs


def random_metrics(rng, n, mode):
    """Noisy curves with plateaus, improvements, a few exact repeats and the odd NaN."""
    trend = np.cumsum(rng.choice([0.0, -0.05, 0.02], size=n, p=[0.5, 0.3, 0.2]))
    values = 1.0 + trend + rng.normal(0, rng.choice([0.0, 1e-5, 0.01]), size=n)
    values[rng.random(n) < 0.02] = np.nan
    return (values if mode == "min" else -values).tolist()


@pytest.mark.parametrize("mode", ["min", "max"])
@pytest.mark.parametrize("threshold_mode", ["rel", "abs"])
@pytest.mark.parametrize("seed", range(10))
def test_matches_torch(mode, threshold_mode, seed):
    rng = np.random.default_rng(seed)
    kwargs = dict(mode=mode, factor=float(rng.uniform(0.1, 0.9)), patience=int(rng.integers(0, 6)),
                  threshold=float(rng.choice([0.0, 1e-4, 1e-2])), threshold_mode=threshold_mode,
                  cooldown=int(rng.integers(0, 4)), min_lr=float(rng.choice([0.0, 1e-4])),
                  eps=float(rng.choice([1e-8, 1e-3])))
    metrics = random_metrics(rng, 120, mode)
    ours = lrlib.ReduceOnPlateau(0.1, **kwargs).run(metrics)
    assert ours == torch_plateau_lrs(metrics, 0.1, **kwargs).tolist()


def test_patience_and_cooldown_by_hand():
    p = lrlib.ReduceOnPlateau(1.0, factor=0.5, patience=2, cooldown=1)
    # improve, then flat: bad epochs 1, 2, 3 -> reduce after the 3rd (more than patience=2)
    lrs = p.run([1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0])
    assert lrs == [1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.5, 0.25]


def test_state_dict_resume():
    metrics = [1.0, 0.9, 0.9, 0.9, 0.9, 0.8, 0.8, 0.8, 0.8, 0.8]
    straight = lrlib.ReduceOnPlateau(0.1, patience=1).run(metrics)
    a = lrlib.ReduceOnPlateau(0.1, patience=1)
    first = [a.step(m) for m in metrics[:4]]
    b = lrlib.ReduceOnPlateau(0.1, patience=1)
    b.load_state_dict(a.state_dict())
    assert first + [b.step(m) for m in metrics[4:]] == straight
