"""The student edition: a copy of every notebook with the solutions taken out, ready to hand out.

A solution is a cell tagged "solution" (tests/notebook/test_student.py checks that every folded
``<details>`` block and every "# Solution to exercise N" code cell of notebooks/ carries the tag). In
the student copy a markdown solution is dropped, and a code solution becomes an empty code cell whose
only line is "# Your solution to exercise N", without outputs, so the student has a place to write it.
Every other cell (the exercises, the other outputs) is copied as it is. The committed notebooks stay the
teacher's edition.

    python -m tools.build_student [--out build/student] [NOTEBOOK ...]   (default: notebooks/*.ipynb)
"""
from __future__ import annotations

import argparse
import copy
import re
import sys
from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = REPO / "notebooks"
DEFAULT_OUT = REPO / "build" / "student"
SOLUTION_TAG = "solution"

# "# Solution to exercise 3" on the first line of a code solution. An exercise's statement opens a line
# with its number in one of the notebooks' three styles: "**3.", "**Exercise 3.**", "3. **".
SOLUTION_HEADER = re.compile(r"^#\s*Solution to exercise\s+(\d+)", re.IGNORECASE)
EXERCISE_STATEMENT = re.compile(r"^(?:\*\*(?:Exercise\s+)?(\d+)\.|(\d+)\.\s+\*\*)", re.MULTILINE)


def is_solution(cell) -> bool:
    """Whether ``cell`` is tagged as a solution."""
    return SOLUTION_TAG in cell.get("metadata", {}).get("tags", [])


def exercise_number(cells, index: int) -> str:
    """The number of the exercise that the code solution ``cells[index]`` solves: the one its first line
    names ("# Solution to exercise 3"), otherwise the last exercise stated above it."""
    header = SOLUTION_HEADER.match(cells[index].source)
    if header:
        return header.group(1)
    for cell in reversed(cells[:index]):
        if cell.cell_type == "markdown" and not is_solution(cell):
            numbers = [first or second for first, second in EXERCISE_STATEMENT.findall(cell.source)]
            if numbers:
                return numbers[-1]
    raise ValueError(f"cell {index} is a code solution that names no exercise and follows no exercise "
                     "statement ('**N.', '**Exercise N.**' or 'N. **')")


def student_notebook(notebook):
    """A copy of ``notebook`` (an nbformat NotebookNode) with its solutions taken out."""
    student = copy.deepcopy(notebook)
    cells = []
    for index, cell in enumerate(notebook.cells):
        if not is_solution(cell):
            cells.append(student.cells[index])
        elif cell.cell_type == "code":
            placeholder = nbformat.v4.new_code_cell(
                f"# Your solution to exercise {exercise_number(notebook.cells, index)}")
            if "id" in cell:  # keep the cell's id, so the copy stays diffable against the teacher's
                placeholder["id"] = cell["id"]
            cells.append(placeholder)
        # a markdown (or raw) solution is dropped
    student.cells = cells
    return student


def build(out_dir: Path = DEFAULT_OUT, notebooks=None) -> list[Path]:
    """Write the student copy of each of ``notebooks`` (default: every notebook of notebooks/) into
    ``out_dir``, under the same file names; returns the paths written."""
    notebooks = sorted(NOTEBOOKS.glob("*.ipynb")) if notebooks is None else [Path(p) for p in notebooks]
    if not notebooks:
        raise ValueError("notebooks is empty: nothing to build")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for path in notebooks:
        notebook = nbformat.read(path, as_version=4)
        student = student_notebook(notebook)
        nbformat.validate(student)
        target = out_dir / path.name
        nbformat.write(student, target, version=4)
        written.append(target)
    return written


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="folder to write into (default: %(default)s)")
    parser.add_argument("notebooks", nargs="*", type=Path, help="notebooks to copy (default: notebooks/*.ipynb)")
    args = parser.parse_args(argv)
    written = build(args.out, args.notebooks or None)
    print(f"student edition: {len(written)} notebooks in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
