"""The student edition (tools/build_student.py): built into a temporary folder, then read as a student and
as a teacher would check it. No solution text is left, every exercise is still there, the notebooks are
valid and still run; and a guard on the teacher's edition: every solution in notebooks/ is tagged, so a
solution added later without its tag fails here instead of reaching the students.
"""
from __future__ import annotations

import ast
import copy
import json
import re

import nbformat
import pytest
from nbclient import NotebookClient

from tools.build_student import (
    EXERCISE_STATEMENT,
    NOTEBOOKS,
    SOLUTION_TAG,
    build,
    exercise_number,
    is_solution,
    student_notebook,
)

TEACHER_PATHS = sorted(NOTEBOOKS.glob("*.ipynb"))
CODE_SOLUTION = re.compile(r"^#\s*Solution to exercise\s+(\d+)", re.IGNORECASE)
# The exercises section: from a level-2 heading naming "Exercises" ("## Exercises", "## 9. Exercises") to the next.
SECTION_HEADING = re.compile(r"^##\s+(.*)$", re.MULTILINE)
PLACEHOLDER = re.compile(r"^# Your solution to exercise \d+$")
EXECUTION_TIMEOUT_S = 600


@pytest.fixture(scope="module")
def editions(tmp_path_factory):
    """{name: (teacher notebook, student notebook, the student file's text)}, built into tmp."""
    out = tmp_path_factory.mktemp("student")
    written = build(out)
    assert sorted(p.name for p in written) == [p.name for p in TEACHER_PATHS]
    return {path.name: (nbformat.read(path, as_version=4), nbformat.read(out / path.name, as_version=4),
                        (out / path.name).read_text(encoding="utf-8"))
            for path in TEACHER_PATHS}


def solution_cells(notebook):
    return [cell for cell in notebook.cells if is_solution(cell)]


def cell_texts(cell) -> list[str]:
    """The text a reader sees in a cell: its source and the text of its outputs (not images)."""
    texts = [cell.source]
    for output in cell.get("outputs", []):
        if "text" in output:
            texts.append(output["text"])
        for mime, value in output.get("data", {}).items():
            if mime.startswith("text/"):
                texts.append(value if isinstance(value, str) else "".join(value))
    return texts


def as_json_fragment(line: str) -> str:
    """``line`` as it is written inside a JSON string of a notebook file."""
    return json.dumps(line, ensure_ascii=False)[1:-1]


def test_every_notebook_has_a_valid_student_copy(editions):
    assert len(editions) == len(TEACHER_PATHS) >= 12
    for name, (_, student, _) in editions.items():
        nbformat.validate(student)  # raises with the reason when a copy is not valid nbformat
        assert student.nbformat == 4, name


def test_the_teachers_edition_has_solutions_to_remove(editions):
    """Guards the other tests against passing on nothing: there are solutions of both kinds."""
    cells = [cell for teacher, _, _ in editions.values() for cell in solution_cells(teacher)]
    assert sum(cell.cell_type == "markdown" for cell in cells) >= 30
    assert sum(cell.cell_type == "code" for cell in cells) >= 1


def test_no_solution_text_survives(editions):
    """Every line of a solution (source and output text) that occurs nowhere else in the teacher's notebook
    is absent from the student's file. Lines the rest of the notebook also has ("```python", an import)
    say nothing about the solution and are not looked for."""
    checked = 0
    for name, (teacher, _, student_text) in editions.items():
        teacher_text = nbformat.writes(teacher)
        rest = nbformat.v4.new_notebook(cells=[cell for cell in teacher.cells if not is_solution(cell)])
        rest_text = nbformat.writes(rest)
        for cell in solution_cells(teacher):
            for text in cell_texts(cell):
                for line in text.splitlines():
                    fragment = as_json_fragment(line.strip())
                    if not fragment or fragment in rest_text:
                        continue
                    assert fragment in teacher_text, f"{name}: the search cannot see {line!r} in the teacher's file"
                    assert fragment not in student_text, f"{name}: solution text survives: {line!r}"
                    checked += 1
    assert checked >= 200, f"only {checked} solution lines were looked for"


def test_no_solution_marker_survives(editions):
    for name, (_, student, student_text) in editions.items():
        assert "<summary>Solution" not in student_text, name
        assert not re.search(r"#\s*Solution to exercise", student_text, re.IGNORECASE), name
        assert "<details" not in student_text, name
        assert not any(SOLUTION_TAG in cell.metadata.get("tags", []) for cell in student.cells), name


def test_code_solutions_become_empty_cells_for_the_students_own(editions):
    found = 0
    for name, (teacher, student, _) in editions.items():
        student_cells = {cell.id: cell for cell in student.cells}
        stated = []  # the numbers of the exercises stated so far
        for cell in teacher.cells:
            if cell.cell_type == "markdown" and not is_solution(cell):
                stated += [first or second for first, second in EXERCISE_STATEMENT.findall(cell.source)]
            if not (is_solution(cell) and cell.cell_type == "code"):
                continue
            header = CODE_SOLUTION.match(cell.source)
            number = header.group(1) if header else stated[-1]
            placeholder = student_cells[cell.id]
            assert placeholder.cell_type == "code", name
            assert placeholder.source == f"# Your solution to exercise {number}", name
            assert placeholder.outputs == [] and placeholder.execution_count is None, name
            assert placeholder.metadata == {}, name
            found += 1
    assert found >= 1


def test_everything_but_the_solutions_is_kept_as_it_was(editions):
    """The student's cells are the teacher's other cells, in order and unchanged (outputs included), plus
    the placeholders of the code solutions."""
    for name, (teacher, student, _) in editions.items():
        kept = [cell for cell in teacher.cells if not is_solution(cell)]
        others = [cell for cell in student.cells
                  if not (cell.cell_type == "code" and PLACEHOLDER.match(cell.source) and not cell.outputs)]
        assert others == kept, name
        assert student.metadata == teacher.metadata, name


def exercise_section(cells) -> list[int]:
    """The indices of the cells of the exercises section: from the level-2 heading that names "Exercises"
    to the next level-2 heading."""
    inside, indices = False, []
    for index, cell in enumerate(cells):
        if cell.cell_type == "markdown":
            headings = SECTION_HEADING.findall(cell.source)
            if headings:
                inside = "Exercises" in headings[-1]
        if inside:
            indices.append(index)
    return indices


def test_every_exercise_statement_survives(editions):
    with_exercises = 0
    for name, (teacher, student, _) in editions.items():
        section = [teacher.cells[i] for i in exercise_section(teacher.cells)]
        if not section:
            continue
        with_exercises += 1
        statements = [cell.source for cell in section if cell.cell_type == "markdown" and not is_solution(cell)
                      and EXERCISE_STATEMENT.search(cell.source)]
        numbers = [first or second for source in statements for first, second in EXERCISE_STATEMENT.findall(source)]
        assert numbers == [str(n) for n in range(1, len(numbers) + 1)] and len(numbers) >= 3, (name, numbers)
        student_sources = [cell.source for cell in student.cells]
        for statement in statements:
            assert statement in student_sources, f"{name}: exercise lost: {statement[:80]!r}"
    assert with_exercises >= 11  # 01-11 end with exercises


def test_every_solution_in_the_teachers_edition_is_tagged():
    """A folded <details> block, a "# Solution to exercise N" code cell or any code cell of the exercises
    section without the tag would be handed to the students; a tagged cell that is none of these would be
    taken from them."""
    for path in TEACHER_PATHS:
        cells = nbformat.read(path, as_version=4).cells
        section = set(exercise_section(cells))
        for index, cell in enumerate(cells):
            folded = cell.cell_type == "markdown" and "<details" in cell.source
            code_solution = cell.cell_type == "code" and (CODE_SOLUTION.match(cell.source) or index in section)
            where = f"{path.name} cell {index}"
            if folded or code_solution:
                assert is_solution(cell), f"{where} is a solution without the tag {SOLUTION_TAG!r}"
            elif is_solution(cell):
                pytest.fail(f"{where} is tagged {SOLUTION_TAG!r} but is neither a <details> block nor a code "
                            "cell of the exercises section")


def bound_names(tree) -> set[str]:
    """The names a cell binds at its top level (assignments, imports, definitions, loop targets)."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
    return names


def parse_cell(source: str):
    # IPython's magics and shell escapes are not Python; the notebooks use none, but stay safe.
    return ast.parse("\n".join("" if line.lstrip().startswith(("%", "!")) else line
                               for line in source.splitlines()))


def test_no_other_cell_reads_what_a_code_solution_defined():
    """Statically: no code cell after a code solution reads a name that the solution binds and that no
    other cell binds. (test_the_student_notebook_with_most_code_solutions_runs checks it by running.)"""
    for path in TEACHER_PATHS:
        cells = [cell for cell in nbformat.read(path, as_version=4).cells if cell.cell_type == "code"]
        from_solutions = set()
        from_others = set()
        for index, cell in enumerate(cells):
            tree = parse_cell(cell.source)
            if is_solution(cell):
                from_solutions |= bound_names(tree)
                continue
            read = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)}
            missing = (read & from_solutions) - from_others - bound_names(tree)
            assert not missing, f"{path.name}, code cell {index} reads {sorted(missing)}, defined by a solution"
            from_others |= bound_names(tree)


@pytest.mark.timeout(EXECUTION_TIMEOUT_S + 60)
def test_the_student_notebook_with_most_code_solutions_runs(editions):
    """The student notebook with the most code solutions (08 today) runs top to bottom in a fresh kernel,
    placeholders included, from the teacher's folder (for its relative paths)."""
    def code_solutions(name):
        return sum(cell.cell_type == "code" for cell in solution_cells(editions[name][0]))
    name = max(sorted(editions), key=code_solutions)
    assert code_solutions(name) >= 1
    student = copy.deepcopy(editions[name][1])
    NotebookClient(student, timeout=EXECUTION_TIMEOUT_S, kernel_name="python3",
                   resources={"metadata": {"path": str(NOTEBOOKS)}}).execute()  # raises on a cell's error
    errors = [output for cell in student.cells if cell.cell_type == "code"
              for output in cell.outputs if output.output_type == "error"]
    assert not errors


def test_bad_input_is_refused_with_the_parameter_named(tmp_path):
    with pytest.raises(ValueError, match="notebooks"):
        build(tmp_path, notebooks=[])
    orphan = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1", metadata={"tags": [SOLUTION_TAG]})])
    with pytest.raises(ValueError, match="names no exercise"):
        student_notebook(orphan)


def test_a_code_solution_without_a_header_takes_the_number_of_the_exercise_above():
    cells = [nbformat.v4.new_markdown_cell("## Exercises\n\n**1.** First."),
             nbformat.v4.new_markdown_cell("**2.** Second."),
             nbformat.v4.new_code_cell("answer = 42", metadata={"tags": [SOLUTION_TAG]})]
    assert exercise_number(cells, 2) == "2"
    student = student_notebook(nbformat.v4.new_notebook(cells=cells))
    assert student.cells[2].source == "# Your solution to exercise 2"
