"""The functions people use, on the issue's own examples and the documented one-sided conventions.

Oracles: closed forms written here by hand, the complex step, and numpy's own
values for the value side.
"""

import cmath
import math

import numpy as np
import pytest

import pathad
from pathad import DomainError
from pathad.draw import symbolic_labels


def grad(f, **at):
    return pathad.gradient(pathad.trace(f, **at))


def test_the_issues_examples_give_the_true_derivatives():
    assert grad(lambda x: x * pathad.sin(x), x=1.0)["x"] == pytest.approx(1.3817732906760363, rel=1e-15)
    assert grad(lambda x: x * np.sin(x), x=1.0)["x"] == pytest.approx(1.3817732906760363, rel=1e-15)


def test_pow_of_zero_has_derivative_zero_in_the_exponent():
    g = grad(lambda x, y: x**y, x=0.0, y=2.5)
    assert g == {"x": 0.0, "y": 0.0}
    g = grad(lambda x, y: x**y, x=0.0, y=1.0)
    assert g == {"x": 1.0, "y": 0.0}
    with pytest.raises(DomainError, match="derivative in operand 0"):
        grad(lambda x, y: x**y, x=0.0, y=0.5)  # 0.5·0^(-0.5) does not exist


@pytest.mark.parametrize(
    "f, at, expected",
    [
        (np.maximum, (2.0, 2.0), (0.5, 0.5)),
        (np.minimum, (2.0, 2.0), (0.5, 0.5)),
        (np.fmax, (3.0, 2.0), (1.0, 0.0)),
        (np.fmin, (3.0, 2.0), (0.0, 1.0)),
        (np.mod, (7.5, 2.0), (1.0, -3.0)),
        (np.mod, (-7.5, 2.0), (1.0, 4.0)),
        (np.fmod, (-7.5, 2.0), (1.0, 3.0)),
        (np.floor_divide, (7.5, 2.0), (0.0, 0.0)),
        (np.copysign, (3.0, -1.0), (-1.0, 0.0)),
        (np.copysign, (0.0, -1.0), (0.0, 0.0)),
        (np.heaviside, (0.0, 0.3), (0.0, 1.0)),
        (np.heaviside, (2.0, 0.3), (0.0, 0.0)),
        (np.arctan2, (1.0, 2.0), (2 / 5, -1 / 5)),
        (np.hypot, (3.0, 4.0), (3 / 5, 4 / 5)),
    ],
)
def test_binary_conventions(f, at, expected):
    g = grad(lambda x, y: f(x, y), x=at[0], y=at[1])
    assert (g["x"], g["y"]) == pytest.approx(expected, rel=1e-15, abs=1e-15)
    assert pathad.trace(lambda x, y: f(x, y), x=at[0], y=at[1]).value == f(*at)


def test_python_operators_match_numpys_functions():
    g = grad(lambda x, y: x % y + x // y + divmod(x, y)[1], x=-7.5, y=2.0)
    assert g == {"x": 2.0, "y": 8.0}
    tr = pathad.trace(lambda x, y: x % y, x=-7.5, y=2.0)
    assert tr.value == -7.5 % 2.0 == np.mod(-7.5, 2.0)


@pytest.mark.parametrize("f", [np.sign, np.floor, np.ceil, np.trunc, np.rint, round, math.floor, math.ceil])
def test_steps_have_zero_derivative_and_the_right_value(f):
    tr = pathad.trace(lambda x: f(x) + 0 * x, x=2.5)
    assert tr.value == float(f(2.5))
    assert pathad.gradient(tr) == {"x": 0.0}


def test_saturated_sigmoid_and_tanh_keep_full_relative_precision():
    assert grad(pathad.sigmoid, x=40.0)["x"] == pytest.approx(4.248354255291589e-18, rel=1e-13)
    sech2 = 4 * math.exp(-40) / (1 + math.exp(-40)) ** 2
    assert grad(lambda x: np.tanh(x), x=20.0)["x"] == pytest.approx(sech2, rel=1e-13)
    assert grad(pathad.softplus, x=-40.0)["x"] == pytest.approx(1 / (1 + math.exp(40)), rel=1e-13)


def test_the_lecture_label_v_one_minus_v_stays_the_drawn_label():
    tr = pathad.trace(lambda x: pathad.sigmoid(x).named("v") * 2.0, x=0.5)
    _, edges = symbolic_labels(tr)
    assert edges[0, 1, 0] == "v(1−v)"


@pytest.mark.parametrize(
    "name, at, reference",
    [
        ("erf", 0.3, lambda z: 2 / math.sqrt(math.pi) * cmath.exp(-z * z)),
        ("softplus", 0.7, lambda z: 1 / (1 + cmath.exp(-z))),
        ("logaddexp", (0.4, 1.1), None),
    ],
)
def test_functions_without_a_complex_form_against_closed_forms(name, at, reference):
    if reference is None:
        g = grad(lambda x, y: np.logaddexp(x, y), x=at[0], y=at[1])
        total = math.exp(at[0]) + math.exp(at[1])
        assert (g["x"], g["y"]) == pytest.approx((math.exp(at[0]) / total, math.exp(at[1]) / total), rel=1e-15)
        return
    g = grad(getattr(pathad, name), x=at)
    assert g["x"] == pytest.approx(reference(at).real, rel=1e-14)


@pytest.mark.parametrize(
    "f, complex_f, at",
    [
        (np.arcsinh, cmath.asinh, 0.7),
        (np.arccosh, cmath.acosh, 1.7),
        (np.arctanh, cmath.atanh, 0.3),
        (np.arcsin, cmath.asin, 0.3),
        (np.arccos, cmath.acos, -0.3),
        (np.arctan, cmath.atan, 2.0),
        (np.sinh, cmath.sinh, 0.9),
        (np.cosh, cmath.cosh, 0.9),
        (np.log2, lambda z: cmath.log(z) / math.log(2), 3.0),
        (np.log10, cmath.log10, 3.0),
        (np.log1p, lambda z: cmath.log(1 + z), 0.001),
        (np.exp2, lambda z: cmath.exp(z * math.log(2)), 1.3),
        (np.expm1, lambda z: cmath.exp(z) - 1, 1e-3),
        (np.square, lambda z: z * z, -1.5),
        (np.reciprocal, lambda z: 1 / z, -1.5),
        (np.cbrt, lambda z: cmath.exp(cmath.log(z) / 3), 2.5),
        (np.deg2rad, lambda z: z * math.pi / 180, 30.0),
        (np.rad2deg, lambda z: z * 180 / math.pi, 1.0),
    ],
)
def test_smooth_ufuncs_against_the_complex_step(f, complex_f, at):
    h = 1e-30
    expected = complex_f(complex(at, h)).imag / h
    assert grad(lambda x: f(x), x=at)["x"] == pytest.approx(expected, rel=1e-13)
    assert pathad.trace(lambda x: f(x), x=at).value == pytest.approx(float(f(at)), rel=1e-15)


def test_outside_the_domain_is_a_domain_error_naming_the_node():
    with pytest.raises(DomainError, match=r"arcsin at node v2 with operand v1 = 2.0"):
        pathad.trace(lambda x: np.arcsin(x + 0.0), x=2.0)
    with pytest.raises(DomainError, match="arccosh"):
        pathad.trace(lambda x: np.arccosh(x), x=0.5)
    with pytest.raises(DomainError, match="mod"):
        pathad.trace(lambda x: x % 0.0, x=0.5)


def test_a_numpy_function_without_a_rule_says_so_in_one_line():
    with pytest.raises(TypeError, match=r"^numpy.spacing is not differentiable through pathad"):
        pathad.trace(lambda x: np.spacing(x), x=1.0)


def test_comparisons_with_arrays_are_elementwise_and_recorded():
    tr = pathad.trace(lambda x: np.sum(np.where(x < np.array([0.0, 1.0, 2.0]), 2 * x, 3 * x)), x=1.5)
    assert tr.value == 12.0 and pathad.gradient(tr) == {"x": 8.0}
    assert [g.outcome for g in tr.tape.guards] == [False, False, True]


def test_reductions_on_object_arrays():
    def f(x, y):
        v = np.array([x, y, x * y])
        return np.max(v) + np.min(v) + np.mean(v) + np.std(v[:2]) + np.var(v[:2]) + np.prod(v) + np.dot(v, v)

    x, y = 0.5, 2.0
    g = grad(f, x=x, y=y)
    # max = y, min = x, mean = (x+y+xy)/3, std = |x-y|/2, var = (x-y)²/4, prod = x²y², dot = x²+y²+x²y²
    dx = 0 + 1 + (1 + y) / 3 - 0.5 + (x - y) / 2 + 2 * x * y * y + 2 * x + 2 * x * y * y
    dy = 1 + 0 + (1 + x) / 3 + 0.5 - (x - y) / 2 + 2 * x * x * y + 2 * y + 2 * x * x * y
    assert (g["x"], g["y"]) == pytest.approx((dx, dy), rel=1e-14)


def test_formula_language_knows_the_new_functions_and_operators():
    from pathad.expressions import parse

    tr = parse("arcsinh(x) + hypot(x, y) + x % y + x // y + max(x, y) + erf(x)").trace({"x": 0.5, "y": 2.0})
    expected = math.asinh(0.5) + math.hypot(0.5, 2.0) + 0.5 % 2.0 + 0.5 // 2.0 + 2.0 + math.erf(0.5)
    assert tr.value == pytest.approx(expected, rel=1e-15)
    assert pathad.gradient(tr)["y"] == pytest.approx(2.0 / math.hypot(0.5, 2.0) + 0 + 1, rel=1e-15)
