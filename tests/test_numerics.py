"""Numbers that stay true: overflowing derivatives are errors, zero partials annihilate, replay agrees with tracing.

Oracles are independent of the sweeps: the analytic derivative evaluated with
mpmath at high precision, and central differences.
"""

import math
import warnings

import mpmath
import networkx as nx
import numpy as np
import pytest

import pathad
from pathad import DomainError, solve
from pathad.cli import main
from pathad.compiled import numba_available
from pathad.errors import ReplayError
from pathad.semirings import MIN_PLUS, REAL

NUMBA = pytest.mark.skipif(not numba_available(), reason="numba is not installed")
BACKENDS = pytest.mark.parametrize("backend", ["numpy", pytest.param("numba", marks=NUMBA)])


def overflowing(x):
    """Every value finite, but ∂/∂x = 1e200 · cos(x · 1e200) · 1e200 ≈ -9.4e399 is beyond the floats."""
    return pathad.sin(x * 1e200) * 1e200


def big(x):
    """The same shape with a derivative ≈ 1e300 that floats do hold."""
    return pathad.sin(x * 1e150) * 1e150


def dead_overflow(x):
    """∂/∂x = 1: the relu is off (partial 0) where the path value into it (forward) overflows."""
    return pathad.relu(-pathad.sin(x * 1e200) * 1e200) + x


def dead_adjoint(x):
    """∂/∂x = 1: the adjoint above the relu (backward, 1e400) overflows where its partial is 0."""
    return pathad.relu(x - 2.0) * 1e200 * 1e200 + x


def _exact_derivative(scale, x=0.5):
    """d/dx sin(x·s)·s = s² cos(x·s) with mpmath, from the float the trace multiplies (x·s rounded)."""
    mpmath.mp.dps = 50
    product = mpmath.mpf(x * scale)  # the traced value of x * s, a float
    return mpmath.mpf(scale) * mpmath.cos(product) * mpmath.mpf(scale)


# --- 1. an overflowing derivative raises, naming the node --------------------------------------


def test_the_oracle_agrees_that_the_derivative_overflows():
    assert abs(_exact_derivative(1e200)) > np.finfo(float).max
    assert abs(_exact_derivative(1e150)) < np.finfo(float).max


def _check_backward_message(error):
    message = str(error.value)
    assert "∂overflowing/∂x" in message  # the output/input pair
    assert "at node x" in message  # backward, the path value first overflows at the input
    assert "edge x -> v1" in message and "1e+200" in message  # the edge and its partial


def _check_forward_message(error):
    message = str(error.value)
    assert "∂overflowing/∂x" in message
    assert "at node overflowing" in message  # forward, at the output
    assert "edge v2 -> overflowing" in message and "1e+200" in message


def test_gradient_and_jacobian_raise_in_both_modes():
    tr = pathad.trace(overflowing, x=0.5)
    with pytest.raises(DomainError) as error:
        pathad.gradient(tr)
    _check_backward_message(error)
    with pytest.raises(DomainError) as error:
        pathad.gradient(tr, mode="forward")
    _check_forward_message(error)
    with pytest.raises(DomainError) as error:
        pathad.derivatives_from(tr, "x")
    _check_forward_message(error)
    with pytest.raises(DomainError) as error:
        pathad.derivative(tr, "x")
    _check_backward_message(error)
    for mode, check in (("forward", _check_forward_message), ("backward", _check_backward_message)):
        with pytest.raises(DomainError) as error:
            pathad.jacobian(tr, mode=mode)
        check(error)


def test_solve_with_real_raises_and_other_semirings_keep_their_infinities():
    tr = pathad.trace(overflowing, x=0.5)
    with pytest.raises(DomainError, match="at node overflowing"):
        solve(tr, "x", semiring=REAL)
    with pytest.raises(DomainError, match="at node x"):
        solve(tr, tr.output, direction="backward", semiring="real")
    # MIN_PLUS uses +inf as its zero: an infinite weight is an answer there, not an error
    G = nx.DiGraph([("s", "a", {"weight": math.inf}), ("a", "t", {"weight": 1.0})])
    assert solve(G, "s", semiring=MIN_PLUS)["t"] == math.inf


def test_a_large_finite_derivative_is_returned_and_right():
    tr = pathad.trace(big, x=0.5)
    exact = float(_exact_derivative(1e150))
    for mode in ("forward", "backward"):
        assert pathad.gradient(tr, mode=mode)["x"] == pytest.approx(exact, rel=1e-12)


def test_a_sum_of_finite_terms_that_overflows_is_named():
    G = nx.MultiDiGraph([("s", "t", {"partial": 1e308}), ("s", "t", {"partial": 1e308})])
    with pytest.raises(DomainError, match=r"∂t/∂s is inf.*at node t.*2 finite terms"):
        solve(G, "s")


def test_a_non_finite_weight_is_named():
    G = nx.DiGraph([("s", "a", {"partial": 2.0}), ("a", "t", {"partial": math.nan})])
    with pytest.raises(DomainError, match=r"at node t: edge a -> t has weight nan"):
        solve(G, "s")


def test_only_the_targets_are_checked():
    tr = pathad.trace(dead_overflow, x=0.5)
    # the path value at the relu's input overflows, but no target depends on it
    assert solve(tr, "x", targets=tr.output)[tr.output] == 1.0
    with pytest.raises(DomainError, match="∂v4/∂x"):  # without targets every value is returned, so checked
        solve(tr, "x")


@BACKENDS
def test_replay_raises_on_one_point_and_on_batches(backend):
    tape = pathad.compile(pathad.trace(overflowing, x=0.5), backend=backend)
    with pytest.raises(DomainError) as error:
        tape.gradient(x=0.5)
    _check_backward_message(error)
    assert "(replaying)" in str(error.value)
    with pytest.raises(DomainError, match=r"at node x.*replaying batch element 0"):
        tape.gradient(x=np.array([0.5, 0.25, 0.125]))
    with pytest.raises(DomainError, match="at node x"):
        tape.value_and_gradient(at=np.array([[0.5, 0.5]]))
    assert tape.evaluate(x=0.5) == pytest.approx(overflowing(0.5))  # the value itself is fine


@BACKENDS
def test_compiled_real_sweeps_raise(backend):
    tape = pathad.compile(pathad.trace(overflowing, x=0.5), backend=backend)
    with pytest.raises(DomainError, match="at node overflowing"):
        tape.solve("x")
    with pytest.raises(DomainError, match="at node x"):
        tape.solve(tape.outputs, direction="backward", targets="x")


def test_the_command_line_says_overflow_not_no_path(capsys):
    status = main(["trace", "sin(x*1e200)*1e200", "--at", "x=0.5"])
    out, err = capsys.readouterr()
    assert status == 2
    assert "no path" not in out + err
    assert "not a finite number" in err and "∂f/∂x" in err


def test_the_command_line_still_says_no_path_for_min_plus_zero():
    from pathad.cli import _answer, _shown

    tr = pathad.trace(lambda x: x * 2.0, 1.0)
    assert _shown(_answer(tr, MIN_PLUS, "x", math.inf)) == "no path"
    assert _shown(_answer(tr, REAL, "x", math.inf)) != "no path"


# --- 2. zero partials annihilate: forward agrees with backward ------------------------------------


@pytest.mark.parametrize("f", [dead_overflow, dead_adjoint])
def test_both_sweeps_give_exactly_one(f):
    tr = pathad.trace(f, x=0.5)
    relu = tr.tape.ops.index("relu")
    assert tr.tape.values[relu] == 0.0 and tr.tape.partial[tr.tape.dst.index(relu)] == 0.0  # off: ∂f/∂x = 1
    if f is dead_adjoint:  # smooth around 0.5 (f = x there); dead_overflow oscillates at a 1e-200 scale
        h = 1e-6
        assert (f(0.5 + h) - f(0.5 - h)) / (2 * h) == pytest.approx(1.0, abs=1e-6)
    assert pathad.gradient(tr) == {"x": 1.0}
    assert pathad.gradient(tr, mode="forward") == {"x": 1.0}
    assert pathad.jacobian(tr, mode="forward").matrix.tolist() == [[1.0]]
    assert pathad.jacobian(tr, mode="backward").matrix.tolist() == [[1.0]]


@BACKENDS
@pytest.mark.parametrize("f", [dead_overflow, dead_adjoint])
def test_compiled_sweeps_and_replay_give_exactly_one(f, backend):
    tape = pathad.compile(pathad.trace(f, x=0.5), backend=backend)
    assert tape.solve("x", targets=tape.outputs)[tape.outputs[0]] == 1.0
    assert tape.solve(tape.outputs, direction="backward", targets="x")["x"] == 1.0
    assert tape.gradient(x=0.5) == {"x": 1.0}
    assert tape.gradient(x=np.array([0.5, 0.5]))["x"].tolist() == [1.0, 1.0]


def test_the_zero_skip_keeps_nodes_reached_only_through_zero_edges():
    G = nx.DiGraph([("s", "a", {"partial": 0.0}), ("a", "t", {"partial": 3.0})])
    assert solve(G, "s") == {"s": 1.0, "a": 0.0, "t": 0.0}
    assert solve(G, "t", direction="backward") == {"t": 1.0, "a": 3.0, "s": 0.0}


# --- 3. numpy replay at the traced point, and no RuntimeWarning ------------------------------------


def _numpy_disagreement():
    """(function name, x) where numpy's vectorized result differs from Python's math in the last bit."""
    rng = np.random.default_rng(0)
    for name, vectorized, scalar in (("tanh", np.tanh, math.tanh), ("exp", np.exp, math.exp),
                                     ("log", np.log, math.log), ("tan", np.tan, math.tan)):  # fmt: skip
        xs = rng.uniform(0.1, 3.0, 20000)
        ys = vectorized(xs)
        for x, y in zip(xs.tolist(), ys.tolist()):
            if y != scalar(x):
                return name, x
    return None


def test_numpy_replay_at_the_traced_point_takes_the_traced_branch():
    found = _numpy_disagreement()
    if found is None:
        pytest.skip("numpy agrees with math to the last bit on this machine")
    name, x0 = found
    op = getattr(pathad, name)
    c = getattr(math, name)(x0)  # the traced value of op(x): the guard is an exact tie at the traced point
    symbol = "<=" if float(getattr(np, name)(np.array([x0]))[0]) > c else ">="

    def f(x):
        y = op(x)
        taken = y <= c if symbol == "<=" else y >= c
        return y * y if taken else -y

    tr = pathad.trace(f, x0)
    tape = pathad.compile(tr, backend="numpy")
    program = tape._program
    flips = program.check_guards(program.compute(np.array([[x0]])).at)
    assert flips.tolist() == [0]  # the provocation: numpy alone would say the branch changed
    assert tape.evaluate(x0) == pytest.approx(tr.value, rel=1e-15)
    assert tape.gradient(x=x0)["x"] == pytest.approx(pathad.gradient(tr)["x"], rel=1e-14)
    batch = tape.gradient(x=np.array([x0, x0]))["x"]
    assert batch.tolist() == pytest.approx([pathad.gradient(tr)["x"]] * 2, rel=1e-14)
    assert tape.evaluate(x0, retrace=f) == pytest.approx(tr.value, rel=1e-15)


DOMAIN_CASES = [
    ("log", lambda x: pathad.log(x) + x, 2.0, -1.0, "log at node"),
    ("div", lambda x: 1.0 / x + x, 2.0, 0.0, "div at node"),
    ("exp", lambda x: pathad.exp(x) * 2.0, 1.0, 800.0, "exp at node"),
    ("sqrt", lambda x: pathad.sqrt(x) * 2.0, 1.0, -4.0, "sqrt at node"),
    ("pow", lambda x: x**0.5 + 1.0, 1.0, -1.0, "pow at node"),
    ("gradient", overflowing, 0.25, 0.5, "at node x"),
]


@BACKENDS
@pytest.mark.parametrize("name, f, traced, bad, where", DOMAIN_CASES, ids=[c[0] for c in DOMAIN_CASES])
def test_domain_errors_leak_no_runtime_warning(name, f, traced, bad, where, backend):
    tape = pathad.compile(pathad.trace(f, traced), backend=backend)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for point in (bad, np.array([traced, bad, bad])):
            with pytest.raises(DomainError, match=where):
                tape.gradient(x=point)
            if name != "gradient":
                with pytest.raises(DomainError, match=where):
                    tape.evaluate(x=point)
        if name == "gradient":
            with pytest.raises(DomainError, match="at node"):
                tape.solve("x")


# --- 4. programs without operations ---------------------------------------------------------------


def _branch(x):
    return x if x > 0 else -x


DEGENERATE = [
    ("identity", lambda x: x, 1),
    ("second", lambda x, y: y, 2),
    ("branch", _branch, 1),
    ("tuple", lambda x, y: (x, y), 2),
]


@BACKENDS
@pytest.mark.parametrize("name, f, n", DEGENERATE, ids=[d[0] for d in DEGENERATE])
def test_programs_without_operations_replay(name, f, n, backend):
    tr = pathad.trace(f, *[1.0] * n)
    tape = pathad.compile(tr, backend=backend)
    point = [2.5, -0.5][:n]
    fresh = pathad.trace(f, *point)
    assert tape.evaluate(*point) == fresh.value
    of = None if name != "tuple" else 1
    expected = pathad.gradient(fresh, of=None if of is None else fresh.outputs[of])
    assert dict(tape.gradient(*point, of=of)) == expected
    value, grad = tape.value_and_gradient(*point, of=of)
    assert value == (fresh.value if of is None else fresh.value[of]) and dict(grad) == expected
    batch = [np.array([p, p + 1.0]) for p in point]
    values = tape.evaluate(*batch)
    first = values if of is None and name != "tuple" else values[-1]
    assert np.asarray(first).tolist() == (batch[-1] if name != "branch" else batch[0]).tolist()
    grads = tape.gradient(*batch, of=of)
    assert {k: v.tolist() for k, v in grads.items()} == {k: [v, v] for k, v in expected.items()}


@BACKENDS
def test_a_branch_that_returns_an_input_still_guards(backend):
    tape = pathad.compile(pathad.trace(_branch, 1.0), backend=backend)
    with pytest.raises(pathad.BranchError):
        tape.evaluate(-1.0)
    assert tape.evaluate(-1.0, retrace=_branch) == 1.0


def test_a_plain_graph_without_ops_still_says_so():
    tape = pathad.compile(nx.DiGraph([("a", "b", {"partial": 2.0})]))
    with pytest.raises(ReplayError, match="without 'op' attributes"):
        tape.evaluate()
    assert tape.solve("a").to_dict() == {"a": 1.0, "b": 2.0}
