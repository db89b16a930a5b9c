"""The second local partials of the primitive table (``Primitive.second``) against independent oracles.

Oracles: sympy's second derivative of each primitive's sympy formula, evaluated
at 40 digits (smooth primitives); central differences of the first partial
rules (piecewise ones, away from their kinks, where the declared second
derivative is 0); the complex step applied to the first partial rules
(analytic primitives).  The array, sympy and compiled (numba) namespaces must
give the float namespace's numbers.
"""

import cmath
import inspect
import math
from types import SimpleNamespace

import numpy as np
import pytest
from oracles import COMPLEX, sample_points

from pathad.compiled.kernel_source import compiled_functions, formula
from pathad.primitives import ARRAY, FLOAT, PRIMITIVES, is_zero_rule
from pathad.symbolic import SympyMath

sympy = pytest.importorskip("sympy")

#: Piecewise-constant and piecewise-linear primitives: second derivative 0 by convention, checked by differences.
PIECEWISE = {"abs", "relu", "maximum", "minimum", "copysign", "heaviside", "sign", "floor", "ceil", "trunc", "rint",
             "round", "mod", "floor_divide", "fmod"}  # fmt: skip

#: The (operand, operand) pair of each second rule: unary (∂aa), binary (∂aa, ∂ab, ∂bb).
PAIRS = {1: ((0, 0),), 2: ((0, 0), (0, 1), (1, 1))}

SMOOTH = sorted(set(PRIMITIVES) - PIECEWISE)
SYMBOLS = sympy.symbols("a b", real=True)


def close(got, expected, rel=1e-12, abs_=1e-14):
    return math.isclose(got, expected, rel_tol=rel, abs_tol=abs_)


def symbolic(p):
    """The primitive's symbols and its value rule evaluated on them in the sympy namespace."""
    symbols = SYMBOLS[: p.arity]
    return symbols, p.value(SympyMath(), *symbols)


def exact(symbols, point):
    """The point's floats as exact rationals, for a reference evaluated at 40 digits."""
    return {s: sympy.Rational(x) for s, x in zip(symbols, point)}


def reference(expression, symbols, point):
    return float(sympy.sympify(expression).evalf(40, subs=exact(symbols, point)))


def second_derivatives(p):
    """sympy's ∂²f/∂x_j∂x_k of the primitive's formula, one per rule of ``second``."""
    symbols, f = symbolic(p)
    return symbols, [sympy.diff(f, symbols[j], symbols[k]) for j, k in PAIRS[p.arity]]


@pytest.mark.parametrize("name", sorted(PRIMITIVES))
def test_every_primitive_declares_its_second_partials(name):
    """A primitive added without second rules (or with the wrong number, or signature) fails here."""
    p = PRIMITIVES[name]
    assert p.arity in (1, 2)
    assert len(p.second) == len(PAIRS[p.arity]), (name, "unary: (aa,); binary: (aa, ab, bb)")
    for rule in p.second:
        assert callable(rule)
        assert len(inspect.signature(rule).parameters) == p.arity + 2, (name, "rule(m, *operands, result)")


@pytest.mark.parametrize("name", SMOOTH)
def test_second_partials_match_sympy(name):
    p = PRIMITIVES[name]
    symbols, derivatives = second_derivatives(p)
    _, f = symbolic(p)
    for point in sample_points(name):
        result = p.value(FLOAT, *point)
        for (j, k), rule, derivative in zip(PAIRS[p.arity], p.second, derivatives):
            expected = reference(derivative, symbols, point)
            got = rule(FLOAT, *point, result)
            assert close(got, expected), (name, (j, k), point, got, expected)
            # the same rule in the sympy namespace builds the same function
            built = reference(rule(SympyMath(), *symbols, f), symbols, point)
            assert close(built, expected), (name, (j, k), point, "sympy namespace", built, expected)


@pytest.mark.parametrize("name", sorted(PIECEWISE))
def test_piecewise_second_partials_are_zero_by_convention(name):
    """Away from the kinks the first partials are locally constant (central differences 0); everywhere the second
    partials are the shared zero rule."""
    p = PRIMITIVES[name]
    assert all(is_zero_rule(rule) for rule in p.second), name
    h = 1e-6
    for point in sample_points(name):
        result = p.value(FLOAT, *point)
        for (j, k), rule in zip(PAIRS[p.arity], p.second):
            for first, other in ((j, k), (k, j)):  # ∂/∂x_k of ∂f/∂x_j, and the other way round
                if name == "round" and other == 1:
                    continue  # the number of digits is an integer constant
                up, down = list(point), list(point)
                up[other] += h
                down[other] -= h
                partial = p.partials[first]
                difference = (partial(FLOAT, *up, p.value(FLOAT, *up))
                              - partial(FLOAT, *down, p.value(FLOAT, *down))) / (2 * h)  # fmt: skip
                assert close(difference, 0.0, abs_=1e-9), (name, (first, other), point, difference)
            assert rule(FLOAT, *point, result) == 0
    for kink in ([0.0, 1.0], [1.0, 1.0], [2.5, 0.5], [-0.0, -1.0]):  # a kink, tie or jump of each
        point = kink[: p.arity] if name != "round" else [kink[0], 2.0]
        assert all(rule(FLOAT, *point, p.value(FLOAT, *point)) == 0 for rule in p.second), (name, point)


def _identically_zero(expression, symbols, points):
    """Whether sympy's expression is 0: a nonzero value at a point proves it is not, else it must simplify to 0."""
    if expression == 0:
        return True
    if any(abs(reference(expression, symbols, point)) > 1e-30 for point in points):
        return False
    return sympy.simplify(expression) == 0


@pytest.mark.parametrize("name", SMOOTH)
def test_zero_rules_are_exactly_the_identically_zero_second_partials(name):
    p = PRIMITIVES[name]
    symbols, derivatives = second_derivatives(p)
    points = sample_points(name)
    for (j, k), rule, derivative in zip(PAIRS[p.arity], p.second, derivatives):
        assert is_zero_rule(rule) == _identically_zero(derivative, symbols, points), (name, (j, k), derivative)


def test_zero_rules_mark_the_structurally_linear_pairs():
    zero = {name: tuple(is_zero_rule(rule) for rule in p.second) for name, p in PRIMITIVES.items()}
    assert zero["add"] == zero["sub"] == (True, True, True)
    assert zero["mul"] == (True, False, True)
    assert zero["div"] == (True, False, False)
    assert zero["neg"] == zero["deg2rad"] == zero["rad2deg"] == (True,)
    assert zero["square"] == zero["exp"] == (False,)
    assert zero["pow"] == (False, False, False)
    assert not is_zero_rule(lambda m, a, r: 0)  # only the table's shared rules count
    assert not is_zero_rule(PRIMITIVES["mul"].second[1])


@pytest.mark.parametrize("name", sorted(PRIMITIVES))
def test_array_namespace_gives_the_float_numbers(name):
    p = PRIMITIVES[name]
    points = sample_points(name)
    results = [p.value(FLOAT, *point) for point in points]
    columns = [np.array(column) for column in zip(*points)]
    for index, rule in enumerate(p.second):
        try:
            got = rule(ARRAY, *columns, np.array(results))
        except ValueError:  # `if b != 0` on an array: the replay evaluates such a rule point by point
            assert (name, index) == ("pow", 0), (name, index, "only pow's base rule branches on values")
            got = [rule(ARRAY, *(np.float64(x) for x in point), np.float64(r)) for point, r in zip(points, results)]
        got = np.broadcast_to(np.asarray(got, dtype=np.float64), (len(points),))
        for point, result, value in zip(points, results, got):
            expected = rule(FLOAT, *point, result)
            assert close(float(value), expected, rel=1e-13, abs_=1e-15), (name, index, point, value, expected)


@pytest.mark.parametrize("name", sorted(PRIMITIVES))
def test_second_rules_are_one_expression_in_the_compiled_namespace(name):
    """Each rule is one expression the numba kernels could paste (as they do the first partials), in names the
    compiled namespace has; evaluated there (as Python) it gives the float numbers."""
    p = PRIMITIVES[name]
    m = SimpleNamespace(**compiled_functions())
    for index, rule in enumerate(p.second):
        text = formula(rule)
        for point in sample_points(name, count=2):
            result = p.value(FLOAT, *point)
            at = {"m": m, "r": result, **dict(zip("ab", point))}
            got = eval(text, {}, at)  # fixed text from pathad's own table
            assert close(float(got), rule(FLOAT, *point, result), rel=1e-15, abs_=0), (name, index, text)


#: The complex-analytic math namespace the first partial rules of the COMPLEX primitives use.
COMPLEX_MATH = SimpleNamespace(
    pow=COMPLEX["pow"],
    xlogy=lambda x, y: x * cmath.log(y),
    sin=cmath.sin,
    cos=cmath.cos,
    sech2=lambda z: 1 / cmath.cosh(z) ** 2,
    sigmoid=COMPLEX["sigmoid"],
)


@pytest.mark.parametrize("name", sorted(COMPLEX))
def test_second_partials_match_the_complex_step_of_the_first(name):
    """∂²f/∂x_j∂x_k = Im ∂f/∂x_j(x + ih·e_k) / h: the first partial rule on a complex point, the value from the
    independent complex implementation."""
    p = PRIMITIVES[name]
    h = 1e-30
    for point in sample_points(name):
        result = p.value(FLOAT, *point)
        for (j, k), rule in zip(PAIRS[p.arity], p.second):
            shifted = [complex(x) for x in point]
            shifted[k] += 1j * h
            first = p.partials[j](COMPLEX_MATH, *shifted, COMPLEX[name](*shifted))
            expected = complex(first).imag / h
            got = rule(FLOAT, *point, result)
            assert close(got, expected, rel=1e-12, abs_=1e-15), (name, (j, k), point, got, expected)


def mp_reference(name, pair, point):
    """The second derivative at 50 digits by mpmath, from the sympy formula (for points outside the sample)."""
    p = PRIMITIVES[name]
    symbols, derivatives = second_derivatives(p)
    return float(sympy.sympify(derivatives[PAIRS[p.arity].index(pair)]).evalf(50, subs=exact(symbols, point)))


@pytest.mark.parametrize(
    "name, pair, point",
    [
        ("sigmoid", (0, 0), [40.0]),  # σ(a) rounds to 1: the rule keeps σ(-a)
        ("sigmoid", (0, 0), [-40.0]),
        ("sigmoid", (0, 0), [1e-8]),  # 1 - 2σ(a) = -tanh(a/2), no cancellation
        ("tanh", (0, 0), [20.0]),
        ("tanh", (0, 0), [1e-9]),
        ("softplus", (0, 0), [-50.0]),
        ("logaddexp", (0, 0), [1000.0, 999.0]),
        ("logaddexp", (0, 1), [-700.0, -700.5]),
        ("logaddexp2", (1, 1), [1000.0, 999.0]),
        ("arcsin", (0, 0), [0.999999]),
        ("arctanh", (0, 0), [-0.999999]),
        ("arccosh", (0, 0), [1.000001]),
        ("arctan", (0, 0), [1e90]),
        ("arcsinh", (0, 0), [1e120]),
        ("hypot", (0, 1), [1e200, 3e200]),
        ("arctan2", (0, 1), [1.0, 1.0 + 2**-40]),
        ("expm1", (0, 0), [-40.0]),
        ("erf", (0, 0), [5.0]),
        ("sqrt", (0, 0), [1e-200]),
        ("cbrt", (0, 0), [1e-5]),
        ("pow", (0, 1), [0.5, 3.0]),
        ("pow", (1, 1), [5.0, -1.5]),
    ],
)
def test_second_partials_keep_full_precision(name, pair, point):
    p = PRIMITIVES[name]
    rule = p.second[PAIRS[p.arity].index(pair)]
    got = rule(FLOAT, *point, p.value(FLOAT, *point))
    assert close(got, mp_reference(name, pair, point), rel=1e-13, abs_=0), (name, pair, point, got)


def test_pow_at_a_zero_base_follows_the_first_order_convention():
    aa, ab, bb = PRIMITIVES["pow"].second
    assert aa(FLOAT, 0.0, 2.0, 0.0) == 2.0  # d²(x²)/dx²
    assert aa(FLOAT, 0.0, 1.0, 0.0) == 0.0  # x¹ is linear, also at 0
    assert aa(FLOAT, 0.0, 0.0, 1.0) == 0.0  # x⁰ is constant
    assert aa(FLOAT, 0.0, 3.0, 0.0) == 0.0
    assert aa(FLOAT, -2.0, 3.0, -8.0) == -12.0  # a negative base with an integer exponent
    assert ab(FLOAT, 0.0, 2.5, 0.0) == 0.0  # as ∂/∂y of pow(0, y) is 0 for y > 0
    assert bb(FLOAT, 0.0, 0.5, 0.0) == 0.0
    assert ab(FLOAT, 2.0, 3.0, 8.0) == pytest.approx(4.0 * (1 + 3 * math.log(2.0)), rel=1e-15)
    with pytest.raises(ValueError):  # a^(b-1)(1 + b log a) at (0, 1) is unbounded: a domain error, as log(0)
        ab(FLOAT, 0.0, 1.0, 0.0)
