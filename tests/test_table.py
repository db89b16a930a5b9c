"""The primitive table is the one declaration: every part of pathad knows every entry, and every rule is right.

Oracles: sympy's own derivative of each primitive's sympy formula (smooth
primitives), central differences of the float implementation (piecewise ones,
away from their kinks), and the float implementation against the sympy
formula, the array implementation and the compiled (numba) one.
"""

import math

import numpy as np
import pytest
from oracles import sample_points

import pathad
from pathad import expressions
from pathad.draw import symbolic_labels
from pathad.dual import Dual
from pathad.operators import UFUNCS, PrimitiveArithmetic
from pathad.primitives import ARRAY, BY_NAME, FLOAT, PRIMITIVES
from pathad.symbolic import SympyMath

sympy = pytest.importorskip("sympy")

#: Primitives sympy has no function for (pathad shows them as undefined functions): Python's own as the oracle.
UNDEFINED_IN_SYMPY = {"rint": lambda a: float(round(a)), "round": lambda a, b: round(a, int(b))}

#: Primitives whose derivative is piecewise: checked by central differences, not sympy.
PIECEWISE = {"abs", "relu", "maximum", "minimum", "copysign", "heaviside", "sign", "floor", "ceil", "trunc", "rint",
             "round", "mod", "floor_divide", "fmod"}  # fmt: skip

#: Exactly which ufuncs pathad covered before the table held everything (for the coverage count).
UFUNCS_BEFORE = {"add", "subtract", "multiply", "true_divide", "divide", "power", "negative", "absolute", "exp", "log",
                 "sqrt", "sin", "cos", "tan", "tanh"}  # fmt: skip


def sympy_formula(p):
    """The primitive's value rule on sympy symbols a (, b): (symbols, formula)."""
    symbols = sympy.symbols("a b", real=True)[: p.arity]
    return symbols, p.value(SympyMath(), *symbols)


def close(a, b, tol=1e-9):
    return math.isclose(a, b, rel_tol=tol, abs_tol=tol)


@pytest.mark.parametrize("name", sorted(PRIMITIVES))
def test_value_matches_sympy_and_arrays(name):
    p = PRIMITIVES[name]
    symbols, formula = sympy_formula(p)
    for point in sample_points(name):
        value = p.value(FLOAT, *point)
        if name in UNDEFINED_IN_SYMPY:
            expected = UNDEFINED_IN_SYMPY[name](*point)
        else:
            expected = float(formula.subs(dict(zip(symbols, point))).evalf(30))
        assert close(value, expected, 1e-12), (name, point, value, expected)
        array_value = p.value(ARRAY, *(np.array([x]) for x in point))
        assert close(float(np.asarray(array_value)[0]), value, 1e-13), (name, point)


@pytest.mark.parametrize("name", sorted(PRIMITIVES))
def test_partials_match_an_independent_oracle(name):
    p = PRIMITIVES[name]
    symbols, formula = sympy_formula(p)
    for point in sample_points(name):
        result = p.value(FLOAT, *point)
        for j, rule in enumerate(p.partials):
            got = rule(FLOAT, *point, result)
            shown = p.label_rules[j](FLOAT, *point, result)
            if name == "round" and j == 1:
                assert got == 0  # the number of digits is an integer constant
                continue
            if name in PIECEWISE:
                h = 1e-6
                up, down = list(point), list(point)
                up[j] += h
                down[j] -= h
                expected = (p.value(FLOAT, *up) - p.value(FLOAT, *down)) / (2 * h)
                tolerance = 1e-6
            else:
                expected = float(sympy.diff(formula, symbols[j]).subs(dict(zip(symbols, point))).evalf(30))
                tolerance = 1e-11
            assert close(got, expected, tolerance), (name, j, point, got, expected)
            assert close(shown, got, 1e-9), (name, j, point, "the drawn label disagrees with the rule")
            array_got = rule(ARRAY, *(np.array([x]) for x in point), np.array([result]))
            assert close(float(np.broadcast_to(array_got, (1,))[0]), got, 1e-13), (name, j, point, "array rule")


def test_saturated_sigmoid_and_tanh_keep_full_precision():
    sigmoid, tanh = PRIMITIVES["sigmoid"], PRIMITIVES["tanh"]
    s = FLOAT.sigmoid(40.0)
    assert close(sigmoid.partials[0](FLOAT, 40.0, s), math.exp(-40) / (1 + math.exp(-40)) ** 2, 1e-14)
    assert sigmoid.partials[0](FLOAT, 40.0, s) == pytest.approx(4.248354255291589e-18, rel=1e-14)
    t = math.tanh(20.0)
    assert tanh.partials[0](FLOAT, 20.0, t) == pytest.approx(1 / math.cosh(20.0) ** 2, rel=1e-13)
    assert tanh.partials[0](FLOAT, 800.0, 1.0) == 0.0  # underflows to 0 without overflowing on the way


@pytest.mark.parametrize("name", sorted(PRIMITIVES))
def test_every_part_of_pathad_knows_every_primitive(name):
    p = PRIMITIVES[name]
    for ufunc in p.ufuncs:
        assert UFUNCS[getattr(np, ufunc)] is p
    if p.is_function:
        for alias in (p.name, *p.names):
            assert BY_NAME[alias] is p
            assert getattr(pathad, alias)  # pathad.<name>
            assert expressions.FUNCTIONS[alias] == p.name  # the formula language
        assert callable(getattr(PrimitiveArithmetic, p.name))  # the element method numpy calls on object arrays
        for namespace in (FLOAT, ARRAY, SympyMath()):
            assert callable(getattr(namespace, p.name))
    assert p.symbol


@pytest.mark.parametrize("name", sorted(PRIMITIVES))
def test_tracing_dual_numbers_drawing_formulas_and_replay_agree(name):
    p = PRIMITIVES[name]
    point = sample_points(name, count=1, seed=1)[0]
    names = ["x", "y"][: p.arity]
    at = dict(zip(names, point))

    def f(x, y=None):
        return pathad.call(p, *([x, y][: p.arity]))

    tr = pathad.trace(f, **at)
    grad = pathad.gradient(tr)
    forward = pathad.derivatives_from(tr, "x")
    assert close(forward.get(tr.output, 0.0), grad["x"], 1e-12)
    dual = f(*[Dual(v, 1.0 if i == 0 else 0.0) for i, v in enumerate(point)])
    assert close(dual.value, tr.value, 1e-15) and close(dual.derivative, grad["x"], 1e-12)
    for mode in ("forward", "backward"):  # the symbolic semiring: the path sum as a formula, then evaluated
        formula = pathad.symbolic_derivative(tr, "x", mode=mode, expand=False)
        symbols = {sympy.Symbol(n, real=True): v for n, v in at.items()}
        if name not in UNDEFINED_IN_SYMPY:
            assert close(float(formula.subs(symbols).evalf(30)), grad["x"], 1e-9), (name, mode, formula)
    nodes, edges = symbolic_labels(tr)
    assert all(text for text in edges.values())  # every edge has a drawn label
    if p.is_function:
        text = f"{name}({', '.join(names)})"
        expression = expressions.parse(text)
        assert expression.trace(at).value == tr.value
    for backend in ("numpy", "numba"):
        tape = pathad.compile(tr, backend=backend)
        assert close(tape.evaluate(**at), tr.value, 1e-13), backend
        replayed = tape.gradient(**at)
        assert all(close(replayed[k], grad[k], 1e-12) for k in grad), backend


def test_ufunc_coverage_is_counted():
    """How many of numpy's differentiable real ufuncs pathad covers (printed for the closing note)."""
    differentiable = [name for name in dir(np) if isinstance(getattr(np, name), np.ufunc)
                      and "d" in "".join(getattr(np, name).types) and name not in NOT_DIFFERENTIABLE]  # fmt: skip
    differentiable = sorted({getattr(np, name).__name__ for name in differentiable})  # aliases (np.acos) once
    covered = [name for name in differentiable if getattr(np, name) in UFUNCS or name in COMPOSITES]
    before = [name for name in differentiable if name in UFUNCS_BEFORE]
    print(f"\nnumpy's differentiable real ufuncs: {len(differentiable)}; pathad covered {len(before)} before, "
          f"{len(covered)} now")  # fmt: skip
    print("not covered:", sorted(set(differentiable) - set(covered)))
    assert len(covered) >= 55


#: numpy ufuncs on floats that are not real-valued functions with derivatives (predicates, bit operations, ...).
NOT_DIFFERENTIABLE = {"isfinite", "isinf", "isnan", "isnat", "signbit", "logical_and", "logical_or", "logical_xor",
                      "logical_not", "equal", "not_equal", "less", "less_equal", "greater", "greater_equal",
                      "frexp", "spacing", "nextafter", "ldexp", "bitwise_and", "bitwise_or", "bitwise_xor", "invert",
                      "bitwise_not", "left_shift", "right_shift", "gcd", "lcm", "bitwise_count", "matmul", "vecdot",
                      "matvec", "vecmat", "isneginf", "isposinf"}  # fmt: skip

COMPOSITES = {"positive", "conjugate", "conj", "clip", "divmod", "modf"}
