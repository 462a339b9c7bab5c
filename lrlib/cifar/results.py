"""Results files: the one reader and the one writer.

A results file is strict JSON, ``{"format": "lrlib.cifar results v1", "runs": [record, ...]}``, one
record per training run (``lrlib.cifar.training.train_run`` makes them, the sweep adds provenance). It
is only ever replaced whole, atomically (``data.atomic_write``), so a reader never sees half of one.
Needs no torch.
"""
from __future__ import annotations

import json
from pathlib import Path

from .data import DataError, atomic_write

__all__ = ["RESULTS_FORMAT", "read_results", "write_results", "load_results"]

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
                        f"sweep another --out.") from None


def write_results(path, records: list) -> None:
    """Replace ``path`` atomically by a results file holding ``records`` (ValueError for NaN or inf)."""
    text = json.dumps(dict(format=RESULTS_FORMAT, runs=records), indent=1, allow_nan=False)  # strict JSON
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
