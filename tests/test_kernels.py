"""The compiled kernels: the source written from the primitive table, and the disk cache across processes.

The generated module is first run as plain Python (numba's decorators
replaced by the identity), which checks every formula it pasted against the
table's own float rules without compiling anything; then two fresh processes
share a cache directory, and the second must load every kernel it uses
instead of compiling it.
"""

import json
import math
import os
import subprocess
import sys
import textwrap
import types

import numpy as np
import pytest
from oracles import sample_points

from pathad.compiled import kernel_source, numba_available
from pathad.compiled.freeze import CODE
from pathad.compiled.kernel_source import formula, module_source
from pathad.compiled.numba_backend import SUM, curvature
from pathad.primitives import FLOAT, PRIMITIVES

needs_numba = pytest.mark.skipif(not numba_available(), reason="numba is not installed")


def _rule_points(name):
    points = sample_points(name, count=4)
    if name == "pow":  # a negative base with a fractional exponent is no real number (C's pow gives nan)
        points = [[abs(a) + 0.1, b] for a, b in points]
    return points


@pytest.mark.parametrize("name", list(PRIMITIVES))
def test_every_rule_reads_back_as_an_expression_that_computes_it(name):
    p = PRIMITIVES[name]
    for point in _rule_points(name):
        result = p.value(FLOAT, *point)
        scope = {"m": FLOAT, "a": point[0], "b": point[-1], "r": result}
        assert eval(formula(p.value), scope) == result  # noqa: S307 - the table's own text
        for rule in p.partials:
            assert eval(formula(rule), scope) == rule(FLOAT, *point, result)  # noqa: S307


def test_a_rule_that_is_not_one_expression_is_refused():
    def two_statements(m, a, r):
        s = a + 1
        return s

    with pytest.raises(ValueError, match="not one expression"):
        formula(two_statements)


def _plain_python_kernels():
    """The generated module executed with numba's decorators as the identity: slow, but every line is real."""
    fake = types.ModuleType("numba")
    fake.njit = lambda *args, **options: (lambda f: f) if not args or not callable(args[0]) else args[0]
    saved, lean = sys.modules.get("numba"), kernel_source.lean_pipeline
    sys.modules["numba"], kernel_source.lean_pipeline = fake, lambda: None  # numba's compiler: none
    try:
        module = types.ModuleType("plain_kernels")
        exec(compile(module_source(), "<pathad kernels>", "exec"), module.__dict__)  # noqa: S102 - pathad's text
    finally:
        kernel_source.lean_pipeline = lean
        if saved is not None:
            sys.modules["numba"] = saved
        else:
            del sys.modules["numba"]
    return module


@pytest.fixture(scope="module")
def plain():
    return _plain_python_kernels()


@pytest.mark.parametrize("name", list(PRIMITIVES))
def test_the_generated_dispatch_computes_each_primitive_as_the_table(plain, name):
    p = PRIMITIVES[name]
    # slots: 0 = a, 1 = b, 2 = the result, 3 = the constant 0.0; partial rows 0 and 1
    units = np.array([[CODE[name], 2, 0, 1 if p.arity == 2 else 0, 0, 1 if p.arity == 2 else -1, 0, 0]])
    active = np.ones(4, dtype=bool)
    for point in _rule_points(name):
        values, partials, adjoint = np.empty((4, 1)), np.empty((2, 1)), np.empty((4, 1))
        points = np.array([[point[0]], [point[-1]]])
        finite = plain.program_one(units, np.zeros((0, 3), np.int64), np.zeros(0), np.zeros(1), np.zeros(0), points,
                                   np.array([0]), 2, active, values, partials, adjoint)  # fmt: skip
        result = p.value(FLOAT, *point)
        assert finite and values[2, 0] == result
        for j, rule in enumerate(p.partials):
            assert partials[j, 0] == rule(FLOAT, *point, result)
            assert adjoint[j, 0] == rule(FLOAT, *point, result)  # the backward pass: 1 · partial


@pytest.mark.parametrize("name", list(PRIMITIVES))
def test_the_generated_second_dispatch_computes_each_second_partial_as_the_table(plain, name):
    p = PRIMITIVES[name]
    binary = p.arity == 2
    # slots: 0 = a, 1 = b, 2 = the result; the Hessian of the one op along the unit directions is its second rules
    units = np.array([[CODE[name], 2, 0, 1 if binary else 0, 0, 1 if binary else -1, 0, 0]])
    active = np.array([True, binary, True])
    directions = np.eye(2)[None]
    for point in _rule_points(name):
        points = np.array([[point[0]], [point[-1]]])
        work = [np.empty(3), np.empty(2), np.empty((3, 2)), np.empty(3), np.empty((3, 2))]
        value, gradient, products = np.empty(1), np.empty((1, 2)), np.empty((1, 2, 2))
        finite = plain.second_points(units, np.zeros((0, 3), np.int64), np.zeros(0), np.zeros(0), np.zeros(0), points,
                                    np.array([0]), 2, active, curvature(), directions, *work, value, gradient,
                                    products)  # fmt: skip
        result = p.value(FLOAT, *point)
        assert finite and value[0] == result
        for j, rule in enumerate(p.partials):
            assert gradient[0, j] == rule(FLOAT, *point, result)
        second = [float(rule(FLOAT, *point, result)) for rule in p.second]
        expected = [[second[0], second[1]], [second[1], second[2]]] if binary else [[second[0], 0.0], [0.0, 0.0]]
        assert products[0].tolist() == expected


def test_the_second_kernel_adds_a_sums_products_and_squares_as_the_product_rule_says(plain):
    # slot 3 = x·y + x·x − z (one fused sum), slot 4 = sin(slot 3); slots 0, 1, 2 = x, y, z
    units = np.array([[SUM, 3, 0, 0, 0, 0, 0, 3], [CODE["sin"], 4, 3, 0, 0, -1, 0, 0]])
    terms, signs = np.array([[0, 1, 1], [0, 0, 1], [2, 0, 0]]), np.array([1.0, 1.0, -1.0])
    active = np.ones(5, dtype=bool)
    x, y, z = 0.3, -1.2, 0.5
    work = [np.empty(5), np.empty(1), np.empty((5, 3)), np.empty(5), np.empty((5, 3))]
    value, gradient, products = np.empty(1), np.empty((1, 3)), np.empty((1, 3, 3))
    assert plain.second_points(units, terms, signs, np.zeros(0), np.zeros(0), np.array([[x], [y], [z]]),
                              np.array([1, 0]), 4, active, curvature(), np.eye(3)[None], *work, value, gradient,
                              products)  # fmt: skip
    s = x * y + x * x - z
    ds = np.array([y + 2 * x, x, -1.0])  # ∂s/∂(x, y, z)
    d2s = np.array([[2.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 0.0]])
    np.testing.assert_allclose(gradient[0], math.cos(s) * ds, rtol=1e-15)
    np.testing.assert_allclose(products[0], -math.sin(s) * np.outer(ds, ds) + math.cos(s) * d2s, rtol=1e-14)


def test_the_second_kernels_lanes_agree_with_its_points_one_at_a_time(plain):
    # slots 0-2 = x, y, z; 3 = s = x·y + x·x − z; 5 = sin(s); 4 = sin(s)·y (the seed: an op with two active
    # operands); 6 = a constant nothing reads
    units = np.array([[SUM, 3, 0, 0, 0, 0, 0, 3], [CODE["sin"], 5, 3, 0, 0, -1, 0, 0],
                      [CODE["mul"], 4, 5, 1, 1, 2, 0, 0]])  # fmt: skip
    terms, signs = np.array([[0, 1, 1], [0, 0, 1], [2, 0, 0]]), np.array([1.0, 1.0, -1.0])
    active = np.array([True, True, True, True, True, True, False])
    rng = np.random.default_rng(5)
    points, directions = rng.uniform(-1, 1, (3, 5)), rng.uniform(-1, 1, (5, 3, 2))  # a direction pair per point
    lanes = [np.empty((7, 5)), np.empty((3, 5)), np.empty((7, 2, 5)), np.empty((7, 5)), np.empty((7, 2, 5)),
             np.empty((3, 5))]  # fmt: skip
    found = np.empty(5), np.empty((5, 3)), np.empty((5, 3, 2))
    assert plain.second_lanes(units, terms, signs, np.array([2.0]), np.zeros(0), points, np.array([2, 1, 0]), 4,
                              active, curvature(), directions, *lanes, *found)  # fmt: skip
    for j in range(5):
        one = [np.empty(7), np.empty(3), np.empty((7, 2)), np.empty(7), np.empty((7, 2))]
        expected = np.empty(1), np.empty((1, 3)), np.empty((1, 3, 2))
        assert plain.second_points(units, terms, signs, np.array([2.0]), np.zeros(0), points[:, j : j + 1],
                                   np.array([2, 1, 0]), 4, active, curvature(), directions[j : j + 1], *one,
                                   *expected)  # fmt: skip
        x, y, z = points[:, j]
        s = x * y + x * x - z
        assert found[0][j] == expected[0][0] == math.sin(s) * y
        np.testing.assert_allclose(found[1][j], expected[1][0], rtol=1e-15)
        np.testing.assert_allclose(found[2][j], expected[2][0], rtol=1e-14, atol=1e-15)
        ds = np.array([y + 2 * x, x, -1.0])
        hessian = -math.sin(s) * y * np.outer(ds, ds) + math.cos(s) * y * np.array([[2.0, 1, 0], [1, 0, 0], [0, 0, 0]])
        hessian[1] += math.cos(s) * ds  # ∂/∂y of sin(s)·y: the cross terms
        hessian[:, 1] += math.cos(s) * ds
        np.testing.assert_allclose(found[2][j], hessian @ directions[j], rtol=1e-13, atol=1e-14)


@pytest.mark.parametrize("forward", [True, False])
def test_the_vector_kernel_gives_a_jacobian_whose_second_row_reads_the_first(plain, forward):
    # slots 0, 1 = x, y; 2 = x·y (row 0); 3 = sin(x·y) (row 1, reading row 0); 4 = a constant nothing reads
    units = np.array([[CODE["mul"], 2, 0, 1, 0, 1, 0, 0], [CODE["sin"], 3, 2, 0, 2, -1, 0, 0]])
    active, rows = np.ones(5, dtype=bool), np.array([2, 3])
    seeds, reads = (np.array([0, 1]), rows) if forward else (rows, np.array([0, 1]))
    points = np.array([[0.3, -1.1], [0.7, 0.4]])
    values, found = np.empty((2, 2)), np.empty((2, 2, 2))
    work = [np.empty(5), np.empty(3), np.full((5, 2), np.nan)]
    assert plain.vector_points(units, np.zeros((0, 3), np.int64), np.zeros(0), np.array([2.0]), np.zeros(0), points,
                               forward, np.array([1, 0]), active, seeds, np.eye(2), rows, reads, *work, values,
                               found)  # fmt: skip
    for j in range(2):
        x, y = points[:, j]
        jacobian = np.array([[y, x], [math.cos(x * y) * y, math.cos(x * y) * x]])
        assert values[j].tolist() == [x * y, math.sin(x * y)]
        np.testing.assert_allclose(found[j] if forward else found[j].T, jacobian, rtol=1e-15)


def test_the_generated_batch_kernel_agrees_with_the_single_point_one(plain):
    units = np.array([[CODE["mul"], 2, 0, 1, 0, 1, 0, 0], [CODE["sin"], 3, 2, 0, 2, -1, 0, 0],
                      [SUM, 4, 0, 0, 0, 0, 0, 2]])  # fmt: skip
    terms, signs = np.array([[3, 0, 0], [2, 1, 1]]), np.array([1.0, -1.0])  # slot 4 = sin(x·y) − x·y·y
    active = np.ones(6, dtype=bool)
    points = np.array([[0.3, 1.5, -2.0], [0.7, 0.2, 1.1]])
    batch = [np.empty((6, 3)), np.empty((3, 3)), np.empty((6, 3))]
    plain.program_batch(units, terms, signs, np.zeros(1), np.zeros(0), points, np.array([2, 1, 0]), 4, active, *batch)
    for k in range(3):
        x, y = points[:, k]
        assert batch[0][4, k] == math.sin(x * y) - x * y * y
        one = [np.empty((6, 1)), np.empty((3, 1)), np.empty((6, 1))]
        plain.program_one(units, terms, signs, np.zeros(1), np.zeros(0), points[:, k : k + 1], np.array([2, 1, 0]), 4,
                          active, *one)  # fmt: skip
        assert one[2][:2, 0].tolist() == batch[2][:2, k].tolist()
        assert one[2][0, 0] == pytest.approx(math.cos(x * y) * y - y * y, rel=1e-15)


def test_a_large_batch_zeroes_each_adjoint_row_it_uses_and_every_other_one(plain):
    # slots: 0 = x, 1 = y, 2 = w (an input nothing reads), 3 = x·y, 4 = sin(x·y), 5 = sin(x·y) − x·y·y, 6 = const
    units = np.array([[CODE["mul"], 3, 0, 1, 0, 1, 0, 0], [CODE["sin"], 4, 3, 0, 2, -1, 0, 0],
                      [SUM, 5, 0, 0, 0, 0, 0, 2]])  # fmt: skip
    terms, signs = np.array([[4, 0, 0], [3, 1, 1]]), np.array([1.0, -1.0])
    active = np.ones(7, dtype=bool)
    batch = plain.LAZY  # the backward pass zeroes the adjoint rows as it goes from this many points on
    rng = np.random.default_rng(3)
    points = rng.uniform(-2.0, 2.0, (3, batch))
    arrays = [np.full((7, batch), np.nan), np.full((3, batch), np.nan), np.full((7, batch), np.nan)]  # dirty
    for _ in range(2):  # and again on the same arrays, as a workspace lends them
        finite = plain.program_batch(units, terms, signs, np.zeros(1), np.zeros(0), points, np.array([2, 1, 0]), 5,
                                     active, *arrays)  # fmt: skip
        adjoint = arrays[2]
        assert finite
        assert adjoint[2].tolist() == [0.0] * batch and adjoint[6].tolist() == [0.0] * batch
        for k in range(0, batch, 7):
            x, y = points[:2, k]
            one = [np.full((7, 1), np.nan), np.full((3, 1), np.nan), np.full((7, 1), np.nan)]
            plain.program_one(units, terms, signs, np.zeros(1), np.zeros(0), points[:, k : k + 1], np.array([2, 1, 0]),
                              5, active, *one)  # fmt: skip
            assert one[2][:, 0].tolist() == adjoint[:, k].tolist()
            assert adjoint[0, k] == pytest.approx(math.cos(x * y) * y - y * y, rel=1e-14)
            assert adjoint[1, k] == pytest.approx(math.cos(x * y) * x - 2 * x * y, rel=1e-14, abs=1e-14)
    # a unit whose own adjoint got no term (the seed is elsewhere) passes on 0, not what the arrays held before
    finite = plain.program_batch(units, terms, signs, np.zeros(1), np.zeros(0), points, np.array([0]), 4, active,
                                 *arrays)  # fmt: skip
    assert finite and arrays[2][4].tolist() == [1.0] * batch
    assert np.all(arrays[2][[0, 1, 2, 3, 5, 6]] == 0.0)


_SCRIPT = textwrap.dedent(
    """
    import json, sys
    import numpy as np
    import pathad
    from pathad.compiled import numba_backend
    tape = pathad.compile(pathad.trace(lambda x, y: pathad.sin(x) * y + pathad.exp(y), 1.0, 2.0), backend="numba")
    one = tape.gradient(x=0.5, y=2.0)
    batch = tape.gradient(x=np.array([0.5, 1.0]), y=np.array([2.0, 3.0]))
    hessian = tape.hessian(x=0.5, y=2.0).matrix.tolist()
    jacobian = tape.jacobian(x=0.5, y=2.0).matrix.tolist()
    module = numba_backend.kernels()
    stats = {name: [sum(getattr(module, name).stats.cache_hits.values()),
                    sum(getattr(module, name).stats.cache_misses.values())]
             for name in ("program_one", "program_batch", "depths", "sweep", "second_points", "symmetric_entries",
                          "vector_points")}
    print(json.dumps({"stats": stats, "x": one["x"], "y": batch["y"].tolist(), "hessian": hessian,
                      "jacobian": jacobian}))
    """
)


@needs_numba
def test_a_second_process_loads_the_kernels_from_the_cache_instead_of_compiling(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
    env["PATHAD_CACHE_DIR"] = str(tmp_path / "cache")

    def run():
        done = subprocess.run([sys.executable, "-c", _SCRIPT], env=env, capture_output=True, text=True, timeout=900)
        assert done.returncode == 0, done.stderr[-3000:]
        return json.loads(done.stdout.strip().splitlines()[-1]), done.stderr

    first, first_err = run()
    second, second_err = run()
    assert "compiling the program_one kernel" in first_err  # said once, on stderr
    assert "compiling" not in second_err
    for name, (_hits, misses) in second["stats"].items():
        assert misses == 0, f"{name} was compiled again in the second process"
    assert second["stats"]["program_one"][0] >= 1 and second["stats"]["program_batch"][0] >= 1
    assert first["x"] == second["x"] == pytest.approx(math.cos(0.5) * 2.0, rel=1e-15)
    assert second["y"] == pytest.approx([math.sin(0.5) + math.exp(2.0), math.sin(1.0) + math.exp(3.0)], rel=1e-15)
    s, c = math.sin(0.5), math.cos(0.5)  # f = sin(x)·y + exp(y) at (0.5, 2.0)
    np.testing.assert_allclose(second["hessian"], [[-2.0 * s, c], [c, math.exp(2.0)]], rtol=1e-15)
    np.testing.assert_allclose(second["jacobian"], [[2.0 * c, s + math.exp(2.0)]], rtol=1e-15)
    assert any((tmp_path / "cache").glob("kernels-*/kernels.py"))
