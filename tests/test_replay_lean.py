"""The lean replay (pathad.compiled.replayer): bound once, one kernel call per call, the general path's answers.

Every answer is checked against an independent oracle: the generic sweep on a fresh trace at the same point
(``pathad.gradient(pathad.trace(...))``), central differences, or the re-tracing training engine.
"""

import threading
import warnings

import numpy as np
import pytest

import pathad
from pathad import DomainError
from pathad.compiled import compile, numba_available
from pathad.errors import BranchError, DivergenceError
from pathad.nn import MLP, Circuit, SquaredError
from pathad.training import Replay, Retrace, descend

NUMBA = pytest.mark.skipif(not numba_available(), reason="numba is not installed (pip install pathad[fast])")
BACKENDS = pytest.mark.parametrize("backend", ["numpy", pytest.param("numba", marks=NUMBA)])


def smooth(x, y, z):
    s = x * y + y * z + z * x  # a fused sum of products
    return pathad.sin(s) * pathad.exp(x) + pathad.relu(y - z) + pathad.tanh(z) * 2.0


def generic(f, point):
    """(value, gradient in input order) by tracing ``f`` at ``point`` and the generic backward sweep."""
    tr = pathad.trace(f, *point)
    return tr.value, np.array(list(pathad.gradient(tr).values()))


def central(f, point, h=1e-6):
    point = np.asarray(point, dtype=float)
    out = []
    for i in range(point.size):
        up, down = point.copy(), point.copy()
        up[i] += h
        down[i] -= h
        out.append((f(*up) - f(*down)) / (2 * h))
    return np.array(out)


POINTS = np.random.default_rng(7).uniform(-1.5, 1.5, size=(3, 40))


@BACKENDS
def test_one_point_and_a_batch_give_the_generic_sweeps_answers(backend):
    tape = compile(pathad.trace(smooth, 0.3, 0.2, -0.4), backend=backend)
    for _ in range(3):  # the first calls may go the general way (compiling); the later ones the lean way
        for b in range(POINTS.shape[1]):
            value, grad = tape.value_and_gradient(at=POINTS[:, b])
            expected_value, expected = generic(smooth, POINTS[:, b])
            assert value == pytest.approx(expected_value, rel=1e-13, abs=1e-14)
            np.testing.assert_allclose(grad.array, expected, rtol=1e-12, atol=1e-13)
            np.testing.assert_allclose(grad.array, central(smooth, POINTS[:, b]), rtol=1e-6, atol=1e-6)
        values, grads = tape.value_and_gradient(at=POINTS)
        for b in range(POINTS.shape[1]):
            expected_value, expected = generic(smooth, POINTS[:, b])
            assert values[b] == pytest.approx(expected_value, rel=1e-13, abs=1e-14)
            np.testing.assert_allclose(grads.array[:, b], expected, rtol=1e-12, atol=1e-13)


@BACKENDS
def test_wrt_of_and_fixed_inputs(backend):
    tape = compile(pathad.trace(smooth, 0.3, 0.2, -0.4), backend=backend)
    replay = tape.replayer(wrt=["z", "x"], fixed=1)
    x = 0.7
    for _ in range(3):
        values, grads = replay(POINTS[1:], fixed=[x])
        assert replay.names == {"z": 0, "x": 1}
        for b in range(POINTS.shape[1]):
            expected_value, expected = generic(smooth, [x, *POINTS[1:, b]])
            assert values[b] == pytest.approx(expected_value, rel=1e-13, abs=1e-14)
            np.testing.assert_allclose(grads[:, b], expected[[2, 0]], rtol=1e-12, atol=1e-13)
        value, grad = replay(POINTS[1:, 0], fixed=[x])
        np.testing.assert_allclose(grad, generic(smooth, [x, *POINTS[1:, 0]])[1][[2, 0]], rtol=1e-12, atol=1e-13)
        assert isinstance(value, float)
    mean_value, mean_grad = replay.mean(POINTS[1:], fixed=[x])
    per_point = [generic(smooth, [x, *POINTS[1:, b]]) for b in range(POINTS.shape[1])]
    assert mean_value == pytest.approx(np.mean([v for v, _ in per_point]), rel=1e-12)
    np.testing.assert_allclose(mean_grad, np.mean([g[[2, 0]] for _, g in per_point], axis=0), rtol=1e-12)


@BACKENDS
def test_results_handed_out_are_not_overwritten_by_the_next_call(backend):
    tape = compile(pathad.trace(smooth, 0.3, 0.2, -0.4), backend=backend)
    big = np.random.default_rng(3).uniform(-1, 1, size=(3, 30_000))  # 90 000 gradient elements: handed out
    for points in (POINTS, big):
        for _ in range(3):
            first_value, first = tape.value_and_gradient(at=points)
            kept_value, kept = first_value.copy(), first.array.copy()
            tape.value_and_gradient(at=points[:, ::-1])
            assert np.array_equal(first_value, kept_value) and np.array_equal(first.array, kept)
    for b in (0, 29_999):
        np.testing.assert_allclose(first.array[:, b], generic(smooth, big[:, b])[1], rtol=1e-12, atol=1e-13)


def branchy(x, y):
    if x > 0:
        return x * y
    return pathad.log(-x) + y


@BACKENDS
def test_the_guards_hold_on_the_lean_path(backend):
    tape = compile(pathad.trace(branchy, 2.0, 3.0), backend=backend)
    for _ in range(3):
        value, grad = tape.value_and_gradient(at=np.array([1.5, 4.0]))
        assert (value, grad) == (6.0, {"x": 4.0, "y": 1.5})
        with pytest.raises(BranchError, match=r"x > 0.0.*True when traced"):
            tape.value_and_gradient(at=np.array([-1.5, 4.0]))
        with pytest.raises(BranchError, match=r"batch element 1"):
            tape.value_and_gradient(at=np.array([[1.5, -1.5], [4.0, 4.0]]))
    values, grads = tape.value_and_gradient(at=np.array([[1.5, -1.5], [4.0, 4.0]]), retrace=branchy)
    for b, x in enumerate((1.5, -1.5)):
        expected_value, expected = generic(branchy, [x, 4.0])
        assert values[b] == expected_value and grads.array[:, b].tolist() == expected.tolist()


OVERFLOWING = (lambda x: pathad.sin(x * 1e200) * 1e200, 0.25, 0.5, "at node x")  # values finite, ∂/∂x not
DOMAIN_CASES = [
    (lambda x: pathad.log(x) + x, 2.0, -1.0, "log at node"),
    (lambda x: pathad.sqrt(x) * 2.0, 1.0, 0.0, "sqrt at node .*derivative in operand 0"),
    (lambda x: pathad.exp(x) * 2.0, 1.0, 800.0, "exp at node"),
    OVERFLOWING,
]


@BACKENDS
@pytest.mark.parametrize("f, traced, bad, where", DOMAIN_CASES)
def test_non_finite_numbers_name_the_node_and_leak_no_warning(f, traced, bad, where, backend):
    tape = compile(pathad.trace(f, traced), backend=backend)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for _ in range(3):
            assert tape.evaluate(at=np.array([traced])) == pytest.approx(pathad.trace(f, traced).value, rel=1e-14)
            for point in (np.array([bad]), np.array([[traced, bad, traced]])):
                with pytest.raises(DomainError, match=where):
                    tape.value_and_gradient(at=point)
            with pytest.raises(DomainError, match=where):
                tape.replayer().mean(np.array([[traced, bad]]))
    with pytest.raises(ValueError, match="inputs must be finite"):
        tape.value_and_gradient(at=np.array([np.nan]))


@BACKENDS
def test_shapes_are_refused_in_value_and_gradients_words(backend):
    tape = compile(pathad.trace(smooth, 0.3, 0.2, -0.4), backend=backend)
    with pytest.raises(ValueError, match=r"at= needs shape \(3,\) or \(3, B\)"):
        tape.value_and_gradient(at=np.zeros(2))
    with pytest.raises(ValueError, match=r"with 1 fixed inputs, at= needs shape \(2,\) or \(2, B\)"):
        tape.value_and_gradient(at=np.zeros(3), fixed=[1.0])
    with pytest.raises(TypeError, match="first 1 inputs as fixed="):
        tape.replayer(fixed=1)(np.zeros(2))


@NUMBA
def test_each_thread_replays_in_its_own_arrays():
    tape = compile(pathad.trace(smooth, 0.3, 0.2, -0.4), backend="numba")
    replay = tape.replayer()
    expected = [generic(smooth, POINTS[:, b])[1] for b in range(POINTS.shape[1])]
    failures = []

    def work(offset):
        for _ in range(200):
            for b in range(offset, POINTS.shape[1], 2):
                if not np.allclose(replay(POINTS[:, b])[1], expected[b], rtol=1e-12, atol=1e-13):
                    failures.append(b)

    threads = [threading.Thread(target=work, args=(k,)) for k in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failures


# --- training: the Replay engine against re-tracing, and descend's checks ------------------------------


@BACKENDS
@pytest.mark.parametrize("batch", [1, 5])
def test_the_replay_engine_gives_the_retrace_engines_steps(backend, batch):
    circuit = Circuit(MLP([3, 4, 2], "relu", output="linear"), SquaredError())
    rng = np.random.default_rng(11)
    X, V = rng.uniform(-1, 1, (batch, 3)), rng.uniform(0, 1, (batch, 2))
    replay, retrace = Replay(circuit, X[0], V[0], backend=backend), Retrace(circuit)
    for seed in range(4):  # several calls: the later ones take the lean path
        theta = circuit.init(seed)
        got, expected = replay(theta, X, V), retrace(theta, X, V)
        assert got[0] == pytest.approx(expected[0], rel=1e-12)
        np.testing.assert_allclose(got[1], expected[1], rtol=1e-11, atol=1e-14)


def test_descend_names_a_non_finite_gradient_entry():
    def step(theta, rows):
        gradient = np.zeros(3)
        gradient[2] = np.nan
        return 1.0, gradient

    with pytest.raises(DivergenceError, match=r"epoch 1, step 1: the gradient overflowed \(entry 2 is nan\)"):
        descend(step, np.zeros(3), 2, epochs=1, learning_rate=0.1)


def test_descend_takes_the_same_steps_as_the_update_written_out():
    rng = np.random.default_rng(5)
    targets = rng.normal(size=(6, 4))

    def step(theta, rows):
        residual = theta - targets[rows].mean(axis=0)
        return float(0.5 * residual @ residual), residual

    theta = np.zeros(4)
    descend(step, theta, 6, epochs=3, learning_rate=0.3, batch_size=4, seed=2)
    expected = np.zeros(4)
    order_rng = np.random.default_rng(2)
    for _ in range(3):
        order = order_rng.permutation(6)
        for begin in range(0, 6, 4):
            expected = expected - 0.3 * (expected - targets[order[begin : begin + 4]].mean(axis=0))
    assert np.array_equal(theta, expected)


@NUMBA
def test_the_plain_case_is_one_kernel_call_without_the_general_path(monkeypatch):
    tape = compile(pathad.trace(smooth, 0.3, 0.2, -0.4), backend="numba")
    for _ in range(2):  # warm: the kernels' first calls go through run_program
        tape.value_and_gradient(at=POINTS[:, 0])
        tape.value_and_gradient(at=POINTS)
    monkeypatch.setattr(type(tape), "_replay", lambda *a, **k: pytest.fail("the general path ran"))
    value, grad = tape.value_and_gradient(at=POINTS[:, 1])
    np.testing.assert_allclose(grad.array, generic(smooth, POINTS[:, 1])[1], rtol=1e-12, atol=1e-13)
    values, grads = tape.value_and_gradient(at=POINTS)
    np.testing.assert_allclose(grads.array[:, 5], generic(smooth, POINTS[:, 5])[1], rtol=1e-12, atol=1e-13)


@BACKENDS
def test_read_only_and_strided_inputs(backend):
    tape = compile(pathad.trace(smooth, 0.3, 0.2, -0.4), backend=backend)
    frozen = np.array(POINTS)
    frozen.setflags(write=False)
    for points in (frozen, np.asfortranarray(POINTS), POINTS[:, ::2]):
        for _ in range(2):
            values, grads = tape.value_and_gradient(at=points)
            np.testing.assert_allclose(grads.array[:, 1], generic(smooth, points[:, 1])[1], rtol=1e-12, atol=1e-13)
    weights = np.array([0.7])
    weights.setflags(write=False)
    value, grad = tape.replayer(fixed=1)(frozen[1:, 0], fixed=weights)
    np.testing.assert_allclose(grad, generic(smooth, [0.7, *frozen[1:, 0]])[1], rtol=1e-12, atol=1e-13)
