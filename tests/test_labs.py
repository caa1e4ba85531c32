"""Labs: generated from solutions/, equal to what is committed, failing only where the learner writes code."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from mtlslab.errors import InputError
from mtlslab.labs import EXERCISE_TAG, STUB, make_lab, strip_solutions

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = sorted((ROOT / "solutions").glob("*.ipynb"))


def test_strip_keeps_indentation():
    source = "def answer():\n    ### BEGIN SOLUTION\n    return 42\n    ### END SOLUTION\nprint(answer)"
    assert strip_solutions(source) == f"def answer():\n    {STUB}\nprint(answer)"


def test_strip_several_blocks():
    source = "### BEGIN SOLUTION\na = 1\n### END SOLUTION\nx = 0\n### BEGIN SOLUTION\nb = 2\n### END SOLUTION"
    assert strip_solutions(source) == f"{STUB}\nx = 0\n{STUB}"


def test_strip_leaves_plain_code():
    assert strip_solutions("a = 1\nb = 2") == "a = 1\nb = 2"


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("### BEGIN SOLUTION\na = 1", "never closed"),
        ("a = 1\n### END SOLUTION", "without a"),
        ("### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION", "inside another"),
    ],
)
def test_strip_rejects_unpaired_markers(source, message):
    with pytest.raises(InputError, match=message):
        strip_solutions(source)


def test_make_lab_tags_exercises_and_clears_outputs():
    solution = nbformat.v4.new_notebook()
    solution.cells = [
        nbformat.v4.new_markdown_cell("# Lab"),
        nbformat.v4.new_code_cell("setup = 1", outputs=[nbformat.v4.new_output("stream", text="x")], execution_count=1),
        nbformat.v4.new_code_cell("### BEGIN SOLUTION\nanswer = 42\n### END SOLUTION"),
    ]
    lab = make_lab(solution)
    assert lab.cells[1].outputs == []
    assert lab.cells[1].execution_count is None
    assert EXERCISE_TAG not in lab.cells[1].metadata.get("tags", [])
    assert lab.cells[2].metadata["tags"] == [EXERCISE_TAG]
    assert "answer = 42" not in lab.cells[2].source
    assert "answer = 42" in solution.cells[2].source


def test_make_lab_drops_execution_timing():
    solution = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("x = 1")
    cell.metadata["execution"] = {"iopub.execute_input": "2026-12-04T20:00:00Z"}
    solution.cells = [cell]
    assert "execution" not in make_lab(solution).cells[0].metadata


def test_every_solution_has_exercises():
    assert SOLUTIONS, "solutions/ holds no notebook"
    for path in SOLUTIONS:
        notebook = nbformat.read(path, as_version=4)
        assert any("### BEGIN SOLUTION" in cell.source for cell in notebook.cells), path.name


@pytest.mark.parametrize("solution", SOLUTIONS, ids=lambda path: path.name)
def test_committed_lab_matches_generated(solution):
    lab_path = ROOT / "labs" / solution.name
    assert lab_path.exists(), f"{lab_path} is missing: run make labs"
    expected = make_lab(nbformat.read(solution, as_version=4), name=solution.name)
    committed = nbformat.read(lab_path, as_version=4)
    assert nbformat.writes(committed) == nbformat.writes(expected), f"{lab_path.name} is stale: run make labs"


@pytest.mark.parametrize("solution", SOLUTIONS, ids=lambda path: path.name)
def test_lab_fails_only_in_exercise_cells(solution):
    lab = nbformat.read(ROOT / "labs" / solution.name, as_version=4)
    client = NotebookClient(lab, timeout=120, kernel_name="python3", allow_errors=True)
    client.execute(cwd=str(ROOT / "labs"))

    failing, exercises = set(), set()
    for index, cell in enumerate(lab.cells):
        if cell.cell_type != "code":
            continue
        if EXERCISE_TAG in cell.metadata.get("tags", []):
            exercises.add(index)
        if any(output.output_type == "error" for output in cell.outputs):
            failing.add(index)
    assert failing <= exercises, f"non-exercise cells raised: {sorted(failing - exercises)}"
    assert failing, "no exercise stub raised NotImplementedError"
