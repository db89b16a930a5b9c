"""Hessian-vector products and Hessians (pathad.second) against independent oracles.

sympy's ``hessian`` of the same random program run on symbols; central differences of pathad.gradient (which
uses no second rule); hand-written Hessians of textbook functions; brute-force structure for the patterns.
"""

import math
import warnings
from contextlib import contextmanager

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from test_jacobian_methods import programs, run

import pathad
from pathad import DUAL, DomainError
from pathad.semirings import DualValue


class Sympy:
    sin, exp, tanh = sp.sin, sp.exp, sp.tanh


def scalar_program(program, outputs):
    """f(x) = Σ_k (k + 1) · outputs[k]: one output reading all the program's outputs."""

    def f(x):
        values = run(program, pathad, list(x))
        return sum((k + 1) * values[o] for k, o in enumerate(outputs))

    return f


def sympy_hessian(program, point, outputs):
    symbols = sp.symbols(f"x0:{len(point)}")
    values = run(program, Sympy, list(symbols))
    f = sum((k + 1) * sp.sympify(values[o]) for k, o in enumerate(outputs))
    H = sp.hessian(f, symbols)
    at = dict(zip(symbols, [sp.Rational(str(p)) for p in point]))
    return np.array(H.subs(at).evalf(30).tolist(), dtype=np.float64)


@contextmanager
def quiet():
    """Constant outputs are warned about; the random programs have them on purpose."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def traced_scalar(program, point, outputs):
    with quiet():
        return pathad.trace(scalar_program(program, outputs), np.array(point))


@settings(max_examples=40, deadline=None)
@given(programs(max_inputs=4, max_outputs=3, max_ops=14))
def test_the_hessian_is_sympys_on_random_programs(case):
    program, point, outputs = case
    tr = traced_scalar(program, point, outputs)
    expected = sympy_hessian(program, point, outputs)
    scale = max(1.0, float(np.abs(expected).max()))
    with quiet():
        for mode in ("dense", "colored"):
            H = pathad.hessian(tr, mode=mode)
            np.testing.assert_allclose(H.matrix, expected, rtol=1e-11, atol=1e-11 * scale, err_msg=mode)
            assert np.array_equal(H.matrix, H.matrix.T)
            assert H.asymmetry <= 1e-12 * scale
        pattern = pathad.hessian_sparsity(tr)
    assert not (np.abs(expected) > 1e-12 * scale)[~pattern].any(), "a nonzero entry outside the pattern"


@settings(max_examples=30, deadline=None)
@given(programs(max_inputs=5, max_outputs=3, max_ops=30), st.lists(st.integers(-3, 3), min_size=5, max_size=5))
def test_an_hvp_is_the_central_difference_of_the_gradient(case, direction):
    """(∇f(x + εv) − ∇f(x − εv)) / 2ε, by pathad.gradient on two fresh traces: no second rule involved."""
    program, point, outputs = case
    v = np.array(direction[: len(point)], dtype=np.float64)
    f = scalar_program(program, outputs)
    with quiet():
        tr = pathad.trace(f, np.array(point))
        found = pathad.hvp(tr, v)["x"]
        eps = 1e-5
        plus = pathad.gradient(pathad.trace(f, np.array(point) + eps * v))["x"]
        minus = pathad.gradient(pathad.trace(f, np.array(point) - eps * v))["x"]
    expected = (plus - minus) / (2 * eps)
    scale = max(1.0, float(np.abs(found).max()), float(np.abs(expected).max()))
    np.testing.assert_allclose(found, expected, rtol=0, atol=1e-5 * scale)


def test_textbook_hessians_by_hand():
    def rosenbrock(x, y):
        return (1 - x) ** 2 + 100 * (y - x * x) ** 2

    H = pathad.hessian(pathad.trace(rosenbrock, -1.2, 1.0))
    # ∂²/∂x² = 2 − 400y + 1200x², ∂²/∂x∂y = −400x, ∂²/∂y² = 200
    assert H.matrix.tolist() == [[2 - 400 + 1200 * 1.44, 480.0], [480.0, 200.0]]
    tr = pathad.trace(lambda x, y: pathad.sin(x) * pathad.exp(y), 0.5, 0.25)
    s, c, e = math.sin(0.5), math.cos(0.5), math.exp(0.25)
    np.testing.assert_allclose(pathad.hessian(tr).matrix, [[-s * e, c * e], [c * e, s * e]], rtol=1e-15)
    assert pathad.hvp(tr, {"y": 2.0}) == pytest.approx({"x": 2 * c * e, "y": 2 * s * e}, rel=1e-15)


def test_a_separable_function_takes_one_hvp_and_a_banded_one_three():
    separable = pathad.trace(lambda v: sum(pathad.sin(v[i]) * v[i] for i in range(40)), np.linspace(0, 1, 40))
    H = pathad.hessian(separable)
    assert (H.mode, H.hvps) == ("colored", 1) and (H.matrix == np.diag(np.diag(H.matrix))).all()
    x = np.linspace(-1, 1, 200)

    def extended_rosenbrock(x):
        return sum(100 * (x[i + 1] - x[i] ** 2) ** 2 + (1 - x[i]) ** 2 for i in range(len(x) - 1))

    tr = pathad.trace(extended_rosenbrock, x)
    H = pathad.hessian(tr)
    assert H.mode == "colored" and H.hvps == 3 <= 6
    dense = pathad.hessian(tr, mode="dense")
    assert dense.hvps == 200
    np.testing.assert_array_equal(H.matrix, dense.matrix)
    i = np.arange(199)
    assert np.allclose(H.matrix[i, i + 1], -400 * x[:-1]) and H.array.shape == (200, 200)


def test_the_pattern_by_structure():
    tr = pathad.trace(lambda x, y, z, w: x * y + pathad.exp(z) + 3 * w, 1.0, 2.0, 0.5, 4.0)
    assert pathad.hessian_sparsity(tr).astype(int).tolist() == [
        [0, 1, 0, 0], [1, 0, 0, 0], [0, 0, 1, 0], [0, 0, 0, 0]]  # fmt: skip
    # a zero at the point is not a structural zero: x·y·y at y = 0 still meets x and y, and y itself; x is linear
    tr = pathad.trace(lambda x, y: x * y * y, 1.0, 0.0)
    assert pathad.hessian_sparsity(tr).astype(int).tolist() == [[0, 1], [1, 1]]
    assert pathad.hessian(tr).matrix.tolist() == [[0.0, 0.0], [0.0, 2.0]]


def test_the_dual_semiring_passes_the_laws():
    samples = [DualValue(a, b) for a, b in ((2.0, 0.5), (-1.5, 4.0), (0.25, -2.0), (0.0, 1.0))]
    pathad.check_laws(DUAL, samples)  # dyadic numbers: every sum and product is exact
    assert DUAL.times(DUAL.one, samples[0]) == samples[0] and DUAL.plus(DUAL.zero, samples[1]) == samples[1]


def test_a_second_partial_without_a_value_names_its_node():
    tr = pathad.trace(lambda x: x**1.5, 0.0)  # first derivative 1.5·√x = 0 at 0; the second, 0.75/√x, is not
    with pytest.raises(DomainError, match=r"second derivative of pow at node .* operands 0\.0, 1\.5"):
        pathad.hessian(tr)


def test_an_hvp_that_overflows_names_where():
    tr = pathad.trace(lambda x, y: pathad.exp(x) * y * 1e300, 1.0, 1.0)
    with pytest.raises(DomainError, match="not a finite number"):
        pathad.hvp(tr, {"x": 1e10})


def test_directions_and_arguments_are_checked():
    tr = pathad.trace(lambda v, s: s * (v @ v), np.array([1.0, 2.0]), 3.0)
    assert pathad.hvp(tr, {"v": [1.0, 0.0]})["v"].tolist() == [6.0, 0.0]
    assert pathad.hvp(tr, {"s": 1.0})["v"].tolist() == [2.0, 4.0]
    assert pathad.hvp(tr, [0.0, 1.0, 0.0], wrt="s") == {"s": 4.0}
    with pytest.raises(ValueError, match="one component per input"):
        pathad.hvp(tr, [1.0, 0.0])
    with pytest.raises(ValueError, match="finite"):
        pathad.hvp(tr, {"s": math.inf})
    with pytest.raises(ValueError, match="'dense'"):
        pathad.hessian(tr, mode="sparse")


def test_explain_second_writes_the_lectures_h_term_by_term():
    """h = x²y + 5xy² + 4y³ (Example 4.1): h_xy = 2x + 10y = 56, h_yy = 10x + 24y = 150, h_xx = 2y = 10."""
    tr = pathad.trace(lambda x, y: (x + 4 * y) * ((x + y) * y), x=3.0, y=5.0)
    text = pathad.explain_second(tr, "x", "y")
    assert text.endswith("= 23 + 13 + 20 = 56") and text.count("\n  u = ") == 3
    assert pathad.explain_second(tr, "y").endswith("= 150")
    assert pathad.explain_second(tr, "x").endswith("= 10")
    linear = pathad.trace(lambda x, y: 3 * x + y, 1.0, 2.0)
    assert "= 0 (no paths from x and y meet" in pathad.explain_second(linear, "x", "y")


@settings(max_examples=20, deadline=None)
@given(programs(max_inputs=3, max_outputs=2, max_ops=15), st.data())
def test_explain_seconds_terms_add_up_to_the_hessian(case, data):
    program, point, outputs = case
    tr = traced_scalar(program, point, outputs)
    with quiet():
        H = pathad.hessian(tr, mode="dense").matrix
        i = data.draw(st.integers(0, len(point) - 1))
        j = data.draw(st.integers(0, len(point) - 1))
        text = pathad.explain_second(tr, f"x[{i}]", f"x[{j}]")
    total = float(text.rsplit("= ", 1)[1].split(" ")[0])
    assert total == pytest.approx(H[i, j], rel=1e-8, abs=1e-8 * max(1.0, float(np.abs(H).max())))


def test_the_drawing_shows_each_edge_as_its_dual_pair():
    """x·y + sin x at (3, 2) along v = (1, 0): by hand the edge x→x·y carries (y, ẏ) = (2, 0), y→x·y carries
    (x, ẋ) = (3, 1), x→sin carries (cos 3, −sin 3 · ẋ)."""
    tr = pathad.trace(lambda x, y: x * y + pathad.sin(x), 3.0, 2.0)
    edges = [line for line in pathad.draw(tr, second={"x": 1.0}).source.splitlines() if "->" in line]
    assert "(2, 0)" in edges[0] and "(3, 1)" in edges[1]
    assert f"(−{abs(math.cos(3)):.2g}, −{math.sin(3):.4g})" in edges[2]
    pairs = pathad.second.dual_sweep(tr, {"x": 1.0})
    assert pairs[0] == DualValue(2.0 + math.cos(3.0), -math.sin(3.0))  # (∂f/∂x, ∂²f/∂x²)
    with pytest.raises(ValueError, match="cannot be combined with fold="):
        pathad.draw(pathad.trace(lambda x: 4 * x * x, 1.0), second={"x": 1.0}, fold=True)
    with pytest.raises(TypeError, match="second= needs a pathad.Trace"):
        pathad.draw(tr.graph, second={"x": 1.0})
