"""The notebook course in notebooks/: each notebook runs top to bottom in a fresh kernel.

The kernel is this interpreter (``sys.executable``), through a kernelspec written to a
temporary directory, so the tests need no ``ipykernel install`` and cannot pick up some other
Python's kernel from the user's or the system's Jupyter directories.
"""

import gc
import json
import pathlib
import sys
import warnings

import pytest

WHY = "the notebook tests need nbformat, nbclient and ipykernel (pip install -e '.[test]')"
nbformat = pytest.importorskip("nbformat", reason=WHY)
nbclient = pytest.importorskip("nbclient", reason=WHY)
pytest.importorskip("ipykernel", reason=WHY)
from jupyter_client import KernelManager  # noqa: E402  (nbclient brings jupyter_client)
from jupyter_client.kernelspec import KernelSpecManager  # noqa: E402

NOTEBOOKS = pathlib.Path(__file__).resolve().parent.parent / "notebooks"
KERNEL = "pathad-test"

# What each notebook must print (in its text outputs), and how many of its outputs must be
# animations (an iframe) and drawings (svg).
EXPECTED = {
    "01_computation_graphs": {
        "text": [
            "920.0",
            "MultiDiGraph 7 nodes, 9 edges",
            "[1.0, 1.0, 1.0, 4.0, 5.0, 8.0, 23.0, 40.0]",
            "x -> x+y -> (x+y)·y -> h",
            "∂h/∂x = 1·y·(x+y) + 1·y·(x+4·y) = 40 + 115 = 155",
            "= 160 + 115 + 184 = 459",
        ],
        "animations": [],
        "drawings": 1,
    },
    "02_forward_and_backward": {
        "text": [
            "h  ∂node/∂x = 155.0",
            "∂h/∂x = 155.0   ∂h/∂y = 459.0",
            "forward from y: 459.0",
            "by hand:        155.0 459.0",
            "backward: {'x': 155.0, 'y': 459.0}",
            "forward:  {'x': 155.0, 'y': 459.0}",
        ],
        "animations": [["155"], ["155", "459"]],
        "drawings": 0,
    },
    "03_cost_of_the_modes": {
        "text": [
            "backward mode, 1 sweep(s)",
            "forward: 2 sweep(s), 12 multiplications",
            "backward: 1 sweep(s), 9 multiplications",
            "times=9, plus=3",
            "edges in the graph: 9",
            "backward:  1 sweep(s)",
            "forward:  1 sweep(s)",
            "elimination: 7 multiplications, 3 additions",
            "elimination | elimination: 7 ⊗ + 3 ⊕, against 9 ⊗ + 3 ⊕ for backward",
        ],
        "animations": [],
        "drawings": 0,
    },
    "04_other_semirings": {
        "text": [
            "paths from x to h: 2",
            "paths from y to h: 3",
            "product 160.0",
            "product 115.0",
            "91 nodes, paths: 1073741824",
            "y -> (x+y)·y -> h (8.0, 23.0) product 184.0",
            "fewest operations from y to h: 2.0",
            "most operations from y to h:   3.0",
        ],
        "animations": [["184"]],
        "drawings": 0,
    },
    "05_training_circuit": {
        "text": [
            "15 weights, Cost = 0.426473",
            "paths w4 -> Cost:  1",
            "paths w14 -> Cost: 3",
            "by the sweep:       0.0825124827",
            "by the formula:     0.0825124827",
            "Cost before: 0.426473  after one step: 0.402927",
            "test accuracy: 1.0",
        ],
        "animations": [],
        "drawings": 1,
    },
}


@pytest.fixture(scope="module")
def kernels(tmp_path_factory):
    """A directory holding one kernelspec: this interpreter running ipykernel."""
    root = tmp_path_factory.mktemp("kernels")
    spec = root / KERNEL
    spec.mkdir()
    spec.joinpath("kernel.json").write_text(
        json.dumps(
            {
                "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "display_name": f"pathad tests ({sys.executable})",
                "language": "python",
            }
        )
    )
    return root


def execute(path, kernels, cwd):
    """Run the notebook at ``path`` in a fresh kernel; return it with its outputs."""
    nb = nbformat.read(path, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell("import sys; print(sys.executable)"))
    manager = KernelManager(kernel_name=KERNEL, kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(kernels)]))
    client = nbclient.NotebookClient(nb, km=manager, timeout=120, resources={"metadata": {"path": str(cwd)}})
    try:
        client.execute()  # raises CellExecutionError, naming the cell, if any cell fails
    finally:
        del client, manager
        with warnings.catch_warnings():  # the kernel client's sockets are freed here, not inside some later test
            warnings.simplefilter("ignore", ResourceWarning)
            gc.collect()
    return nb


def outputs(nb):
    return [output for cell in nb.cells if cell.cell_type == "code" for output in cell.outputs]


def text_of(output):
    if output.output_type == "stream":
        return output.text
    return output.get("data", {}).get("text/plain", "")


def test_the_course_has_five_notebooks():
    assert sorted(p.stem for p in NOTEBOOKS.glob("*.ipynb")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_committed_notebook_is_clean(name):
    """nbformat 4, valid, 8-15 cells, and no outputs or execution counts."""
    nb = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=nbformat.NO_CONVERT)
    assert nb.nbformat == 4
    nbformat.validate(nb)
    assert 8 <= len(nb.cells) <= 15
    assert {cell.cell_type for cell in nb.cells} == {"markdown", "code"}
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, f"{name}: strip the outputs"


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_notebook_runs_and_prints_the_lecture_numbers(name, kernels, tmp_path):
    nb = execute(NOTEBOOKS / f"{name}.ipynb", kernels, tmp_path)
    expected = EXPECTED[name]
    found = outputs(nb)

    # The kernel was this interpreter (the last cell, added by execute, printed it).
    assert text_of(found[-1]).strip() == sys.executable

    assert not [o for o in found if o.output_type == "stream" and o.name == "stderr"], (
        f"{name} wrote to stderr: a warning the course should not show"
    )
    text = "\n".join(text_of(o) for o in found)
    for wanted in expected["text"]:
        assert wanted in text, f"{name}: no output contains {wanted!r}"

    pages = [o.data["text/html"] for o in found if "text/html" in o.get("data", {})]
    assert len(pages) == len(expected["animations"])
    for page, answers in zip(pages, expected["animations"]):
        assert page.startswith("<iframe srcdoc=")
        for answer in answers:
            assert answer in page

    drawings = [o for o in found if "image/svg+xml" in o.get("data", {})]
    assert len(drawings) == expected["drawings"]
    for drawing in drawings:
        assert "<svg" in drawing.data["image/svg+xml"]
