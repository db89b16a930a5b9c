"""pathad.dual: dual numbers against the seeds' numbers, the complex step and the traced graph."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from oracles import COMPLEX_UNARY

import pathad
from pathad import dual
from pathad.dual import Dual
from pathad.expressions import parse
from pathad.primitives import PRIMITIVES


def ulps(a, b):
    return abs(a - b) / math.ulp(max(abs(a), abs(b)))


class TestSqrtOfThreeSin:
    """The steepest-descent post: f(x) = √(3 sin x) on the dual number 2 + ε."""

    def test_the_posts_numbers(self):
        result = dual.sqrt(3 * dual.sin(Dual.variable(2.0)))
        assert result.value == 1.6516332160855343
        assert ulps(result.derivative, -0.3779412091869595) <= 2

    def test_agrees_with_both_sweeps_of_the_graph(self):
        tr = pathad.trace(lambda x: pathad.sqrt(3 * pathad.sin(x)), 2.0)
        assert pathad.derivative(tr, "x") == -0.3779412091869595
        assert dual.derivative(lambda x: dual.sqrt(3 * dual.sin(x)), 2.0) == pathad.derivative(tr, "x", mode="forward")

    def test_numpy_ufuncs(self):
        assert np.sqrt(3 * np.sin(Dual.variable(2.0))) == dual.sqrt(3 * dual.sin(Dual.variable(2.0)))




@settings(max_examples=50, deadline=None)
@given(st.floats(0.1, 3.0), st.sampled_from(sorted(COMPLEX_UNARY)))
def test_each_unary_rule_against_the_complex_step(x, name):
    result = getattr(dual, name)(Dual(x, 1.0))
    assert result.value == PRIMITIVES[name].value(pathad.primitives.FLOAT, x)
    assert math.isclose(result.derivative, COMPLEX_UNARY[name](complex(x, 1e-30)).imag / 1e-30, rel_tol=1e-12)


@settings(max_examples=50, deadline=None)
@given(st.floats(0.2, 3.0), st.floats(0.3, 2.0) | st.floats(-2.0, -0.3))
def test_each_binary_rule_against_the_complex_step(a, b):
    cases = {
        "add": lambda p, q: p + q,
        "sub": lambda p, q: p - q,
        "mul": lambda p, q: p * q,
        "div": lambda p, q: p / q,
        "pow": lambda p, q: p**q,
    }
    for name, rule in cases.items():
        for seed_a, seed_b in ((1.0, 0.0), (0.0, 1.0), (0.5, -2.0)):
            result = rule(Dual(a, seed_a), Dual(b, seed_b))
            step = rule(complex(a, 1e-30 * seed_a), complex(b, 1e-30 * seed_b))
            assert math.isclose(result.value, step.real, rel_tol=1e-14, abs_tol=1e-50), name
            assert math.isclose(result.derivative, step.imag / 1e-30, rel_tol=1e-12, abs_tol=1e-300), name


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.sampled_from(["x", "sin(x)", "exp(-x)", "sigmoid(2*x)", "x**2", "tanh(x)", "sqrt(1 + x*x)", "relu(x)"]),
        min_size=1,
        max_size=4,
    ),
    st.sampled_from([" + ", " * ", " - "]),
    st.floats(-2.0, 2.0).filter(lambda v: abs(v) > 1e-3),
)
def test_the_same_formula_as_a_forward_sweep_of_its_graph(parts, joiner, x):
    expression = parse(joiner.join(parts))
    d = expression.evaluate({"x": Dual.variable(x)}, apply=dual.apply)
    forward = pathad.derivative(expression.trace({"x": x}), "x", mode="forward")
    assert math.isclose(d.derivative, forward, rel_tol=1e-12, abs_tol=1e-12)


def both(d):
    """A dual number's value and derivative: == compares values only, as for traced numbers."""
    return (d.value, d.derivative)


class TestArithmetic:
    def test_constants_mix_in_with_derivative_zero(self):
        x = Dual.variable(3.0)
        assert both(2 * x + 1) == (7.0, 2.0)
        assert both(1 / x) == (1 / 3, -1 / 9)
        assert both(2**x) == (8.0, 8 * math.log(2))
        assert both(-x) == (-3.0, -1.0) and +x is x and both(abs(-x)) == (3.0, 1.0)

    def test_numpy_scalars_and_arrays(self):
        x = Dual.variable(2.0)
        assert both(np.float64(3.0) * x) == (6.0, 3.0)
        assert [both(d) for d in np.array([x, 2 * x]) * 2] == [(4.0, 2.0), (8.0, 4.0)]
        assert [both(d) for d in np.exp(np.array([x], dtype=object))] == [both(dual.exp(x))]

    def test_a_dual_with_derivative_zero_is_a_constant(self):
        assert both(Dual(0.0) ** 0.5) == (0.0, 0.0)  # sqrt'(0) is not needed, so not computed
        with pytest.raises(pathad.DomainError, match="pow"):
            Dual(0.0, 1.0) ** 0.5

    def test_plain_numbers_give_plain_numbers(self):
        assert dual.sin(0.0) == 0.0 and dual.apply(PRIMITIVES["add"], 1, 2) == 3.0

    def test_comparisons_and_equality_by_value_as_traced_numbers(self):
        assert Dual(1.0, 5.0) < 2 < Dual(3.0, -1.0) and Dual(2.0, 1.0) >= Dual(2.0, 0.0)
        assert Dual(3.0) == 3 and Dual(3.0, 1.0) == 3 and Dual(3.0, 1.0) == Dual(3.0, 2.0) != Dual(4.0, 2.0)
        assert not Dual(0.0, 1.0) and Dual(-1.0, 0.0)
        with pytest.raises(TypeError):
            hash(Dual(3.0))
        assert (Dual(1.0) == "1") is False

    def test_relu_and_abs_at_the_kink_have_derivative_zero(self):
        assert both(dual.relu(Dual(0.0, 1.0))) == (0.0, 0.0) and both(abs(Dual(0.0, 1.0))) == (0.0, 0.0)


class TestErrors:
    def test_domain_errors_name_the_operation_and_operands(self):
        with pytest.raises(pathad.DomainError, match=r"log with operand Dual\(-1.0, 1.0\): no real value"):
            dual.log(Dual(-1.0, 1.0))
        with pytest.raises(pathad.DomainError, match="its derivative in operand 0"):
            dual.sqrt(Dual(0.0, 1.0))
        with pytest.raises(pathad.DomainError, match="div"):
            Dual(1.0, 1.0) / 0
        with pytest.raises(pathad.DomainError, match="exp"):
            dual.exp(Dual(1000.0, 1.0))

    def test_float_would_drop_the_derivative(self):
        with pytest.raises(TypeError, match="derivative"):
            math.sin(Dual.variable(1.0))

    def test_not_numbers(self):
        with pytest.raises(TypeError, match="real number"):
            Dual("1")
        with pytest.raises(TypeError, match="real number"):
            Dual(True)
        with pytest.raises(TypeError):
            Dual(1.0) + "a"
        with pytest.raises(TypeError, match="sin needs a real number, a traced value or a Dual, got"):
            dual.sin("a")
        with pytest.raises(TypeError, match="no rule for Dual values"):
            np.spacing(Dual(1.0))
