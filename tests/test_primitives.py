"""Each primitive's value and local partials against independent oracles: sympy and the complex step."""

import math

import numpy as np
import pytest
import sympy as sp
from oracles import COMPLEX

from pathad.primitives import FLOAT, PRIMITIVES

a, b = sp.symbols("a b", real=True)

# The mathematical definition of each primitive, written independently of pathad's rules.
SYMPY_DEFINITIONS = {
    "add": a + b,
    "sub": a - b,
    "mul": a * b,
    "div": a / b,
    "pow": a**b,
    "neg": -a,
    "abs": sp.Abs(a),
    "exp": sp.exp(a),
    "log": sp.log(a),
    "sqrt": sp.sqrt(a),
    "sin": sp.sin(a),
    "cos": sp.cos(a),
    "tan": sp.tan(a),
    "tanh": sp.tanh(a),
    "sigmoid": 1 / (1 + sp.exp(-a)),
    "relu": sp.Max(a, 0),
}

# Points inside each domain (and away from kinks, where the derivative is a convention).
POINTS = [(0.7, 1.3), (2.5, -0.4), (1.9, 3.0), (0.05, 0.5)]
POSITIVE_BASE = {"log", "sqrt", "pow"}



def test_every_definition_is_in_the_table():
    """The first primitives, defined here independently; tests/test_table.py checks every entry of the table."""
    assert set(SYMPY_DEFINITIONS) <= set(PRIMITIVES)


def _operands(name, point):
    prim = PRIMITIVES[name]
    x, y = point
    if name in POSITIVE_BASE:
        x = abs(x)
    return (x, y)[: prim.arity]


@pytest.mark.parametrize("name", sorted(SYMPY_DEFINITIONS))
@pytest.mark.parametrize("point", POINTS)
def test_value_and_partials_match_sympy(name, point):
    prim = PRIMITIVES[name]
    operands = _operands(name, point)
    symbols = (a, b)[: prim.arity]
    expr = SYMPY_DEFINITIONS[name]
    at = dict(zip(symbols, operands))
    result = prim.value(FLOAT, *operands)
    assert result == pytest.approx(float(expr.subs(at)), rel=1e-13, abs=1e-15)
    for position, symbol in enumerate(symbols):
        expected = float(sp.diff(expr, symbol).subs(at))
        got = prim.partials[position](FLOAT, *operands, result)
        assert got == pytest.approx(expected, rel=1e-12, abs=1e-14), (name, position)


@pytest.mark.parametrize("name", sorted(COMPLEX))
@pytest.mark.parametrize("point", POINTS)
def test_partials_match_complex_step(name, point):
    prim = PRIMITIVES[name]
    operands = _operands(name, point)
    result = prim.value(FLOAT, *operands)
    h = 1e-30
    for position in range(prim.arity):
        shifted = [complex(v) for v in operands]
        shifted[position] += 1j * h
        expected = COMPLEX[name](*shifted).imag / h
        got = prim.partials[position](FLOAT, *operands, result)
        assert got == pytest.approx(expected, rel=1e-13, abs=1e-15), (name, position)


def test_lecture_labels_use_the_result():
    # §5: sqrt's label is 1/(2v) and sigmoid's is v(1-v), with v the node's value.
    sqrt, sigmoid = PRIMITIVES["sqrt"], PRIMITIVES["sigmoid"]
    assert sqrt.partials[0](FLOAT, 9.0, 3.0) == 1 / 6
    assert sigmoid.partials[0](FLOAT, 0.0, 0.5) == 0.25


def test_sigmoid_does_not_overflow():
    assert FLOAT.sigmoid(-1000.0) == 0.0
    assert FLOAT.sigmoid(1000.0) == 1.0
    assert FLOAT.sigmoid(-30.0) == pytest.approx(math.exp(-30.0) / (1 + math.exp(-30.0)), rel=1e-15)


def test_kinks_use_the_zero_convention():
    relu, abs_ = PRIMITIVES["relu"], PRIMITIVES["abs"]
    assert relu.partials[0](FLOAT, 0.0, 0.0) == 0.0
    assert relu.partials[0](FLOAT, -2.0, 0.0) == 0.0
    assert abs_.partials[0](FLOAT, 0.0, 0.0) == 0.0
    assert abs_.partials[0](FLOAT, -2.0, 2.0) == -1.0


def test_pow_base_partial_at_zero_base():
    pow_ = PRIMITIVES["pow"]
    assert pow_.partials[0](FLOAT, 0.0, 2.0, 0.0) == 0.0  # d(x²)/dx at 0
    assert pow_.partials[0](FLOAT, 0.0, 0.0, 1.0) == 0.0  # d(x⁰)/dx
    assert pow_.partials[0](FLOAT, -2.0, 3.0, -8.0) == 12.0


def test_the_float_rules_take_numpy_scalars_too():
    """Generated code (pathad.transform) calls the float namespace with whatever numpy returns."""
    from pathad.primitives import FLOAT

    assert [FLOAT.sign(np.float64(v)) for v in (-2.0, 0.0, 3.0)] == [-1.0, 0.0, 1.0]
    assert FLOAT.step(np.float64(1.0)) == 1.0 and FLOAT.above(np.float64(1.0), np.float64(1.0)) == 0.5
