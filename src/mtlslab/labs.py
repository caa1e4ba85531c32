"""Generate learner labs from their solutions.

A solution notebook marks each answer with ``### BEGIN SOLUTION`` and
``### END SOLUTION`` lines. The lab keeps everything else and replaces each marked
block with a stub that raises NotImplementedError, indented like the block, as
nbgrader does. Exercise cells get the ``exercise`` tag, and every output is cleared.

Usage: python -m mtlslab.labs SOLUTIONS_DIR LABS_DIR
"""

from __future__ import annotations

import copy
import sys
from pathlib import Path

import nbformat

from mtlslab.errors import InputError

BEGIN = "### BEGIN SOLUTION"
END = "### END SOLUTION"
STUB = 'raise NotImplementedError("Exercise: replace this line with your answer")'
EXERCISE_TAG = "exercise"


def strip_solutions(source: str, where: str = "cell") -> str:
    """Replace every marked solution block in ``source`` with a stub; raise InputError for unpaired markers."""
    lines = source.splitlines()
    output: list[str] = []
    inside = False
    for number, line in enumerate(lines, start=1):
        marker = line.strip()
        if marker == BEGIN:
            if inside:
                raise InputError(f"{where}, line {number}: {BEGIN} inside another solution block; close it first")
            inside = True
            indent = line[: len(line) - len(line.lstrip())]
            output.append(indent + STUB)
        elif marker == END:
            if not inside:
                raise InputError(f"{where}, line {number}: {END} without a {BEGIN} above it")
            inside = False
        elif not inside:
            output.append(line)
    if inside:
        raise InputError(f"{where}: {BEGIN} is never closed; add {END}")
    return "\n".join(output)


def make_lab(solution: nbformat.NotebookNode, name: str = "notebook") -> nbformat.NotebookNode:
    """Return the lab version of a solution notebook, leaving ``solution`` unchanged."""
    lab = copy.deepcopy(solution)
    for index, cell in enumerate(lab.cells):
        if cell.cell_type != "code":
            continue
        cell.outputs = []
        cell.execution_count = None
        # nbclient records when each cell ran; a lab should not change when its solution is re-run.
        cell.metadata.pop("execution", None)
        if BEGIN in cell.source:
            cell.source = strip_solutions(cell.source, where=f"{name}, cell {index}")
            tags = cell.metadata.setdefault("tags", [])
            if EXERCISE_TAG not in tags:
                tags.append(EXERCISE_TAG)
    return lab


def generate_labs(solutions_dir: Path, labs_dir: Path) -> list[Path]:
    """Write a lab for every notebook in ``solutions_dir`` to ``labs_dir``; return the written paths."""
    labs_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for path in sorted(solutions_dir.glob("*.ipynb")):
        lab = make_lab(nbformat.read(path, as_version=4), name=path.name)
        target = labs_dir / path.name
        nbformat.write(lab, target)
        written.append(target)
    return written


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python -m mtlslab.labs SOLUTIONS_DIR LABS_DIR", file=sys.stderr)
        return 2
    try:
        for path in generate_labs(Path(argv[0]), Path(argv[1])):
            print(path)
    except InputError as error:
        print(f"mtlslab.labs: error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
