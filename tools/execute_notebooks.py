"""Execute notebooks in place and save their outputs, as they are committed.

Usage: python tools/execute_notebooks.py NOTEBOOK [NOTEBOOK ...]

Each notebook runs in its own folder with a fresh kernel. A notebook whose cells
raise is not saved, so a broken notebook never replaces a good one.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError


def execute(path: Path) -> bool:
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(notebook, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}})
    started = time.monotonic()
    try:
        client.execute()
    except CellExecutionError as error:
        print(f"{path}: a cell raised, notebook not saved:\n{error}", file=sys.stderr)
        return False
    nbformat.write(notebook, path)
    print(f"{path}: executed in {time.monotonic() - started:.1f} s")
    return True


def main(paths: list[str]) -> int:
    if not paths:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    results = [execute(Path(path)) for path in paths]
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
