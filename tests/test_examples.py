"""Every script in examples/ runs, prints what it shows and passes its own assertions.

The scripts are started together, each in a fresh interpreter (as a reader runs
them), and each test waits for its own.
"""

import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"

#: One script per worked example of the source documents.
EXPECTED = {
    "h_both_ways.py": "∂h/∂x = 155, ∂h/∂y = 459",
    "sum_times_log.py": "≈ 13.6",
    "logistic_map.py": "1024",
    "many_sines.py": "7 paths",
    "exp_sin_reverse_sweep.py": "one backward sweep",
    "sigmoid_neuron.py": "∂t8/∂w  = -1.9149156216104704",
    "sqrt_three_sin_dual.py": "Dual(1.6516332160855343",
    "partial_vs_total.py": "∂t3/∂t1 = 4·8·1 + 4·1 = 32 + 4 = 36",
    "fig9_training.py": "test accuracy: 1.00",
    "linear_regression.py": "y = 2.0000·x + 0.9999",
    "animate_h.py": "sweep3d.html: 7 steps, ∂h/∂y = 459",
    "newton_rosenbrock.py": "Newton: 22 iterations to within 1e-10 of (1, 1)",
    "prod_statement_doubling.py": "ans′ = d ans/dx at the start of every iteration, k = 1..4",
}


def test_every_example_is_listed():
    assert sorted(p.name for p in EXAMPLES.glob("*.py")) == sorted(EXPECTED)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Start every example at once; name -> its running process."""
    cwd = tmp_path_factory.mktemp("examples")
    processes = {
        name: subprocess.Popen(
            [sys.executable, str(EXAMPLES / name)], cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for name in EXPECTED
    }
    yield processes
    for process in processes.values():  # those no test waited for (deselected, or after a failure)
        if process.poll() is None:
            process.kill()
        process.communicate()


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_example_runs_and_checks_its_numbers(runs, name):
    out, err = runs[name].communicate(timeout=300)
    assert runs[name].returncode == 0, err
    assert EXPECTED[name] in out
