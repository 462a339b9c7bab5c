"""The sweep (lrlib.cifar.sweep) and its results files (lrlib.cifar.results): resume, atomic writes,
and the one reader, which refuses files that are not results files."""
import json

import pytest

from lrlib.cifar import data, results, sweep
from lrlib.cifar.data import DataError
from lrlib.cifar.profiles import SCHEDULE_NAMES
from lrlib.cifar.sweep import run_sweep


def test_rerun_skips_recorded_runs_and_extends(smoke_sweep, tiny_folder, monkeypatch, tmp_path):
    out, cache = smoke_sweep
    copy = tmp_path / "copy.json"
    copy.write_bytes(out.read_bytes())
    before = copy.read_bytes()
    trained = []
    real_train_run = sweep.train_run

    def counting_train_run(*args, **kwargs):
        trained.append(args[2:5])
        return real_train_run(*args, **kwargs)
    monkeypatch.setattr(sweep, "train_run", counting_train_run)
    records = run_sweep("smoke", SCHEDULE_NAMES, 1, [1.0], tiny_folder, copy, cache_dir=cache, progress=False)
    assert trained == [] and len(records) == 5 and copy.read_bytes() == before
    records = run_sweep("smoke", ["cosine"], 2, [1.0], tiny_folder, copy, cache_dir=cache, progress=False)
    assert trained == [("cosine", 1.0, 1)]
    assert len(json.loads(copy.read_text())["runs"]) == 6 and [r["seed"] for r in records] == [0, 1]


def test_interrupted_sweep_leaves_a_valid_file_and_resumes(tiny_folder, monkeypatch, tmp_path):
    out = tmp_path / "res.json"
    real_train_run = sweep.train_run
    calls = []

    def interrupted_after_one(*args, **kwargs):
        calls.append(args[2])
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real_train_run(*args, **kwargs)
    monkeypatch.setattr(sweep, "train_run", interrupted_after_one)
    with pytest.raises(KeyboardInterrupt):
        run_sweep("smoke", ["constant", "cosine"], 1, [1.0], tiny_folder, out, cache_dir=tmp_path, progress=False)
    assert [r["schedule"] for r in json.loads(out.read_text())["runs"]] == ["constant"]
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []
    monkeypatch.setattr(sweep, "train_run", real_train_run)
    run_sweep("smoke", ["constant", "cosine"], 1, [1.0], tiny_folder, out, cache_dir=tmp_path, progress=False)
    assert [r["schedule"] for r in json.loads(out.read_text())["runs"]] == ["constant", "cosine"]


def test_atomic_write_keeps_the_old_file_when_writing_fails(tmp_path):
    path = tmp_path / "res.json"
    results.write_results(path, [{"a": 1}])
    before = path.read_bytes()

    def crash_halfway(f):
        f.write(b'{"format": "half a fi')
        raise RuntimeError("disk full")
    with pytest.raises(RuntimeError):
        data.atomic_write(path, crash_halfway)
    assert path.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == ["res.json"]
    with pytest.raises(ValueError):  # NaN is not JSON: refused before anything is written
        results.write_results(path, [{"loss": float("nan")}])
    assert path.read_bytes() == before


@pytest.mark.parametrize("content", [
    '{"format": "lrlib.cifar results v0", "runs": []}',  # another format
    '{"runs": []}',  # no format at all
    '[1, 2]',  # JSON, not an object
    '{"format": "lrlib.cifar results v1"}',  # no runs
    '{"format": "lrlib.cifar results v1", "runs": {"a": 1}}',  # runs not a list
])
def test_the_one_reader_rejects_a_wrong_format_for_the_sweep_and_the_analysis(tmp_path, content):
    folder = tmp_path / "results"
    folder.mkdir()
    results.write_results(folder / "good.json", [{"schedule": "cosine"}])
    bad = folder / "other.json"
    bad.write_text(content)
    with pytest.raises(DataError, match="not an lrlib.cifar results file"):
        results.read_results(bad)
    with pytest.raises(DataError, match="other.json is not an lrlib.cifar results file"):
        results.load_results(folder)  # the analysis reads through the same reader
    with pytest.raises(DataError, match="not an lrlib.cifar results file"):  # the sweep's resume too,
        run_sweep("smoke", ["constant"], 1, [1.0], tmp_path / "no data here", bad,  # before loading data
                  cache_dir=tmp_path / "cache", progress=False)
    assert bad.read_text() == content  # and nothing was trained or written over it


def test_load_results_reads_a_file_a_folder_or_a_list_and_says_where_each_record_came_from(tmp_path):
    results.write_results(tmp_path / "b.json", [{"seed": 1}, {"seed": 2}])
    results.write_results(tmp_path / "a.json", [{"seed": 0}])
    (tmp_path / "notes.txt").write_text("not JSON, not read")
    assert results.read_results(tmp_path / "b.json") == [{"seed": 1}, {"seed": 2}]
    from_folder = results.load_results(tmp_path)
    assert from_folder == [{"seed": 0, "results_file": "a.json"}, {"seed": 1, "results_file": "b.json"},
                           {"seed": 2, "results_file": "b.json"}]
    assert results.load_results(str(tmp_path / "a.json")) == from_folder[:1]
    assert results.load_results([tmp_path / "b.json", tmp_path / "a.json"]) == from_folder[1:] + from_folder[:1]
