"""The conventions table: its entries checked against the libraries' definitions."""
import math

import numpy as np
import pytest

from lrlib.notebook import conventions as C


def by_call(rows, fragment):
    """The described row whose call contains ``fragment`` (exactly one)."""
    found = [r for r in rows if fragment in r["call"]]
    assert len(found) == 1, [r["call"] for r in rows]
    return found[0]


def described(family):
    return C.convention_table(family).rows


@pytest.fixture(scope="module")
def warmup_cosine():
    return described(C.warmup_cosine_rows(total_steps=100, warmup_steps=10, lr=0.5, torch_start_factor=0.25))


def test_warmup_start_differs_between_libraries(warmup_cosine):
    hf = by_call(warmup_cosine, "get_cosine_schedule_with_warmup")
    torch_row = by_call(warmup_cosine, "LinearLR")
    lrlib_row = by_call(warmup_cosine, "linear_warmup")
    assert hf["first"] == 0.0 and lrlib_row["first"] == 0.0       # HF: the first update has lr 0
    assert torch_row["first"] == pytest.approx(0.25 * 0.5, rel=1e-12)  # PyTorch: start_factor * lr
    assert all(r["peak_step"] == 10 for r in warmup_cosine)
    # PyTorch's warmup runs above HF's by start_factor*(1 - t/W)*lr: area + sf*lr*(W+1)/2
    assert torch_row["area"] - hf["area"] == pytest.approx(0.25 * 0.5 * 11 / 2, rel=1e-9)
    assert torch_row["max_diff"] == pytest.approx(0.25 * 0.5, rel=1e-9)   # at t = 0


def test_warmup_cosine_last_update_and_optax_decay_steps(warmup_cosine):
    n, w, lr = 100, 10, 0.5
    expected_last = lr * 0.5 * (1 + math.cos(math.pi * (n - 1 - w) / (n - w)))
    for row in warmup_cosine[:4]:
        assert row["last"] == pytest.approx(expected_last, rel=1e-9), row["call"]
        assert row["end_step"] is None            # 0 comes at t = N, after the last update
    assert by_call(warmup_cosine, "get_cosine")["max_diff"] < 1e-12   # lrlib == HF
    assert by_call(warmup_cosine, "decay_steps=100")["max_diff"] < 1e-12  # optax, decay_steps = N
    misread = by_call(warmup_cosine, "decay_steps=90")   # optax counts the warmup inside decay_steps
    assert misread["end_step"] == n - w and misread["last"] == 0.0
    assert misread["area"] < warmup_cosine[0]["area"] - 4 * lr


def test_warmup_linear_rows_agree_after_warmup():
    rows = C.warmup_linear_rows(total_steps=50, warmup_steps=5, lr=1.0)
    lrlib_lrs, hf_lrs, torch_lrs = (r["lrs"] for r in rows)
    np.testing.assert_allclose(lrlib_lrs, hf_lrs, rtol=0, atol=1e-12)
    np.testing.assert_allclose(torch_lrs[5:], hf_lrs[5:], rtol=0, atol=1e-12)
    assert hf_lrs[-1] == pytest.approx(1.0 / 45)  # (N - (N-1)) / (N - W)


def test_cosine_minimum_at_t_max():
    rows = described(C.cosine_end_rows(total_steps=60, lr=2.0))
    ours, torch_n, torch_n1 = rows
    assert ours["last"] == pytest.approx(2.0 * 0.5 * (1 + math.cos(math.pi * 59 / 60)), rel=1e-9)
    assert torch_n["max_diff"] < 1e-12
    assert torch_n1["last"] == pytest.approx(0.0, abs=1e-15) and torch_n1["end_step"] == 59
    assert ours["end_step"] is None


def test_pytorch_cosine_rises_after_t_max_and_lrlib_holds():
    ours, theirs = C.cosine_overshoot_rows(total_steps=40, overshoot=8, lr=1.0)
    k = np.arange(1, 8)  # updates 41..47
    np.testing.assert_allclose(theirs["lrs"][40 + k], 0.5 * (1 - np.cos(np.pi * k / 40)), rtol=1e-9)
    assert np.all(ours["lrs"][40:] == 0.0)
    table = C.convention_table([ours, theirs]).rows
    assert table[1]["max_diff"] == pytest.approx(0.5 * (1 - math.cos(math.pi * 7 / 40)), rel=1e-9)


@pytest.mark.parametrize("total, pct", [(100, 0.3), (90, 0.25), (45, 0.4)])
def test_one_cycle_peak_pytorch_vs_optax(total, pct):
    ours, torch_row, optax = described(C.one_cycle_rows(total_steps=total, pct_start=pct, max_lr=0.2))
    up_end = pct * total - 1
    assert torch_row["peak_step"] in (math.floor(up_end), math.ceil(up_end))
    assert optax["peak_step"] == int(pct * total)
    assert torch_row["max_diff"] < 1e-12 and ours["peak_step"] == torch_row["peak_step"]
    assert torch_row["end_step"] == total - 1 and optax["end_step"] is None
    assert torch_row["first"] == pytest.approx(0.2 / 25) == optax["first"]
    assert torch_row["last"] == pytest.approx(0.2 / 25 / 1e4)
    assert optax["last"] > torch_row["last"]


def test_table_text_and_html():
    table = C.convention_table(C.cosine_end_rows(total_steps=20), C.one_cycle_rows(total_steps=20))
    text = repr(table)
    assert text.startswith("== cosine to 0, N=20")
    assert "never" in text and "< 1e-12" in text and "peak at t" in text
    lines = text.splitlines()
    assert len({len(line) for line in lines[1:4]}) <= 3  # aligned rows, trailing blanks stripped
    page = table._repr_html_()
    assert page.startswith("<table>") and page.count("<tr>") == len(table.rows) + 2 * 2


def test_number_formatting_is_stable():
    assert C._number(None, "end_step") == "never"
    assert C._number(3e-17, "max_diff") == "< 1e-12"
    assert C._number(0.0, "max_diff") == "0"
    assert C._number(0.33333333, "first") == "0.3333"
    assert C._number(4e-6, "last") == "4.00e-06"


def test_find_returns_exactly_one_row():
    table = C.convention_table(C.cosine_end_rows(total_steps=20), C.cosine_overshoot_rows(total_steps=20))
    assert table.find("T_max=19")["end_step"] == 19
    assert table.find("CosineAnnealingLR(T_max=20)", family="run for")["updates"] == 30
    with pytest.raises(KeyError):
        table.find("CosineAnnealingLR(T_max=20)")   # in two families
