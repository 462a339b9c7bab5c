"""Results files: the one reader and the one writer.

A results file is strict JSON, ``{"format": "lrlib.cifar results v1", "runs": [record, ...]}``, one
record per training run (``lrlib.cifar.training.train_run`` makes them, the sweep and the study add
provenance). It is only ever replaced whole, atomically (``data.atomic_write``), so a reader never sees
half of one.

A study writes one file, or with ``--shard i/N`` one file per shard next to it: ``study.json`` becomes
``study.shard-0-of-2.json`` and ``study.shard-1-of-2.json``. ``read_study`` merges them. Needs no torch.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

from .data import DataError, atomic_write
from .plan import run_of

__all__ = ["RESULTS_FORMAT", "read_results", "write_results", "load_results", "shard_path", "study_files",
           "read_study"]

RESULTS_FORMAT = "lrlib.cifar results v1"


def read_results(path) -> list:
    """The records of one results file; DataError if the file is not one (wrong format, not JSON)."""
    path = Path(path)
    try:
        content = json.loads(path.read_text())
        if content.get("format") != RESULTS_FORMAT:
            raise ValueError(f"format is {content.get('format')!r}, not {RESULTS_FORMAT!r}")
        if not isinstance(content["runs"], list):
            raise ValueError(f"runs is a {type(content['runs']).__name__}, not a list")
        return content["runs"]
    except (ValueError, AttributeError, KeyError) as error:
        raise DataError(f"{path} is not an lrlib.cifar results file ({error}). Move it away, or give the "
                        f"sweep or the study another --out.") from None


def write_results(path, records: list) -> None:
    """Replace ``path`` atomically by a results file holding ``records`` (ValueError for NaN or inf).

    The file is one JSON object, ``{"format": ..., "runs": [...]}``, written one run per line without
    spaces: compact, and a diff of two versions shows which runs changed.
    """
    runs = ",\n".join(json.dumps(record, separators=(",", ":"), allow_nan=False) for record in records)  # strict
    text = f'{{"format": {json.dumps(RESULTS_FORMAT)}, "runs": [\n{runs}\n]}}\n'
    atomic_write(Path(path), lambda f: f.write(text.encode()))


def load_results(source) -> list:
    """Records from a results file, a folder of them (every ``*.json``, sorted by name) or a list of paths.

    Each record gets a ``results_file`` field (the file's name) saying where it came from.
    """
    if isinstance(source, (str, Path)):
        source = Path(source)
        paths = sorted(source.glob("*.json")) if source.is_dir() else [source]
    else:
        paths = [Path(p) for p in source]
    return [dict(run, results_file=path.name) for path in paths for run in read_results(path)]


def shard_path(out, index: int, count: int) -> Path:
    """The file of shard ``index`` of ``count`` of the study written to ``out``: ``.shard-i-of-N`` before
    the suffix."""
    out = Path(out)
    return out.with_name(f"{out.stem}.shard-{index}-of-{count}{out.suffix}")


def study_files(out) -> list:
    """The files that exist of the study written to ``out``: ``out`` itself, then its shard files
    (ordered by N, then i)."""
    out = Path(out)
    pattern = re.compile(re.escape(out.stem) + r"\.shard-(\d+)-of-(\d+)" + re.escape(out.suffix))
    shards = [(int(m.group(2)), int(m.group(1)), p) for p in out.parent.glob(f"{out.stem}.shard-*")
              if (m := pattern.fullmatch(p.name))]
    return [out] * out.exists() + [p for _, _, p in sorted(shards)]


def read_study(out) -> list:
    """Every run of the study written to ``out``, from all its files (``study_files``), each run once (the
    first record of it), with ``results_file`` saying which file holds it. DataError if the files mix
    profiles or data sources: one study, one profile, one data set."""
    records, seen = [], set()
    for path in study_files(out):
        for record in read_results(path):
            if "phase" not in record:
                raise DataError(f"{path} holds runs of a sweep, not of a study: move it away, or give the study "
                                f"another --out.")
            run = run_of(record)
            if run not in seen:
                seen.add(run)
                records.append(dict(record, results_file=path.name))
    kinds = sorted({(r["profile"], r["data_source"]) for r in records})
    if len(kinds) > 1:
        raise DataError(f"the files of the study {out} mix runs of {len(kinds)} profiles or data sets ({kinds}); "
                        f"a study has one of each: move the others away, or give the study another --out.")
    return records
