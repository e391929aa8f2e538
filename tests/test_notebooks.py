"""Execute every notebook in ``notebooks/`` headless, and check the stored copies carry no outputs.

Each notebook checks its claims with ``assert``, so a wrong derivation or a broken API fails here.
The kernel is this interpreter (``sys.executable``): a kernelspec for it is written to a temporary
directory, so the result does not depend on which Jupyter kernels happen to be installed.
"""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest
from ipykernel.kernelspec import write_kernel_spec
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient

NOTEBOOK_DIR = Path(__file__).resolve().parent.parent / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
CELL_TIMEOUT = 120   # seconds per cell; each notebook takes well under a minute in total


def test_there_are_notebooks():
    assert len(NOTEBOOKS) >= 5, f"expected the notebooks in {NOTEBOOK_DIR}"


@pytest.fixture(scope="module")
def kernel_specs(tmp_path_factory) -> KernelSpecManager:
    """A kernelspec directory holding one ``python3`` kernel that runs ``sys.executable``."""
    root = tmp_path_factory.mktemp("kernels")
    write_kernel_spec(str(root / "python3"))
    return KernelSpecManager(kernel_dirs=[str(root)])


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_outputs_are_stripped(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            assert cell.outputs == [], f"{path.name}: cell {i} has stored outputs"
            assert cell.execution_count is None, f"{path.name}: cell {i} has an execution count"
    assert any("assert " in c.source for c in nb.cells if c.cell_type == "code"), \
        f"{path.name} checks nothing"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs(path, kernel_specs, monkeypatch):
    monkeypatch.setenv("MPLBACKEND", "Agg")   # headless, whatever the notebook does
    # the kernel imports this checkout's package, installed or not
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(NOTEBOOK_DIR.parent),
                                                      os.environ.get("PYTHONPATH", "")]))
    nb = nbformat.read(path, as_version=4)
    km = KernelManager(kernel_name="python3", kernel_spec_manager=kernel_specs)
    client = NotebookClient(nb, km=km, timeout=CELL_TIMEOUT, kernel_name="python3",
                            resources={"metadata": {"path": str(NOTEBOOK_DIR)}})
    client.execute()   # raises CellExecutionError naming the cell and the failed assert
