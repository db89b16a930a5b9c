"""derivative / gradient / derivatives_from / jacobian against the complex-step oracle."""

import math
import sys

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from oracles import COMPLEX

import pathad

UNARY = ("sin", "cos", "tanh", "sigmoid", "exp", "square", "soft_sqrt", "soft_log")
BINARY = ("add", "sub", "mul", "div")


class Complex:
    """The oracle's math: complex-analytic functions for the complex step."""

    sin, cos, tanh, exp, sqrt, log, sigmoid = (
        COMPLEX[name] for name in ("sin", "cos", "tanh", "exp", "sqrt", "log", "sigmoid")
    )


def step(lib, op, a, b):
    """One instruction of a random program; every operation stays inside its domain."""
    if op == "add":
        return a + b
    if op == "sub":
        return a - b
    if op == "mul":
        return a * b
    if op == "div":
        return a / (2 + lib.sin(b))
    if op == "square":
        return a**2
    if op == "soft_sqrt":
        return lib.sqrt(1 + a * a)
    if op == "soft_log":
        return lib.log(1 + a * a)
    return getattr(lib, op)(a)


def run(program, lib, inputs):
    values = list(inputs)
    for op, i, j in program:
        values.append(step(lib, op, values[i], values[j]))
    return values


@st.composite
def programs(draw):
    n_inputs = draw(st.integers(1, 3))
    length = draw(st.integers(1, 14))
    program = []
    for k in range(n_inputs, n_inputs + length):
        op = draw(st.sampled_from(UNARY + BINARY))
        program.append((op, draw(st.integers(0, k - 1)), draw(st.integers(0, k - 1))))
    point = draw(st.lists(st.floats(-2, 2, allow_nan=False), min_size=n_inputs, max_size=n_inputs))
    return program, point


def bounded(program, point):
    """Whether every value stays below 1e6 in size (random programs may overflow)."""
    try:
        values = run(program, Complex, [complex(v) for v in point])
    except (OverflowError, ZeroDivisionError):
        return False
    return all(abs(v) < 1e6 for v in values)


def complex_step_gradient(program, point, output=-1):
    h = 1e-30
    grad = []
    for i in range(len(point)):
        z = [complex(v) for v in point]
        z[i] += 1j * h
        grad.append(run(program, Complex, z)[output].imag / h)
    return grad


def traced(program, point, outputs=(-1,)):
    names = [f"xs{i}" for i in range(len(point))]  # from f(*xs)

    def f(*xs):
        values = run(program, pathad, xs)
        return tuple(values[k] for k in outputs)

    return pathad.trace(f, *point), names


@settings(max_examples=150, deadline=None)
@given(programs())
def test_forward_equals_backward_equals_complex_step(case):
    program, point = case
    assume(bounded(program, point))
    tr, names = traced(program, point)
    assume(tr.outputs[0] not in tr.inputs.values())
    expected = complex_step_gradient(program, point)
    backward = pathad.gradient(tr, wrt=names[: len(point)], mode="backward")
    forward = pathad.gradient(tr, wrt=names[: len(point)], mode="forward")
    for name, value in zip(names, expected):
        assert backward[name] == pytest.approx(value, rel=1e-9, abs=1e-12)
        assert forward[name] == pytest.approx(value, rel=1e-9, abs=1e-12)


@settings(max_examples=60, deadline=None)
@given(programs())
def test_jacobian_both_modes_equal_complex_step(case):
    program, point = case
    assume(len(program) >= 2 and bounded(program, point))
    tr, _ = traced(program, point, outputs=(-1, -2))
    expected = np.array([complex_step_gradient(program, point, k) for k in (-1, -2)])
    for mode in ("forward", "backward"):
        J = pathad.jacobian(tr, mode=mode)
        assert J.mode == mode
        assert J.matrix == pytest.approx(expected, rel=1e-9, abs=1e-12)


def h(x, y):
    return (x + 4 * y) * ((x + y) * y)


class TestDerivative:
    def test_lecture_numbers_both_modes(self):
        tr = pathad.trace(h, 3.0, 5.0)
        for mode in ("forward", "backward", "reverse"):
            assert pathad.derivative(tr, "x", mode=mode) == 155.0
            assert pathad.derivative(tr, "y", mode=mode) == 459.0

    def test_with_respect_to_an_intermediate_node(self):
        tr = pathad.trace(h, 3.0, 5.0)
        x_plus_y = 4  # node ids are creation order: x, y, 4y, x+4y, x+y, ...
        assert tr.graph.nodes[x_plus_y]["value"] == 8.0
        assert pathad.derivative(tr, x_plus_y) == 23.0 * 5.0  # ∂h/∂(x+y) = (x+4y)·y

    def test_unrelated_input_has_zero_derivative(self):
        tr = pathad.trace(lambda x, y: x * 2.0, 1.0, 2.0)
        assert pathad.gradient(tr) == {"x": 2.0, "y": 0.0}
        assert pathad.derivative(tr, "y", mode="forward") == 0.0

    def test_fan_out_accumulates(self):
        tr = pathad.trace(lambda x: sum(x * k for k in range(1, 11)) + x * x * x, 2.0)
        assert pathad.derivative(tr, "x") == 55.0 + 3 * 4.0
        assert pathad.derivative(tr, "x", mode="forward") == 55.0 + 3 * 4.0

    def test_bad_mode(self):
        tr = pathad.trace(h, 3.0, 5.0)
        with pytest.raises(ValueError, match="mode must be 'forward' or 'backward', got 'sideways'"):
            pathad.derivative(tr, "x", mode="sideways")


class TestDerivativesFrom:
    def test_one_forward_sweep_gives_every_node(self):
        tr = pathad.trace(lambda x: (x * x, pathad.sin(x), x + 1.0), 0.5)
        d = pathad.derivatives_from(tr, "x")
        assert [d[n] for n in tr.outputs] == [1.0, math.cos(0.5), 1.0]
        assert d[tr.inputs["x"]] == 1.0


class TestJacobian:
    def test_auto_follows_the_plan_and_says_why(self):
        wide = pathad.trace(lambda a, b, c: pathad.sin(a * b) * c, 1.0, 2.0, 3.0)  # 3 inputs, 1 output
        tall = pathad.trace(lambda a: (pathad.exp(a) * 2.0, pathad.exp(a) * a, a + 1.0), 3.0)  # 1 input, 3 outputs
        h = pathad.trace(lambda x, y: (x + 4 * y) * ((x + y) * y), x=3.0, y=5.0)
        # by hand, wide = sin(a·b)·c: backward is one sweep over its 5 edges, 5 ⊗; forward three sweeps,
        # 3 + 3 + 1 ⊗; Markowitz eliminates sin first (1 in × 1 out: 1 ⊗, the edge a·b → out), then a·b
        # (2 in × 1 out: 2 ⊗): 3 ⊗, no ⊕, so elimination is the cheapest
        assert {m: c.total for m, c in pathad.plan_jacobian(wide).costs.items() if "colored" not in m} == {
            "backward": 5, "forward": 7, "elimination": 3}  # fmt: skip
        for tr, expected in ((wide, "elimination"), (h, "elimination")):
            J = pathad.jacobian(tr)
            assert J.mode == expected == pathad.plan_jacobian(tr).best
            assert J.why == pathad.plan_jacobian(tr).why()
        assert pathad.jacobian(h).why == "elimination: 7 ⊗ + 3 ⊕, against 9 ⊗ + 3 ⊕ for backward"
        Jt = pathad.jacobian(tall)
        assert Jt.mode == pathad.plan_jacobian(tall).best and Jt.why.startswith(Jt.mode)
        assert np.asarray(pathad.jacobian(wide)).tolist() == [[3.0 * 2.0 * math.cos(2.0), 3.0 * math.cos(2.0),
                                                              math.sin(2.0)]]  # fmt: skip
        assert pathad.jacobian(tall, mode="backward").sweeps == 3
        assert pathad.jacobian(tall, mode="forward").why is None

    def test_auto_on_a_large_trace_takes_the_fewer_sweeps_without_counting(self, monkeypatch):
        monkeypatch.setattr(pathad.derivatives, "PLAN_LIMIT", 4)
        tr = pathad.trace(lambda a, b, c: pathad.sin(a * b) * c, 1.0, 2.0, 3.0)
        J = pathad.jacobian(tr)
        assert (J.mode, J.sweeps) == ("backward", 1)
        assert J.why == "backward: 1 sweeps against 3 (5 edges are more than the planner counts (4))"

    def test_rows_and_columns_by_name(self):
        tr = pathad.trace(lambda x, y: {"p": x * y, "s": x + y}, 2.0, 5.0)
        J = pathad.jacobian(tr, wrt=["y"], of=["s", "p"])
        assert J.of == ("s", "p") and J.wrt == ("y",)
        assert J.matrix.tolist() == [[1.0], [2.0]]


def chain(x, n):
    for _ in range(n):
        x = x * 1.0000001 + 0.0
    return x


@pytest.mark.parametrize("n", [100_000])
def test_deep_chain_both_modes_without_recursion(n):
    assert sys.getrecursionlimit() < n
    tr = pathad.trace(lambda x: chain(x, n), 1.0)
    expected = 1.0000001**n
    assert pathad.derivative(tr, "x") == pytest.approx(expected, rel=1e-12)
    assert pathad.derivative(tr, "x", mode="forward") == pytest.approx(expected, rel=1e-12)


@pytest.mark.slow
def test_million_op_chain_both_modes():
    tr = pathad.trace(lambda x: chain(x, 500_000), 1.0)  # 2 ops per step
    expected = 1.0000001**500_000
    assert pathad.derivative(tr, "x") == pytest.approx(expected, rel=1e-11)
    assert pathad.derivative(tr, "x", mode="forward") == pytest.approx(expected, rel=1e-11)
