"""pathad.adjoint_source and tangent_source: the sweeps as straight-line Python programs (issue 16, item 2).

The generated functions are checked against tracing + sweeping (bit for bit: the same floating-point operations
in the same order) at the traced point and at new points, against the complex step (tests/oracles.py and the
random programs of test_jacobian_methods), for the branches they refuse, and for their text: valid Python that
ruff accepts, one statement per node, one accumulation per edge in the order the solver takes the edges.
"""

import ast
import cmath
import math
import shutil
import subprocess
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from oracles import COMPLEX, complex_gradient
from test_jacobian_methods import assert_close, complex_step, programs, scale, traced

import pathad
from pathad import BranchError, DomainError, adjoint_source, tangent_source, trace

ROOT = Path(__file__).resolve().parent.parent


def h(x, y):
    return (x + 4 * y) * ((x + y) * y)


def chain(x):
    return pathad.exp(pathad.sin(pathad.exp(pathad.sin(x))))


def neuron(w, x, b):
    return pathad.sigmoid(w @ x + b)


def complex_chain(x):
    return cmath.exp(cmath.sin(cmath.exp(cmath.sin(x))))


def complex_neuron(w, x, b):
    return COMPLEX["sigmoid"](sum(wi * xi for wi, xi in zip(w, x)) + b)


def same(found, expected):
    """Equal numbers (arrays elementwise) in the same structure: dicts, tuples, floats, arrays."""
    if isinstance(expected, dict):
        assert list(found) == list(expected)
        for key in expected:
            same(found[key], expected[key])
    elif isinstance(expected, (tuple, list)):
        assert type(found) is type(expected) and len(found) == len(expected)
        for a, b in zip(found, expected):
            same(a, b)
    elif isinstance(expected, np.ndarray):
        assert isinstance(found, np.ndarray) and found.shape == expected.shape
        assert np.array_equal(found, expected), (found, expected)
    else:
        assert found == expected and type(found) is float, (found, expected)


# --- the worked examples ---------------------------------------------------------------------------------------


def test_the_lecture_example_by_both_programs():
    tr = trace(h, x=3.0, y=5.0)
    backward, forward_x, forward_y = adjoint_source(tr), tangent_source(tr, "x"), tangent_source(tr, "y")
    assert backward(3.0, 5.0) == (920.0, {"x": 155.0, "y": 459.0})
    assert forward_x(3.0, 5.0) == (920.0, 155.0) and forward_y(x=3.0, y=5.0) == (920.0, 459.0)
    for x, y in [(1.0, 2.0), (-0.5, 7.25), (0.0, 0.0)]:
        again = trace(h, x=x, y=y)
        same(backward(x, y), (again.value, pathad.gradient(again)))
        same(forward_x(x, y), (again.value, pathad.derivative(again, "x", mode="forward")))
        assert list(backward(x, y)[1].values()) == pytest.approx(complex_gradient(h, [x, y]), rel=1e-14)


def test_the_lecture_example_reads_as_the_lecture_writes_it():
    program = adjoint_source(trace(h, x=3.0, y=5.0))
    body = program.body.splitlines()
    assert body[0] == "def h_adjoint(x, y):"
    assert "    t3 = x + t2  # x+4y" in body and "    h = t3 * t5  # (x+4y)·(x+y)·y" in body
    assert "    d_y += d_t2 * 4.0  # ∂t2/∂y = 4.0" in body
    assert body[-1] == "    return h, (d_x, d_y)"
    assert str(program) == repr(program) == program.source and program.body in program.source
    assert program._repr_markdown_().startswith("```python\n")
    assert program.parameters == ["x", "y"] and program.kind == "adjoint"


@pytest.mark.parametrize("x", [0.3, -1.2, 2.0])
def test_a_sin_exp_chain(x):
    tr = trace(chain, 0.7)
    backward, forward = adjoint_source(tr), tangent_source(tr, "x")
    again = trace(chain, x)
    same(backward(x), (again.value, pathad.gradient(again)))
    same(forward(x), (again.value, pathad.derivative(again, "x", mode="forward")))
    assert forward(x)[1] == pytest.approx(complex_gradient(complex_chain, [x])[0], rel=1e-13)
    assert "cos(t2)" in backward.source and "cos, exp, sin = FLOAT.cos, FLOAT.exp, FLOAT.sin" in backward.source


def test_a_neuron_with_array_arguments():
    w, x, b = np.array([0.5, -1.0, 2.0]), np.array([1.0, 2.0, 0.25]), 0.1
    tr = trace(neuron, w, x, b)
    program = adjoint_source(tr)
    assert program.parameters == ["w_0", "w_1", "w_2", "x_0", "x_1", "x_2", "b"]
    assert "σ" in program.source and "# ∂neuron/∂t" in program.source  # the label v(1 - v) in its comment
    same(program(w, x, b), (tr.value, pathad.gradient(tr)))
    rng = np.random.default_rng(5)
    for _ in range(3):
        w2, x2, b2 = rng.normal(size=3), rng.normal(size=3), float(rng.normal())
        again = trace(neuron, w2, x2, b2)
        value, gradient = program(w=w2, x=x2, b=b2)
        same((value, gradient), (again.value, pathad.gradient(again)))
        expected = complex_gradient(lambda *z: complex_neuron(z[:3], z[3:6], z[6]), [*w2, *x2, b2])
        found = [*gradient["w"], *gradient["x"], gradient["b"]]
        assert found == pytest.approx(expected, rel=1e-12)
    d_w1 = tangent_source(tr, "w[1]")
    assert d_w1(w, x, b) == (tr.value, pytest.approx(pathad.derivative(tr, "w[1]")))


def test_a_numpy_result_comes_back_in_its_shape():
    tr = trace(lambda v: np.sin(v) * v[0], np.array([1.0, 2.0, 3.0]))
    value, derivative = tangent_source(tr, "v[0]")(np.array([0.5, 1.0, -2.0]))
    again = trace(lambda v: np.sin(v) * v[0], np.array([0.5, 1.0, -2.0]))
    same(value, again.value)
    same(derivative, np.array([pathad.derivative(again, "v[0]", of=o) for o in again.outputs]))


# --- random straight-line programs ------------------------------------------------------------------------------


def nearby(point, rng):
    return [p + rng.uniform(-0.01, 0.01) for p in point]


@settings(max_examples=60, deadline=None)
@given(programs(), st.randoms(use_true_random=False))
@pytest.mark.filterwarnings("ignore:.*does not depend on any input")
def test_random_programs_against_tracing_sweeps_and_the_complex_step(case, rng):
    program, point, outputs = case
    tr, _ = traced(program, point, outputs)
    k = len(point)
    expected = complex_step(program, point, outputs, range(k))
    S = scale(tr, tr.arguments["x"].tolist(), list(tr.outputs))
    adjoints = [adjoint_source(tr, of=o) for o in dict.fromkeys(tr.outputs)]
    tangents = [tangent_source(tr, f"x[{j}]") for j in range(k)]
    rows = {o: adjoint(np.array(point)) for o, adjoint in zip(dict.fromkeys(tr.outputs), adjoints)}
    found = np.array([rows[o][1]["x"] for o in tr.outputs])
    assert_close(found, expected, S, 1e-12, "adjoint programs against the complex step", atol=1e-300)
    columns = np.array([tangent(np.array(point))[1] for tangent in tangents]).T
    assert_close(columns, expected, S, 1e-12, "tangent programs against the complex step", atol=1e-300)
    for at in (point, nearby(point, rng)):  # the traced point, and a new one
        try:
            again, _ = traced(program, at, outputs)
        except DomainError:
            with pytest.raises(DomainError):
                adjoints[0](np.array(at))
            continue
        for o, adjoint in zip(dict.fromkeys(tr.outputs), adjoints):
            same(adjoint(np.array(at)), (again.tape.values[o], pathad.gradient(again, of=o)))
        for j, tangent in enumerate(tangents):
            derivatives = tuple(pathad.derivative(again, f"x[{j}]", of=o, mode="forward") for o in again.outputs)
            same(tangent(np.array(at)), (again.value, derivatives))


@settings(max_examples=40, deadline=None)
@given(programs(max_ops=25))
@pytest.mark.filterwarnings("ignore:.*does not depend on any input")
def test_the_adjoint_program_accumulates_in_the_solvers_order(case):
    program, point, outputs = case
    tr, _ = traced(program, point, outputs)
    for o in dict.fromkeys(tr.outputs):
        seen = []
        pathad.solve(tr, o, direction="backward", observer=lambda u, v, *rest, seen=seen: seen.append((u, v)))
        generated = adjoint_source(tr, of=o)
        assert generated.edges == seen
        assert _accumulations(generated.body) == len(seen)
    for j in range(len(point)):
        seen = []
        wrt = f"x[{j}]"
        targets = list(dict.fromkeys(tr.outputs))
        pathad.solve(tr, wrt, targets=targets, observer=lambda u, v, *rest, seen=seen: seen.append((u, v)))
        assert tangent_source(tr, wrt).edges == seen


def _accumulations(body):
    """The number of edge comments (each accumulation carries its edge's, on its line or, if long, above it)."""
    return body.count("# ∂")


# --- branches, domains, the corners of a graph ------------------------------------------------------------------


def piecewise(x, y):
    if x > y:
        return x * y
    return x + y


def test_a_point_on_another_branch_is_refused_as_the_compiled_replay_refuses_it():
    tr = trace(piecewise, 3.0, 2.0)
    program, compiled = adjoint_source(tr), pathad.compile(tr)
    assert program(5.0, 1.0) == (5.0, {"x": 1.0, "y": 5.0})
    assert "if not (x > y):" in program.source and "raise BranchError(" in program.source
    with pytest.raises(BranchError, match=r"another branch at x = 1.0, y = 2.0: guard 0: x > y was True"):
        program(1.0, 2.0)
    with pytest.raises(BranchError):
        compiled.gradient(x=1.0, y=2.0)
    with pytest.raises(BranchError):
        tangent_source(tr, "y")(2.0, 2.0)


def loop(x):
    z, steps = x, 0
    while z * z > 2.0 and steps < 5:  # guards on computed values, at several times
        z = z / 2.0 + 0.5
        steps += 1
    return pathad.tanh(z) if z else z


@pytest.mark.parametrize("x", [3.0, 2.5, 1.0, 40.0, -3.0, 0.0])
def test_guards_on_computed_values_refuse_exactly_where_the_replay_refuses(x):
    tr = trace(loop, 3.0)
    program, compiled = adjoint_source(tr), pathad.compile(tr)
    try:
        expected = compiled.gradient(x=x)
    except BranchError:
        with pytest.raises(BranchError):
            program(x)
        with pytest.raises(BranchError):
            tangent_source(tr, "x")(x)
        return
    value, gradient = program(x)
    again = trace(loop, x)
    assert value == again.value and gradient == pathad.gradient(again)
    assert gradient["x"] == pytest.approx(expected["x"], rel=1e-12)


def test_a_domain_error_names_the_node_as_tracing_does():
    def f(x, y):
        return pathad.log(x) * y

    program = adjoint_source(trace(f, 2.0, 3.0))
    with pytest.raises(DomainError) as traced_error:
        trace(f, -1.0, 3.0)
    with pytest.raises(DomainError) as replayed:
        program(-1.0, 3.0)
    assert str(replayed.value) == str(traced_error.value)


def test_an_overflow_without_a_python_error_is_a_domain_error():
    def f(x):
        return pathad.exp(x) * pathad.exp(x)

    program = tangent_source(trace(f, 1.0), "x")
    with pytest.raises(DomainError, match="overflows"):
        program(400.0)


def test_parallel_edges_constants_and_outputs_that_are_inputs():
    def f(x, y):
        return {"xx": x * x, "x": x, "seven": 7.0, "mixed": (x - x) + 2.0 * y}

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tr = trace(f, 3.0, 2.0)
    square = adjoint_source(tr, of="xx")
    assert "d_x = d_xx * x  # ∂xx/∂x = x" in square.body and "d_x += d_xx * x  # ∂xx/∂x = x" in square.body
    assert square(3.0, 2.0) == (9.0, {"x": 6.0, "y": 0.0})
    assert adjoint_source(tr, of="seven")(1.0, 1.0) == (7.0, {"x": 0.0, "y": 0.0})
    assert adjoint_source(tr, of="x")(4.0, 1.0) == (4.0, {"x": 1.0, "y": 0.0})
    by_x = tangent_source(tr, "x")
    assert "d_xx = d_x * x + d_x * x" in by_x.body and "d_mixed = d_t3" in by_x.body
    assert by_x(3.0, 2.0) == ({"xx": 9.0, "x": 3.0, "seven": 7.0, "mixed": 4.0},
                              {"xx": 6.0, "x": 1.0, "seven": 0.0, "mixed": 0.0})  # fmt: skip
    assert "d_t3 = d_x - d_x" in by_x.body  # x - x: two parallel edges, 1 and -1
    with pytest.raises(ValueError, match="outputs"):
        adjoint_source(tr)


def test_an_infinite_constant_is_written_as_a_float():
    tr = trace(lambda x: pathad.maximum(x, -math.inf) * 2.0, 1.0)
    program = adjoint_source(tr)
    assert "-float('inf')" in program.source
    assert program(3.0) == (6.0, {"x": 2.0})


def test_names_the_program_cannot_take_fall_back_to_t_ids():
    def f(d_x, sin, y):
        u = (d_x * sin).named("u")
        w = (u + y).named("lambda")
        odd = (w * 2.0).named("t0")
        text = (odd + 1.0).named('a\nb """ \x00 import os')
        return text * u

    tr = trace(f, 1.0, 2.0, 3.0)
    program = adjoint_source(tr)
    assert program.parameters == ["t0", "t1", "y"]
    assert "    u = t0 * t1" in program.body and "t4 = u + y" in program.body and "t5 = t4 * 2.0" in program.body
    ast.parse(program.source)
    assert "\x00" not in program.source and all(not line.startswith("import") for line in program.source.splitlines())
    same(program(d_x=2.0, sin=0.5, y=1.0), (trace(f, 2.0, 0.5, 1.0).value, pathad.gradient(trace(f, 2.0, 0.5, 1.0))))


def test_wrong_references_and_arguments():
    tr = trace(neuron, np.ones(2), np.ones(2), 0.0)
    with pytest.raises(pathad.UnknownNodeError, match="array argument"):
        tangent_source(tr, "w")
    with pytest.raises(ValueError, match="must be an input"):
        tangent_source(tr, tr.output)
    with pytest.raises(TypeError, match="needs a pathad.Trace"):
        adjoint_source(neuron)
    program = adjoint_source(tr)
    with pytest.raises(ValueError, match="shape"):
        program(np.ones(3), np.ones(2), 0.0)
    with pytest.raises(TypeError, match="missing"):
        program(np.ones(2))
    with pytest.raises(TypeError, match="no argument"):
        program(np.ones(2), np.ones(2), z=1.0)


# --- the text -----------------------------------------------------------------------------------------------------


def some_programs():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        random_program = [("mul", 0, 1, 2.0), ("sin", 2, 0, 0.5), ("div", 3, 1, 0.0), ("const", 0, 0, 3.0),
                          ("sub", 4, 4, 0.0), ("scale", 6, 0, -1.5)]  # fmt: skip
        tr_random, _ = traced(random_program, [0.5, 1.5], [6, 7, 5])
        trs = [trace(h, 3.0, 5.0), trace(chain, 0.3), trace(neuron, np.ones(3), np.ones(3), 0.5),
               trace(loop, 3.0), trace(piecewise, 1.0, 2.0), tr_random]  # fmt: skip
    for tr in trs:
        yield adjoint_source(tr, of=tr.outputs[0])
        yield tangent_source(tr, next(iter(tr.inputs)))


def test_the_source_is_python_that_ruff_accepts(tmp_path):
    files = []
    for i, program in enumerate(some_programs()):
        ast.parse(program.source)
        assert all(len(line) <= 120 for line in program.source.splitlines())
        files.append(tmp_path / f"program_{i}.py")
        files[-1].write_text(program.source, encoding="utf-8")
    ruff = shutil.which("ruff")
    if ruff is None:
        pytest.skip("ruff is not installed")
    result = subprocess.run([ruff, "check", "--no-cache", "--config", str(ROOT / "pyproject.toml"), *map(str, files)],
                            capture_output=True, text=True)  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr


def test_one_statement_per_node_and_one_accumulation_per_edge():
    tr = trace(h, 3.0, 5.0)
    program = adjoint_source(tr)
    statements = [line for line in program.body.splitlines()[1:] if not line.lstrip().startswith("#")]
    operations = sum(1 for op in tr.tape.ops if op != "input")
    assert len(statements) == operations + 1 + len(tr.tape.src) + 1  # values, the seed, the edges, return
    assert _accumulations(program.body) == len(program.edges) == len(tr.tape.src)


def test_the_function_is_the_compiled_text():
    program = adjoint_source(trace(h, 3.0, 5.0))
    assert program.function(3.0, 5.0) == (920.0, (155.0, 459.0))
    assert program.function.__code__.co_filename.startswith("<pathad adjoint_source h_adjoint")
    assert program.trace.tape.guards == [] and "BranchError" not in program.source


def test_a_program_replays_without_tracing_or_building_the_graph():
    tr = trace(h, 3.0, 5.0)
    adjoint_source(tr)(1.0, 1.0)
    tangent_source(tr, "y")(1.0, 1.0)
    assert "graph" not in tr.__dict__ and tr.value == 920.0  # the solver still reads the trace's tape
