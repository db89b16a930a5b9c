"""CompiledTape.jacobian: vector sweeps (forward, backward, coloured) at new points, against independent oracles.

The oracle is the complex step: each program below is written once, on numbers that may be pathad's traced
ones or Python complex numbers, so ∂f_i/∂x_j = Im f_i(x + i·h·e_j) / h (h = 1e-30) to rounding.
"""

import cmath

import numpy as np
import pytest

import pathad
from pathad import BranchError, DomainError, compile, trace
from pathad.compiled import numba_available
from pathad.compiled.jacobians import TAPE_JACOBIAN_MODES

BACKENDS = ["numpy", *(["numba"] if numba_available() else [])]
MODES = [m for m in TAPE_JACOBIAN_MODES]
H = 1e-30


def _sin(x):
    return cmath.sin(x) if isinstance(x, complex) else pathad.sin(x)


def _exp(x):
    return cmath.exp(x) if isinstance(x, complex) else pathad.exp(x)


def banded(*v):
    """Each output reads three neighbours (a cyclic band): three colours each way."""
    n = len(v)
    return [_sin(v[i - 1]) * v[i] + v[i] * v[(i + 1) % n] for i in range(n)]


def wide(a, b, c):
    """3 -> 8, dense: forward wins."""
    return [_sin(a * k) + b * c * k - _exp(c / (k + 1)) for k in range(8)]


def narrow(*v):
    """8 -> 2, dense: backward wins."""
    s = sum(x * x for x in v)
    return [s * v[0], _sin(s) + v[-1]]


def chained(x, y, z):
    """Outputs that are inputs of other outputs, an input returned as it is, and an output read twice."""
    u = x * y
    w = u * z + _sin(u)
    return [u, w, x, w * u, z]


PROGRAMS = [(banded, 7), (wide, 3), (narrow, 8), (chained, 3)]


def complex_step(f, point):
    point = [complex(p) for p in point]
    columns = []
    for j in range(len(point)):
        shifted = list(point)
        shifted[j] += 1j * H
        columns.append([complex(out).imag / H for out in f(*shifted)])
    return np.array(columns).T


def _points(n, count, seed):
    return np.random.default_rng(seed).uniform(0.3, 1.5, size=(count, n))


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("f, n", PROGRAMS, ids=[f.__name__ for f, _ in PROGRAMS])
def test_every_mode_equals_the_complex_step_at_new_points(f, n, mode, backend):
    tape = compile(trace(f, *([0.7] * n)), backend=backend)
    points = _points(n, 4, seed=n)
    J = tape.jacobian(at=points.T, mode=mode)
    assert J.matrix.shape == (4, len(tape.outputs), n)
    for b, point in enumerate(points):
        np.testing.assert_allclose(J.matrix[b], complex_step(f, point), rtol=1e-13, atol=1e-14)
        single = tape.jacobian(*point, mode=mode)
        np.testing.assert_allclose(single.matrix, J.matrix[b], rtol=1e-15, atol=0)
        np.testing.assert_allclose(single.values, [complex(v).real for v in f(*point)], rtol=1e-15)


@pytest.mark.parametrize("f, n", PROGRAMS, ids=[f.__name__ for f, _ in PROGRAMS])
def test_the_tape_agrees_with_the_traces_jacobian(f, n):
    point = _points(n, 1, seed=1)[0]
    expected = pathad.jacobian(trace(f, *point), mode="backward").matrix
    np.testing.assert_allclose(compile(trace(f, *([0.5] * n))).jacobian(*point).matrix, expected, rtol=1e-14)


def test_a_banded_jacobian_takes_three_sweeps_whatever_its_size():
    tape = compile(trace(banded, *([0.5] * 60)))
    J = tape.jacobian(at=np.full(60, 0.9))
    assert J.mode == "colored-forward" and J.sweeps == 3 and J.coloring.count == 3
    assert J.coloring.lower_bound == 3 and "3 vector sweep directions" in J.why
    pattern = J.matrix != 0
    assert pattern.sum() == 3 * 60 and (pattern == pathad.sparsity(trace(banded, *([0.5] * 60)))).all()


def test_auto_counts_the_classes_both_ways():
    assert compile(trace(wide, 1.0, 2.0, 3.0)).jacobian(1.0, 2.0, 3.0).mode == "colored-forward"
    J = compile(trace(narrow, *([1.0] * 8))).jacobian(at=np.ones(8))
    assert J.mode == "colored-backward" and J.sweeps == 2
    assert compile(trace(wide, 1.0, 2.0, 3.0)).jacobian(1.0, 2.0, 3.0, mode="reverse").mode == "backward"


def test_an_output_that_feeds_another_is_seeded_only_in_its_own_direction():
    """Backward, output u lies on the paths from w and w·u: seeding it in every column would add 1 to them."""
    tape = compile(trace(chained, 0.5, 0.6, 0.7))
    point = [1.1, 0.4, 0.9]
    for mode in ("backward", "colored-backward", "forward"):
        np.testing.assert_allclose(tape.jacobian(*point, mode=mode).matrix, complex_step(chained, point), rtol=1e-13)


def test_rows_and_columns_by_reference():
    tape = compile(trace(chained, 0.5, 0.6, 0.7))
    point = [1.1, 0.4, 0.9]
    full = complex_step(chained, point)
    J = tape.jacobian(*point, wrt=["z", "x"], of=[tape.outputs[1], tape.outputs[0], tape.outputs[1]])
    np.testing.assert_allclose(J.matrix, full[[1, 0, 1]][:, [2, 0]], rtol=1e-13)
    assert J.wrt == ("z", "x")
    inner = trace(lambda x, y: pathad.sin(x * y) + y, 0.5, 0.6)
    product = next(n for n in inner.graph if inner.graph.nodes[n].get("op") == "mul")
    J = compile(inner).jacobian(1.5, 2.0, of=[product])
    assert J.matrix.tolist() == [[2.0, 1.5]] and J.values.tolist() == [3.0]


def test_array_arguments_give_blocks_and_the_value_shaped_like_evaluate():
    W = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    tape = compile(trace(lambda v, s: {"y": s * (W @ v), "n": v @ v}, np.ones(2), 1.0))
    J = tape.jacobian(np.array([1.0, 2.0]), 3.0)
    assert J.blocks["y"]["v"].tolist() == (3.0 * W).tolist() and J.blocks["y"]["s"].tolist() == (W @ [1, 2]).tolist()
    assert J.blocks["n"]["v"].tolist() == [2.0, 4.0] and J.value["n"] == 5.0
    batch = tape.jacobian(np.array([[1.0, 2.0], [0.0, 1.0]]), np.array([3.0, 2.0]))
    assert batch.blocks["y"]["v"].shape == (2, 3, 2) and batch.value["y"].shape == (2, 3)
    assert batch.blocks["n"]["v"][1].tolist() == [0.0, 2.0] and batch.value["n"].tolist() == [5.0, 1.0]


def test_a_point_on_another_branch_is_refused_or_traced_again():
    def f(x, y):
        return [x * y, x - y] if x > y else [x + y, x * x * y]

    tape = compile(trace(f, 2.0, 1.0))
    with pytest.raises(BranchError):
        tape.jacobian(at=np.array([[2.0, 0.5], [1.0, 1.0]]))
    J = tape.jacobian(at=np.array([[2.0, 0.5, 3.0], [1.0, 1.0, 0.2]]), retrace=f)
    for b, point in enumerate([(2.0, 1.0), (0.5, 1.0), (3.0, 0.2)]):
        np.testing.assert_array_equal(J.matrix[b], pathad.jacobian(trace(f, *point)).matrix)
    assert J.values[1].tolist() == [1.5, 0.25]


def test_a_partial_outside_its_domain_names_the_node_and_the_batch_element():
    tape = compile(trace(lambda x, y: [pathad.sqrt(x) * y, y], 1.0, 2.0))
    with pytest.raises(DomainError, match=r"sqrt.*x = 0\.0.*batch element 1"):
        tape.jacobian(at=np.array([[1.0, 0.0], [2.0, 2.0]]))
    with pytest.raises(DomainError, match=r"log at node .*x = -1\.0: the result is nan \(replaying\)"):
        compile(trace(lambda x: [pathad.log(x)], 1.0)).jacobian(at=np.array([[-1.0]]))


def test_a_value_that_overflows_names_its_node():
    def f(x, y):
        u = x * y
        for _ in range(6):
            u = u * u
        return [u, y]

    tape = compile(trace(f, 1.0, 1.0))
    with pytest.raises(DomainError, match="the result is inf"):
        tape.jacobian(at=np.array([[1e6], [1e6]]), mode="forward")
    assert tape.jacobian(1.0, 1.0).matrix.tolist() == pathad.jacobian(trace(f, 1.0, 1.0)).matrix.tolist()


@pytest.mark.parametrize("mode", MODES)
def test_a_derivative_that_overflows_while_every_value_is_finite_names_where(mode):
    """x·1e200·1e200 at x = 1e-250 is 1e150, but its derivative is 1e400: the sweep, not a value, overflows."""
    tape = compile(trace(lambda x, y: [x * 1e200 * 1e200 + y, y * y], 1e-250, 1.0))
    with pytest.raises(DomainError, match=r"path value first becomes inf .*\(replaying batch element 0\)"):
        tape.jacobian(at=np.array([[1e-250, 1e-250], [1.0, 1.0]]), mode=mode)
    assert tape.jacobian(at=np.array([1e-250, 2.0]), wrt=["y"], mode=mode).matrix.tolist() == [[1.0], [4.0]]


def test_bad_modes_and_a_plain_graph_are_refused():
    tape = compile(trace(wide, 1.0, 2.0, 3.0))
    with pytest.raises(ValueError, match="'colored-forward'"):
        tape.jacobian(1.0, 2.0, 3.0, mode="elimination")
    import networkx as nx

    from pathad import ReplayError

    with pytest.raises(ReplayError):
        compile(nx.DiGraph([("a", "b", {"partial": 2.0})])).jacobian(at=[1.0])


def test_the_pattern_is_kept_between_calls():
    tape = compile(trace(banded, *([0.5] * 9)))
    first = tape.jacobian(at=np.full(9, 0.7))
    again = tape.jacobian(at=np.full(9, 0.8))
    assert first.coloring is again.coloring and len(tape._structures) == 1


@pytest.mark.parametrize("f, n", PROGRAMS, ids=[f.__name__ for f, _ in PROGRAMS])
def test_the_tapes_sparsity_is_the_traces(f, n):
    tr = trace(f, *([0.6] * n))
    assert (compile(tr).sparsity() == pathad.sparsity(tr)).all()
    assert (compile(tr).sparsity(wrt=[0], of=[tr.outputs[-1]]) == pathad.sparsity(tr, [0], [tr.outputs[-1]])).all()


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_batch_in_chunks_is_the_batch_at_once(backend, monkeypatch):
    tape = compile(trace(banded, *([0.5] * 7)), backend=backend)
    points = _points(7, 9, seed=3).T
    whole = tape.jacobian(at=points)
    monkeypatch.setattr("pathad.compiled.jacobians._BUDGET", 1)  # one point per chunk, pattern one start at a time
    tape = compile(trace(banded, *([0.5] * 7)), backend=backend)
    chunked = tape.jacobian(at=points)
    np.testing.assert_array_equal(chunked.matrix, whole.matrix)
    np.testing.assert_array_equal(chunked.values, whole.values)


@pytest.mark.parametrize("backend", BACKENDS)
def test_fixed_leading_inputs_give_the_same_jacobians(backend):
    tape = compile(trace(wide, 1.0, 2.0, 3.0), backend=backend)
    rest = np.array([[2.0, 2.5, 3.0], [3.0, 0.5, 1.0]])  # b and c at three points, a = 1.5 at each
    shared = tape.jacobian(at=rest, fixed=[1.5])
    full = tape.jacobian(at=np.vstack([np.full(3, 1.5), rest]))
    np.testing.assert_array_equal(shared.matrix, full.matrix)
    for b in range(3):
        np.testing.assert_allclose(shared.matrix[b], complex_step(wide, [1.5, *rest[:, b]]), rtol=1e-13)


@pytest.mark.skipif(not numba_available(), reason="numba is not installed")
@pytest.mark.parametrize("mode", ["forward", "backward", "colored-forward", "colored-backward"])
def test_the_fused_kernel_answers_alone_in_every_mode_on_a_kept_branch_and_fixed_inputs(monkeypatch, mode):
    from pathad.compiled import jacobians

    def f(x, y, z):
        s = x * y + x * x - 2.0 / z  # a fused sum with a square and a constant first operand
        u = pathad.exp(s) if s > 0 else s * s
        return u, u * y + pathad.sin(z), z**3  # the second output reads the first

    tape = compile(trace(f, 0.7, 0.9, 1.3), backend="numba")
    monkeypatch.setattr(jacobians, "jacobian_at", lambda *a: pytest.fail("the general way was taken"))
    at = np.array([[0.7, 0.8, 0.75], [0.9, 1.1, 1.0], [1.3, 1.2, 1.25]])
    J = tape.jacobian(at=at, mode=mode)
    for b in range(3):
        x, y, z = at[:, b]
        expected = pathad.jacobian(trace(f, x, y, z), mode="backward").matrix
        np.testing.assert_allclose(J.matrix[b], expected, rtol=1e-13, atol=1e-15)
        s = x * y + x * x - 2.0 / z
        np.testing.assert_allclose(J.values[b][0], np.exp(s) if s > 0 else s * s, rtol=1e-15)
    one = tape.jacobian(at=at[:, 0], mode=mode)
    np.testing.assert_array_equal(one.matrix, J.matrix[0])
    shared = tape.jacobian(at=at[1:], fixed=[0.7], mode=mode)
    np.testing.assert_allclose(shared.matrix[0], J.matrix[0], rtol=1e-15)


@pytest.mark.skipif(not numba_available(), reason="numba is not installed")
def test_a_point_on_another_branch_leaves_the_fused_kernel_for_the_general_way():
    def f(x, y):
        return (x * y, x + y) if x > 0 else (pathad.sin(x), y)

    tape = compile(trace(f, 1.0, 2.0), backend="numba")
    with pytest.raises(BranchError):
        tape.jacobian(at=np.array([[1.0, -1.0], [2.0, 2.0]]))
    J = tape.jacobian(at=np.array([[1.0, -1.0], [2.0, 2.0]]), retrace=f)
    np.testing.assert_allclose(J.matrix[1], [[np.cos(-1.0), 0.0], [0.0, 1.0]], rtol=1e-15)
