"""The benchmark scripts still run: each once on tiny sizes (their numbers are for the issue notes, not checked)."""

import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("micrograd")  # the benchmarks' peer (in the test extra)
BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


def run(script, *args):
    done = subprocess.run([sys.executable, str(BENCHMARKS / script), *args], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_bench_core_runs():
    assert "ops" in run("bench_core.py", "--sizes", "1000", "--repeat", "1")


def test_bench_compiled_runs():
    out = run("bench_compiled.py", "--sizes", "1000", "--chain", "1000", "--dag-edges", "1000", "--repeat", "1",
              "--no-torch")  # fmt: skip
    assert "loop-sum 800" in out and "random DAG 1000" in out


def test_bench_source_runs():
    out = run("bench_source.py", "--sizes", "20", "--repeat", "1", "--batch", "5", "--no-numba")
    assert "generated" in out


def test_bench_training_runs():
    pytest.importorskip("sklearn")  # the digits
    out = run("bench_training.py", "--sample", "5", "--epochs", "1")
    assert "batch 32: replay is" in out


PEER_TABLES = ("1. h(x, y)", "2. scalar programs", "3. compiled replay", "3b. a chain", "4. training", "5. cold start")


def test_bench_peers_quick_runs():
    """Every table, with whatever peers are installed (a missing one's column says so); the answers agree."""
    out = run("bench_peers.py", "--quick")
    for title in PEER_TABLES:
        assert title in out
    assert "DIFFERENT" not in out and "agree with pathad's" in out


def test_bench_peers_without_peers():
    out = run("bench_peers.py", "--quick", "--only", "1", "3", "--without", "micrograd", "torch", "jax", "casadi")
    assert "1. h(x, y)" in out and "3. compiled replay" in out and "2. scalar programs" not in out
    assert out.count("not installed") >= 3 + 6 * 3  # the peers' rows of table 1, their cells in table 3


def test_bench_jacobian_quick_runs():
    """The three functions' tables, at one point and batched, with whatever peers are installed; they agree."""
    out = run("bench_jacobian.py", "--quick")
    for title in ("dense 20→3: the Jacobian at one point", "dense 3→20", "banded 12→12", "at 4 points at once"):
        assert title in out
    assert "goals:" in out and "DIFFERENT" not in out and "agrees with pathad's" in out


def test_bench_hessian_quick_runs():
    """Both functions' tables, at one point and batched, with whatever peers are installed; they agree."""
    out = run("bench_hessian.py", "--quick")
    for title in ("dense 6: the Hessian at one point", "rosenbrock 12: the Hessian at one", "at 4 points at once"):
        assert title in out
    assert "goals:" in out and "HVPs ≤ 6" in out and "DIFFERENT" not in out and "agrees with pathad's" in out
